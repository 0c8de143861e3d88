import { describe, expect, it } from 'vitest';
import { shellQuote, shellWords } from './shell-words';

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
