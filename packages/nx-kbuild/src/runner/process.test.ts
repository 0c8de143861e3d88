import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseShellScript } from '@nx-kbuild/kbuild-make';
import { describe, expect, it } from 'vitest';
import { filechk, StepFailed } from './process';
import { generate } from './steps';

const offsets = parseShellScript(`echo "#ifndef X"; sed -ne 's/^->//p' < in.s; echo ""`);

describe('filechk', () => {
  it("writes the commands' output to the target, and leaves an unchanged target alone", () => {
    const dir = mkdtempSync(join(tmpdir(), 'filechk-'));
    writeFileSync(join(dir, 'in.s'), '->A 1\nother\n->B 2\n');
    filechk('out/x.h', offsets, dir, 'offsets');
    expect(readFileSync(join(dir, 'out/x.h'), 'utf8')).toBe('#ifndef X\nA 1\nB 2\n\n');
    // The same content again: the file is not replaced (its time stays), no temporary file is left.
    utimesSync(join(dir, 'out/x.h'), 1000, 1000);
    filechk('out/x.h', offsets, dir, 'offsets');
    expect(statSync(join(dir, 'out/x.h')).mtimeMs).toBe(1000 * 1000);
    expect(readdirSync(join(dir, 'out'))).toEqual(['x.h']);
  });

  it('stops at the first failing command (set -e), leaving the target as it was and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'filechk-'));
    expect(() => filechk('x.h', parseShellScript('echo a; false; echo b'), dir, 'broken')).toThrow(StepFailed);
    expect(existsSync(join(dir, 'x.h'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps an unchanged target through the generate pass too (what depends on it is not rebuilt)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'filechk-'));
    writeFileSync(join(dir, 'in.s'), '->A 1\n');
    const spec = { step: 'generate' as const, cwd: dir, envFile: '', downstream: [], fixdep: 'fixdep', steps: [{ target: 'x.h', also: [], how: 'filechk' as const, commands: offsets, text: 'offsets' }] };
    await generate(spec);
    utimesSync(join(dir, 'x.h'), 1000, 1000);
    await generate(spec);
    expect(statSync(join(dir, 'x.h')).mtimeMs).toBe(1000 * 1000);
  });
});
