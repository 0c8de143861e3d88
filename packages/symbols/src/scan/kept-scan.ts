/**
 * The whole-tree scan, kept per module between runs: each module's result is stored with every
 * file its scan read or looked up (sources, local and followed headers, include lookups) and is
 * reused while none of them changed, its objects and their commands are the same, and what its scan
 * read of the shared header index (index-facts.ts) reads the same. Only the other modules are
 * scanned again: after a source edit, the module that compiles it; after a shared header edit, the
 * modules that looked up a macro whose definition changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest, writeFileAtomicAsync } from '@nx-kbuild/diagnostics';
import { fewChanges, forgetSignatures, isFact, mergeObservation, ObservationTable, observing, readLayers, signatureNow, writeChanges, writeWhole, type Layer, type Observed } from '@nx-kbuild/kbuild-make';
import { forgetIncludeFiles } from './include-files';
import { forgetHideSets } from './macros';
import { HeaderIndexCache, type KeptIndexFile } from './header-index-cache';
import { indexFactNow } from './index-facts';
import type { IndexIdentity } from '../imports/kept-predictions';
import { fromStored, storedScan, type StoredModuleScan } from './kept-module';
import { assembleScan, scanModules, startScanThread, type EarlyScanThread, type RemotePredictor, type ScanTrees } from './parallel-scan';
import type { ScanEnvironment } from './source-scan';
import { objectsByModule, scanEnvironment, treeCompilerMacros, type ModuleScan, type TreeObject, type TreeScan, type TreeScanOptions } from './tree-scan';

const FORMAT = 6;

interface KeptModule {
  /** Digest of its objects: names, sources, compile commands. */
  objects: string;
  /** What its scan observed: indices into `paths`. */
  observed: number[];
  scan: StoredModuleScan;
}

/** A whole kept scan, or the modules changed since one (kbuild-make's layered file). */
interface Kept extends Layer {
  format: number;
  key: string;
  /** Digest of what the shared header index was built from, and those files ([path, signature]). */
  index: string;
  indexPaths: [string, string][];
  /** [path, signature then] for every observation of every module. */
  paths: [string, string][];
  modules: [string, KeptModule][];
}

export interface KeptTreeScan {
  scan: TreeScan;
  /** Everything the scan depends on, the index's files included (for a result kept on top of it). */
  observed: Observed;
  /** The modules scanned this time (the others came from the kept file). */
  scanned: Set<string>;
  /** What identifies the shared header index: a digest of the files it was built from, and those files. */
  index: IndexIdentity;
  /** With `hold`, when other threads scanned: they predict the imports of what they scanned (close it). */
  predictor?: RemotePredictor;
  /** The kept scan written (it is written while the caller goes on: await this before ending). */
  saved: Promise<void>;
}

function scanKey(trees: ScanTrees, compiler: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  h.update(`${FORMAT}\0${codeDigest(join(__dirname, '..'))}\0${trees.srctree}\0${trees.objtree}\0${trees.srcarch}\0`);
  for (const [k, v] of trees.config) h.update(`${k}=${v}\0`);
  for (const [k, v] of compiler) h.update(`${k}=${v}\0`);
  return h.digest('hex');
}

function objectsDigest(objects: readonly TreeObject[]): string {
  const h = createHash('sha256');
  for (const o of objects) h.update(`${o.object}\0${o.source}\0${o.command ?? o.argv.join('\0')}\0\0`);
  return h.digest('hex');
}

