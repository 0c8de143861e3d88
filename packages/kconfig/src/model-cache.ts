import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import { loadKconfig, type KconfigTree, type LoadOptions } from './conf';
import { Kconfig } from './model/kconfig';
import { KSymbol } from './model/symbol';
import type { ShellRunner } from './parse/shell-cache';
import { modelKey, type ModelInputs, type ModelKeyOptions } from './result-cache';
import { compilePlan, PlanMismatch } from './plan/compile-plan';
import { encodePlan } from './plan/plan-codec';
import { decodeGraph, encodeGraph, graphMeta, UnsupportedValue } from './snapshot/graph-codec';

const CLASSES = { Kconfig, KSymbol };

type CachedLoadOptions = LoadOptions & ModelKeyOptions & { shell: ShellRunner & { key(command: string): string; used: Iterable<string> } };

/**
 * loadKconfig with the parsed and finalized tree kept in `file` between runs (before any value is
 * calculated), keyed like the result cache by the content of every Kconfig file read, the
 * environment values and the toolchain probes used. A configuration edited since the last run is
 * then evaluated without reading a Kconfig file again.
 *
 * Writing the tree costs about half a parse, so a tree is kept only when the same tree was parsed
 * by the run before (its key is left in `<file>.key`): the first run after a Kconfig change is not
 * slowed down for a tree the next change may replace.
 */
export function loadKconfigCached(options: CachedLoadOptions, file: string, planFile?: string): { tree: KconfigTree; shellCommands: string[] } {
  if (!options.files && existsSync(file)) {
    const buf = readFileSync(file);
    const meta = graphMeta(buf) as ModelInputs | undefined;
    if (meta && modelKey(options, meta) === meta.key) {
      const decoded = decodeGraph<KconfigTree>(buf, CLASSES);
      if (decoded) return { tree: decoded.root, shellCommands: meta.shellCommands };
    }
  }
  const tree = loadKconfig(options);
  const shellCommands = [...new Set(options.shell.used)];
  if (options.files) return { tree, shellCommands };
  const inputs = { files: tree.files, envNames: [...tree.env.keys()], shellCommands };
  const key = modelKey(options, inputs);
  if (!key) return { tree, shellCommands };
  const marker = `${file}.key`;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === key) {
    tree.kc.allSymbols(); // conf's symbol order, computed once and kept with the tree
    keep(file, tree, { ...inputs, key });
    if (planFile) keepPlan(planFile, tree, { ...inputs, key });
  } else writeFileAtomic(marker, key);
  return { tree, shellCommands };
}

function keepPlan(file: string, tree: KconfigTree, meta: ModelInputs): void {
  try {
    writeFileAtomic(file, encodePlan(compilePlan(tree, meta)));
  } catch (e) {
    if (e instanceof PlanMismatch) return; // such a tree is evaluated from the kept graph
    throw e;
  }
}

function keep(file: string, tree: KconfigTree, meta: ModelInputs): void {
  let encoded: Buffer;
  try {
    encoded = encodeGraph(tree, CLASSES, meta);
  } catch (e) {
    if (e instanceof UnsupportedValue) return; // a tree the codec cannot hold is just not kept
    throw e;
  }
  writeFileAtomic(file, encoded);
}
