import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { forgetSignatures } from '@nx-kbuild/kbuild-make';
import { afterEach, describe, expect, it } from 'vitest';
import { buildHeaderIndex, type Clause, type HeaderIndex } from './header-index';
import { HeaderIndexCache } from './header-index-cache';

let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root!, path)), { recursive: true });
  writeFileSync(join(root!, path), text);
}

/** Everything a scan or a prediction reads of an index, the clauses a header's definitions share included. */
function canonical(i: HeaderIndex): unknown {
  const clause = (c: Clause) => [c.text.slice(c.start, c.end), c.line, c.ifdef, c.want, !!c.guard];
  const ids = new Map<object, number>();
  const id = (o: object) => (ids.has(o) ? ids.get(o)! : (ids.set(o, ids.size), ids.size - 1));
  return {
    sets: [[...i.unguarded], [...i.invoking], i.files, i.bytes],
    definitions: [...i.definitions].map(([n, ds]) => [n, ds.map((d) => [d.file, d.text.slice(d.start, d.end), d.start, d.end, d.line, d.when.map((c) => [id(c), ...clause(c)])])]),
    includedBy: [...i.includedBy].map(([f, es]) => [f, es.map((e) => [e.from, e.when.map(clause)])]),
    includes: [...i.includes],
    functions: [...i.functions].map(([n, fs]) => [n, fs.map((f) => [f.file, [...f.refs]])]),
  };
}

describe('HeaderIndexCache', () => {
  it('gives the index indexing every header gives, whether it indexed a header or decoded it', async () => {
    root = mkdtempSync(join(tmpdir(), 'nx-kbuild-index-cache-'));
    write('include/linux/a.h', `#ifndef _A_H
#define _A_H
#include <linux/b.h>
#ifdef CONFIG_X
#define A_MODE 1
#elif defined(CONFIG_Y)
#define A_MODE 2
#else
#define A_MODE 3
#endif
#ifndef A_DEFAULT
#define A_EARLY 1
#define A_DEFAULT 4
#endif
static inline int a_call(void) { return b_call() + A_MODE; }
#endif
`);
    write('include/linux/b.h', '#define B 1\nstatic inline int b_call(void) { return exported_b(); }\nEXPORT_SYMBOL(b_call);\n');
    write('include/linux/empty.h', '/* nothing */\n');
    const roots = [join(root, 'include')];
    const file = join(root, 'index.v8');
    const withCache = async (key: string) => {
      forgetSignatures();
      const cache = new HeaderIndexCache(file, key);
      const index = canonical(buildHeaderIndex(roots, cache));
      await cache.saved;
      return { index, decoded: cache.decoded };
    };
    const fresh = canonical(buildHeaderIndex(roots));
    expect(await withCache('k')).toEqual({ index: fresh, decoded: 0 });
    expect(await withCache('k')).toEqual({ index: fresh, decoded: 3 });
    // One header changed: indexed again, the others decoded.
    write('include/linux/b.h', '#define B 2\n');
    forgetSignatures();
    const changed = canonical(buildHeaderIndex(roots));
    expect(changed).not.toEqual(fresh);
    expect(await withCache('k')).toEqual({ index: changed, decoded: 2 });
    // Another key (the indexer's code changed): nothing kept is used.
    expect(await withCache('other')).toEqual({ index: changed, decoded: 0 });
  });
});
