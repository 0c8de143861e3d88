import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest's global setup: the temporary directories the tests make through os.tmpdir() (their
 * fixtures) and the compilers' and tools' scratch files go into one directory of this run, removed
 * when the run ends. Test workers start after this and inherit TMPDIR. (The tools/ scripts make
 * their tree copies under /tmp themselves and remove them on exit.)
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-tests-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
