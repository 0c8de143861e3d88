import { parentPort, workerData } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import { CachedShell } from '@nx-kbuild/kconfig';
import { warmBuildDir, type KbuildEnvironment } from './build-dir';
import { runWork, type ThreadWork } from './in-tree';

/**
 * A thread of evaluateKernelTree: started while the structure pass runs, it reads what every
 * sub-make starts from, then waits for its share of the directories (with its own probe cache).
 */
const { env, shellCache } = workerData as { env: KbuildEnvironment; shellCache?: string };
const shell = new CachedShell(shellCache, env.objtree, { ...process.env, ...env.env });
warmBuildDir(env);
parentPort!.once('message', (work: ThreadWork) => {
  try {
    const { commands, records } = runWork({ ...work, env: { ...work.env, shell: (c) => shell.run(c) } });
    parentPort!.postMessage({ commands, records, fresh: shell.freshResults() });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof SourceError ? { file: e.file, line: e.line, detail: e.detail } : String((e as Error).stack ?? e) });
  }
});
