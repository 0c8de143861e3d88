import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKconfig, runOperation, type OperationInput } from '../conf';
import { compilePlan } from './compile-plan';
import { runPlan } from './evaluate-plan';
import { decodePlan, encodePlan, planMeta } from './plan-codec';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function load(kconfig: string) {
  dir ??= mkdtempSync(join(tmpdir(), 'kconfig-plan-'));
  writeFileSync(join(dir, 'Kconfig'), kconfig);
  return loadKconfig({ srctree: dir, env: { ARCH: 'x86' }, shell: { run: () => '' } });
}

function kept(kconfig: string) {
  const tree = load(kconfig);
  return decodePlan(encodePlan(compilePlan(tree, { key: 'key', files: tree.files, envNames: [...tree.env.keys()], shellCommands: [] })))!;
}

/** The plan's outputs, checked against runOperation on a tree loaded afresh. */
function both(kconfig: string, input: OperationInput) {
  const fromPlan = runPlan(kept(kconfig), input);
  expect(fromPlan).toEqual(runOperation(load(kconfig), 'olddefconfig', input));
  return fromPlan;
}

const config = (text: string) => ({ file: '.config', text });

const TREE = `
mainmenu "Plan test"
config MODULES
	bool "modules"
	modules
	default y
choice
	prompt "pick"
	default B
config A
	bool "a"
config B
	bool "b"
config C
	bool "c"
endchoice
menu "Numbers"
config N
	int "n"
	range 1 10
	default 5
config H
	hex "h"
	default 0x10 if A
	default 0x20
config S
	string "s"
	default "s"
config LIMIT
	int
	default N
endmenu
config T
	tristate "t"
	select U
	imply V
config U
	tristate
config V
	tristate "v"
	depends on N > 3
config W
	bool "w"
	depends on S = "s"
comment "only with T"
	depends on T
`;

describe('evaluation plan (olddefconfig and syncconfig from a kept plan)', () => {
  it('gives runOperation output: choices, ranges, defaults from symbols, select, imply, comparisons, comments', () => {
    const out = both(TREE, { config: config('CONFIG_T=m\nCONFIG_N=42\n') });
    expect(out.config).toContain('CONFIG_B=y\n');
    expect(out.config).toContain('CONFIG_N=10\n');
    expect(out.config).toContain('CONFIG_U=m\n');
    expect(out.config).toContain('# only with T\n');
    expect(out.autoConf).toContain('CONFIG_LIMIT=10\n');
  });

  it('the last choice member read from .config wins; user strings need their quotes', () => {
    const out = both(TREE, { config: config('CONFIG_C=y\nCONFIG_A=y\nCONFIG_S=unquoted\n') });
    expect(out.config).toContain('CONFIG_A=y\n');
    expect(out.config).toContain('CONFIG_S="s"\n');
    expect(out.config).toContain('CONFIG_H=0x10\n');
  });

  it('reports unknown symbols and reassignments, and touches what changed since the previous auto.conf', () => {
    const first = both(TREE, { config: config('CONFIG_T=y\n') });
    const out = both(TREE, { config: config('CONFIG_GONE=y\n# CONFIG_T is not set\nCONFIG_T=m\n'), previousAutoConf: `${first.autoConf}CONFIG_OLD=y\n` });
    expect(out.messages.map((m) => `${m.line}: ${m.text}`)).toEqual(['1: unknown symbol: GONE', '3: override: reassigning to symbol T']);
    expect(out.touched).toEqual(expect.arrayContaining(['T', 'U', 'OLD']));
  });

  it('an invalid value is the same file:line error', () => {
    const input = { config: config('CONFIG_N=3\nCONFIG_N=abc\n') };
    expect(() => runOperation(load(TREE), 'olddefconfig', input)).toThrow(/^\.config:2: symbol value 'abc' invalid for N/);
    expect(() => runPlan(kept(TREE), input)).toThrow(/^\.config:2: symbol value 'abc' invalid for N/);
  });

  it('a damaged plan file is not decoded', () => {
    const buf = encodePlan(compilePlan(load(TREE), { key: 'key', files: [], envNames: [], shellCommands: [] }));
    expect(planMeta(buf)?.key).toBe('key');
    expect(decodePlan(buf.subarray(0, buf.length - 1))).toBeUndefined();
    expect(decodePlan(Buffer.from('not a plan'))).toBeUndefined();
  });
});
