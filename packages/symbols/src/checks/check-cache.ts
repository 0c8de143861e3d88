import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { dirname, join } from 'node:path';
import { codeDigest, writeKeptFileAtomic } from '@nx-kbuild/diagnostics';
import { signatureNow, type Observed } from '@nx-kbuild/kbuild-make';
import type { QueriedModule } from '../queries';

/** What a whole-tree check printed, and what it read to get there. */
export interface CheckResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** What the queries read of each module, as the check found it (modules in scan order). */
export type KeptAnswers = (QueriedModule & { imports: readonly string[] })[];

interface Stored extends CheckResult {
  key: string;
  /** Every file the scan and the checks read or looked up, with its signature then. */
  observed: [string, string][];
  /** The SHA-256 of the answers file written with this result (the queries' data, see keptAnswers). */
  answers?: string;
}

/** The file beside the check's that holds its answers to queries. */
const answersFile = (file: string) => file.replace(/\.json$/, '') + '-answers.v8';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The key of a whole-tree check, known before the kbuild tree is evaluated: the code of the symbol
 * engine and of the kbuild evaluator, the trees, the configuration and the kbuild environment
 * (probed from the toolchain). Everything else the result depends on is an observation kept with
 * it: the files the kbuild evaluation read (its memo's records), those the scan and the checks
 * read, and the environment cache, rewritten when a tool of the toolchain changes.
 */
export function checkKey(parts: { srctree: string; objtree: string; config: ReadonlyMap<string, string>; env: Record<string, string> }): string {
  const h = createHash('sha256');
  h.update(`${codeDigest(join(__dirname, '..'))}\0${codeDigest(dirname(require.resolve('@nx-kbuild/kbuild-make')))}\0${parts.srctree}\0${parts.objtree}\0`);
  for (const [k, v] of parts.config) h.update(`${k}=${v}\0`);
  h.update(JSON.stringify(Object.entries(parts.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return h.digest('hex');
}

/**
 * The last check of this build directory, if it was made with `key` and nothing it read has
 * changed since (by inode, size and mtime; what it only looked up, by existence).
 */
export function cachedCheck(file: string, key: string): CheckResult | undefined {
  const last = lastCheck(file, key);
  return last.holds && resultOf(last.holds);
}

/** A kept check's output. */
export const resultOf = (stored: StoredCheck): CheckResult => ({ stdout: stored.stdout, stderr: stored.stderr, status: stored.status });

/** A kept check (what lastCheck found). */
export type StoredCheck = Readonly<Stored>;

/**
 * The last check of this build directory: `holds`, as cachedCheck takes it; or `changed`, made
 * with another key (`changed` is then '') or with a file it read changed since (the first found);
 * or neither, when there is none.
 */
export function lastCheck(file: string, key: string): { holds?: StoredCheck; changed?: string } {
  let stored: Stored;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
  } catch {
    return {};
  }
  if (stored.key !== key) return { changed: '' };
  for (const [path, sig] of stored.observed) if (signatureNow(path, sig) !== sig) return { changed: path };
  return { holds: stored };
}

/**
 * What the last check of this build directory found of each module, for the queries, on the terms
 * of cachedCheck; with the scan's errors (printed as the check printed them).
 */
export function keptAnswers(file: string, key: string): { modules: KeptAnswers; stderr: string } | undefined {
  const stored = lastCheck(file, key).holds;
  return stored && answersOf(file, stored);
}

/** keptAnswers() of a check lastCheck() found to hold. */
export function answersOf(file: string, stored: StoredCheck): { modules: KeptAnswers; stderr: string } | undefined {
  if (!stored.answers) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(answersFile(file));
  } catch {
    return undefined;
  }
  // Written before the result that names it: another check's answers, or none, are not taken.
  if (sha256(bytes) !== stored.answers) return undefined;
  return { modules: deserialize(bytes) as KeptAnswers, stderr: stored.stderr };
}

/** Keeps a check's result, with what it read and, for the queries, what it found of each module. */
export function keepCheck(file: string, key: string, observed: Observed, result: CheckResult, answers?: KeptAnswers): void {
  const stored: Stored = { key, observed: [...observed], ...result };
  if (answers) {
    const bytes = serialize(answers);
    writeKeptFileAtomic(answersFile(file), bytes);
    stored.answers = sha256(bytes);
  }
  writeKeptFileAtomic(file, JSON.stringify(stored));
}
