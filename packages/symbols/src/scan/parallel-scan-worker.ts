import { parentPort, workerData } from 'node:worker_threads';
import { headersOf } from '../imports/kept-predictions';
import { predictedImports } from '../imports/module-imports';
import { HeaderReferences } from '../imports/predict';
import { BATCH, toWorker, type IndexTables, type PredictAnswer, type PredictRequest, type WorkerDone, type WorkerInput, type WorkerModuleScan } from './parallel-scan';
import { forgetIncludeFiles } from './include-files';
import { plainToObject, scanEnvironment, scanModule, type ModuleSymbols } from './tree-scan';

const { options, compiler, modules, next, results, tables, observe, hold } = workerData as WorkerInput;
const done = (m: WorkerDone) => parentPort!.postMessage(m);
try {
  // The index is this thread's own: what it reads is the main thread's to record.
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
  // A thread that will predict reads what the main thread would read of the same index once every
  // module is scanned (see IndexTables), now: on a small heap, off the main thread's last phase.
  const headers = hold ? new HeaderReferences(env.index) : undefined;
  if (headers && tables) tables.postMessage({ referrers: headers.referrerTable(), headerNames: headersOf(env.index) } satisfies IndexTables);
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
    if (hold) held.set(name, scan.symbols);
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
        const owners = new Map(r.owners);
        answer = { predicted: r.modules.map((name) => [name, predictedImports(held.get(name)!, owners, headers).symbols]) };
      } catch (e) {
        answer = { error: String((e as Error).stack ?? e) };
      }
      results.postMessage(answer);
    });
  }
} catch (e) {
  done({ error: String((e as Error).stack ?? e) });
}
