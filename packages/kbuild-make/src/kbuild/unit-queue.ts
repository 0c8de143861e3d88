import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import type { KbuildEnvironment } from './build-dir';
import type { DirRecord, JobResult, SubMakes, Unit } from './sub-makes';

/** What this thread tells a worker: begin (the claim table), a unit to take if still free, the end. */
export type ToWorker = { kind: 'begin'; claims: Int32Array; keep: boolean } | { kind: 'unit'; index: number; unit: Unit } | { kind: 'end' };

/** A worker's answer to `end`: the commands of the units it took, its records, its new probe results. */
export interface WorkerResult {
  results: JobResult[];
  records: DirRecord[];
  fresh: Record<string, string>;
  units: number;
}

export type FromWorker = WorkerResult | { error: { file: string; line: number; detail: string } | string };

/** Units beyond this many are not offered to the workers (this thread takes them). */
const CAPACITY = 1 << 16;
const FREE = 0;
const TAKEN = 1;

/**
 * Units of work shared between this thread and worker threads without a scheduler: workers are
 * offered every unit as it is added and take them in that order, this thread takes them from the
 * last one backwards once all are added; a claim table in shared memory says who took which, so
 * the two ends meet where the work is even, however long each unit takes. Units may be added while
 * this thread is busy elsewhere (the structure pass finds them): the workers start on them at once.
 */
export class UnitQueue {
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CAPACITY));
  private readonly units: Unit[] = [];

  constructor(private readonly workers: ThreadWorker[], keep: boolean) {
    for (const w of workers) w.send({ kind: 'begin', claims: this.claims, keep });
  }

  get size(): number {
    return this.units.length;
  }

  add(unit: Unit): void {
    const index = this.units.push(unit) - 1;
    if (index < CAPACITY) for (const w of this.workers) w.send({ kind: 'unit', index, unit });
  }

  /**
   * After the last unit: this thread's share (run by `mine`), then every worker's results. Every
   * unit is run by exactly one thread: the workers try each in order, this thread stops at the
   * first one a worker took.
   */
  async finish(mine: SubMakes): Promise<{ results: JobResult[]; theirs: WorkerResult[]; mine: number }> {
    for (const w of this.workers) w.send({ kind: 'end' });
    const answers = this.workers.map((w) => w.answer);
    const results: JobResult[] = [];
    let taken = 0;
    for (let i = this.units.length - 1; i >= 0; i--) {
      if (i < CAPACITY && this.workers.length > 0 && !claim(this.claims, i)) break;
      for (const r of mine.run(this.units[i])) results.push(r);
      taken++;
    }
    return { results, theirs: await Promise.all(answers), mine: taken };
  }
}

/** A worker's side of the claim table: whether it takes unit `index`. */
export const claim = (claims: Int32Array, index: number): boolean => Atomics.compareExchange(claims, index, FREE, TAKEN) === FREE;

export interface ThreadWorker {
  send(message: ToWorker): void;
  /** Its answer to `end`. */
  readonly answer: Promise<WorkerResult>;
  /** Ends the thread (after its answer, or when it is not needed). */
  stop(): void;
}

/** The compiled worker script (absent when running from the TypeScript sources). */
export const workerScript = join(__dirname, 'in-tree-worker.js');

/** A worker thread for the directories' sub-makes, with its own probe cache; it reads the sub-makes' prelude at once. */
export function startWorker(env: KbuildEnvironment, shellCache: string | undefined): ThreadWorker {
  const worker = new Worker(workerScript, { workerData: { env: { srctree: env.srctree, objtree: env.objtree, env: env.env }, shellCache } });
  // An idle thread does not keep the process alive; one that was given work does until it answers.
  worker.unref();
  const answer = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', (m: FromWorker) => {
      if ('error' in m) reject(typeof m.error === 'string' ? new Error(m.error) : new SourceError(m.error.file, m.error.line, m.error.detail));
      else resolve(m);
    });
    worker.once('error', reject);
  });
  answer.catch(() => undefined); // a thread that fails before it is waited for is reported by finish()
  return {
    send: (message) => {
      worker.ref();
      worker.postMessage(message);
    },
    answer,
    stop: () => void worker.terminate(),
  };
}
