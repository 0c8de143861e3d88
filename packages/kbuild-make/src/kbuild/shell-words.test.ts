import { describe, expect, it } from 'vitest';
import { commandList, redirectedWords, shellQuote, shellWords } from './shell-words';

describe('shellWords', () => {
  it('unquotes the way /bin/sh does', () => {
    expect(shellWords(`gcc -DKBUILD_MODNAME='"exm_core"' -DX="a b" plain\\ space`)).toEqual([
      'gcc',
      '-DKBUILD_MODNAME="exm_core"',
      '-DX=a b',
      'plain space',
    ]);
  });
  it('refuses anything that needs a shell', () => {
    expect(() => shellWords('gcc $(pwd)')).toThrow(/not supported/);
    expect(() => shellWords('gcc ; rm -rf /')).toThrow(/not supported/);
    expect(() => shellWords("gcc 'open")).toThrow(/unterminated/);
  });
  it('quotes for display', () => {
    expect(shellQuote('-DKBUILD_MODNAME="x"')).toBe(`'-DKBUILD_MODNAME="x"'`);
    expect(shellQuote('/a/b.o')).toBe('/a/b.o');
  });
});

describe('redirectedWords', () => {
  it("takes a generating rule's redirections and leading assignments, quoted `<`/`>` staying words", () => {
    expect(redirectedWords('awk -v N=4 -f ../src/unroll.awk < ../src/int.uc > lib/raid6/int4.c')).toEqual({ argv: ['awk', '-v', 'N=4', '-f', '../src/unroll.awk'], stdin: '../src/int.uc', stdout: 'lib/raid6/int4.c' });
    expect(redirectedWords(`sed -n 's/.*define *BLIST_\\([A-Z0-9_]*\\) *.*/F(\\1),/p' in.h > out.c`)).toEqual({ argv: ['sed', '-n', 's/.*define *BLIST_\\([A-Z0-9_]*\\) *.*/F(\\1),/p', 'in.h'], stdout: 'out.c' });
    expect(redirectedWords('TOPDIR=/src SPKDIR=/src/d d/makemapdata >d/mapdata.h')).toEqual({ argv: ['d/makemapdata'], env: { TOPDIR: '/src', SPKDIR: '/src/d' }, stdout: 'd/mapdata.h' });
    expect(redirectedWords(`echo '<a>' "x > y"`)).toEqual({ argv: ['echo', '<a>', 'x > y'] });
  });
  it('refuses what only a shell does', () => {
    expect(() => redirectedWords('cat a >> b')).toThrow(/not supported/);
    expect(() => redirectedWords('tool 2> /dev/null')).toThrow(/not supported/);
    expect(() => redirectedWords('hexdump x | sed y > z')).toThrow(/not supported/);
    expect(() => redirectedWords('tool >')).toThrow(/without a file/);
  });
});

describe('commandList', () => {
  it("splits filechk's list into simple commands, `;` inside quotes kept", () => {
    const list = commandList(`\t echo "#ifndef X_H"; echo ""; sed -ne 's:a:b:; /^->/{s:->::; p;}' < d/x.s; echo "#endif"`);
    expect(list.map((c) => c.argv)).toEqual([['echo', '#ifndef X_H'], ['echo', ''], ['sed', '-ne', 's:a:b:; /^->/{s:->::; p;}'], ['echo', '#endif']]);
    expect(list[2].stdin).toBe('d/x.s');
    expect(list[3].text).toBe('echo "#endif"');
  });
  it("refuses pipelines, command substitution and echo forms the shell's echo reads otherwise", () => {
    expect(() => commandList('echo a | cut -b -64')).toThrow(/pipeline/);
    expect(() => commandList(`utsver=$(echo a); echo b`)).toThrow(/not supported/);
    expect(() => commandList(`echo 'a\\nb'`)).toThrow(/echo with escapes/);
    expect(() => commandList('echo -n a')).toThrow(/echo with escapes or options/);
  });
});
