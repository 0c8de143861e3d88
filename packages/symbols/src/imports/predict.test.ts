import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanEnvironment, scanTree, type TreeObject } from '../scan/tree-scan';
import { exportOwners, HeaderReferences, mayReach, predictDependencies } from './predict';
import { KeptPredictions } from './kept-predictions';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nx-kbuild-predict-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const EXPORT_H = `#define __EXPORT_SYMBOL(sym, license, ns) extern typeof(sym) sym
#define EXPORT_SYMBOL(sym) __EXPORT_SYMBOL(sym, "", "")
#define symbol_get(x) ((typeof(&x))(__symbol_get(#x)))
`;

/** Two exporting modules, and modules using one export directly or through a shared header's macro. */
const KEPT_FIXTURE = {
  'include/linux/export.h': EXPORT_H,
  'include/linux/wrap.h': '#define wrap_call() moving()\n',
  'lib/a.c': '#include <linux/export.h>\nint moving(void) { return 0; }\nEXPORT_SYMBOL(moving);\n',
  'lib/b.c': '#include <linux/export.h>\nint other(void) { return 0; }\nEXPORT_SYMBOL(other);\n',
  'drv/direct.c': 'int f(void) { return moving(); }\n',
  'drv/macro.c': '#include <linux/wrap.h>\nint g(void) { return wrap_call(); }\n',
  'drv/apart.c': 'int h(void) { return other(); }\n',
};

/** Scans every source of the tree at `root` (one module each: its path without .c). */
function scanAll(root: string, files: Record<string, string>) {
  const objects: TreeObject[] = Object.keys(files)
    .filter((f) => f.endsWith('.c'))
    .map((src) => ({ object: src.replace(/\.c$/, '.o'), source: join(root, src), argv: ['gcc', `-I${join(root, 'include')}`], module: src.replace(/\.c$/, '') }));
  const o = { srctree: root, objtree: root, srcarch: 'none', config: new Map<string, string>(), objects };
  return scanTree(o, scanEnvironment(o, new Map()));
}

/** Scans `sources` (one module each: the source's path without .c) and predicts `module`'s dependencies. */
function predict(root: string, sources: string[], module: string, config: Record<string, string> = {}) {
  const objects: TreeObject[] = sources.map((src) => ({
    object: src.replace(/\.c$/, '.o'),
    source: join(root, src),
    argv: ['gcc', `-I${join(root, 'include')}`],
    module: src.replace(/\.c$/, ''),
  }));
  const o = { srctree: root, objtree: root, srcarch: 'none', config: new Map(Object.entries(config)), objects };
  const scan = scanTree(o, scanEnvironment(o, new Map()));
  return predictDependencies(scan.modules.get(module)!, exportOwners(scan.modules.values()), new HeaderReferences(scan.index));
}

