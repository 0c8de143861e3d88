/**
 * The symbol engine over the modules a tree builds: each object scanned as its compile command
 * compiles it, the export table (the tree's exports, then the kernel's Module.symvers), and what
 * each module imports - exactly from its objects where they are up to date, else predicted.
 * The graph's edges, the symbols-check target and the nsdeps generator all read this.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  addSymversExports,
  exportTable,
  HeaderReferences,
  KeptPredictions,
  moduleImports,
  MtimeCache,
  scanTree,
  scanTreeKept,
  scanTreeParallel,
  type ExportEntry,
  type IndexIdentity,
  type ModuleImports,
  type TreeObject,
  type TreeScan,
  type TreeScanOptions,
} from '@nx-kbuild/symbols';
import type { ModuleCommands } from '@nx-kbuild/kbuild-make';

export interface TreeSymbols {
  scan: TreeScan;
  /** symbol → its export: the tree's own first, then the Module.symvers rows. */
  table: Map<string, ExportEntry>;
  /** module name → what it imports. */
  imports: Map<string, ModuleImports>;
}

export interface TreeSymbolsOptions {
  /** The kernel source tree whose include/ the shared headers come from. */
  srctree: string;
  /** Where the compile commands run (their relative paths start there). */
  objtree: string;
  srcarch: string;
  /** The kernel's auto.conf values (the tree's own reach its sources as -D flags). */
  config: ReadonlyMap<string, string>;
  modules: readonly ModuleCommands[];
  /** The kernel's Module.symvers, when there is one. */
  symvers?: string;
  /**
   * The objects that exist were built from the current sources (the caller depends on their
   * compile tasks, keyed by content): their mtimes are not compared with the sources'.
   */
  objectsCurrent?: boolean;
  /** Where the whole-tree scan is kept per module between graph computations (scanTreeKept). */
  keptScan?: string;
}

function scanOptions(o: TreeSymbolsOptions): TreeScanOptions {
  const at = (p: string) => resolve(o.objtree, p);
  const objects: TreeObject[] = o.modules.flatMap((mc) => mc.objects.map((x) => ({ object: at(x.object), source: at(x.source), argv: x.cc.argv, module: mc.module.name })));
  return { srctree: o.srctree, objtree: o.objtree, srcarch: o.srcarch, config: o.config, objects };
}

/** On this thread: module trees, and in-tree workspaces limited to a few modules. */
export function treeSymbols(o: TreeSymbolsOptions): TreeSymbols {
  return fromScan(o, scanTree(scanOptions(o)));
}

/**
 * On every core (worker threads, each with its own header index): a whole kernel's modules. With
 * `keptScan`, only the modules whose files changed since the last computation are scanned, and
 * predictions are kept next to it.
 */
export async function treeSymbolsParallel(o: TreeSymbolsOptions): Promise<TreeSymbols> {
  if (!o.keptScan) return fromScan(o, await scanTreeParallel(scanOptions(o)));
  const kept = await scanTreeKept(scanOptions(o), o.keptScan);
  await kept.saved;
  return fromScan(o, kept.scan, { file: o.keptScan.replace(/(\.v8)?$/, '-imports.v8'), index: kept.index, scanned: kept.scanned });
}

function fromScan(o: TreeSymbolsOptions, scan: TreeScan, kept?: { file: string; index: IndexIdentity; scanned: ReadonlySet<string> }): TreeSymbols {
  const { table } = exportTable(scan.modules.values());
  if (o.symvers && existsSync(o.symvers)) addSymversExports(table, o.symvers);
  // Ownership as the export table has it: Module.symvers stops the prediction at the kernel's exports.
  const owners = new Map([...table].map(([s, e]) => [s, e.module]));
  let built: HeaderReferences | undefined;
  const headers = () => (built ??= new HeaderReferences(scan.index));
  const predictions = kept && new KeptPredictions(kept.file, kept.index, owners, headers, (name) => !kept.scanned.has(name));
  const mtimes = o.objectsCurrent ? null : new MtimeCache();
  const imports = new Map<string, ModuleImports>();
  for (const mc of o.modules) {
    const m = scan.modules.get(mc.module.name);
    if (m) imports.set(m.name, moduleImports(m, mc.objects, o.objtree, owners, headers, mtimes, predictions && ((x) => predictions.imports(x))));
  }
  predictions?.save();
  return { scan, table, imports };
}
