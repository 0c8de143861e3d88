import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeDigest, writeFileAtomic } from '@nx-kbuild/diagnostics';
import { signatureNow, type Observed } from '@nx-kbuild/kbuild-make';

/** What a whole-tree check printed, and what it read to get there. */
export interface CheckResult {
  stdout: string;
  stderr: string;
  status: number;
}

interface Stored extends CheckResult {
  key: string;
  /** Every file the scan and the checks read or looked up, with its signature then. */
  observed: [string, string][];
}

/**
 * The key of a whole-tree check: the symbol engine's own code, the trees, the configuration,
 * the compiler's predefined macros and every object with its owner and command (as the kbuild
 * evaluator gives them: a Makefile change that changes an object changes the key).
 */
export function checkKey(
  parts: { srctree: string; objtree: string; config: ReadonlyMap<string, string>; compiler: ReadonlyMap<string, string> },
  objects: readonly { object: string; source: string; command: string; module?: string; other?: boolean; inputOf?: string }[],
): string {
  const h = createHash('sha256');
  h.update(`${codeDigest(join(__dirname, '..'))}\0${parts.srctree}\0${parts.objtree}\0`);
  for (const [k, v] of parts.config) h.update(`${k}=${v}\0`);
  for (const [k, v] of parts.compiler) h.update(`${k}=${v}\0`);
  for (const o of objects) h.update(o.object).update('\0').update(o.source).update('\0').update(o.module ?? '').update(`\0${o.other ? 1 : 0}\0${o.inputOf ?? ''}\0`).update(o.command).update('\0');
  return h.digest('hex');
}

/**
 * The last check of this build directory, if it was made with `key` and nothing it read has
 * changed since (by inode, size and mtime; what it only looked up, by existence).
 */
export function cachedCheck(file: string, key: string): CheckResult | undefined {
  let stored: Stored;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Stored;
  } catch {
    return undefined;
  }
  if (stored.key !== key) return undefined;
  for (const [path, sig] of stored.observed) if (signatureNow(path, sig) !== sig) return undefined;
  return { stdout: stored.stdout, stderr: stored.stderr, status: stored.status };
}

export function keepCheck(file: string, key: string, observed: Observed, result: CheckResult): void {
  const stored: Stored = { key, observed: [...observed], ...result };
  writeFileAtomic(file, JSON.stringify(stored));
}
