import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectUpToDate } from './up-to-date';

/** A built object as kbuild leaves it: source, one header, the object and its fixdep .cmd file, each one second newer than the last. */
function built(command = 'gcc -c -o m.o m.c'): { dir: string; touch: (file: string, seconds: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-uptodate-'));
  const touch = (file: string, seconds: number) => utimesSync(join(dir, file), 1_700_000_000 + seconds, 1_700_000_000 + seconds);
  writeFileSync(join(dir, 'm.c'), '#include "m.h"\n');
  writeFileSync(join(dir, 'm.h'), '\n');
  writeFileSync(join(dir, 'm.o'), '');
  const cmd = `savedcmd_m.o := ${command}\n\nsource_m.o := m.c\n\ndeps_m.o := \\\n  m.h \\\n    $(wildcard include/config/NOT_THERE) \\\n\nm.o: $(deps_m.o)\n\n$(deps_m.o):\n`;
  writeFileSync(join(dir, '.m.o.cmd'), cmd);
  ['m.c', 'm.h', 'm.o', '.m.o.cmd'].forEach((f, k) => touch(f, k));
  return { dir, touch };
}

const object = { object: 'm.o', source: 'm.c', cmdFile: '.m.o.cmd', savedcmd: 'gcc  -c -o m.o m.c' };

describe('objectUpToDate (kbuild: if_changed_dep)', () => {
  it('holds for an object newer than its source and recorded prerequisites, built with the same command', () => {
    expect(objectUpToDate(object, built().dir)).toBe(true);
  });

  it('fails when the source or a recorded header is newer, or a header is gone', () => {
    const a = built();
    a.touch('m.c', 10);
    expect(objectUpToDate(object, a.dir)).toBe(false);
    const b = built();
    b.touch('m.h', 10);
    expect(objectUpToDate(object, b.dir)).toBe(false);
    const c = built();
    writeFileSync(join(c.dir, '.m.o.cmd'), `savedcmd_m.o := gcc -c -o m.o m.c\nsource_m.o := m.c\ndeps_m.o := \\\n  gone.h \\\n`);
    expect(objectUpToDate(object, c.dir)).toBe(false);
  });

  it('fails when the command changed or the .cmd file or object is missing', () => {
    expect(objectUpToDate({ ...object, savedcmd: 'gcc -DX -c -o m.o m.c' }, built().dir)).toBe(false);
    expect(objectUpToDate({ ...object, cmdFile: '.none.cmd' }, built().dir)).toBe(false);
    expect(objectUpToDate({ ...object, object: 'none.o' }, built().dir)).toBe(false);
  });

  it('without times (objects known to match the sources by content), checks only the object, its .cmd and its command', () => {
    const a = built();
    a.touch('m.c', 10);
    expect(objectUpToDate(object, a.dir, null)).toBe(true);
    expect(objectUpToDate({ ...object, savedcmd: 'gcc -DX -c -o m.o m.c' }, a.dir, null)).toBe(false);
    expect(objectUpToDate({ ...object, object: 'none.o' }, a.dir, null)).toBe(false);
  });
});
