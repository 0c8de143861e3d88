import { parentPort, workerData } from 'node:worker_threads';
import { toWorkerModules, type WorkerInput } from './parallel-scan';
import { scanEnvironment, scanObjects, type ModuleSymbols } from './tree-scan';

const { options, compiler } = workerData as WorkerInput;
try {
  const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
  const modules = new Map<string, ModuleSymbols>();
  const { errors, unreadable } = scanObjects(options.objects, options.objtree, env, modules);
  parentPort!.postMessage(toWorkerModules(modules, errors, unreadable));
} catch (e) {
  parentPort!.postMessage({ error: String((e as Error).stack ?? e) });
}
