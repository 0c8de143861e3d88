import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFile, writeFileSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';

/**
 * The temp file's name next to `path`: the process and the thread (scan threads write kept files
 * too), so no two writers on one machine share one.
 */
function tempName(path: string): string {
  return threadId === 0 ? `${path}.tmp.${process.pid}` : `${path}.tmp.${process.pid}-${threadId}`;
}

/**
 * Writes a file whole or not at all (temp file in the same directory, then rename): a reader, or a
 * run interrupted half-way, never sees half an output.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A temp file's name after `<file>.tmp.`: the writer's process, its thread, an async write's number. */
const TEMP_SUFFIX = /^(\d+)(?:-\d+)?(?:\.\d+)?$/;

/**
 * How old a temp file must be before it counts as abandoned: a process of another PID namespace
 * (a container sharing the build directory) looks gone from here, but does not write one file for
 * this long.
 */
const ABANDONED_AFTER_MS = 10 * 60 * 1000;

/**
 * Removes what a killed writer of `path` left (its temp file, up to the size of a whole kept scan):
 * temp files of `path` whose process is gone and that were last written long ago. A live
 * process's, this one's among them, stay.
 */
export function removeAbandonedTemps(path: string): void {
  const prefix = `${basename(path)}.tmp.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(TEMP_SUFFIX.exec(name.slice(prefix.length))?.[1]);
    if (!(pid > 0) || processRuns(pid)) continue;
    const temp = join(dirname(path), name);
    try {
      if (now - statSync(temp).mtimeMs > ABANDONED_AFTER_MS) rmSync(temp, { force: true });
    } catch {
      // gone meanwhile
    }
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * writeFileAtomic for a kept file, one a cache directory holds and every run writes again: what a
 * killed run left beside it goes first.
 */
export function writeKeptFileAtomic(path: string, content: string | Uint8Array): void {
  removeAbandonedTemps(path);
  writeFileAtomic(path, content);
}

let asyncWrites = 0;

/**
 * fs's callback writeFile: the whole buffer in one request to libuv's threads (fs/promises'
 * writeFile writes 512 KB at a time, each next piece started from this thread's event loop, so a
 * large file was hardly written while this thread computed).
 */
const writeInOneRequest = promisify(writeFile);

/**
 * writeFileAtomic on libuv's threads: a large kept file (the whole-tree scan, 130 MB) is written
 * while the process goes on computing. Each write has a temp file of its own.
 */
export async function writeFileAtomicAsync(path: string, content: Uint8Array): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  removeAbandonedTemps(path);
  const tmp = `${tempName(path)}.${asyncWrites++}`;
  try {
    await writeInOneRequest(tmp, content);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * writeFileAtomic for an output made of many pieces (a 50 MB JSON of 15,000 objects): each piece is
 * written as it comes, so the whole is never one string in memory.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): void {
  mkdirSync(dirname(path), { recursive: true });
  removeAbandonedTemps(path);
  const tmp = tempName(path);
  const fd = openSync(tmp, 'w');
  let open = true;
  try {
    for (const c of chunks) writeSync(fd, c);
    closeSync(fd);
    open = false;
    renameSync(tmp, path);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A JSON array of objects in pieces of `size` objects (JSON.stringify of the array, byte for byte). */
export function* jsonArrayChunks(items: readonly object[], size = 500): Generator<string> {
  for (let i = 0; i < items.length; i += size) {
    const part = items.slice(i, i + size).map((x) => JSON.stringify(x));
    yield (i === 0 ? '[' : ',') + part.join(',');
  }
  if (items.length === 0) yield '[';
  yield ']';
}
