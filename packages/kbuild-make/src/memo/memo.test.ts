import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DirStructure } from '../kbuild/tree';
import { CommandTemplates, decode, EvaluationMemo, type DirCommands } from './evaluation-memo';
import { exists, existsInSourceTree, forgetSignatures, noteContent, observing, signatureNow, type Observed } from './observations';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'nx-kbuild-memo-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('command templates', () => {
  it('round-trip every command exactly, sharing one template between objects of a directory', () => {
    const t = new CommandTemplates();
    const cmd = (stem: string) =>
      `gcc -Wp,-MMD,fs/ext4/.${stem}.o.d -O2 -DKBUILD_BASENAME='"${stem}"' -DKBUILD_MODNAME='"ext4"' -c -o fs/ext4/${stem}.o /src/fs/ext4/${stem}.c`;
    const a = { object: 'fs/ext4/inode.o', source: '/src/fs/ext4/inode.c' };
    const b = { object: 'fs/ext4/super.o', source: '/src/fs/ext4/super.c' };
    const ia = t.add(cmd('inode'), a);
    const ib = t.add(cmd('super'), b);
    expect(ia).toBe(ib);
    expect(decode(t.templates[ia], a)).toBe(cmd('inode'));
    expect(decode(t.templates[ib], b)).toBe(cmd('super'));
  });

  it('keep a command that contains a placeholder character as it is', () => {
    const t = new CommandTemplates();
    const odd = 'printf "\u0001" > x.o';
    const n = { object: 'x.o', source: 'x.c' };
    expect(decode(t.templates[t.add(odd, n)], n)).toBe(odd);
  });

  it('restore names that occur several times and inside one another', () => {
    const t = new CommandTemplates();
    const n = { object: 'a/a.o', source: 'a/a.o.c' };
    const c = 'cc -o a/a.o a/a.o.c a/.a.o.d "a" a/a.o';
    expect(decode(t.templates[t.add(c, n)], n)).toBe(c);
  });
});

describe('observations', () => {
  it('record what was read and what was only tested, and nothing outside an observation', () => {
    forgetSignatures();
    const d = temp();
    writeFileSync(join(d, 'Makefile'), 'obj-m += a.o\n');
    exists(join(d, 'outside.c'));
    const seen: Observed = new Map();
    observing(seen, () => {
      exists(join(d, 'a.c'));
      noteContent(join(d, 'Makefile'));
      exists(join(d, 'Makefile'));
    });
    expect(seen.get(join(d, 'a.c'))).toBe('-');
    expect(seen.get(join(d, 'Makefile'))).toMatch(/^\d+:13:/);
    expect(seen.has(join(d, 'outside.c'))).toBe(false);
  });

  it('are checked again as existsSync would, a path under a missing directory missing with it, until told to forget', () => {
    forgetSignatures();
    const d = temp();
    writeFileSync(join(d, 'here.h'), '');
    const paths = [join(d, 'here.h'), join(d, 'gone.h'), join(d, 'generated', 'uapi', 'asm', 'x.h'), join(d, 'generated', 'y.h'), join(d, 'here.h', 'z.h')];
    const now = () => paths.map((p) => signatureNow(p, '-'));
    expect(now()).toEqual(['+', '-', '-', '-', '-']);
    mkdirSync(join(d, 'generated', 'uapi', 'asm'), { recursive: true });
    writeFileSync(join(d, 'generated', 'uapi', 'asm', 'x.h'), '');
    writeFileSync(join(d, 'generated', 'y.h'), '');
    forgetSignatures();
    expect(now()).toEqual(['+', '-', '+', '+', '-']);
  });

  it('answer source existence from directory listings, as existsSync would, until told to forget', () => {
    forgetSignatures();
    const d = temp();
    writeFileSync(join(d, 'a.c'), '');
    symlinkSync(join(d, 'gone.c'), join(d, 'dangling.c'));
    const seen: Observed = new Map();
    observing(seen, () => {
      expect(existsInSourceTree(join(d, 'a.c'))).toBe(true);
      expect(existsInSourceTree(join(d, 'b.c'))).toBe(false);
      expect(existsInSourceTree(join(d, 'dangling.c'))).toBe(false);
      expect(existsInSourceTree(join(d, 'none', 'c.c'))).toBe(false);
    });
    expect([...seen]).toEqual([
      [join(d, 'a.c'), '+'],
      [join(d, 'b.c'), '-'],
      [join(d, 'dangling.c'), '-'],
      [join(d, 'none', 'c.c'), '-'],
    ]);
    // A file added later is seen once the run's observations are forgotten (a new evaluation).
    writeFileSync(join(d, 'b.c'), '');
    expect(existsInSourceTree(join(d, 'b.c'))).toBe(false);
    forgetSignatures();
    expect(existsInSourceTree(join(d, 'b.c'))).toBe(true);
  });
});

