import { parentPort, workerData } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import { CachedShell } from '@nx-kbuild/kconfig';
import { runWork, type ThreadWork } from './in-tree';

/** A thread of evaluateKernelTree: its share of the directories, with its own probe cache. */
const { work, shellCache } = workerData as { work: ThreadWork; shellCache?: string };
const shell = new CachedShell(shellCache, work.env.objtree, { ...process.env, ...work.env.env });
try {
  const { commands, records } = runWork({ ...work, env: { ...work.env, shell: (c) => shell.run(c) } });
  parentPort!.postMessage({ commands, records, fresh: shell.freshResults() });
} catch (e) {
  parentPort!.postMessage({ error: e instanceof SourceError ? { file: e.file, line: e.line, detail: e.detail } : String((e as Error).stack ?? e) });
}