function observationsDigest(observed: Observed): string {
  const h = createHash('sha256');
  for (const [p, s] of [...observed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) h.update(`${p}\0${s}\0`);
  return h.digest('hex');
}

function read(file: string, key: string): Kept | undefined {
  try {
    const kept = deserialize(readFileSync(file)) as Kept;
    return kept.format === FORMAT && kept.key === key ? kept : undefined;
  } catch {
    return undefined; // no kept scan, or one this code cannot read: scan everything
  }
}

/**
 * The kept scan: the whole one in `file`, with the modules scanned since written next to it
 * (`<file>.changes`, their records indexing their own table of paths, appended to the whole's).
 * `whole`: the whole file's id and its records, to tell which modules differ from it.
 */
function load(file: string, key: string): { kept: Kept; whole?: { id: string; modules: Map<string, KeptModule> } } | undefined {
  const { whole: kept, changes } = readLayers(file, (path) => read(path, key));
  if (!kept) return undefined;
  const whole = kept.id ? { id: kept.id, modules: new Map(kept.modules) } : undefined;
  if (!changes || !whole) return { kept, whole };
  const offset = kept.paths.length;
  const modules = new Map(kept.modules);
  for (const [name, m] of changes.modules) modules.set(name, { ...m, observed: m.observed.map((i) => i + offset) });
  return {
    kept: { ...kept, index: changes.index, indexPaths: changes.indexPaths, paths: [...kept.paths, ...changes.paths], modules: [...modules] },
    whole,
  };
}

/** A module's record with its observations in a table of its own file. */
const storedModule = (m: KeptModule, entries: [string, string][], paths: ObservationTable): KeptModule => ({ ...m, observed: entries.map(([p, sig]) => paths.index(p, sig)) });

/**
 * Scans the tree, reusing from `file` every module whose inputs did not change, and keeps the
 * result there (written whole, atomically). With `hold`, threads that scanned stay to predict.
 * `expectChanges`: the caller knows files have changed since (a kept result no longer holds).
 */
export async function scanTreeKept(o: TreeScanOptions, file: string, threads = availableParallelism(), hold = false, expectChanges = false): Promise<KeptTreeScan> {
  // What this process saw of the files before (a long-lived one, or a test's earlier run) may have changed.
  forgetIncludeFiles();
  forgetHideSets();
  forgetSignatures();
  const compiler = treeCompilerMacros(o.objects);
  const key = scanKey(o, compiler);
  // The headers' parts are kept next to the scan, by each header's signature (header-index-cache.ts).
  const indexCache: KeptIndexFile = { file: file.replace(/(\.v8)?$/, '-index.v8'), key: createHash('sha256').update(`${codeDigest(join(__dirname, '..'))}\0${o.srctree}\0${o.srcarch}`).digest('hex') };
  // Another thread builds its index while this one reads and checks the kept scan, and scans
  // whatever is found changed (see EarlyScanThread). Not unless asked: where nothing changed, it
  // slowed this thread's reading by a second.
  const early = expectChanges && existsSync(file) ? startScanThread(o, compiler, threads, true, indexCache) : undefined;
  try {
    return await scanWithKept(o, file, threads, hold, compiler, key, indexCache, early);
  } catch (e) {
    early?.cancel();
    throw e;
  }
}

async function scanWithKept(
  o: TreeScanOptions,
  file: string,
  threads: number,
  hold: boolean,
  compiler: ReadonlyMap<string, string>,
  key: string,
  indexCache: KeptIndexFile,
  early: EarlyScanThread | undefined,
): Promise<KeptTreeScan> {
  const loaded = load(file, key);
  const kept = loaded?.kept;
  // A path both the index and modules observed (the shared headers' include lookups) is stat'ed once.
  const holds = new Map<string, boolean>();
  const unchanged = ([p, sig]: [string, string]): boolean => {
    const k = `${p}\0${sig}`;
    let ok = holds.get(k);
    if (ok === undefined) holds.set(k, (ok = isFact(p) ? sameIndex || indexFactNow(env(), p) === sig : signatureNow(p, sig) === sig));
    return ok;
  };
  // The header index is built only when a module is scanned or a prediction made; while the files
  // it was built from are unchanged, the kept digest stands for it.
  let indexObserved: Observed | undefined = kept && kept.indexPaths.every(unchanged) ? new Map(kept.indexPaths) : undefined;
  let built: ScanEnvironment | undefined;
  const env = () => {
    if (!built) {
      const seen: Observed = new Map();
      built = observing(seen, () => scanEnvironment(o, compiler, undefined, new HeaderIndexCache(indexCache.file, indexCache.key)));
      indexObserved = seen;
    }
    return built;
  };
  // With nothing kept, every module is scanned: the index is built once the other threads are
  // started (they build theirs meanwhile).
  if (!indexObserved && kept) env();
  const keptIndex: string | undefined = indexObserved && observationsDigest(indexObserved);
  // With another index (a shared header changed), a kept module stands while what its scan read of
  // the index (its facts, index-facts.ts) reads the same in the new one.
  const sameIndex: boolean = kept !== undefined && kept.index === keptIndex;
  const groups = objectsByModule(o.objects);

  const scans = new Map<string, ModuleScan>();
  const reused = new Map<string, KeptModule>();
  if (kept) {
    const byName = new Map(kept.modules);
    for (const [name, objects] of groups) {
      const k = byName.get(name);
      if (!k || k.objects !== objectsDigest(objects) || !k.observed.every((i) => unchanged(kept.paths[i]))) continue;
      scans.set(name, fromStored(k.scan));
      reused.set(name, k);
    }
  }
  const stale = new Map([...groups].filter(([name]) => !scans.has(name)));
  let predictor: RemotePredictor | undefined;
  if (stale.size > 0) {
    const scanned = await scanModules(o, compiler, env, stale, threads, true, hold, early);
    for (const [name, s] of scanned.scans) scans.set(name, s);
    predictor = scanned.predictor;
  } else early?.cancel();
  const scan = assembleScan(groups, scans, env);
  if (!indexObserved) env();
  const index = keptIndex ?? observationsDigest(indexObserved!);

  // Every module's record, with what it observed; the result depends on all of it.
  const observed: Observed = new Map(indexObserved);
  const indexPaths = [...indexObserved!];
  const records: { name: string; record: KeptModule; entries: [string, string][] }[] = [];
  for (const [name, objects] of groups) {
    const old = reused.get(name);
    const s = scans.get(name)!;
    const entries: [string, string][] = old ? old.observed.map((i) => kept!.paths[i]) : [...s.observed!];
    for (const [p, sig] of entries) if (!isFact(p)) mergeObservation(observed, p, sig);
    records.push({ name, entries, record: old ?? { objects: objectsDigest(objects), observed: [], scan: s.stored ?? storedScan(s) } });
  }
  // Nothing scanned, the same modules and index: the kept files already say all this.
  const saved = stale.size > 0 || !kept || !sameIndex || kept.modules.length !== records.length ? save(file, { format: FORMAT, key, index, indexPaths }, records, loaded?.whole) : undefined;
  saved?.catch(() => undefined); // reported when awaited
  return { scan, observed, scanned: new Set(stale.keys()), index: { digest: index, files: indexPaths }, predictor, saved: saved ?? Promise.resolve() };
}

/**
 * Writes the kept scan (atomically, on libuv's threads: the caller goes on meanwhile). When the
 * modules are those of the whole kept file and few differ from it (a source edit scans the modules
 * that read it), only those are written, next to it: the whole file is 130 MB for a distribution
 * kernel.
 */
function save(
  file: string,
  head: Pick<Kept, 'format' | 'key' | 'index' | 'indexPaths'>,
  records: readonly { name: string; record: KeptModule; entries: [string, string][] }[],
  whole: { id: string; modules: Map<string, KeptModule> } | undefined,
): Promise<void> {
  const changed = whole && records.length === whole.modules.size && records.every((r) => whole.modules.has(r.name)) ? records.filter((r) => whole.modules.get(r.name) !== r.record) : undefined;
  const paths = new ObservationTable();
  const write = (list: typeof records) => (layer: Layer) => {
    const modules = list.map((r): [string, KeptModule] => [r.name, storedModule(r.record, r.entries, paths)]);
    return serialize({ ...head, ...layer, modules, paths: paths.entries } satisfies Kept);
  };
  if (whole && changed && fewChanges(changed.length, records.length)) return Promise.resolve(writeChanges(file, whole.id, write(changed), writeFileAtomicAsync));
  return Promise.resolve(writeWhole(file, write(records), writeFileAtomicAsync));
}
