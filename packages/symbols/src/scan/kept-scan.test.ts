import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanTreeKept } from './kept-scan';
import type { TreeObject, TreeScanOptions } from './tree-scan';

let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

/** Writes `path` under root as an edit does: a new file renamed over the old one. */
function write(path: string, text: string): void {
  const file = join(root!, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file + '.new', text);
  renameSync(file + '.new', file);
}

const EXPORT_H = `#ifndef _LINUX_EXPORT_H
#define _LINUX_EXPORT_H
#define __EXPORT_SYMBOL(sym, license, ns) extern typeof(sym) sym
#define EXPORT_SYMBOL(sym) __EXPORT_SYMBOL(sym, "", "")
#define EXPORT_SYMBOL_GPL(sym) __EXPORT_SYMBOL(sym, "GPL", "")
#endif
`;

const wrapH = (wrapper: string, other: string) => `#ifndef _LINUX_WRAP_H
#define _LINUX_WRAP_H
#include <linux/export.h>
#define WRAP_EXPORT(x) ${wrapper}(x)
#define OTHER ${other}
#endif
`;

describe('scanTreeKept after a shared header changes', () => {
  it('scans again only the modules whose scan looked up a definition that changed', async () => {
    root = mkdtempSync(join(tmpdir(), 'nx-kbuild-kept-'));
    write('include/linux/export.h', EXPORT_H);
    write('include/linux/wrap.h', wrapH('EXPORT_SYMBOL_GPL', '1'));
    write('drv/wrapped.c', '#include <linux/wrap.h>\nint a;\nWRAP_EXPORT(a);\n');
    write('drv/plain.c', '#include <linux/wrap.h>\nint b;\nEXPORT_SYMBOL(b);\n');
    const objects: TreeObject[] = ['drv/wrapped.c', 'drv/plain.c'].map((src) => ({
      object: src.replace(/\.c$/, '.o'),
      source: join(root!, src),
      argv: ['gcc', `-I${join(root!, 'include')}`],
      module: src.replace(/\.c$/, ''),
    }));
    const o: TreeScanOptions = { srctree: root, objtree: root, srcarch: 'none', config: new Map(), objects };
    const file = join(root, 'kept.v8');
    const run = async () => {
      const k = await scanTreeKept(o, file, 1);
      await k.saved;
      const license = (m: string) => k.scan.modules.get(m)!.exports.map((e) => `${e.symbol}:${e.license}`);
      return { scanned: [...k.scanned].sort(), wrapped: license('drv/wrapped'), plain: license('drv/plain') };
    };

    expect(await run()).toEqual({ scanned: ['drv/plain', 'drv/wrapped'], wrapped: ['a:GPL'], plain: ['b:'] });
    expect((await run()).scanned).toEqual([]);
    // A macro neither module uses: the index changed, no module's scan depends on what changed.
    write('include/linux/wrap.h', wrapH('EXPORT_SYMBOL_GPL', '2'));
    expect(await run()).toEqual({ scanned: [], wrapped: ['a:GPL'], plain: ['b:'] });
    // The wrapper itself: the module that expands it is scanned again, and its export is no longer GPL.
    write('include/linux/wrap.h', wrapH('EXPORT_SYMBOL', '2'));
    expect(await run()).toEqual({ scanned: ['drv/wrapped'], wrapped: ['a:'], plain: ['b:'] });
    // A definition both use, moved down a line (a definition's line is part of what was looked up).
    write('include/linux/export.h', '/* moved */\n' + EXPORT_H);
    expect((await run()).scanned).toEqual(['drv/plain', 'drv/wrapped']);
  });

  it('keeps a module whose header is still reached through the include that reached it, whatever includes are added', async () => {
    root = mkdtempSync(join(tmpdir(), 'nx-kbuild-kept-'));
    write('include/linux/export.h', EXPORT_H);
    write('include/linux/mac.h', '#include <linux/export.h>\n#define MAC_EXPORT(x) EXPORT_SYMBOL(x)\n');
    write('include/linux/wrap.h', '#include <linux/mac.h>\n');
    write('drv/uses.c', '#include <linux/wrap.h>\nint a;\nMAC_EXPORT(a);\n');
    const objects: TreeObject[] = [{ object: 'drv/uses.o', source: join(root, 'drv/uses.c'), argv: ['gcc', `-I${join(root, 'include')}`], module: 'drv/uses' }];
    const o: TreeScanOptions = { srctree: root, objtree: root, srcarch: 'none', config: new Map(), objects };
    const file = join(root, 'kept.v8');
    const run = async () => {
      const k = await scanTreeKept(o, file, 1);
      await k.saved;
      return { scanned: [...k.scanned], exports: k.scan.modules.get('drv/uses')!.exports.map((e) => e.symbol) };
    };
    expect(await run()).toEqual({ scanned: ['drv/uses'], exports: ['a'] });
    // Another header includes mac.h too: mac.h is still reached through wrap.h.
    write('include/linux/also.h', '#include <linux/mac.h>\n');
    expect(await run()).toEqual({ scanned: [], exports: ['a'] });
    // wrap.h includes it only under a config symbol that is not set, and also.h is gone: mac.h is
    // reached no more, MAC_EXPORT is not defined, and the module is scanned again.
    rmSync(join(root, 'include/linux/also.h'));
    write('include/linux/wrap.h', '#ifdef CONFIG_NOPE\n#include <linux/mac.h>\n#endif\n');
    expect(await run()).toEqual({ scanned: ['drv/uses'], exports: [] });
  });
});
