import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonArrayChunks, writeChunksAtomic, writeFileAtomic, writeFileAtomicAsync, writeKeptFileAtomic } from './atomic-write';

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('writeChunksAtomic and jsonArrayChunks', () => {
  it('write what JSON.stringify of the whole array gives, byte for byte', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-chunks-'));
    for (const n of [0, 1, 7, 1000, 1001]) {
      const items = Array.from({ length: n }, (_, i) => ({ object: `o${i}.o`, command: `gcc "-D${i}" \\ é` }));
      const file = join(dir, `out-${n}.json`);
      writeChunksAtomic(file, jsonArrayChunks(items, 500));
      expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(items));
    }
  });

  it('leave nothing behind when the rename fails', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-chunks-'));
    const taken = join(dir, 'taken');
    writeFileAtomic(join(taken, 'inside'), 'x');
    expect(() => writeChunksAtomic(taken, jsonArrayChunks([{ a: 1 }]))).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });

  it('leave nothing behind when a piece fails', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-chunks-'));
    const file = join(dir, 'out.json');
    function* failing() {
      yield '[';
      throw new Error('no more');
    }
    expect(() => writeChunksAtomic(file, failing())).toThrow('no more');
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeFileAtomic', () => {
  it('makes the directory, replaces the file whole, and leaves no temp file when the rename fails', () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-atomic-'));
    const file = join(dir, 'sub', 'out.txt');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    // A directory in the file's place: the temp file is written, the rename refused.
    const taken = join(dir, 'sub', 'taken');
    writeFileAtomic(join(taken, 'inside'), 'x');
    expect(() => writeFileAtomic(taken, 'y')).toThrow();
    expect(readdirSync(join(dir, 'sub')).sort()).toEqual(['out.txt', 'taken']);
  });
});

describe('writeFileAtomicAsync', () => {
  it('writes the whole content, each of several writes at once through a temp file of its own', async () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-async-'));
    const file = join(dir, 'kept.v8');
    await Promise.all([1, 2, 3].map((n) => writeFileAtomicAsync(file, new Uint8Array(1000).fill(n))));
    expect(new Set(readFileSync(file)).size).toBe(1);
    expect(readdirSync(dir)).toEqual(['kept.v8']);
  });
});

describe('kept files', () => {
  // No process has this number (Linux's largest is 4,194,304).
  const gone = 2_000_000_000;

  it("go with what a killed writer left beside them long ago, not with a live or recent writer's temp files", async () => {
    dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-kept-'));
    const scan = join(dir, 'scan.v8');
    const predictions = join(dir, 'predictions.v8');
    const left = [`scan.v8.tmp.${gone}.0`, `scan.v8.tmp.${gone}-2.5`, `predictions.v8.tmp.${gone}`];
    // A live process's; one written a moment ago (a writer in another PID namespace looks gone);
    // names that are not temp names; another file's.
    const stay = [`scan.v8.tmp.${process.pid}.99`, `predictions.v8.tmp.${process.pid}-7`, `scan.v8.tmp.${gone}.1`, `scan.v8.tmp.${gone}abc`, `scan.v8.tmp.${gone}.1.bak`, `other.v8.tmp.${gone}`];
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const name of [...left, ...stay]) {
      writeFileSync(join(dir, name), 'half');
      if (name !== `scan.v8.tmp.${gone}.1`) utimesSync(join(dir, name), hourAgo, hourAgo);
    }
    await writeFileAtomicAsync(scan, new Uint8Array([1, 2]));
    writeKeptFileAtomic(predictions, 'whole');
    expect(readdirSync(dir).sort()).toEqual(['predictions.v8', 'scan.v8', ...stay].sort());
    expect(readFileSync(predictions, 'utf8')).toBe('whole');
  });
});
