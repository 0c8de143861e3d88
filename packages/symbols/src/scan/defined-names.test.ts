import { describe, expect, it } from 'vitest';
import { DefinedNames } from './defined-names';

describe('DefinedNames', () => {
  it('holds the names of #define lines, as /^[ \\t]*#[ \\t]*define[ \\t]+(\\w+)/m would', () => {
    const text = ['#define A 1', '  #  define\tB_2(x) x', '#definefoo', 'x #define C', '/* #define D */', '#define', '#undef E', '\t#define F'].join('\n');
    const names = DefinedNames.of(text);
    expect(['A', 'B_2', 'F'].filter((n) => names.has(n))).toEqual(['A', 'B_2', 'F']);
    expect(['definefoo', 'foo', 'C', 'D', 'E', 'B', 'B_', 'B_20', 'AB', ''].filter((n) => names.has(n))).toEqual([]);
    expect(names.size).toBe(3);
  });

  it('holds every one of many names and none of their neighbours', () => {
    const names = DefinedNames.of(Array.from({ length: 50000 }, (_, k) => `#define mmREG_${k}__SHIFT 0x${k.toString(16)}`).join('\n'));
    expect(names.size).toBe(50000);
    let held = 0;
    let others = 0;
    for (let k = 0; k < 50000; k++) {
      if (names.has(`mmREG_${k}__SHIFT`)) held++;
      if (names.has(`mmREG_${k}__MASK`) || names.has(`mmREG_${k + 50000}__SHIFT`)) others++;
    }
    expect([held, others]).toEqual([50000, 0]);
  });
});
