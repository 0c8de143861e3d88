import { describe, expect, it } from 'vitest';
import { lex, lexTokens, scanIdentifiers, SourceReader, type DirectiveStop, type LexLine } from './lexer';

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

describe('SourceReader', () => {
  /** Each directive, and the identifiers (with their lines) of the code before it, read in one pass. */
  const onePass = (text: string) => {
    const reader = new SourceReader(text);
    const out: unknown[] = [];
    const stop: DirectiveStop = { lineStart: true, found: false, line: 0 };
    for (;;) {
      const ids: string[] = [];
      stop.lineStart = reader.atLineStart;
      stop.found = false;
      const at = scanIdentifiers(text, reader.pos, text.length, reader.line, (name, _o, line) => (ids.push(`${name}:${line}`), false), undefined, stop);
      if (ids.length) out.push(ids);
      const d = stop.found ? reader.directiveAt(at, stop.line) : undefined;
      if (!d) return out;
      out.push({ directive: d.directive, tokens: d.tokens.map((t) => t.text), line: d.line });
    }
  };
  /** The same from lex(): code spans delimited first, then scanned. */
  const twoPasses = (text: string) =>
    lex(text).map((l) => {
      if (l.directive !== undefined) return { directive: l.directive, tokens: l.tokens.map((t) => t.text), line: l.line };
      const ids: string[] = [];
      scanIdentifiers(text, l.start, l.end, l.line, (name, _o, line) => (ids.push(`${name}:${line}`), false));
      return ids;
    });

  it('finds the directives and the code between them as lex() does, comments, strings, continuations and ## included', () => {
    for (const text of [
      ['#include <a.h>', '  int x; /* c */', '', '# define Y(a) a', 'f(x);', '#endif'].join('\n'),
      ['a /*', '#define NOT1', '*/ b', 's = "x\\', '#define NOT2";', 'c # d', '## e', '#define YES \\', '  1', 'tail'].join('\n'),
      '/* 1\n2 */ x \\\n y\n"a\\\nb"\n#if 1\n',
      '/* first */ #ifdef A\nint a;\n  /* x */ # else\nint b; // #no\n#endif',
    ])
      expect(onePass(text)).toEqual(twoPasses(text));
  });

  it('skips the code of a branch not compiled', () => {
    const text = '#if 0\nint skipped;\n#endif\nint kept;\n';
    const reader = new SourceReader(text);
    expect(reader.skip()?.directive).toBe('if');
    expect(reader.skip()?.directive).toBe('endif');
    expect(reader.skip()).toBeUndefined();
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
