import { describe, expect, it } from 'vitest';
import { MakeEvaluator } from './evaluator';

function evaluate(text: string, commandLine: Record<string, string> = {}): MakeEvaluator {
  const ev = new MakeEvaluator({ cwd: '/', commandLine });
  ev.evalText('Makefile', text);
  return ev;
}

describe('MakeEvaluator', () => {
  it('distinguishes recursive and simple variables, += and ?=', () => {
    const ev = evaluate(['a = $(b)', 'b := one', 'c := $(b)', 'b := two', 'd ?= x', 'd ?= y', 'c += more', 'a += end'].join('\n'));
    expect(ev.get('a')).toBe('two end');
    expect(ev.get('c')).toBe('one more');
    expect(ev.get('d')).toBe('x');
  });

  it('filters whole words in the order of the text, as make does', () => {
    const ev = evaluate(
      [
        'list := x.o  a.o\tsub/a.o b.o a.o ab.o a.o.c',
        'one := $(filter a.o,$(list))',
        'two := $(filter b.o a.o a.o,$(list))',
        'pct := $(filter %.o,$(list))',
        'none := $(filter zz.o,$(list))$(filter ,$(list))',
        'many := $(filter q r s t b.o,$(list))',
      ].join('\n'),
    );
    expect(ev.get('one')).toBe('a.o a.o');
    expect(ev.get('two')).toBe('a.o b.o a.o');
    expect(ev.get('pct')).toBe('x.o a.o sub/a.o b.o a.o ab.o');
    expect(ev.get('none')).toBe('');
    expect(ev.get('many')).toBe('b.o');
  });

  it('lets command-line variables win, as make does', () => {
    const ev = evaluate('CONFIG_FOO := n\nobj-$(CONFIG_FOO) += foo.o\n', { CONFIG_FOO: 'm' });
    expect(ev.get('obj-m')).toBe('foo.o');
  });

  it('evaluates conditionals, nested and with else-if', () => {
    const ev = evaluate(
      ['X := 1', 'ifeq ($(X),1)', ' ifdef UNDEF', '  r := a', ' else ifeq "$(X)" "1"', '  r := b', ' endif', 'else', 'r := c', 'endif'].join('\n'),
    );
    expect(ev.get('r')).toBe('b');
  });

  it('implements the text functions kbuild uses', () => {
    const ev = evaluate(
      [
        'objs := a.o b.o sub/c.o',
        'p := $(patsubst %.o,%.c,$(objs))',
        's := $(objs:.o=.s)',
        'f := $(filter-out b.o,$(objs))',
        'n := $(notdir $(objs))',
        'd := $(sort $(dir $(objs)))',
        'w := $(word 2,$(objs)) $(words $(objs)) $(lastword $(objs))',
        'i := $(if $(objs),yes,no) $(or ,x) $(and a,b)',
        'e := $(foreach o,$(objs),[$(o)])',
        'pair = $(1)-$(2)',
        'c := $(call pair,x,y)',
        'st := $(strip   a    b  )',
        'sub := $(subst -,_,a-b-c)',
      ].join('\n'),
    );
    expect(ev.get('p')).toBe('a.c b.c sub/c.c');
    expect(ev.get('s')).toBe('a.s b.s sub/c.s');
    expect(ev.get('f')).toBe('a.o sub/c.o');
    expect(ev.get('n')).toBe('a.o b.o c.o');
    expect(ev.get('d')).toBe('./ sub/');
    expect(ev.get('w')).toBe('b.o 3 sub/c.o');
    expect(ev.get('i')).toBe('yes x b');
    expect(ev.get('e')).toBe('[a.o] [b.o] [sub/c.o]');
    expect(ev.get('c')).toBe('x-y');
    expect(ev.get('st')).toBe('a b');
    expect(ev.get('sub')).toBe('a_b_c');
  });

  it('joins continuation lines and strips comments', () => {
    const ev = evaluate('x := a \\\n     b # comment\ny := \\# not a comment\n');
    expect(ev.get('x')).toBe('a b ');
    expect(ev.get('y')).toBe('# not a comment');
  });

  it('reads define/endef bodies', () => {
    const ev = evaluate('define two\nline1\nline2\nendef\n');
    expect(ev.get('two')).toBe('line1\nline2');
  });

  it('reports errors with file:line', () => {
    expect(() => evaluate('x := $(frobnicate a)\n')).toThrow(/^Makefile:1: unknown function 'frobnicate'/);
    expect(() => evaluate('\nifeq (a,a)\nx := 1\n')).toThrow(/^Makefile:2: missing 'endif'/);
    expect(() => evaluate('x := 1\nthis is not make\n')).toThrow(/^Makefile:2: missing separator/);
    expect(() => evaluate('endif\n')).toThrow(/^Makefile:1: extraneous 'endif'/);
    expect(() => evaluate('$(error stop here)\n')).toThrow(/^Makefile:1: stop here/);
    expect(() => evaluate('a = $(a)\nb := $(a)\n')).toThrow(/recursive variable 'a' references itself/);
  });

  it('records rules without running them', () => {
    const ev = evaluate('$(obj)/gen.h: $(src)/gen.sh\n\t$(CONFIG_SHELL) $< > $@\nx := 1\n');
    expect(ev.rules).toHaveLength(1);
    expect(ev.get('x')).toBe('1');
  });

  it('remembers target-dependent expansions for one target only', () => {
    const ev = evaluate(['base = $(basename $(notdir $@))', 'fix = $(subst -,_,$(1))', 'flags = -DB=$(base) -DN=$(call fix,$(base))', 'cmd = $(call fix,$(base)) $(flags) -O2'].join('\n'));
    const loc = { file: 'test', line: 0 };
    // Within a target, $(base) and $(call fix,...) are asked twice; what encloses them stays the target's.
    expect(ev.expandForTarget('d/a-1.o', '$(base) $(cmd)', { '@': 'd/a-1.o' }, loc)).toBe('a-1 a_1 -DB=a-1 -DN=a_1 -O2');
    expect(ev.expandForTarget('d/b-2.o', '$(base) $(cmd)', { '@': 'd/b-2.o' }, loc)).toBe('b-2 b_2 -DB=b-2 -DN=b_2 -O2');
  });

  it('applies target- and pattern-specific variables when expanding for a target', () => {
    const ev = evaluate(
      [
        'flags = -O2 $(extra)',
        'extra := -g',
        'dir/%.o: private part = $(if $(filter dir/a.o,$@),module,builtin)',
        'dir/sub/%.o: extra := -DSUB',
        'dir/b.o: flags += -Wall',
        'dir/b.o dir/c.o: dir/%.o: dir/%.c',
      ].join('\n'),
    );
    const loc = { file: 'test', line: 0 };
    expect(ev.expandForTarget('dir/a.o', '$(part) $(flags) $@ $<', { '@': 'dir/a.o', '<': 'src/a.c' }, loc)).toBe('module -O2 -g dir/a.o src/a.c');
    expect(ev.expandForTarget('dir/b.o', '$(part) $(flags)', { '@': 'dir/b.o' }, loc)).toBe('builtin -O2 -g -Wall');
    // The more specific pattern (shorter stem) wins over the generic one.
    expect(ev.expandForTarget('dir/sub/x.o', '$(flags)', { '@': 'dir/sub/x.o' }, loc)).toBe('-O2 -DSUB');
    // Nothing leaks out of the target's context; the static pattern rule is a rule, not a variable.
    expect(ev.get('flags')).toBe('-O2 -g');
    expect(ev.rules.map((r) => r.text)).toEqual(['dir/b.o dir/c.o: dir/%.o: dir/%.c']);
  });

  it('keeps make\'s whitespace: continuation lines, define bodies, $(if) arguments', () => {
    const ev = evaluate(
      [
        'mod =                    \\',
        '\t$(if $(m),           \\',
        '\t\t-DMODULE $(none), \\',
        '\t\t-DKERNEL)',
        'm := y',
        'flags = a $(mod) b',
        'define md',
        '$(foreach x, $1, \\',
        '\t$(eval $x: dep))',
        'endef',
        '$(call md, t1 t2)',
      ].join('\n'),
    );
    expect(ev.vars.get('mod')?.value).toBe('$(if $(m), -DMODULE $(none), -DKERNEL)');
    expect(ev.get('flags')).toBe('a  -DMODULE  b');
    expect(ev.vars.get('md')?.value).toBe('$(foreach x, $1, $(eval $x: dep))');
    expect(ev.rules.map((r) => r.text)).toEqual(['t1: dep', 't2: dep']);
  });

  it('emulates GNU make 4.3: later functions are empty variable references, $(file <) reads', () => {
    const ev = evaluate(['ifeq ($(intcmp 1,0,,,y),y)', 'cmp := intcmp', 'else', 'cmp := shell', 'endif', 'v := $(MAKE_VERSION)'].join('\n'));
    expect(ev.get('cmp')).toBe('shell');
    expect(ev.get('v')).toBe('4.3');
    expect(() => evaluate('x := $(nosuchfunction a,b)')).toThrow(/Makefile:1: unknown function 'nosuchfunction'/);
  });

  it('tracks what a sub-make would inherit: imported and exported variables', () => {
    const ev = new MakeEvaluator({ cwd: '/', commandLine: { obj: 'dir' } });
    ev.setEnvironment('KBUILD_CFLAGS', '-O2');
    ev.setEnvironment('UNCHANGED', 'u');
    ev.evalText('Makefile', ['sub := -Wall', 'KBUILD_CFLAGS += $(sub)', 'export NEW = $(sub) x', 'LOCAL := l', 'unexport UNCHANGED'].join('\n'));
    expect(ev.exportedEnvironment()).toEqual({ KBUILD_CFLAGS: '-O2 -Wall', NEW: '-Wall x' });
  });

  it('keeps a rule\'s recipe across conditionals and passes target variables on to prerequisites', () => {
    const ev = evaluate(
      [
        'FLAGS := -O2',
        '%.ko: %.o FORCE',
        '\t$(call link)',
        'ifdef BTF',
        '\t$(call btf)',
        'endif',
        'blob.so: FLAGS := -m32',
        'blob.so: private hidden := yes',
        'blob.so: part.o',
      ].join('\n'),
      { BTF: 'y' },
    );
    expect(ev.rules[0].recipe).toEqual(['$(call link)', '$(call btf)']);
    const loc = { file: 'test', line: 0 };
    // part.o is built for blob.so: it sees blob.so's variables, except the private one.
    expect(ev.expandForTarget('part.o', '$(FLAGS) [$(hidden)]', { '@': 'part.o' }, loc, ['blob.so'])).toBe('-m32 []');
    expect(ev.expandForTarget('part.o', '$(FLAGS)', { '@': 'part.o' }, loc)).toBe('-O2');
  });

  it("keeps a recipe line's backslash-newlines for the shell, without the tab that starts each continued line", () => {
    const ev = evaluate(['out.c: in', "\t(echo 'a'; \\", '\t  cat $< ; \\', '\t ) > $@', 'X = a \\', '\t b'].join('\n'), {});
    expect(ev.rules[0].recipe).toEqual(["(echo 'a'; \\\n  cat $< ; \\\n ) > $@"]);
    // Outside a recipe, a backslash-newline and the blanks around it are one space.
    expect(ev.get('X')).toBe('a b');
  });
});
