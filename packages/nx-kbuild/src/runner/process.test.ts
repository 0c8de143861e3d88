import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filechk, StepFailed } from './process';

const words = (text: string, argv: string[], io: { stdin?: string; stdout?: string } = {}) => ({ argv, text, ...io });

describe('filechk', () => {
  it("writes the commands' output to the target, and leaves an unchanged target alone", () => {
    const dir = mkdtempSync(join(tmpdir(), 'filechk-'));
    writeFileSync(join(dir, 'in.s'), '->A 1\nother\n->B 2\n');
    const commands = [words('echo "#ifndef X"', ['echo', '#ifndef X']), words('sed -ne "s/^->//p" < in.s', ['sed', '-ne', 's/^->//p'], { stdin: 'in.s' }), words('echo', ['echo'])];
    filechk('out/x.h', commands, dir);
    expect(readFileSync(join(dir, 'out/x.h'), 'utf8')).toBe('#ifndef X\nA 1\nB 2\n\n');
    // The same content again: the file is not replaced (its time stays), no temporary file is left.
    utimesSync(join(dir, 'out/x.h'), 1000, 1000);
    filechk('out/x.h', commands, dir);
    expect(statSync(join(dir, 'out/x.h')).mtimeMs).toBe(1000 * 1000);
    expect(readdirSync(join(dir, 'out'))).toEqual(['x.h']);
  });

  it('stops at the first failing command (set -e), leaving the target as it was and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'filechk-'));
    expect(() => filechk('x.h', [words('echo a', ['echo', 'a']), words('false', ['false']), words('echo b', ['echo', 'b'])], dir)).toThrow(StepFailed);
    expect(existsSync(join(dir, 'x.h'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
