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
import type { HeaderNames } from '../imports/kept-predictions';
import type { ExportOwners } from '../imports/predict';
import type { KeptIndexFile } from './header-index-cache';
import { forgetIncludeFiles } from './include-files';
import { forgetHideSets } from './macros';
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

/** The modules a scan thread takes from, and the counter it shares with the other threads. */
export interface ModuleQueue {
  /** Every module, in the order they are taken. */
  modules: [string, PlainObject[]][];
  /** Element 0: the next module to take, shared by all threads (Atomics.add). */
  next: Int32Array;
}

export interface WorkerInput extends Partial<ModuleQueue> {
  options: Omit<ScanTrees, 'config'> & { config: [string, string][] };
  compiler: [string, string][];
  /**
   * The kept header index parts (header-index-cache.ts) to build this thread's index from, read
   * only: the main thread writes them. Without, every shared header is indexed.
   */
  indexCache?: KeptIndexFile;
  /** Where the worker sends its modules (WorkerModuleScan[] batches). */
  results: MessagePort;
  /** Where the first worker that holds its modules sends its IndexTables, before it scans (one is enough; see QueueMessage). */
  tables?: MessagePort;
  observe: boolean;
  /**
   * Whether the worker keeps its modules after scanning them, to predict their imports when asked
   * (a PredictRequest on `results`, answered there with a PredictAnswer).
   */
  hold: boolean;
}

/**
 * What the main thread reads of its header index once every module is scanned, read by a thread
 * that will predict before it scans (the index is the same) and sent then: the headers'
 * references (HeaderReferences.referrerTable) and names (headersOf). On the main thread, holding
 * every module, the names alone took 0.94 s (0.3 s in a fresh process); read by the other thread
 * at the end and asked for, they took 0.5 s to arrive.
 */
export interface IndexTables {
  referrers: Map<string, string[]>;
  headerNames: HeaderNames[];
}

export interface PredictRequest {
  owners: [string, string][];
  modules: string[];
  /**
   * The index's referrer table as the kept predictions keep it (each name's referrers
   * space-separated), when they were made with the same index: the thread need not read every
   * definition (a second) to predict a few modules.
   */
  referrers?: readonly [string, string][];
}
export type PredictAnswer = { predicted: [string, string[]][] } | { error: string };

/**
 * Threads that scanned modules and still hold them: they predict those modules' imports (as
 * predictedImports does) on their own header index, while this thread predicts the others.
 */
export interface RemotePredictor {
  holds(module: string): boolean;
  /** Each module's predicted imports (sorted symbols), for modules some thread holds (see PredictRequest for `referrers`). */
  predict(owners: ExportOwners, modules: readonly string[], referrers?: readonly [string, string][]): Promise<Map<string, string[]>>;
  /** The IndexTables a thread read before it scanned, if it was to (see scanModules' `early`). */
  tables(): IndexTables | undefined;
  /** Ends the threads. */
  close(): void;
}

/**
 * Without `modules` in its input, the worker builds its index and then waits for its ModuleQueue,
 * sent on `results` (see startScanThread); with whether to hold its modules (WorkerInput.hold) and,
 * if it does, whether to read and send its IndexTables before it scans.
 */
export type QueueMessage = ModuleQueue & { hold: boolean; tables: boolean };

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

interface ScanThread {
  port: MessagePort;
  /** Where its IndexTables come, when it reads them. */
  tables?: MessagePort;
  done: Promise<number>;
  worker: Worker;
  /** The modules it scanned (filled as its batches arrive). */
  modules: Set<string>;
}

/**
 * A scan thread's young generation (three semi-spaces' worth: 32 MB each, twice V8's default).
 * A source's macro tables and tokens live for the source's scan: with twice the room between
 * scavenges, fewer of them are still alive to be copied. One thread's whole-tree scan: 490
 * scavenges, 3.1 s of pauses with the default; 255 and 2.2 s with this.
 */
