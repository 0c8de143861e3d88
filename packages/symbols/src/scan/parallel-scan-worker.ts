import { parentPort, workerData } from 'node:worker_threads';
import { toWorker, type WorkerInput } from './parallel-scan';
import { scanEnvironment, scanModule } from './tree-scan';

const { options, compiler, modules, observe } = workerData as WorkerInput;
try {
  // The index is this thread's own: what it reads is the main thread's to record.
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
  parentPort!.postMessage(modules.map(([name, objects]) => toWorker(scanModule(name, objects, options.objtree, env, observe))));
} catch (e) {
  parentPort!.postMessage({ error: String((e as Error).stack ?? e) });
}
