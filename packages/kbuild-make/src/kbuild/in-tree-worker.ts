import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import { CachedShell } from '@nx-kbuild/kconfig';
import { warmBuildDir, type KbuildEnvironment } from './build-dir';
import { SubMakes, type JobResult } from './sub-makes';
import { claim, type FromWorker, type ToWorker } from './unit-queue';

/**
 * A thread of evaluateKernelTree: started before the structure pass, it reads what every sub-make
 * starts from, then takes the units it is offered that no other thread took (see UnitQueue).
 */
const { env, shellCache } = workerData as { env: KbuildEnvironment; shellCache?: string };
const shell = new CachedShell(shellCache, env.objtree, { ...process.env, ...env.env });
warmBuildDir(env);
let claims: Int32Array | undefined;
let subMakes: SubMakes | undefined;
let failed: unknown;
/** Commands not yet sent; they go in batches as they come (see UnitQueue.finish). */
let results: JobResult[] = [];
let commands: MessagePort | undefined;
let batches = 0;
const BATCH = 512;
let units = 0;
parentPort!.on('message', (m: ToWorker) => {
  if (m.kind === 'begin') {
    claims = m.claims;
    commands = m.commands;
    subMakes = new SubMakes({ ...env, shell: (c) => shell.run(c) }, m.keep);
  } else if (m.kind === 'unit') {
    if (failed !== undefined || !claim(claims!, m.index)) return;
    try {
      for (const r of subMakes!.run(m.unit)) results.push(r);
      units++;
      if (results.length >= BATCH) {
        commands!.postMessage(results);
        results = [];
        batches++;
      }
    } catch (e) {
      failed = e;
    }
  } else {
    const answer: FromWorker =
      failed === undefined
        ? { results, batches, records: subMakes!.records(), fresh: shell.freshResults(), units }
        : { error: failed instanceof SourceError ? { file: failed.file, line: failed.line, detail: failed.detail } : String((failed as Error).stack ?? failed) };
    parentPort!.postMessage(answer);
  }
});