describe('evaluation memo', () => {
  const record = (observed: Observed): DirStructure => ({
    file: 'Makefile',
    entry: { dir: 'd', builtin: true, modorder: true },
    diagnostics: [],
    builtin: { own: [], order: [] },
    steps: [],
    observed,
  });

  it('serves a directory until a file it read changes, a file it tested appears, or the inputs change', () => {
    const d = temp();
    const memoFile = join(d, 'memo');
    const makefile = join(d, 'Makefile');
    writeFileSync(makefile, 'obj-m += a.o\n');
    forgetSignatures();
    const seen: Observed = new Map();
    observing(seen, () => {
      noteContent(makefile);
      exists(join(d, 'b.c'));
    });
    const first = EvaluationMemo.load(memoFile, { config: 1 });
    first.keep('k', record(seen), true);
    first.save();

    expect(EvaluationMemo.load(memoFile, { config: 1 }).lookup('k')?.file).toBe('Makefile');
    expect(EvaluationMemo.load(memoFile, { config: 2 }).lookup('k')).toBeUndefined();
    writeFileSync(join(d, 'b.c'), '');
    expect(EvaluationMemo.load(memoFile, { config: 1 }).lookup('k')).toBeUndefined();
    rmSync(join(d, 'b.c'));
    expect(EvaluationMemo.load(memoFile, { config: 1 }).lookup('k')).toBeDefined();
    writeFileSync(`${makefile}.new`, 'obj-m += b.o\n');
    renameSync(`${makefile}.new`, makefile);
    expect(EvaluationMemo.load(memoFile, { config: 1 }).lookup('k')).toBeUndefined();
  });

  it('writes a few changed directories next to the whole memo, and reads them back over it', () => {
    const d = temp();
    const memoFile = join(d, 'memo');
    forgetSignatures();
    const first = EvaluationMemo.load(memoFile, {});
    for (let i = 0; i < 40; i++) first.keep(`k${i}`, { ...record(new Map()), file: `Makefile${i}` }, true);
    first.save();
    const whole = readFileSync(memoFile);

    const second = EvaluationMemo.load(memoFile, {});
    for (let i = 0; i < 40; i++) second.keep(`k${i}`, i === 7 ? { ...record(new Map()), file: 'Kbuild7' } : second.lookup(`k${i}`)!, i === 7);
    second.save();
    expect(readFileSync(memoFile).equals(whole)).toBe(true);
    expect(existsSync(`${memoFile}.changes`)).toBe(true);

    const third = EvaluationMemo.load(memoFile, {});
    expect(third.lookup('k7')?.file).toBe('Kbuild7');
    expect(third.lookup('k8')?.file).toBe('Makefile8');
  });

  it("keeps a directory's command templates exactly, whether or not a run read them", () => {
    const d = temp();
    const memoFile = join(d, 'memo');
    forgetSignatures();
    const commands = (i: number): DirCommands => ({ key: `key${i}`, exported: 'env', templates: [`gcc -c \u0001 -o \u0003 -DN=${i}`, 'ld -r'], jobs: new Map([[`job${i}`, [0, 1]]]), observed: new Map() });
    const first = EvaluationMemo.load(memoFile, {});
    for (let i = 0; i < 3; i++) first.keepCommands(`d${i}`, commands(i), { A: '1' }, true);
    first.save();
    // A run that reads one directory's templates and leaves the others packed writes all back as they were.
    const second = EvaluationMemo.load(memoFile, {});
    expect(second.commands('d1', 'key1', ['job1'])?.record.templates).toEqual(commands(1).templates);
    for (let i = 0; i < 3; i++) second.keepCommands(`d${i}`, second.commands(`d${i}`, `key${i}`, [`job${i}`])!.record, { A: '1' }, false);
    second.keepCommands('d3', commands(3), { A: '1' }, true);
    second.save();
    const third = EvaluationMemo.load(memoFile, {});
    for (let i = 0; i < 4; i++) expect(third.commands(`d${i}`, `key${i}`, [`job${i}`])?.record.templates).toEqual(commands(i).templates);
  });
});