const YOUNG_GENERATION_MB = 96;

/**
 * A scan thread started before its modules are known, so that it builds its header index while
 * this thread reads and checks a kept scan: after a source edit, the module to scan again is
 * then scanned by a thread whose index is ready (building it here took a second of each such run).
 */
export interface EarlyScanThread {
  readonly thread: ScanThread;
  /** Gives it its modules (once), and what QueueMessage says. */
  start(queue: ModuleQueue, hold: boolean, tables: boolean): void;
  /** Ends it unused. */
  cancel(): void;
}

/**
 * An EarlyScanThread for scans with `observe` as scanModules takes it, or undefined
 * where there is no other thread (one thread asked for, or no compiled worker: tests from sources).
 */
export function startScanThread(trees: ScanTrees, compiler: ReadonlyMap<string, string>, threads: number, observe: boolean, indexCache: KeptIndexFile): EarlyScanThread | undefined {
  if (threads < 2 || !existsSync(WORKER)) return undefined;
  const thread = runWorker({ options: plainOptions(trees), compiler: [...compiler], indexCache, observe, hold: false }, true);
  return {
    thread,
    start: (queue, hold, tables) => thread.port.postMessage({ ...queue, hold, tables } satisfies QueueMessage),
    cancel: () => {
      thread.tables?.close();
      thread.port.close();
      void thread.worker.terminate();
    },
  };
}

const plainOptions = (trees: ScanTrees): WorkerInput['options'] => ({ srctree: trees.srctree, objtree: trees.objtree, srcarch: trees.srcarch, config: [...trees.config] });

