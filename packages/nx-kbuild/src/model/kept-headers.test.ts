import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { forgetSignatures, type ModuleCommands } from '@nx-kbuild/kbuild-make';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetHeaders, moduleHeaders } from './headers';
import { keptModuleHeaders } from './kept-headers';

let ws: string | undefined;
afterEach(() => ws && rmSync(ws, { recursive: true, force: true }));

/** Writes a file as an editor's save does (a new file renamed over the old one). */
function write(rel: string, text: string): void {
  const file = join(ws!, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

const module = (name: string, sources: string[]): ModuleCommands =>
  ({ module: { name }, objects: sources.map((source) => ({ source, cc: { argv: ['gcc', '-Iarch/x86/include', '-Iinclude', '-c', source] } })) }) as unknown as ModuleCommands;

describe('keptModuleHeaders', () => {
  it('finds each module headers again only when what it read changed, and finds what moduleHeaders finds', () => {
    ws = mkdtempSync(join(tmpdir(), 'nx-kbuild-kept-headers-'));
    write('drivers/x/x.c', '#include <linux/a.h>\n#include "local.h"\n');
    write('drivers/x/local.h', '#include "other.h"\n');
    write('drivers/x/other.h', '');
    write('drivers/y/y.c', '#include <linux/a.h>\n#include <uapi/z.h>\n');
    write('include/linux/a.h', '');
    write('include/uapi/z.h', '');
    const modules = [module('drivers/x/x', ['drivers/x/x.c']), module('drivers/y/y', ['drivers/y/y.c'])];
    const file = join(ws, 'kept-headers.v8');
    const shared = [join(ws, 'include')];
    const run = () => {
      forgetHeaders();
      forgetSignatures();
      const kept = keptModuleHeaders(file, modules, ws!, ws!, shared);
      forgetHeaders();
      expect(kept).toEqual(moduleHeaders(modules, ws!, ws!, shared));
      return { kept: Object.fromEntries(kept), written: statSync(file).mtimeMs };
    };
    const first = run();
    expect(first.kept).toEqual({ 'drivers/x/x': ['drivers/x/local.h', 'drivers/x/other.h', 'include/**/*.h'], 'drivers/y/y': ['include/**/*.h'] });
    // Nothing changed: the kept file is not written again.
    expect(run().written).toBe(first.written);
    // A local header includes another one now.
    write('drivers/x/other.h', '#include "third.h"\n');
    write('drivers/x/third.h', '');
    expect(run().kept['drivers/x/x']).toEqual(['drivers/x/local.h', 'drivers/x/other.h', 'drivers/x/third.h', 'include/**/*.h']);
    // A header appears where an #include <...> looks first: y's include now resolves to it.
    write('arch/x86/include/uapi/z.h', '');
    expect(run().kept['drivers/y/y']).toEqual(['arch/x86/include/uapi/z.h', 'include/**/*.h']);
  });
});
