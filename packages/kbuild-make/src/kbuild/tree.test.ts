import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateModuleTree } from './tree';

let root: string | undefined;
function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'kbuild-tree-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

const evaluate = (dir: string, variables: Record<string, string> = {}) =>
  evaluateModuleTree({ root: dir, kernelDir: dir, variables, kbuildCflags: '-O2' });

describe('evaluateModuleTree', () => {
  it('follows kbuild: obj-y dirs first in modules.order, composites, config gating, per-dir flags', () => {
    const dir = tree({
      Kbuild: 'obj-m += b/\nobj-y += a/\nobj-$(CONFIG_OFF) += off/\n',
      'a/Kbuild': 'subdir-ccflags-y += -DFROM_A\nobj-m += one.o\n',
      'a/one.c': '',
      'b/Kbuild': 'ccflags-y += -DB\nCFLAGS_x.o += -DX\nobj-$(CONFIG_TWO) += two.o\ntwo-y := x.o y.o x.o\nobj-m += three.o\n',
      'b/x.c': '',
      'b/y.c': '',
      'b/three.c': '',
    });
    const t = evaluate(dir, { CONFIG_TWO: 'm' });
    expect(t.modules.map((m) => m.name)).toEqual(['one', 'two', 'three']);
    const two = t.modules[1];
    expect(two.composite).toBe(true);
    expect(two.members.map((m) => m.stem)).toEqual(['x', 'y']);
    expect(two.flags.ccflags).toBe('-DB');
    expect(two.flags.perObject.x.add).toBe('-DX');
    expect(t.modules[0].flags.kbuildCflags).toBe('-O2 -DFROM_A');
    expect(two.flags.kbuildCflags).toBe('-O2');
  });

  it('leaves a module out when its symbol is off', () => {
    const dir = tree({ Kbuild: 'obj-$(CONFIG_A) += a.o\nobj-m += b.o\n', 'a.c': '', 'b.c': '' });
    expect(evaluate(dir).modules.map((m) => m.name)).toEqual(['b']);
    expect(evaluate(dir, { CONFIG_A: 'm' }).modules.map((m) => m.name)).toEqual(['a', 'b']);
  });

  it('warns about obj-y objects, which external builds do not build', () => {
    const dir = tree({ Kbuild: 'obj-y += core.o\nobj-m += b.o\n', 'core.c': '', 'b.c': '' });
    const t = evaluate(dir);
    expect(t.diagnostics).toEqual([expect.objectContaining({ line: 1, severity: 'warning' })]);
  });

  it('lists an object named twice in obj-m once, at its first place (make\'s $^)', () => {
    const dir = tree({ Kbuild: 'obj-m += core.o a.o\nobj-m += core.o b.o\n', 'core.c': '', 'a.c': '', 'b.c': '' });
    expect(evaluate(dir).modules.map((m) => m.name)).toEqual(['core', 'a', 'b']);
  });

  it("in whole-tree mode, takes assembler and generated sources (targets, pattern rules, kbuild's generic ones)", () => {
    const dir = tree({
      Kbuild: [
        'obj-m += asm.o perl.o asn.o shared.o',
        'perl-y := gen-x86.o glue.o',
        'targets += gen-x86.S',
        '$(obj)/%.S: $(src)/%.pl FORCE',
        '\t$(call cmd,perlasm)',
        'asn-y := spnego.asn1.o asn_main.o',
        'shared-y := sub/util.o',
        '$(obj)/sub/%.o: $(srctree)/other/%.c FORCE',
        '\t$(call if_changed_rule,cc_o_c)',
      ].join('\n') + '\n',
      'asm.S': '',
      'gen-x86.pl': '',
      'glue.c': '',
      'spnego.asn1': '',
      'asn_main.c': '',
      'other/util.c': '',
    });
    expect(() => evaluate(dir)).toThrow(/asm\.S: only C sources are supported so far/);
    const t = evaluateModuleTree({ root: dir, kernelDir: dir, variables: { srctree: dir }, kbuildCflags: '', sources: 'any' });
    const members = Object.fromEntries(t.modules.map((m) => [m.name, m.members.map((o) => [o.source.slice(dir.length + 1), o.generated ?? false])]));
    expect(members).toEqual({
      asm: [['asm.S', false]],
      perl: [['gen-x86.S', true], ['glue.c', false]],
      asn: [['spnego.asn1.c', true], ['asn_main.c', false]],
      shared: [['other/util.c', false]],
    });
  });

  it('whole-tree mode lists built-in objects in link order: composites expanded, subdirectories in place, lib-y sorted', () => {
    const dir = tree({
      Kbuild: 'obj-y += z.o sub/ core.o z.o\ncore-y := c1.o c2.o\nlib-y += libb.o liba.o\n',
      'sub/Kbuild': 'obj-y += s.o\n',
      'z.c': '',
      'c1.c': '',
      'c2.c': '',
      'liba.c': '',
      'libb.c': '',
      'sub/s.c': '',
    });
    const t = evaluateModuleTree({ root: dir, kernelDir: dir, variables: {}, kbuildCflags: '', sources: 'any' });
    expect(t.builtin.map((b) => [b.object.slice(dir.length + 1), b.kind, b.composite?.slice(dir.length + 1)])).toEqual([
      ['z.o', 'built-in', undefined],
      ['sub/s.o', 'built-in', undefined],
      ['c1.o', 'built-in', 'core.o'],
      ['c2.o', 'built-in', 'core.o'],
      ['liba.o', 'lib', undefined],
      ['libb.o', 'lib', undefined],
    ]);
    expect(t.diagnostics).toEqual([]);
  });

  it("whole-tree mode notes the files an object needs that its directory's rules make (lib/crc32.o: crc32table.h)", () => {
    const dir = tree({
      Kbuild: [
        'obj-y += crc.o plain.o',
        'obj-m += mod.o',
        '$(obj)/crc.o: $(obj)/table.h $(src)/real.h',
        '$(obj)/table.h: $(obj)/gen FORCE',
        '\t$(call cmd,gen)',
        '$(obj)/mod.o: $(obj)/mod_tbl.c',
        'targets += mod_tbl.c',
      ].join('\n') + '\n',
      'crc.c': '',
      'plain.c': '',
      'real.h': '',
      'mod.c': '',
    });
    const t = evaluateModuleTree({ root: dir, kernelDir: dir, variables: {}, kbuildCflags: '', sources: 'any' });
    expect(t.builtin.map((b) => [b.object.slice(dir.length + 1), b.made])).toEqual([
      ['crc.o', ['table.h']],
      ['plain.o', undefined],
    ]);
    expect(t.modules[0].members[0].made).toEqual(['mod_tbl.c']);
  });

  it('rejects a missing source and a duplicate module name with file:line', () => {
    const missing = tree({ Kbuild: '\nobj-m += ghost.o\n' });
    expect(() => evaluate(missing)).toThrow(new RegExp(`^${missing}/Kbuild:2: no source for ghost.o`));
    rmSync(missing, { recursive: true });
    const dup = tree({ Kbuild: 'obj-m += a/ b/\n', 'a/Kbuild': 'obj-m += same.o\n', 'a/same.c': '', 'b/Kbuild': 'obj-m += same.o\n', 'b/same.c': '' });
    expect(() => evaluate(dup)).toThrow(/b\/Kbuild:1: module name conflict: same\.ko/);
  });
});
