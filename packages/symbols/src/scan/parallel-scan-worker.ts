import { parentPort, workerData } from 'node:worker_threads';
import { predictedImports } from '../imports/module-imports';
import { HeaderReferences } from '../imports/predict';
import { BATCH, toWorker, type PredictAnswer, type PredictRequest, type WorkerDone, type WorkerInput, type WorkerModuleScan } from './parallel-scan';
import { plainToObject, scanEnvironment, scanModule, type ModuleSymbols } from './tree-scan';

const { options, compiler, modules, next, results, observe, hold } = workerData as WorkerInput;
const done = (m: WorkerDone) => parentPort!.postMessage(m);
try {
  // The index is this thread's own: what it reads is the main thread's to record.
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
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
  done({ batches });
  if (hold) {
    const headers = new HeaderReferences(env.index);
    // The main thread asks once it has every module and has kept them: until then this thread
    // would wait idle, so it reads the headers' references now, which every prediction needs.
    headers.prepare();
    results.on('message', (r: PredictRequest) => {
      let answer: PredictAnswer;
      if ('referrers' in r) {
        results.postMessage({ referrers: headers.referrerTable() } satisfies PredictAnswer);
        return;
      }
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
