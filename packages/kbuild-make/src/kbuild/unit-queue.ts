import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import type { KbuildEnvironment } from './build-dir';
import type { DirRecord, JobResult, SubMakes, Unit } from './sub-makes';

/**
 * What this thread tells a worker: begin (the claim table, and the port it sends commands on as it
 * goes), a unit to take if still free, the end.
 */
export type ToWorker = { kind: 'begin'; claims: Int32Array; keep: boolean; commands: MessagePort } | { kind: 'unit'; index: number; unit: Unit } | { kind: 'end' };

/**
 * A worker's answer to `end`: the commands of the units it took (those not yet sent in `batches`
 * messages on its commands port), its records, its new probe results.
 */
export interface WorkerResult {
  results: JobResult[];
  batches: number;
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
  /** Where each worker's commands arrive while it works (read between this thread's own units). */
  private readonly ports: MessagePort[] = [];

  constructor(private readonly workers: ThreadWorker[], keep: boolean) {
    for (const w of workers) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      w.send({ kind: 'begin', claims: this.claims, keep, commands: port2 }, [port2]);
    }
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
    // Commands the workers sent so far are taken in between: decoding them here while the workers
    // still work leaves less to do once they are done.
    const received = this.ports.map(() => 0);
    const receive = (w: number): boolean => {
      const m = receiveMessageOnPort(this.ports[w]);
      if (m === undefined) return false;
      for (const r of m.message as JobResult[]) results.push(r);
      received[w]++;
      return true;
    };
    let taken = 0;
    for (let i = this.units.length - 1; i >= 0; i--) {
      if (i < CAPACITY && this.workers.length > 0 && !claim(this.claims, i)) break;
      for (const r of mine.run(this.units[i])) results.push(r);
      taken++;
      for (let w = 0; w < this.ports.length; w++) while (receive(w));
    }
    const theirs = await Promise.all(answers);
    // A worker's batches were sent before its answer, on its own port: each is there by now.
    theirs.forEach((t, w) => {
      while (received[w] < t.batches) if (!receive(w)) throw new Error(`a worker sent ${t.batches} batches of commands, ${received[w]} arrived`);
      this.ports[w].close();
    });
    return { results, theirs, mine: taken };
  }
}

/** A worker's side of the claim table: whether it takes unit `index`. */
export const claim = (claims: Int32Array, index: number): boolean => Atomics.compareExchange(claims, index, FREE, TAKEN) === FREE;

export interface ThreadWorker {
  send(message: ToWorker, transfer?: MessagePort[]): void;
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
    send: (message, transfer) => {
      worker.ref();
      worker.postMessage(message, transfer);
    },
    answer,
    stop: () => void worker.terminate(),
  };
}
