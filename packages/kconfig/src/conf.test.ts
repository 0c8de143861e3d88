import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKconfig, runOperation, type KconfigTree, type Operation, type OperationInput } from './conf';
import { compilePlan } from './plan/compile-plan';
import { runPlan } from './plan/evaluate-plan';
import { decodePlan, encodePlan } from './plan/plan-codec';
import { explainSymbol } from './model/explain';

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string>) {
  dir = mkdtempSync(join(tmpdir(), 'kconfig-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const shellCalls: string[] = [];
  const load = () =>
    loadKconfig({
      srctree: dir!,
      env: { ARCH: 'x86', FOO_ENV: 'from-env' },
      shell: {
        run: (c) => {
          shellCalls.push(c);
          return c.includes('probe-ok') ? 'y' : 'n';
        },
      },
    });
  return { load, shellCalls };
}

function evaluate(kconfig: string, op: Operation = 'olddefconfig', input: OperationInput = {}, extra: Record<string, string> = {}) {
  const t = tree({ Kconfig: kconfig, ...extra });
  const out = runOperation(t.load(), op, input);
  // olddefconfig and syncconfig from a kept plan (what the CLI's next run evaluates) agree.
  if ((op === 'olddefconfig' || op === 'syncconfig') && !input.fragments) expect(planOutput(t.load(), input)).toEqual(out);
  return out;
}

function planOutput(fresh: KconfigTree, input: OperationInput) {
  const plan = decodePlan(encodePlan(compilePlan(fresh, { key: 'k', files: fresh.files, envNames: [], shellCommands: [] })));
  return runPlan(plan!, input);
}

const config = (text: string) => ({ file: '.config', text });
const values = (out: string) => out.split('\n').filter((l) => l.startsWith('CONFIG_') || l.startsWith('# CONFIG_'));

describe('Kconfig semantics (scripts/kconfig rules)', () => {
  it('tristate logic, defaults with conditions, and m without MODULES', () => {
    const k = `
config MODULES
	bool "modules"
	modules
config A
	tristate "a"
	default m
config B
	tristate "b"
	depends on A
	default y
config C
	bool
	default y if A
`;
    expect(values(evaluate(k, 'olddefconfig', { config: config('CONFIG_MODULES=y\n') }).config)).toEqual([
      'CONFIG_MODULES=y',
      'CONFIG_A=m',
      'CONFIG_B=m', // limited by its dependency
      'CONFIG_C=y', // bool: m becomes y
    ]);
    // Without MODULES tristates act as bools: `default m` gives y (checked against conf itself).
    expect(values(evaluate(k, 'olddefconfig', { config: config('# CONFIG_MODULES is not set\n') }).config)).toEqual([
      '# CONFIG_MODULES is not set',
      'CONFIG_A=y',
      'CONFIG_B=y',
      'CONFIG_C=y',
    ]);
    // `depends on m` is rewritten to `m && MODULES`: n without modules.
    const dependsOnM = `${k}config D\n\ttristate "d"\n\tdepends on m\n\tdefault y\n`;
    expect(values(evaluate(dependsOnM, 'olddefconfig', { config: config('# CONFIG_MODULES is not set\n') }).config)).not.toContain('CONFIG_D=y');
    expect(values(evaluate(dependsOnM, 'olddefconfig', { config: config('CONFIG_MODULES=y\n') }).config)).toContain('CONFIG_D=m');
  });

  it('select forces a value (with a warning on unmet dependencies); imply only suggests', () => {
    const k = `
config DEP
	bool "dep"
config S
	bool "s"
	depends on DEP
config I
	bool "i"
config X
	bool "x"
	default y
	select S
	imply I
`;
    const out = evaluate(k, 'olddefconfig', { config: config('# CONFIG_I is not set\n') });
    expect(values(out.config)).toEqual(['# CONFIG_DEP is not set', 'CONFIG_S=y', '# CONFIG_I is not set', 'CONFIG_X=y']);
    expect(values(evaluate(k).config)).toContain('CONFIG_I=y');
  });

  it('choices: the default, a user choice, and visibility of members', () => {
    const k = `
choice
	prompt "pick"
	default B
config A
	bool "a"
config B
	bool "b"
config C
	bool "c"
	depends on NOPE
endchoice
`;
    expect(values(evaluate(k).config)).toEqual(['# CONFIG_A is not set', 'CONFIG_B=y']);
    expect(values(evaluate(k, 'olddefconfig', { config: config('CONFIG_A=y\n') }).config)).toEqual(['CONFIG_A=y', '# CONFIG_B is not set']);
  });

  it('int/hex/string values, ranges and defaults taken from other symbols', () => {
    const k = `
config N
	int "n"
	range 1 10
	default 5
config H
	hex "h"
	default 0x1000
config S
	string "s"
	default "x\\"y"
config D
	int
	default N
`;
    const out = evaluate(k, 'olddefconfig', { config: config('CONFIG_N=42\n') });
    expect(values(out.config)).toEqual(['CONFIG_N=10', 'CONFIG_H=0x1000', 'CONFIG_S="x\\"y"', 'CONFIG_D=10']);
    expect(out.autoconfH).toContain('#define CONFIG_S "x\\"y"');
    expect(out.autoConf).toContain('CONFIG_S=x"y\n');
  });

  it('menus and comments become comment blocks in .config; invisible ones do not', () => {
    const k = `
mainmenu "Test"
menu "Visible"
config A
	bool "a"
	default y
comment "a note"
endmenu
menu "Hidden"
	depends on NOPE
config B
	bool "b"
endmenu
`;
    expect(evaluate(k).config).toBe(
      '#\n# Automatically generated file; DO NOT EDIT.\n# Test\n#\n\n#\n# Visible\n#\nCONFIG_A=y\n\n#\n# a note\n#\n# end of Visible\n',
    );
  });

  it('the preprocessor: variables, user functions, environment, and $(shell) through the runner', () => {
    const t = tree({
      Kconfig: `
ok := $(shell,probe-ok)
twice = $(1)$(1)
config A
	bool "$(twice,x)-$(FOO_ENV)"
	default $(ok)
source "sub/$(ARCH)/Kconfig"
`,
      'sub/x86/Kconfig': 'config B\n\tbool\n\tdefault y\n',
    });
    const kc = t.load();
    const out = runOperation(kc, 'olddefconfig', {});
    expect(values(out.config)).toEqual(['CONFIG_A=y', 'CONFIG_B=y']);
    expect(kc.files).toEqual(['Kconfig', 'sub/x86/Kconfig']);
    expect([...kc.env.keys()]).toEqual(['FOO_ENV', 'ARCH']);
    expect(t.shellCalls).toEqual(['probe-ok']);
  });

  it('allnoconfig/allyesconfig set every prompted symbol; savedefconfig keeps only non-defaults', () => {
    const k = `
config A
	bool "a"
	default y
config B
	bool "b"
config C
	bool
	default y
`;
    expect(values(evaluate(k, 'allnoconfig').config)).toEqual(['# CONFIG_A is not set', '# CONFIG_B is not set', 'CONFIG_C=y']);
    expect(values(evaluate(k, 'allyesconfig').config)).toEqual(['CONFIG_A=y', 'CONFIG_B=y', 'CONFIG_C=y']);
    expect(evaluate(k, 'savedefconfig', { config: config('CONFIG_A=y\nCONFIG_B=y\n') }).config).toBe('CONFIG_B=y\n');
  });
});

describe('explaining values and merging fragments', () => {
  const k = `
config MODULES
	bool "modules"
	modules
	default y
config DEP
	bool "dep"
config A
	tristate "a"
	depends on DEP
config B
	tristate "b"
	select C
	default m
config C
	tristate "c"
config D
	int "d"
	range 0 5
`;
  it('says what decided each value', () => {
    const t = tree({ Kconfig: k });
    const kc = t.load();
    runOperation(kc, 'olddefconfig', { config: config('CONFIG_A=y\nCONFIG_D=9\n') });
    const why = (n: string) => explainSymbol(kc.kc, kc.kc.find(n)!).decision;
    expect(why('A')).toMatchObject({ by: 'unset', detail: expect.stringContaining('ignored') });
    expect(why('B')).toMatchObject({ by: 'default', at: { file: 'Kconfig', line: 14 } });
    expect(why('C')).toMatchObject({ by: 'select' });
    expect(why('D')).toMatchObject({ by: 'range' });
    expect(explainSymbol(kc.kc, kc.kc.find('C')!).selectedBy).toEqual([{ expr: 'B', value: 'm' }]);
  });

  it('merges fragments over the config, the last value winning, and reports requests that did not stick', () => {
    const out = evaluate(k, 'olddefconfig', {
      config: config('CONFIG_DEP=y\n'),
      fragments: [
        { file: 'one.config', text: 'CONFIG_A=m\n' },
        { file: 'two.config', text: 'CONFIG_A=y\n# CONFIG_C is not set\n' },
      ],
    });
    expect(values(out.config)).toContain('CONFIG_A=y');
    expect(out.messages.map((m) => `${m.file}:${m.line}: ${m.text}`)).toEqual([
      'two.config:1: value of CONFIG_A is redefined by fragment: m -> y',
      'two.config:2: value requested for CONFIG_C not in final .config: requested n, actual m',
    ]);
  });
});

describe('bad input: file:line errors, nothing written', () => {
  it('syntax errors and unknown keywords', () => {
    expect(() => evaluate('config A\n\tbool "a"\n\tfrobnicate\n')).toThrow(/^Kconfig:3: unknown statement "frobnicate"/);
    expect(() => evaluate('config A\n\tbool "a"\n\tdepends on (B\n')).toThrow(/^Kconfig:3: syntax error/);
  });

  it('unterminated if, menu and choice', () => {
    expect(() => evaluate('if A\nconfig B\n\tbool "b"\n')).toThrow(/^Kconfig:1: .*missing 'endif'/);
    expect(() => evaluate('menu "m"\nconfig B\n\tbool "b"\n')).toThrow(/^Kconfig:1: .*missing 'endmenu'/);
    expect(() => evaluate('choice\n\tprompt "c"\nconfig B\n\tbool "b"\n')).toThrow(/^Kconfig:1: .*missing 'endchoice'/);
    expect(() => evaluate('menu "m"\nendif\n')).toThrow(/unexpected 'if' within menu block/);
  });

  it('a missing sourced file', () => {
    expect(() => evaluate('config A\n\tbool "a"\nsource "nothere/Kconfig"\n')).toThrow(/^Kconfig:3: can't open file "nothere\/Kconfig"/);
  });

  it('an invalid value in .config is an error; an unknown symbol is a warning', () => {
    const k = 'config N\n\tint "n"\n';
    expect(() => evaluate(k, 'olddefconfig', { config: config('CONFIG_N=abc\n') })).toThrow(/^\.config:1: symbol value 'abc' invalid for N/);
    const out = evaluate(k, 'olddefconfig', { config: config('CONFIG_GONE=y\nCONFIG_N=3\n') });
    expect(out.messages).toEqual([expect.objectContaining({ line: 1, severity: 'warning', text: 'unknown symbol: GONE' })]);
    expect(values(out.config)).toEqual(['CONFIG_N=3']);
  });

  it('a recursive dependency prints the cycle', () => {
    expect(() => evaluate('config A\n\tbool "a"\n\tdepends on B\nconfig B\n\tbool "b"\n\tdepends on A\n')).toThrow(
      /recursive dependency detected!\nKconfig:1:\tsymbol A depends on B\nKconfig:4:\tsymbol B depends on A/,
    );
  });

  it('$(error-if) stops with its message at file:line', () => {
    expect(() => evaluate('$(error-if,y,compiler too old)\n')).toThrow(/^Kconfig:1: compiler too old/);
  });
});