describe('predictDependencies', () => {
  it('follows header macros and inline functions a module includes; locals, members, tags and symbol_get are not imports', () => {
    const root = tree({
      'include/linux/export.h': EXPORT_H,
      'include/linux/core.h': '#define core_do(x) __core_do(x, 0)\nstatic inline int core_peek(void) { return core_peek_slow(); }\n',
      'include/linux/other.h': '#define other_do() never_included()\n',
      'core/core.c': '#include <linux/export.h>\nint __core_do(int a, int b) { return a; }\nEXPORT_SYMBOL(__core_do);\nint core_peek_slow(void) { return 0; }\nEXPORT_SYMBOL(core_peek_slow);\nint never_included(void) { return 0; }\nEXPORT_SYMBOL(never_included);\nint bt_info(void) { return 0; }\nEXPORT_SYMBOL(bt_info);\nint field;\nEXPORT_SYMBOL(field);\n',
      'drv/user.c': `#include <linux/export.h>
#include <linux/core.h>
struct field { int field; };
int user(struct field *f) {
  u8 bt_info = 0;
  void *p = symbol_get(field);
  other_do();
  return core_do(1) + core_peek() + f->field + bt_info;
}
`,
    });
    const deps = predict(root, ['core/core.c', 'drv/user.c'], 'drv/user');
    expect([...deps].map(([m, syms]) => [m, syms.sort()])).toEqual([['core/core', ['__core_do', 'core_peek_slow']]]);
  });

  it('a local header\'s inline stand-in hides an export only in the branch that is compiled', () => {
    const root = tree({
      'include/linux/export.h': EXPORT_H,
      'lib/helper.c': '#include <linux/export.h>\nint helper_setup(void) { return 0; }\nEXPORT_SYMBOL(helper_setup);\n',
      'drv/helper.h': '#if IS_ENABLED(CONFIG_HELPER)\nint helper_setup(void);\n#else\nstatic inline int helper_setup(void) { return -1; }\n#endif\n',
      'drv/drv.c': '#include "helper.h"\nint probe(void) { return helper_setup(); }\n',
    });
    const deps = (config: Record<string, string>) => [...predict(root, ['lib/helper.c', 'drv/drv.c'], 'drv/drv', config).keys()];
    expect(deps({ CONFIG_HELPER: 'm' })).toEqual(['lib/helper']);
    expect(deps({})).toEqual([]);
  });

  it('a pointer declarator (an ops member, a local function pointer) declares its name; a call through a pointer uses it', () => {
    const sources = {
      'lib/ops.c': '#include <linux/export.h>\nint probe(int r) { return r; }\nEXPORT_SYMBOL(probe);\nint (*hook)(int);\nEXPORT_SYMBOL(hook);\n',
      'drv/decl.c': 'struct ops { int (*probe)(int reg); };\nint run(struct ops *o) { return o->probe(1); }\n',
      'drv/call.c': 'int run(void) { return (*hook)(1); }\n',
    };
    const root = tree({ 'include/linux/export.h': EXPORT_H, ...sources });
    const deps = (module: string) => [...predict(root, Object.keys(sources), module)];
    expect(deps('drv/decl')).toEqual([]);
    expect(deps('drv/call')).toEqual([['lib/ops', ['hook']]]);
  });

  it('kept predictions: after an export moves, only the modules that can reach it (directly or through a header) are predicted again', () => {
    const root = tree(KEPT_FIXTURE);
    const scanWith = () => scanAll(root, KEPT_FIXTURE);
    const keptFile = join(root, 'kept.v8');
    const run = () => {
      const scan = scanWith();
      const headers = new HeaderReferences(scan.index);
      const kept = new KeptPredictions(keptFile, { digest: 'index', files: [] }, exportOwners(scan.modules.values()), () => headers, () => true);
      const imports = Object.fromEntries(['drv/direct', 'drv/macro', 'drv/apart'].map((m) => [m, kept.imports(scan.modules.get(m)!).symbols]));
      kept.save();
      return { imports, summary: kept.summary(), headers, scan };
    };
    const first = run();
    expect(first.imports).toEqual({ 'drv/direct': ['moving'], 'drv/macro': ['moving'], 'drv/apart': ['other'] });
    // The export moves away from lib/a (now nobody exports it): the two modules that reach it are predicted again.
    writeFileSync(join(root, 'lib/a.c'), 'int moving(void) { return 0; }\n');
    const second = run();
    expect(second.imports).toEqual({ 'drv/direct': [], 'drv/macro': [], 'drv/apart': ['other'] });
    expect(second.summary).toMatch(/^2 of 3 modules predicted, the others kept; 1 export\(s\) moved/);
    expect([...second.headers.reaching(['moving'])].sort()).toEqual(['moving', 'wrap_call']);
    expect(mayReach(second.scan.modules.get('drv/apart')!, new Set(['moving', 'wrap_call']))).toBe(false);
    // Nothing moved since: nothing predicted.
    expect(run().summary).toMatch(/^0 of 3 modules predicted/);
  });

  it('kept predictions: after a shared header changes, only the modules that can meet a definition that changed are predicted again', () => {
    const root = tree(KEPT_FIXTURE);
    const keptFile = join(root, 'kept.v8');
    const wrap = join(root, 'include/linux/wrap.h');
    // The index as kept-scan identifies it: a digest, and each file's signature (here: a version).
    const run = (version: number) => {
      const scan = scanAll(root, KEPT_FIXTURE);
      const headers = new HeaderReferences(scan.index);
      const index = { digest: `v${version}`, files: [[wrap, `${version}`], [join(root, 'include/linux/export.h'), '1']] as [string, string][] };
      const kept = new KeptPredictions(keptFile, index, exportOwners(scan.modules.values()), () => headers, () => true);
      const imports = Object.fromEntries(['drv/direct', 'drv/macro'].map((m) => [m, kept.imports(scan.modules.get(m)!).symbols]));
      kept.save();
      return { imports, summary: kept.summary() };
    };
    expect(run(1).imports).toEqual({ 'drv/direct': ['moving'], 'drv/macro': ['moving'] });
    // A comment above the definition: the header changed, no definition did.
    writeFileSync(wrap, '/* moved down */\n#define wrap_call() moving()\n');
    expect(run(2).summary).toMatch(/^0 of 2 modules predicted/);
    // The macro now calls another export: the module that uses it is predicted again.
    writeFileSync(wrap, '/* moved down */\n#define wrap_call() other()\n');
    const third = run(3);
    expect(third.imports).toEqual({ 'drv/direct': ['moving'], 'drv/macro': ['other'] });
    expect(third.summary).toMatch(/^1 of 2 modules predicted, the others kept; 0 export\(s\) moved, 1 name\(s\) of changed shared headers/);
    // It includes another header now (what is visible from it changed): the module that includes it is predicted again.
    writeFileSync(wrap, '#include <linux/export.h>\n#define wrap_call() other()\n');
    expect(run(4).summary).toMatch(/^1 of 2 modules predicted, the others kept; 0 export\(s\) moved, 1 shared header\(s\) with other #includes, seen through 1 header\(s\)/);
  });

  it("kept predictions: after a header's #includes change, the modules that include it, directly or not, are predicted again, as with nothing kept", () => {
    const files = {
      'include/linux/export.h': EXPORT_H,
      'include/linux/more.h': '#define more_call() moving()\n',
      'include/linux/wrap.h': '#define wrap_call() other()\n',
      'include/linux/outer.h': '#include <linux/wrap.h>\n',
      'include/linux/lone.h': '#define lone 1\n',
      'lib/a.c': '#include <linux/export.h>\nint moving(void) { return 0; }\nEXPORT_SYMBOL(moving);\n',
      'lib/b.c': '#include <linux/export.h>\nint other(void) { return 0; }\nEXPORT_SYMBOL(other);\n',
      'drv/uses.c': '#include <linux/wrap.h>\nint k(void) { return more_call(); }\n',
      'drv/outer.c': '#include <linux/outer.h>\nint z(void) { return more_call() + wrap_call(); }\n',
      'drv/apart.c': '#include <linux/lone.h>\nint h(void) { return other(); }\n',
    };
    const root = tree(files);
    const wrap = join(root, 'include/linux/wrap.h');
    const modules = ['drv/uses', 'drv/outer', 'drv/apart'];
    const run = (keptFile: string, version: number) => {
      const scan = scanAll(root, files);
      const headers = new HeaderReferences(scan.index);
      const index = { digest: `v${version}`, files: [[wrap, `${version}`]] as [string, string][] };
      const kept = new KeptPredictions(keptFile, index, exportOwners(scan.modules.values()), () => headers, () => true);
      const imports = Object.fromEntries(modules.map((m) => [m, kept.imports(scan.modules.get(m)!).symbols]));
      kept.save();
      return { imports, summary: kept.summary() };
    };
    const keptFile = join(root, 'kept.v8');
    expect(run(keptFile, 1).imports).toEqual({ 'drv/uses': [], 'drv/outer': ['other'], 'drv/apart': ['other'] });
    // more_call becomes visible from wrap.h: drv/uses and drv/outer (through outer.h) are predicted again.
    writeFileSync(wrap, '#include <linux/more.h>\n#define wrap_call() other()\n');
    const second = run(keptFile, 2);
    expect(second.summary).toMatch(/^2 of 3 modules predicted, the others kept; 0 export\(s\) moved, 1 shared header\(s\) with other #includes, seen through 2 header\(s\)/);
    expect(second.imports).toEqual({ 'drv/uses': ['moving'], 'drv/outer': ['moving', 'other'], 'drv/apart': ['other'] });
    expect(second.imports).toEqual(run(join(root, 'none.v8'), 2).imports);
    // Nothing changed since: nothing predicted; then the #include goes again.
    expect(run(keptFile, 2).summary).toMatch(/^0 of 3 modules predicted/);
    writeFileSync(wrap, '#define wrap_call() other()\n');
    const fourth = run(keptFile, 3);
    expect(fourth.summary).toMatch(/^2 of 3 modules predicted/);
    expect(fourth.imports).toEqual({ 'drv/uses': [], 'drv/outer': ['other'], 'drv/apart': ['other'] });
  });
});
