import { describe, expect, it } from 'vitest';
import { redirectedWords, shellQuote, shellWords } from './shell-words';

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
