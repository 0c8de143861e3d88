/**
 * Each module's workspace headers (headers.ts), kept between graph computations in the build
 * directory with what finding them read: the files whose #include lines were read (by inode, size
 * and mtime) and the include candidates looked up (by existence). A module's headers are found
 * again only when one of those changed or its objects' sources or commands did: reading every
 * module's sources again for their #includes took 4-6 s of each whole-kernel graph.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest, writeKeptFileAtomic } from '@nx-kbuild/diagnostics';
import { keptObservations, ObservationTable, observing, type ModuleCommands, type Observed } from '@nx-kbuild/kbuild-make';
import { objectsHeaders } from './headers';

interface KeptModule {
  /** Digest of its objects' sources and compile commands. */
  objects: string;
  /** What finding its headers observed: indices into `paths`. */
  observed: number[];
  headers: string[];
}

interface Kept {
  key: string;
  paths: [string, string][];
  modules: [string, KeptModule][];
}

function objectsDigest(mc: ModuleCommands): string {
  const h = createHash('sha256');
  for (const o of mc.objects) h.update(`${o.source}\0${o.cc.argv.join('\0')}\0\0`);
  return h.digest('hex');
}

/** moduleHeaders(), each module's kept in `file` while nothing it read changed. */
export function keptModuleHeaders(file: string, modules: readonly ModuleCommands[], cwd: string, workspaceRoot: string, shared: readonly string[]): Map<string, string[]> {
  const key = createHash('sha256').update(`${codeDigest(join(__dirname, '..'))}\0${cwd}\0${workspaceRoot}\0${shared.join('\0')}`).digest('hex');
  let kept: Kept | undefined;
  try {
    kept = deserialize(readFileSync(file)) as Kept;
    if (kept.key !== key) kept = undefined;
  } catch {
    kept = undefined; // none yet, or unreadable: every module's headers are found
  }
  const old = new Map(kept?.modules);
  // Each path is stat'ed once however many modules looked at it.
  const stillHold = keptObservations(kept?.paths ?? []);
  const out = new Map<string, string[]>();
  const records: [string, { module: KeptModule } | { module: Omit<KeptModule, 'observed'>; observed: Observed }][] = [];
  let found = 0;
  for (const mc of modules) {
    const name = mc.module.name;
    const objects = objectsDigest(mc);
    const k = old.get(name);
    if (k && k.objects === objects && stillHold(k.observed)) {
      out.set(name, k.headers);
      records.push([name, { module: k }]);
      continue;
    }
    const observed: Observed = new Map();
    const headers = observing(observed, () => objectsHeaders(mc.objects, cwd, workspaceRoot, shared));
    out.set(name, headers);
    records.push([name, { module: { objects, headers }, observed }]);
    found++;
  }
  if (found > 0 || !kept || kept.modules.length !== modules.length) {
    const paths = new ObservationTable();
    const modulesOut = records.map(([name, r]): [string, KeptModule] => {
      const entries: [string, string][] = 'observed' in r ? [...r.observed] : r.module.observed.map((i) => kept!.paths[i]);
      return [name, { objects: r.module.objects, headers: r.module.headers, observed: entries.map(([p, sig]) => paths.index(p, sig)) }];
    });
    writeKeptFileAtomic(file, serialize({ key, paths: paths.entries, modules: modulesOut } satisfies Kept));
  }
  return out;
}
