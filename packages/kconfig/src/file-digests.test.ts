import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDigests } from './file-digests';

const old = new Date('2020-01-01T00:00:00Z');

/** Rewrites `path` in place with same-size content and its old mtime: only the content changes. */
function rewriteKeepingSignature(path: string, text: string): void {
  const st = statSync(path);
  writeFileSync(path, text);
  utimesSync(path, st.atime, st.mtime);
}

describe('FileDigests', () => {
  it('does not read a file again while its inode, size and mtime are unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'digests-'));
    const f = join(dir, 'Kconfig');
    writeFileSync(f, 'config A\n');
    utimesSync(f, old, old);
    const store = join(dir, 'digests.json');
    const first = new FileDigests(store);
    const d = first.get(f);
    first.save();
    rewriteKeepingSignature(f, 'config B\n');
    expect(new FileDigests(store).get(f)).toBe(d); // the remembered digest, not the new content's
    writeFileSync(f, 'config BB\n'); // size and mtime change
    expect(new FileDigests(store).get(f)).not.toBe(d);
    expect(JSON.parse(readFileSync(store, 'utf8'))[f][1]).toBe(d);
  });

  it('does not remember a file modified just now (a write in the same mtime tick would go unseen)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'digests-'));
    const f = join(dir, 'Kconfig');
    writeFileSync(f, 'config A\n');
    const store = join(dir, 'digests.json');
    const first = new FileDigests(store);
    const d = first.get(f);
    first.save();
    rewriteKeepingSignature(f, 'config B\n');
    expect(new FileDigests(store).get(f)).not.toBe(d);
  });

  it('gives undefined for a file that is gone', () => {
    expect(new FileDigests().get(join(tmpdir(), 'no-such-kconfig-file'))).toBeUndefined();
  });
});
