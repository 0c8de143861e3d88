import { describe, expect, it } from 'vitest';
import { parseShellScript } from './shell-script';

describe('parseShellScript', () => {
  it('reads lists, pipelines, groups and redirections, quotes removed and backslash-newlines joined', () => {
    const text = `(echo '#include "reg.h"'; \\\n  echo 'const u8 c[] = {'; \\\n  echo | cat - a.hex b.hex ; \\\n  echo '};'; \\\n ) > out.c`;
    expect(parseShellScript(text)).toEqual([
      [
        {
          kind: 'group',
          subshell: true,
          stdout: 'out.c',
          body: [
            [{ kind: 'simple', argv: ['echo', '#include "reg.h"'] }],
            [{ kind: 'simple', argv: ['echo', 'const u8 c[] = {'] }],
            [
              { kind: 'simple', argv: ['echo'] },
              { kind: 'simple', argv: ['cat', '-', 'a.hex', 'b.hex'] },
            ],
            [{ kind: 'simple', argv: ['echo', '};'] }],
          ],
        },
      ],
    ]);
    expect(parseShellScript(`{ printf 'x\\n'; sed -e 's/a/b/' -- p.conf; } > h.h`)).toEqual([
      [{ kind: 'group', subshell: false, stdout: 'h.h', body: [[{ kind: 'simple', argv: ['printf', 'x\\n'] }], [{ kind: 'simple', argv: ['sed', '-e', 's/a/b/', '--', 'p.conf'] }]] }],
    ]);
    expect(parseShellScript('LC_ALL=C sort < in > out; set -e')).toEqual([[{ kind: 'simple', argv: ['sort'], env: { LC_ALL: 'C' }, stdin: 'in', stdout: 'out' }], [{ kind: 'simple', argv: ['set', '-e'] }]]);
    // A single-quoted backslash-newline is the shell's literal text.
    expect(parseShellScript("printf 'a\\\nb'")).toEqual([[{ kind: 'simple', argv: ['printf', 'a\\\nb'] }]]);
  });

  it("takes a generating rule's simple command, redirections and leading assignments, quoted `<`/`>` staying words", () => {
    const simple = (text: string) => parseShellScript(text)[0][0];
    expect(simple('awk -v N=4 -f ../src/unroll.awk < ../src/int.uc > lib/raid6/int4.c')).toEqual({ kind: 'simple', argv: ['awk', '-v', 'N=4', '-f', '../src/unroll.awk'], stdin: '../src/int.uc', stdout: 'lib/raid6/int4.c' });
    expect(simple(`sed -n 's/.*define *BLIST_\\([A-Z0-9_]*\\) *.*/F(\\1),/p' in.h > out.c`)).toEqual({ kind: 'simple', argv: ['sed', '-n', 's/.*define *BLIST_\\([A-Z0-9_]*\\) *.*/F(\\1),/p', 'in.h'], stdout: 'out.c' });
    expect(simple('TOPDIR=/src SPKDIR=/src/d d/makemapdata >d/mapdata.h')).toEqual({ kind: 'simple', argv: ['d/makemapdata'], env: { TOPDIR: '/src', SPKDIR: '/src/d' }, stdout: 'd/mapdata.h' });
    expect(simple(`echo '<a>' "x > y"`)).toEqual({ kind: 'simple', argv: ['echo', '<a>', 'x > y'] });
    // filechk_offsets: a list whose `;` inside quotes stays in its word.
    expect(parseShellScript(`\t echo "#ifndef X_H"; echo ""; sed -ne 's:a:b:; /^->/{s:->::; p;}' < d/x.s; echo "#endif"`).map((p) => p[0].kind === 'simple' && p[0].argv)).toEqual([
      ['echo', '#ifndef X_H'],
      ['echo', ''],
      ['sed', '-ne', 's:a:b:; /^->/{s:->::; p;}'],
      ['echo', '#endif'],
    ]);
  });

  it('refuses what only a shell does, saying what', () => {
    expect(() => parseShellScript('cd d')).toThrow(/shell's 'cd'/);
    expect(() => parseShellScript('echo a < f')).toThrow(/'echo' reading a file/);
    expect(() => parseShellScript('a && b')).toThrow(/'&&' is not supported in: a && b/);
    expect(() => parseShellScript('a || b')).toThrow(/'\|\|'/);
    expect(() => parseShellScript('a &')).toThrow(/'&'/);
    expect(() => parseShellScript('cat a >> b')).toThrow(/'>>'/);
    expect(() => parseShellScript('tool 2> /dev/null')).toThrow(/'2>'/);
    expect(() => parseShellScript('echo $HOME')).toThrow(/shell expansion/);
    expect(() => parseShellScript('x=$(echo a | cut -b -64); echo "$x"')).toThrow(/shell expansion/);
    expect(() => parseShellScript('cat *.hex')).toThrow(/a glob/);
    expect(() => parseShellScript('for f in a; do echo f; done')).toThrow(/shell's 'for'/);
    expect(() => parseShellScript('( echo a | cat ) | cat')).toThrow(/a group in a pipeline/);
    expect(() => parseShellScript('{ echo a; ')).toThrow(/unclosed '\{'/);
    expect(() => parseShellScript("echo 'a\\nb'")).toThrow(/echo with backslashes/);
    expect(() => parseShellScript('echo -n a')).toThrow(/echo with backslashes or options/);
    expect(() => parseShellScript('set -x')).toThrow(/only set -e/);
    expect(() => parseShellScript('tool >')).toThrow(/without a file/);
  });
});
