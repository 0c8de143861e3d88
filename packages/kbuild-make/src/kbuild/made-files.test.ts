import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MakeEvaluator } from '../make/evaluator';
import { madeFilesPlan, type MadeFileStep } from './made-files';

/** A build directory `out` beside a source tree `src` (make's VPATH), and a directory's rules as its sub-make reads them. */
function directory(makefile: string, sources: Record<string, string>, built: string[] = []): MakeEvaluator {
  const root = mkdtempSync(join(tmpdir(), 'made-files-'));
  for (const [f, text] of Object.entries(sources)) {
    mkdirSync(join(root, 'src', f, '..'), { recursive: true });
    writeFileSync(join(root, 'src', f), text);
  }
  for (const f of built) {
    mkdirSync(join(root, 'out', f, '..'), { recursive: true });
    writeFileSync(join(root, 'out', f), '');
  }
  mkdirSync(join(root, 'out'), { recursive: true });
  const ev = new MakeEvaluator({ cwd: join(root, 'out') });
  ev.evalText('d/Makefile', `srctree := ../src\nobj := d\nsrc := $(srctree)/$(obj)\n${makefile}`);
  return ev;
}

const commands = (steps: MadeFileStep[]) => steps.map((s) => [s.target, s.how, s.command]);

describe('madeFilesPlan', () => {
  it('plans a generated source through its host program, prerequisites first, each once', () => {
    const ev = directory(
      [
        'cmd_host = cc -o $@ $<',
        '$(obj)/gen: $(obj)/%: $(obj)/%.c FORCE',
        '\t$(call if_changed_dep,host)',
        'cmd_table = $(obj)/gen > $@',
        '$(obj)/table.c: $(obj)/gen FORCE',
        '\t$(call cmd,table)',
        'cmd_unroll = awk -v N=$* -f $(src)/unroll.awk < $< > $@; echo $^',
        '$(obj)/int%.c: $(src)/int.uc $(src)/unroll.awk FORCE',
        '\t$(call if_changed,unroll)',
      ].join('\n'),
      { 'd/gen.c': '', 'd/int.uc': '', 'd/unroll.awk': '' },
    );
    const plan = madeFilesPlan(ev, ['d/table.c', 'd/int4.c', 'd/table.c']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(commands(plan.steps)).toEqual([
      // The host program's source is found in the source tree (VPATH): $< names it there.
      ['d/gen', 'if_changed_dep', 'cc -o d/gen ../src/d/gen.c'],
      ['d/table.c', 'cmd', 'd/gen > d/table.c'],
      // $^ lists FORCE, as make's does.
      ['d/int4.c', 'if_changed', 'awk -v N=4 -f ../src/d/unroll.awk < ../src/d/int.uc > d/int4.c; echo ../src/d/int.uc ../src/d/unroll.awk FORCE'],
    ]);
    expect(plan.inputs).toEqual(['../src/d/gen.c', '../src/d/int.uc', '../src/d/unroll.awk']);
  });

  it('takes the pattern rule whose inputs exist, and a chain of pattern rules', () => {
    const ev = directory(
      [
        'cmd_shipped = cat $< > $@',
        '$(obj)/%: $(src)/%_shipped',
        '\t$(call cmd,shipped)',
        'cmd_dbg = ld -o $@ $<',
        '$(obj)/%.dbg: $(src)/%.lds',
        '\t$(call if_changed,dbg)',
        'cmd_strip = strip -o $@ $<',
        '$(obj)/%.so: $(obj)/%.dbg',
        '\t$(call if_changed,strip)',
      ].join('\n'),
      { 'd/regs.c_shipped': '', 'd/vdso.lds': '' },
    );
    const plan = madeFilesPlan(ev, ['d/regs.c', 'd/vdso.so']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(commands(plan.steps)).toEqual([
      ['d/regs.c', 'cmd', 'cat ../src/d/regs.c_shipped > d/regs.c'],
      ['d/vdso.dbg', 'if_changed', 'ld -o d/vdso.dbg ../src/d/vdso.lds'],
      ['d/vdso.so', 'if_changed', 'strip -o d/vdso.so d/vdso.dbg'],
    ]);
  });

  it('passes $(call cmd,name,args) arguments and takes a tool of another directory as an input', () => {
    const ev = directory(['cmd_asn1 = ./scripts/asn1 $< $(2) $(basename $@).c', '$(obj)/%.asn1.c $(obj)/%.asn1.h: $(src)/%.asn1 ./scripts/asn1', '\t$(call cmd,asn1,-v)'].join('\n'), { 'd/x.asn1': '' });
    // The header comes from the same run (a pattern rule's targets are made together).
    const plan = madeFilesPlan(ev, ['d/x.asn1.c', 'd/x.asn1.h']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(commands(plan.steps)).toEqual([['d/x.asn1.c', 'cmd', './scripts/asn1 ../src/d/x.asn1 -v d/x.asn1.c']]);
    expect(plan.steps[0].also).toEqual(['d/x.asn1.h']);
    expect(plan.inputs).toEqual(['../src/d/x.asn1', './scripts/asn1']);
  });

  it("plans filechk as kbuild's filechk runs it: filechk_<name> with the call's arguments", () => {
    const ev = directory(
      [
        'define filechk_offsets',
        '\t echo "#ifndef $2"; \\',
        '\t sed -ne p < $<; \\',
        '\t echo "#endif"',
        'endef',
        'cmd_cc_s_c = gcc -S -o $@ $<',
        '$(obj)/%.s: $(src)/%.c FORCE',
        '\t$(call if_changed_dep,cc_s_c)',
        '$(obj)/offsets.h: $(obj)/offsets.s FORCE',
        '\t$(call filechk,offsets,__OFFSETS_H__)',
      ].join('\n'),
      { 'd/offsets.c': '' },
    );
    const plan = madeFilesPlan(ev, ['d/offsets.h']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(commands(plan.steps)).toEqual([
      ['d/offsets.s', 'if_changed_dep', 'gcc -S -o d/offsets.s ../src/d/offsets.c'],
      ['d/offsets.h', 'filechk', '\t echo "#ifndef __OFFSETS_H__"; sed -ne p < d/offsets.s; echo "#endif"'],
    ]);
  });

  it("plans a rule's own shell lines as make passes them to the shell: prefixes taken, backslash-newlines kept", () => {
    const ev = directory(['Q = @', 'kecho = echo', '$(obj)/certs.c: $(src)/a.hex', '\t@$(kecho) "  GEN     $@"', "\t$(Q)(echo '#include \"reg.h\"'; \\", '\t  echo | cat - $^ ; \\', '\t ) > $@'].join('\n'), { 'd/a.hex': '' });
    const plan = madeFilesPlan(ev, ['d/certs.c']);
    if ('unsupported' in plan) throw new Error(plan.unsupported);
    expect(plan.steps.map((s) => [s.target, s.how, s.lines])).toEqual([['d/certs.c', 'recipe', ['echo "  GEN     d/certs.c"', "(echo '#include \"reg.h\"'; \\\n  echo | cat - ../src/d/a.hex ; \\\n ) > d/certs.c"]]]);
    // A line whose errors make ignores ('-') is not planned.
    const ignoring = directory(['$(obj)/x.c:', '\t-cat y > $@'].join('\n'), {});
    expect(madeFilesPlan(ignoring, ['d/x.c'])).toEqual({ unsupported: expect.stringMatching(/ignores a line's errors/) });
  });

  it('says why a file cannot be planned: a recipe of another shape (file:line), no rule and no file', () => {
    const ev = directory(['$(obj)/rm/realmode.bin: FORCE', '\t$(Q)$(MAKE) $(build)=$(obj)/rm $@'].join('\n'), {});
    expect(madeFilesPlan(ev, ['d/rm/realmode.bin'])).toEqual({ unsupported: expect.stringMatching(/^d\/Makefile:4: the recipe for d\/rm\/realmode.bin is not one/) });
    expect(madeFilesPlan(ev, ['d/missing.h'])).toEqual({ unsupported: 'no rule of d makes d/missing.h, and it does not exist' });
  });
});
