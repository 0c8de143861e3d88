import { relative, resolve } from 'node:path';
import { cachedKbuildEnvironment, evaluateKernelTree, inTreeBuiltinCommands, inTreeModuleCommands, MakeEvaluator } from '@nx-kbuild/kbuild-make';
import { objectsHeaders } from './headers';
import { keptModuleHeaders } from './kept-headers';
import type { KbuildPluginOptions } from './options';
import { symbolEdges } from './symbol-edges';
import type { TreeModel } from './tree-model';
import { treeSymbolsParallel } from './tree-symbols';
import { inTreeEdges } from './in-tree-edges';

/** From this many modules on, the graph's edges are computed in a thread of their own (in-tree-edges.ts). */
const MANY_MODULES = 500;

/**
 * An in-tree kernel (the workspace is the kernel source tree, `objtree` its O= build directory):
 * every module kbuild would build for `make O=<objtree> all`, or those under `options.modules`,
 * with the commands the kernel's own makefiles give them (see kbuild-make's evaluateKernelTree).
 */
export async function loadInTreeModel(workspaceRoot: string, options: KbuildPluginOptions, objectsCurrent = false, keepSymbols = false): Promise<TreeModel> {
  const srctree = workspaceRoot;
  const objtree = resolve(workspaceRoot, options.objtree!);
  const env = cachedKbuildEnvironment(srctree, objtree);
  const conf = new MakeEvaluator({ cwd: objtree });
  conf.evalFile(resolve(objtree, 'include/config/auto.conf'));
  const config: Record<string, string> = {};
  for (const [name] of conf.vars.ownVariables()) if (name.startsWith('CONFIG_')) config[name] = conf.get(name);
  // Only the modules asked for become projects (paths relative to the source tree).
  const under = (dirs: string[], path: string) => dirs.some((d) => relative(d, path).split('/')[0] !== '..');
  const wanted = (path: string) => !options.modules || under(options.modules, path);
  // Built-in code only where asked for (a whole kernel's is over 800 directories).
  const builtinWanted = options.builtin?.length ? (dir: string) => under(options.builtin!, dir) : undefined;
  const k = {
    srctree: env.srctree ?? srctree,
    objtree,
    env,
    config,
    moduleSteps: wanted,
    builtinSteps: builtinWanted,
    // The files modules' directories make for their objects (generated sources, headers), with how.
    madeFiles: true,
    shellCache: resolve(workspaceRoot, '.nx-kbuild', 'kbuild-shell.json'),
    // Directories whose Makefiles and listings are unchanged since the last graph are not evaluated again.
    memoFile: resolve(objtree, '.nx-kbuild', 'evaluation.memo'),
  };
  // kbuild spells $(srctree) `..` when the build directory is directly inside the source tree.
  if (resolve(objtree, k.srctree) !== srctree) {
    throw new Error(`nx-kbuild: ${objtree} is configured for the source tree ${resolve(objtree, k.srctree)}, not this workspace (${srctree})`);
  }
  const kt = await evaluateKernelTree(k);
  const commands = inTreeModuleCommands(k, kt, { modpostWarn: options.modpostWarn, only: wanted });
  const modules = commands.modules;
  const tree = { ...kt.tree, modules: modules.map((mc) => mc.module) };
  const warnings = commands.unbuildable.map((u) => `${relative(srctree, u.module.definedIn.file)}:${u.module.definedIn.line}: warning: ${u.module.name}: ${u.reason}`);
  const builtin = builtinWanted ? inTreeBuiltinCommands(kt) : undefined;
  for (const u of builtin?.unbuildable ?? []) warnings.push(`${u.dir}: warning: its built-in code: ${u.reason}`);
  // A kernel's modules are many: the scan runs on every core. For the graph of a whole kernel it runs
  // in a thread with its own heap and only the edges come back (keepSymbols: the checks need them all).
  const symbolOptions = { srctree, objtree, srcarch: env.SRCARCH ?? 'x86', config: new Map(Object.entries(config)), modules, symvers: resolve(objtree, 'Module.symvers'), objectsCurrent, keptScan: resolve(objtree, '.nx-kbuild', 'graph-symbols-scan.v8') };
  const elsewhere = keepSymbols || modules.length < MANY_MODULES ? undefined : inTreeEdges(symbolOptions);
  const symbols = elsewhere ? undefined : await treeSymbolsParallel(symbolOptions);
  // Each module's own headers, here while the edges' thread works (4 s each for a whole kernel).
  // The kernel's shared headers are inputs as whole directories (see includedWorkspaceHeaders).
  const sharedHeaders = ['include', `arch/${env.SRCARCH ?? 'x86'}/include`].map((d) => resolve(srctree, d));
  const headers = keptModuleHeaders(resolve(objtree, '.nx-kbuild', 'graph-headers.v8'), modules, objtree, workspaceRoot, sharedHeaders);
  const builtinHeaders = new Map((builtin?.dirs ?? []).map((d) => [d.dir, objectsHeaders(d.objects, objtree, workspaceRoot, sharedHeaders)]));
  const edges = elsewhere ? await elsewhere : symbolEdges(modules, symbols!, objtree);
  const orderDirs = [...new Set(tree.modules.map((m) => m.dir))];
  return {
    workspaceRoot,
    root: srctree,
    kernelDir: objtree,
    outputRoot: objtree,
    orderDirs,
    tree,
    commands: { moduleCommon: commands.moduleCommon, modules },
    // What kbuild exports to its commands, where it differs from the environment Nx runs in.
    env: Object.fromEntries(Object.entries(env).filter(([name, value]) => process.env[name] !== value)),
    edges,
    headers,
    ...(builtin ? { builtin: { dirs: builtin.dirs, headers: builtinHeaders, nm: env.NM ?? 'nm' } } : {}),
    configFile: resolve(objtree, '.config'),
    configWarnings: warnings,
    configValues: new Map(Object.entries(config)),
    srctree,
    symbols,
  };
}
