import { parentPort, workerData } from 'node:worker_threads';
import { headersOf } from '../imports/kept-predictions';
import { predictedImports } from '../imports/module-imports';
import { HeaderReferences } from '../imports/predict';
import { BATCH, toWorker, type IndexTables, type ModuleQueue, type PredictAnswer, type PredictRequest, type QueueMessage, type WorkerDone, type WorkerInput, type WorkerModuleScan } from './parallel-scan';
import { HeaderIndexCache } from './header-index-cache';
import { forgetIncludeFiles } from './include-files';
import { plainToObject, scanEnvironment, scanModule, type ModuleSymbols } from './tree-scan';
import type { ScanEnvironment } from './source-scan';

const input = workerData as WorkerInput;
const { options, compiler, results, tables, observe, hold, indexCache } = input;
const done = (m: WorkerDone) => parentPort!.postMessage(m);
const failed = (e: unknown) => done({ error: String((e as Error).stack ?? e) });
try {
  // The index is this thread's own: what it reads is the main thread's to record.
  const cache = indexCache && new HeaderIndexCache(indexCache.file, indexCache.key, true);
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler), undefined, cache);
  if (input.modules && input.next) scan(env, references(env, hold, true), { modules: input.modules, next: input.next });
  // Started early (startScanThread): the modules come once the main thread knows them.
  else
    results.once('message', (q: QueueMessage) => {
      try {
        scan(env, references(env, q.hold, q.tables), q);
      } catch (e) {
        failed(e);
      }
    });
} catch (e) {
  failed(e);
}

/**
 * A thread that will predict reads what the main thread would read of the same index once every
 * module is scanned (see IndexTables), with `read`, before it scans: on a small heap, off the main
 * thread's last phase.
 */
function references(env: ScanEnvironment, hold: boolean, read: boolean): HeaderReferences | undefined {
  const headers = hold ? new HeaderReferences(env.index) : undefined;
  if (headers && read && tables) tables.postMessage({ referrers: headers.referrerTable(), headerNames: headersOf(env.index) } satisfies IndexTables);
  return headers;
}

function scan(env: ScanEnvironment, headers: HeaderReferences | undefined, { modules, next }: ModuleQueue): void {
  const held = new Map<string, ModuleSymbols>();
  let batch: WorkerModuleScan[] = [];
  let batches = 0;
  const send = () => {
    results.postMessage(batch);
    batches++;
    batch = [];
  };
  for (let i; (i = Atomics.add(next, 0, 1)) < modules.length; ) {
    const [name, objects] = modules[i];
    const scan = scanModule(name, objects.map(plainToObject), options.objtree, env, observe);
    if (headers) held.set(name, scan.symbols);
    batch.push(toWorker(scan));
    if (batch.length === BATCH) send();
  }
  if (batch.length > 0) send();
  forgetIncludeFiles();
  done({ batches });
  if (headers) {
    results.on('message', (r: PredictRequest) => {
      let answer: PredictAnswer;
      try {
        if (r.referrers) headers.takeReferrers(new Map(r.referrers.map(([name, list]) => [name, list.split(' ')])));
        const owners = new Map(r.owners);
        answer = { predicted: r.modules.map((name) => [name, predictedImports(held.get(name)!, owners, headers).symbols]) };
      } catch (e) {
        answer = { error: String((e as Error).stack ?? e) };
      }
      results.postMessage(answer);
    });
  }
}
