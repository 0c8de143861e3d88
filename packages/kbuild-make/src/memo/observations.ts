import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * What an evaluation looked at in the file system, so that a later run can tell whether evaluating
 * it again could give anything different. Each path maps to its signature when it was looked at:
 *   a file read (a Makefile, `$(file <...)`) or a directory listed by $(wildcard): inode, size and
 *   mtime (a directory's mtime changes when an entry is added or removed), '-' when absent;
 *   a path only tested for existence (a candidate source, an optional include): '+' or '-'.
 */
export type Observed = Map<string, string>;

let current: Observed | undefined;

/** Signatures taken in this run: a file is stat'ed once however many directories read it. */
const taken = new Map<string, string>();

/** Called when an evaluation starts: files may have changed since the last one in this process. */
export function forgetSignatures(): void {
  taken.clear();
  listings.clear();
  directoriesNow.clear();
}

/** Runs `fn` with every file-system observation recorded into `into`. */
export function observing<T>(into: Observed, fn: () => T): T {
  const outer = current;
  current = into;
  try {
    return fn();
  } finally {
    current = outer;
    if (outer) for (const [p, s] of into) mergeObservation(outer, p, s);
  }
}

const isExistence = (sig: string) => sig === '+' || sig === '-';

/** Adds one observation to `into`: what a file's content was seen as wins over a test of its existence. */
export function mergeObservation(into: Observed, path: string, sig: string): void {
  const had = into.get(path);
  if (had === undefined || isExistence(had)) into.set(path, sig);
}

function statNow(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
}

/** A file whose content the evaluation used, or a directory whose entries it used. */
export function noteContent(path: string): void {
  if (!current) return;
  const had = current.get(path);
  if (had !== undefined && !isExistence(had)) return;
  current.set(path, signatureTaken(path));
}

/**
 * noteContent() that also tells the signature (inode, size, mtime; '-' when absent), taken once
 * per run whether observed or not: for a cache of what was read from the file.
 */
export function contentSignature(path: string): string {
  noteContent(path);
  return signatureTaken(path);
}

function signatureTaken(path: string): string {
  let sig = taken.get(path);
  // A path found absent is absent whether it was tested or stat'ed ('-' either way): only a
  // path known to exist needs its stat (a scan looks up the same missing headers again and again).
  if (sig === undefined || sig === '+') taken.set(path, (sig = statNow(path)));
  return sig;
}

/**
 * Something an evaluation depended on that is not a file: `key` starts with NUL (no path does) and
 * `sig` is what it was. The caller that records facts is the one that can tell whether they still
 * hold; signatureNow() knows nothing of them (see isFact).
 */
export function noteFact(key: string, sig: string): void {
  if (current && !current.has(key)) current.set(key, sig);
}

/** Whether an observation is a fact noted by noteFact rather than a path. */
export const isFact = (key: string): boolean => key.charCodeAt(0) === 0;

/** Whether observations are being recorded now (a fact costly to name need not be named otherwise). */
export const isObserving = (): boolean => current !== undefined;

/**
 * Where observations are recorded now (undefined when nowhere): a cache that notes the same paths
 * on every hit need note them only once per recording.
 */
export const observationScope = (): Observed | undefined => current;

/** An existence test the caller made itself (with its own cache), recorded as exists() records one. */
export function noteExistence(path: string, found: boolean): void {
  if (current && !current.has(path)) current.set(path, found ? '+' : '-');
}

/** existsSync, recorded as an existence test. */
export function exists(path: string): boolean {
  return existsRecorded(path, existsSync);
}

/**
 * exists() for a file of a tree the run does not write to (the candidate sources of objects):
 * answered from its directory's listing, read once (15,000 objects ask about 45,000 paths).
 * A symbolic link is still asked about (it may dangle).
 */
export function existsInSourceTree(path: string): boolean {
  return existsRecorded(path, listedExists);
}

function existsRecorded(path: string, test: (path: string) => boolean): boolean {
  let sig = taken.get(path);
  if (sig === undefined) taken.set(path, (sig = test(path) ? '+' : '-'));
  const found = sig !== '-';
  noteExistence(path, found);
  return found;
}

/** Directory listings of this run: entry name -> whether it is a symbolic link (null: unlistable). */
const listings = new Map<string, Map<string, boolean> | null>();

function listedExists(path: string): boolean {
  const name = basename(path);
  if (name === '' || name === '.' || name === '..' || path.endsWith('/')) return existsSync(path);
  const dir = dirname(path);
  let entries = listings.get(dir);
  if (entries === undefined) {
    try {
      entries = new Map(readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e.isSymbolicLink()]));
    } catch {
      entries = null;
    }
    listings.set(dir, entries);
  }
  if (entries === null) return existsSync(path);
  const link = entries.get(name);
  return link === undefined ? false : link ? existsSync(path) : true;
}

/**
 * Takes the directories under `root` as they are now. kbuild's sub-makes create the output
 * directories their targets need (Makefile.build's `$(shell mkdir -p ...)`), which changes the
 * listings they and their parents looked at; an evaluation does not depend on whether those
 * directories existed (the same commands come out either way), so what it saw of them is
 * recorded as they are after it, or every directory would look changed on the next run.
 */
export function settleDirectories(observed: Observed, root: string): void {
  const prefix = root.endsWith('/') ? root : root + '/';
  for (const [path, sig] of observed) {
    if (path !== root && !path.startsWith(prefix)) continue;
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) observed.set(path, isExistence(sig) ? '+' : `${st.ino}:${st.size}:${st.mtimeMs}`);
  }
}

/** The signature `path` has now, in the form `recorded` was taken (existence or stat). */
export function signatureNow(path: string, recorded: string): string {
  if (isExistence(recorded)) return existsNow(path) ? '+' : '-';
  return statNow(path);
}

/** Whether each directory an existence test's path lies in exists, in this run. */
const directoriesNow = new Map<string, boolean>();

/**
 * existsSync, but a path whose directory is missing is missing with no system call of its own:
 * most of what a check tested are #include candidates under directories that do not exist
 * (generated ones before a build, an architecture's linux/), 34,000 of 54,000 on Debian's config.
 */
function existsNow(path: string): boolean {
  const dir = dirname(path);
  return (dir === path || directoryNow(dir)) && existsSync(path);
}

function directoryNow(dir: string): boolean {
  let found = directoriesNow.get(dir);
  if (found === undefined) {
    found = existsNow(dir);
    directoriesNow.set(dir, found);
  }
  return found;
}

/**
 * For observations kept as indices into `entries` (a memo's table): whether a list of them still
 * holds, each entry's signature taken again at most once however many lists name it.
 */
export function keptObservations(entries: readonly (readonly [string, string])[]): (indices: readonly number[]) => boolean {
  const holds: (boolean | undefined)[] = [];
  return (indices) => {
    for (const i of indices) {
      let ok = holds[i];
      if (ok === undefined) {
        const [path, sig] = entries[i];
        holds[i] = ok = signatureNow(path, sig) === sig;
      }
      if (!ok) return false;
    }
    return true;
  };
}

/** Observations as kept on disk: each [path, signature] stored once, records pointing into it by index. */
export class ObservationTable {
  readonly entries: [string, string][] = [];
  private readonly at = new Map<string, number>();

  index(path: string, sig: string): number {
    const k = `${sig}\0${path}`;
    let i = this.at.get(k);
    if (i === undefined) this.at.set(k, (i = this.entries.push([path, sig]) - 1));
    return i;
  }
}

/** Observations as recorded in this run, or as a memo stores them (indices into its table of path signatures). */
export type Observations = Observed | readonly number[];
