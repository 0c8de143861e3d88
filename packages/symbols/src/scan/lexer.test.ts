import { describe, expect, it } from 'vitest';
import { lex, lexTokens, type LexLine } from './lexer';

const shape = (text: string, l: LexLine) =>
  l.directive === undefined ? { code: text.slice(l.start, l.end), line: l.line } : { directive: l.directive, tokens: l.tokens.map((t) => t.text), line: l.line };

describe('lex', () => {
  it('splits directive lines from code spans, which run from their first token to the end of their last', () => {
    const text = ['#include <a.h>', '  int x; /* c */', '', '# define Y(a) a', 'f(x);', '#endif'].join('\n');
    expect(lex(text).map((l) => shape(text, l))).toEqual([
      { directive: 'include', tokens: ['<', 'a', '.', 'h', '>'], line: 1 },
      { code: 'int x;', line: 2 },
      { directive: 'define', tokens: ['Y', '(', 'a', ')', 'a'], line: 4 },
      { code: 'f(x);', line: 5 },
      { directive: 'endif', tokens: [], line: 6 },
    ]);
  });

  it('does not start a directive inside a comment, a string or after code on the same line, nor at ##', () => {
    const text = ['a /*', '#define NOT1', '*/ b', 's = "x\\', '#define NOT2";', 'c # d', '## e', '#define YES \\', '  1'].join('\n');
    const lines = lex(text).map((l) => shape(text, l));
    expect(lines.filter((l) => 'directive' in l)).toEqual([{ directive: 'define', tokens: ['YES', '1'], line: 8 }]);
    expect(lines[0]).toEqual({ code: text.slice(0, text.indexOf('#define YES') - 1), line: 1 });
  });

  it('counts lines through comments, continuations and strings', () => {
    const text = '/* 1\n2 */ x \\\n y\n"a\\\nb"\n#if 1\n';
    expect(lex(text).map((l) => shape(text, l))).toEqual([
      { code: text.slice(text.indexOf('x'), text.indexOf('#if') - 1), line: 2 },
      { directive: 'if', tokens: ['1'], line: 6 },
    ]);
  });
});

describe('lexTokens', () => {
  it('reads C punctuators of one, two and three characters', () => {
    const text = 'a...b<<=c>>=d##e&&f||g->h++i--j+=k-=l*=m/=n%=o&=p|=q^=r==s!=t<=u>=v<<w>>x.y';
    const puncts = lexTokens(text, 0, text.length, 1)
      .filter((t) => !/^[a-z]$/.test(t.text))
      .map((t) => t.text);
    expect(puncts).toEqual(['...', '<<=', '>>=', '##', '&&', '||', '->', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '==', '!=', '<=', '>=', '<<', '>>', '.']);
  });

  it('does not read a punctuator past the end it is given', () => {
    expect(lexTokens('a<<=', 0, 3, 1).map((t) => t.text)).toEqual(['a', '<<']);
  });
});
