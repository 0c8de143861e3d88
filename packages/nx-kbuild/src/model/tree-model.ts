import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import { readConfigFile } from '@nx-kbuild/kconfig';
import { resolveTreeConfig } from './tree-config';
import {
  evaluateModuleTree,
  forgetSignatures,
  moduleCommands,
  probeKbuildGlobals,
  verifyProbe,
  type KbuildGlobals,
  type ModuleSpec,
  type BuiltinDirCommands,
  type ModuleTree,
  type TreeCommands,
} from '@nx-kbuild/kbuild-make';
import type { KbuildPluginOptions } from './options';
import { moduleHeaders } from './headers';
import { symbolEdges, type ModuleEdge } from './symbol-edges';
import { treeSymbols, type TreeSymbols } from './tree-symbols';

export type { ModuleEdge } from './symbol-edges';

export interface TreeModel {
  workspaceRoot: string;
  root: string;
  /** Where the passes run: the kernel build directory (M= builds) or the objtree (in-tree). */
  kernelDir: string;
  /** Where the tree-wide outputs go (Module.symvers, modules.order): the M= tree, or the objtree. */
  outputRoot: string;
  /** The directories whose modules.order the tree project writes (absolute, source side). */
  orderDirs: string[];
  tree: ModuleTree;
  commands: TreeCommands;
  /** Environment every pass runs with (what kbuild exports). */
  env: Record<string, string>;
  edges: ModuleEdge[];
  /** Workspace-relative headers each module's sources include, directly or not. */
  headers: Map<string, string[]>;
  /** In-tree, with the `builtin` option: the kbuild directories whose built-in code Nx builds, and their headers. */
  builtin?: { dirs: BuiltinDirCommands[]; headers: Map<string, string[]>; nm: string };
  /** The config file of the tree (absolute). */
  configFile: string;
  /** Warnings from evaluating the tree's Kconfig and config file. */
  configWarnings: string[];
  /** CONFIG_* values: the kernel's, then the tree's own. */
  configValues: Map<string, string>;
  /** The kernel source tree (its include/ is what the sources include). */
  srctree: string;
  /**
   * What each module exports and imports (the symbol engine). Not kept for the graph of a whole
   * kernel, whose edges are computed in a thread of their own (in-tree-edges.ts).
   */
  symbols?: TreeSymbols;
}

function sha(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

function fileDigest(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return 'missing';
  }
}

/**
 * kbuild's global variables for this kernel directory: probed from the real make once, then read
 * from a cache keyed by the files the probe depends on (kernel .config, Makefile, auto.conf).
 */
export function loadKbuildGlobals(workspaceRoot: string, kernelDir: string): KbuildGlobals {
  const key = sha([
    'probe-v2',
    kernelDir,
    fileDigest(join(kernelDir, '.config')),
    fileDigest(join(kernelDir, 'Makefile')),
    fileDigest(join(kernelDir, 'include/config/auto.conf')),
    process.env.PATH ?? '',
  ]);
  const cacheDir = join(workspaceRoot, '.nx-kbuild');
  const cacheFile = join(cacheDir, `probe-${key.slice(0, 16)}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as KbuildGlobals;
  const probed = probeKbuildGlobals(kernelDir);
  verifyProbe(probed, probed.probeDir);
  const globals: KbuildGlobals = { kernelDir: probed.kernelDir, vars: probed.vars, env: probed.env };
  writeFileAtomic(cacheFile, JSON.stringify(globals, null, 1));
  return globals;
}

/**
 * Evaluates the tree the plugin options describe: config, Makefiles, commands, symbols, edges,
 * headers. `objectsCurrent`: see TreeSymbolsOptions (for a task that depends on every compile).
 */
export function loadTreeModel(workspaceRoot: string, options: KbuildPluginOptions, objectsCurrent = false): TreeModel {
  const root = resolve(workspaceRoot, options.tree ?? '.');
  const kernelDir = options.kernelDir!;
  const globals = loadKbuildGlobals(workspaceRoot, kernelDir);
  const kernelConfig = readConfigFile(join(kernelDir, 'include/config/auto.conf'), 'auto.conf');
  const configFile = resolve(root, options.config ?? 'config');
  const treeConfig = resolveTreeConfig(root, configFile, kernelDir, join(workspaceRoot, '.nx-kbuild'), kernelConfig.values);
  const variables: Record<string, string> = {};
  for (const name of ['srctree', 'objtree', 'SRCARCH', 'KERNELRELEASE', 'CC', 'LD']) variables[name] = globals.vars[name] ?? '';
  for (const [k, v] of kernelConfig.values) variables[k] = v;
  // The tree's own symbols come last: they are given to make on its command line.
  for (const [k, v] of treeConfig.values) variables[k] = v;

  // What the last graph computation of this process saw of the file system (which files exist,
  // directory listings) may be stale: a source added since must be found.
  forgetSignatures();
  const tree = evaluateModuleTree({ root, kernelDir, variables, kbuildCflags: globals.vars.KBUILD_CFLAGS ?? '' });
  // The edges decide modpost's -i inputs, and the engine needs the compile commands to find the
  // edges: the commands are derived once without inputs for the scan, then with them.
  const srctree = resolve(kernelDir, globals.vars.srctree ?? '.');
  const scanned = moduleCommands(globals, tree, () => [], { modpostWarn: options.modpostWarn });
  const symbols = treeSymbols({
    srctree,
    objtree: kernelDir,
    srcarch: globals.vars.SRCARCH ?? 'x86',
    config: kernelConfig.values,
    modules: scanned.modules,
    symvers: join(kernelDir, 'Module.symvers'),
    objectsCurrent,
  });
  const edges = symbolEdges(scanned.modules, symbols, kernelDir);
  const byName = new Map(tree.modules.map((m) => [m.name, m]));
  const depsOf = (m: ModuleSpec) =>
    edges.filter((e) => e.from === m.name).map((e) => byName.get(e.to)!).sort((a, b) => tree.modules.indexOf(a) - tree.modules.indexOf(b));
  const commands = moduleCommands(globals, tree, depsOf, { modpostWarn: options.modpostWarn });

  const headers = moduleHeaders(commands.modules, kernelDir, workspaceRoot);
  return {
    workspaceRoot,
    root,
    kernelDir,
    outputRoot: root,
    orderDirs: tree.makefiles.map((f) => dirname(f)),
    tree,
    commands,
    env: globals.env,
    edges,
    headers,
    configFile,
    configWarnings: treeConfig.warnings,
    configValues: new Map([...kernelConfig.values, ...treeConfig.values]),
    srctree,
    symbols,
  };
}
