/**
 * The whole-tree scan on every core: modules are taken one at a time, largest sources first, by
 * whichever thread is free (a counter in shared memory), so the threads end together however long
 * each module takes; each thread builds its own header index. Workers send their modules back in
 * batches as they go, and this thread decodes them between its own. From TypeScript sources
 * (tests) there is no compiled worker: one thread.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { forgetIncludeFiles } from './include-files';
import { fromStored, storedScan, type StoredModuleScan } from './kept-module';
import type { ScanDiagnostic, ScanEnvironment } from './source-scan';
import {
  objectsByModule,
  plainObject,
  scanEnvironment,
  type PlainObject,
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
  /** Every module, in the order they are taken. */
  modules: [string, PlainObject[]][];
  /** Element 0: the next module to take, shared by all threads (Atomics.add). */
  next: Int32Array;
  /** Where the worker sends its modules (WorkerModuleScan[] batches). */
  results: MessagePort;
  observe: boolean;
}

/** A worker's last message: how many batches it sent, or what went wrong. */
export type WorkerDone = { batches: number } | { error: string };

/** Modules a worker sends in one message. */
export const BATCH = 16;

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

/** The modules, largest sources first: the last ones taken are the quickest, so the threads end together. */
function largestFirst(groups: ReadonlyMap<string, readonly TreeObject[]>): [string, readonly TreeObject[]][] {
  return [...groups]
    .map((entry) => ({ entry, w: entry[1].reduce((n, o) => n + size(o.source), 0) }))
    .sort((a, b) => b.w - a.w)
    .map((x) => x.entry);
}

function runWorker(input: Omit<WorkerInput, 'results'>): { port: MessagePort; done: Promise<number> } {
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(WORKER, { workerData: { ...input, results: port2 }, transferList: [port2] });
  const done = new Promise<number>((resolve, reject) => {
    w.once('message', (m: WorkerDone) => ('error' in m ? reject(new Error(m.error)) : resolve(m.batches)));
    w.once('error', reject);
  });
  done.catch(() => undefined); // reported when awaited
  return { port: port1, done };
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
  const modules = n > 1 ? largestFirst(groups) : [...groups];
  const next = new Int32Array(new SharedArrayBuffer(4));
  const options = { srctree: trees.srctree, objtree: trees.objtree, srcarch: trees.srcarch, config: [...trees.config] };
  const plain = n > 1 ? modules.map(([name, l]): [string, PlainObject[]] => [name, l.map(plainObject)]) : [];
  const others = Array.from({ length: n - 1 }, () => runWorker({ options, compiler: [...compiler], modules: plain, next, observe }));
  const out = new Map<string, ModuleScan>();
  const received = others.map(() => 0);
  const receive = (w: number): boolean => {
    const m = receiveMessageOnPort(others[w].port);
    if (m === undefined) return false;
    for (const s of m.message as WorkerModuleScan[]) out.set(s.stored.name, { ...fromStored(s.stored), ...(s.observed ? { observed: new Map(s.observed) } : {}) });
    received[w]++;
    return true;
  };
  for (let i; (i = Atomics.add(next, 0, 1)) < modules.length; ) {
    const [name, objects] = modules[i];
    out.set(name, scanModule(name, objects, trees.objtree, env, observe));
    for (let w = 0; w < others.length; w++) while (receive(w));
  }
  const batches = await Promise.all(others.map((o) => o.done));
  // A worker's batches were sent before its last message, on its own port: each is there by now.
  batches.forEach((b, w) => {
    while (received[w] < b) if (!receive(w)) throw new Error(`a scan thread sent ${b} batches, ${received[w]} arrived`);
    others[w].port.close();
  });
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
