/**
 * The whole-tree scan on every core: modules are dealt whole to threads (by source size, largest
 * first), each thread builds its own header index and scans its share; this thread takes the
 * first share. From TypeScript sources (tests) there is no compiled worker: one thread.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { forgetIncludeFiles } from './include-files';
import { fromStored, storedScan, type StoredModuleScan } from './kept-module';
import type { ScanDiagnostic, ScanEnvironment } from './source-scan';
import {
  objectsByModule,
  plainObject,
  scanEnvironment,
  scanModule,
  treeCompilerMacros,
  type ModuleScan,
  type ModuleSymbols,
  type TreeObject,
  type TreeScan,
  type TreeScanOptions,
} from './tree-scan';

const WORKER = join(__dirname, 'parallel-scan-worker.js');

/** What a worker sends back per module: its scan in the kept form, and what it observed. */
export interface WorkerModuleScan {
  stored: StoredModuleScan;
  observed?: [string, string][];
}

export type ScanTrees = Omit<TreeScanOptions, 'objects'>;

export interface WorkerInput {
  options: Omit<ScanTrees, 'config'> & { config: [string, string][] };
  compiler: [string, string][];
  modules: [string, TreeObject[]][];
  observe: boolean;
}

export function toWorker(s: ModuleScan): WorkerModuleScan {
  return { stored: storedScan(s), ...(s.observed ? { observed: [...s.observed] } : {}) };
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function partition(groups: ReadonlyMap<string, readonly TreeObject[]>, parts: number): [string, TreeObject[]][][] {
  const weighted = [...groups].map(([name, l]) => ({ entry: [name, l.map(plainObject)] as [string, TreeObject[]], w: l.reduce((n, o) => n + size(o.source), 0) })).sort((a, b) => b.w - a.w);
  const shares = Array.from({ length: parts }, () => ({ modules: [] as [string, TreeObject[]][], w: 0 }));
  for (const { entry, w } of weighted) {
    const s = shares.reduce((a, b) => (b.w < a.w ? b : a));
    s.modules.push(entry);
    s.w += w;
  }
  return shares.map((s) => s.modules);
}

function runWorker(input: WorkerInput): Promise<WorkerModuleScan[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: input });
    w.once('message', (m: WorkerModuleScan[] | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
    w.once('error', reject);
  });
}

/**
 * Below this many modules another thread does not pay for itself: each builds its own header
 * index (seconds) before it scans anything.
 */
const MODULES_PER_EXTRA_THREAD = 64;

/**
 * Scans `groups` (module → its objects), this thread with `env`, other threads with their own
 * index when there are enough modules to share. With `observe`, each module's result carries what
 * its scan read or looked up.
 */
export async function scanModules(
  trees: ScanTrees,
  compiler: ReadonlyMap<string, string>,
  env: ScanEnvironment,
  groups: ReadonlyMap<string, readonly TreeObject[]>,
  threads: number,
  observe: boolean,
): Promise<Map<string, ModuleScan>> {
  const n = existsSync(WORKER) ? Math.max(1, Math.min(threads, Math.ceil(groups.size / MODULES_PER_EXTRA_THREAD))) : 1;
  const shares = partition(groups, n);
  const options = { srctree: trees.srctree, objtree: trees.objtree, srcarch: trees.srcarch, config: [...trees.config] };
  const others = shares.slice(1).map((modules) => runWorker({ options, compiler: [...compiler], modules, observe }));
  const out = new Map<string, ModuleScan>();
  for (const [name, objects] of shares[0]) out.set(name, scanModule(name, objects, trees.objtree, env, observe));
  for (const r of await Promise.all(others)) for (const s of r) out.set(s.stored.name, { ...fromStored(s.stored), ...(s.observed ? { observed: new Map(s.observed) } : {}) });
  return out;
}

/** A tree scan from module scans, modules (and their errors) in the order the objects list them (link order). */
export function assembleScan(groups: ReadonlyMap<string, unknown>, scans: ReadonlyMap<string, ModuleScan>, env: () => ScanEnvironment): TreeScan {
  const modules = new Map<string, ModuleSymbols>();
  const errors: ScanDiagnostic[] = [];
  const unreadable: string[] = [];
  for (const name of groups.keys()) {
    const s = scans.get(name)!;
    modules.set(name, s.symbols);
    errors.push(...s.errors);
    unreadable.push(...s.unreadable);
  }
  return {
    modules,
    errors,
    unreadable,
    // The index is built when first asked for (a kept scan with nothing to scan or predict never does).
    get headers() {
      return { files: env().index.files, bytes: env().index.bytes };
    },
    get index() {
      return env().index;
    },
  };
}

export async function scanTreeParallel(o: TreeScanOptions, threads = availableParallelism()): Promise<TreeScan> {
  forgetIncludeFiles(); // what this process read before may have changed
  const compiler = treeCompilerMacros(o.objects);
  const env = scanEnvironment(o, compiler);
  const groups = objectsByModule(o.objects);
  return assembleScan(groups, await scanModules(o, compiler, env, groups, threads, false), () => env);
}
