import { parentPort, workerData } from 'node:worker_threads';
import { observing, type Observed } from '@nx-kbuild/kbuild-make';
import { toWorkerModules, type WorkerInput } from './parallel-scan';
import { scanEnvironment, scanObjects, type ModuleSymbols } from './tree-scan';

const { options, compiler, observe } = workerData as WorkerInput;
try {
  const observed: Observed = new Map();
  const scan = () => {
    const env = scanEnvironment({ ...options, config: new Map(options.config) }, new Map(compiler));
    const modules = new Map<string, ModuleSymbols>();
    const { errors, unreadable } = scanObjects(options.objects, options.objtree, env, modules);
    return toWorkerModules(modules, errors, unreadable);
  };
  const result = observe ? observing(observed, scan) : scan();
  parentPort!.postMessage(observe ? { ...result, observed: [...observed] } : result);
} catch (e) {
  parentPort!.postMessage({ error: String((e as Error).stack ?? e) });
}
