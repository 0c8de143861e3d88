import { parentPort, workerData } from 'node:worker_threads';
import { BATCH, toWorker, type WorkerDone, type WorkerInput, type WorkerModuleScan } from './parallel-scan';
import { plainToObject, scanEnvironment, scanModule } from './tree-scan';

const { options, compiler, modules, next, results, observe } = workerData as WorkerInput;
const done = (m: WorkerDone) => parentPort!.postMessage(m);
try {
  // The index is this thread's own: what it reads is the main thread's to record.
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
  let batch: WorkerModuleScan[] = [];
  let batches = 0;
  const send = () => {
    results.postMessage(batch);
    batches++;
    batch = [];
  };
  for (let i; (i = Atomics.add(next, 0, 1)) < modules.length; ) {
    const [name, objects] = modules[i];
    batch.push(toWorker(scanModule(name, objects.map(plainToObject), options.objtree, env, observe)));
    if (batch.length === BATCH) send();
  }
  if (batch.length > 0) send();
  done({ batches });
} catch (e) {
  done({ error: String((e as Error).stack ?? e) });
}
