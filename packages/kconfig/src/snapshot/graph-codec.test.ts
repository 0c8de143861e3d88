import { describe, expect, it } from 'vitest';
import { decodeGraph, encodeGraph, graphMeta, UnsupportedValue } from './graph-codec';

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  sum(): number {
    return this.x + this.y;
  }
}

describe('graph codec', () => {
  it('keeps shared references, cycles, classes, Maps and every primitive', () => {
    const shared = { name: 'shared' };
    const menu: { parent?: unknown; list: unknown[]; text: string } = { list: [], text: 'héllo "wörld"\n' };
    const child = { parent: menu, list: [], text: '' };
    menu.list.push(child, shared, shared);
    const root = {
      menu,
      p: new Point(3, -4),
      byName: new Map<string, unknown>([
        ['a', shared],
        ['b', null],
      ]),
      numbers: [0, -1, 2 ** 29, -(2 ** 40), 1.5, Number.NaN, -0, Infinity],
      flags: [true, false, undefined, null],
      empty: '',
    };
    const buf = encodeGraph(root, { Point }, { key: 'k1', files: ['Kconfig'] });
    expect(graphMeta(buf)).toEqual({ key: 'k1', files: ['Kconfig'] });
    const out = decodeGraph<typeof root>(buf, { Point })!.root;
    expect(out.menu.text).toBe('héllo "wörld"\n');
    expect((out.menu.list[0] as typeof child).parent).toBe(out.menu);
    expect(out.menu.list[1]).toBe(out.menu.list[2]);
    expect(out.byName.get('a')).toBe(out.menu.list[1]);
    expect(out.byName.get('b')).toBeNull();
    expect(out.p).toBeInstanceOf(Point);
    expect(out.p.sum()).toBe(-1);
    expect(out.numbers).toEqual([0, -1, 2 ** 29, -(2 ** 40), 1.5, Number.NaN, -0, Infinity]);
    expect(out.flags).toEqual([true, false, undefined, null]);
    expect(Object.keys(out)).toEqual(Object.keys(root));
  });

  it('refuses what it cannot represent instead of dropping it', () => {
    expect(() => encodeGraph({ f: () => 1 }, {}, null)).toThrow(UnsupportedValue);
    expect(() => encodeGraph({ p: new Point(1, 2) }, {}, null)).toThrow(UnsupportedValue);
    expect(() => encodeGraph({ n: 1n }, {}, null)).toThrow(UnsupportedValue);
  });

  it('reads nothing from a file that is not a graph', () => {
    expect(graphMeta(Buffer.from('not a graph'))).toBeUndefined();
    expect(decodeGraph(Buffer.alloc(0), {})).toBeUndefined();
  });
});
