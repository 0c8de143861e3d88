import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global setup: every temporary directory the tests make (their fixtures, the tools' and
 * compilers' scratch files, tree copies) goes into one directory of this run, removed when the run
 * ends. Test workers start after this and inherit TMPDIR, which os.tmpdir() and mktemp follow.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-tests-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
