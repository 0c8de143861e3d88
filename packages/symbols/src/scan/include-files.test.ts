import { describe, expect, it } from 'vitest';
import { defineNames } from './include-files';

describe('defineNames', () => {
  it('reads the names of #define lines, as /^[ \\t]*#[ \\t]*define[ \\t]+(\\w+)/m would', () => {
    const text = ['#define A 1', '  #  define\tB_2(x) x', '#definefoo', 'x #define C', '/* #define D */', '#define', '#undef E', '\t#define F'].join('\n');
    expect([...defineNames(text)]).toEqual(['A', 'B_2', 'F']);
  });
});