function runWorker(input: Omit<WorkerInput, 'results' | 'tables'>, readTables: boolean): ScanThread {
  const { port1, port2 } = new MessageChannel();
  const tables = readTables ? new MessageChannel() : undefined;
  const transferList = tables ? [port2, tables.port2] : [port2];
  const worker = new Worker(WORKER, { workerData: { ...input, results: port2, tables: tables?.port2 }, transferList, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  const done = new Promise<number>((resolve, reject) => {
    worker.once('message', (m: WorkerDone) => ('error' in m ? reject(new Error(m.error)) : resolve(m.batches)));
    worker.once('error', reject);
  });
  done.catch(() => undefined); // reported when awaited
  return { port: port1, tables: tables?.port1, done, worker, modules: new Set() };
}

function remotePredictor(threads: ScanThread[]): RemotePredictor {
  // A held thread waits for requests: it does not keep the process alive by itself.
  for (const t of threads) {
    t.worker.unref();
    t.port.unref();
  }
  const ask = (t: ScanThread, request: PredictRequest) =>
    new Promise<[string, string[]][]>((resolve, reject) => {
      // Waiting for the answer keeps the process alive (a promise alone does not).
      t.port.ref();
      t.port.once('message', (a: PredictAnswer) => {
        t.port.unref();
        if ('error' in a) reject(new Error(a.error));
        else resolve(a.predicted);
      });
      t.worker.once('error', reject);
      t.port.postMessage(request);
    });
  return {
    holds: (module) => threads.some((t) => t.modules.has(module)),
    async predict(owners, modules, referrers) {
      const list = [...owners];
      const answers = await Promise.all(threads.map((t) => ask(t, { owners: list, modules: modules.filter((m) => t.modules.has(m)), referrers })));
      return new Map(answers.flat());
    },
    tables() {
      // Sent before the thread scanned anything: here long since, if sent.
      const m = threads[0].tables && receiveMessageOnPort(threads[0].tables);
      return m?.message as IndexTables | undefined;
    },
    close() {
      for (const t of threads) {
        t.tables?.close();
        void t.worker.terminate();
      }
    },
  };
}

/**
 * Below this many modules another thread does not pay for itself: each builds its own header
 * index (seconds) before it scans anything.
 */
const MODULES_PER_EXTRA_THREAD = 64;

/**
 * Scans `groups` (module → its objects), this thread with `environment`, other threads with their
 * own index when there are enough modules to share. `environment` may be a function: this thread's
 * index is then built after the other threads are started, while they build theirs. With `observe`, each
 * module's result carries what its scan read or looked up. With `hold`, the other threads keep
 * their modules and are returned as a predictor (to be closed). With `early` (started with the same
 * `observe`), that thread is the other one, and this thread scans only when the modules are many
 * enough to share: a few are left to `early`, whose index is ready, and this thread's is not built.
 * Nor does `early` then read its IndexTables (1.5 s before it scans): after a source edit nothing
 * else is predicted, and what is predicted here uses the referrers the kept predictions keep.
 */
export async function scanModules(
  trees: ScanTrees,
  compiler: ReadonlyMap<string, string>,
  environment: ScanEnvironment | (() => ScanEnvironment),
  groups: ReadonlyMap<string, readonly TreeObject[]>,
  threads: number,
  observe: boolean,
  hold = false,
  early?: EarlyScanThread,
): Promise<{ scans: Map<string, ModuleScan>; predictor?: RemotePredictor }> {
  const wanted = existsSync(WORKER) ? Math.max(1, Math.min(threads, Math.ceil(groups.size / MODULES_PER_EXTRA_THREAD))) : 1;
  const n = early ? Math.max(2, wanted) : wanted;
  const modules = n > 1 ? largestFirst(groups) : [...groups];
  const next = new Int32Array(new SharedArrayBuffer(4));
  const plain = n > 1 ? modules.map(([name, l]): [string, PlainObject[]] => [name, l.map(plainObject)]) : [];
  const scansHere = !early || groups.size > MODULES_PER_EXTRA_THREAD;
  const started = Array.from({ length: n - 1 - (early ? 1 : 0) }, (_, w) => runWorker({ options: plainOptions(trees), compiler: [...compiler], modules: plain, next, observe, hold }, hold && !early && w === 0));
  const others = early ? [early.thread, ...started] : started;
  early?.start({ modules: plain, next }, hold, hold && scansHere);
  const out = new Map<string, ModuleScan>();
  const received = others.map(() => 0);
  const receive = (w: number): boolean => {
    const m = receiveMessageOnPort(others[w].port);
    if (m === undefined) return false;
    for (const s of m.message as WorkerModuleScan[]) {
      out.set(s.stored.name, { ...fromStored(s.stored), ...(s.observed ? { observed: new Map(s.observed) } : {}) });
      others[w].modules.add(s.stored.name);
    }
    received[w]++;
    return true;
  };
  const env = scansHere ? (typeof environment === 'function' ? environment() : environment) : undefined;
  for (let i; env && (i = Atomics.add(next, 0, 1)) < modules.length; ) {
    const [name, objects] = modules[i];
    const s = scanModule(name, objects, trees.objtree, env, observe);
    // Its kept form made now, as the other threads make theirs: the work is shared out with the
    // modules, rather than left to this thread once all are scanned.
    if (observe) s.stored = storedScan(s);
    out.set(name, s);
    for (let w = 0; w < others.length; w++) while (receive(w));
  }
  // What the scan read of headers is not read again (what follows reads the index): let go.
  forgetIncludeFiles();
  const batches = await Promise.all(others.map((o) => o.done));
  // A worker's batches were sent before its last message, on its own port: each is there by now.
  batches.forEach((b, w) => {
    while (received[w] < b) if (!receive(w)) throw new Error(`a scan thread sent ${b} batches, ${received[w]} arrived`);
    if (!hold) others[w].port.close();
  });
  return { scans: out, predictor: hold && others.length > 0 ? remotePredictor(others) : undefined };
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
  forgetHideSets();
  const compiler = treeCompilerMacros(o.objects);
  const env = scanEnvironment(o, compiler);
  const groups = objectsByModule(o.objects);
  return assembleScan(groups, (await scanModules(o, compiler, env, groups, threads, false)).scans, () => env);
}
