import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanEnvironment, scanTree, type TreeObject } from '../scan/tree-scan';
import { exportOwners, HeaderReferences, predictDependencies } from './predict';

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
    const objects: TreeObject[] = [
      { object: 'core/core.o', source: join(root, 'core/core.c'), argv: ['gcc', `-I${join(root, 'include')}`], module: 'core/core' },
      { object: 'drv/user.o', source: join(root, 'drv/user.c'), argv: ['gcc', `-I${join(root, 'include')}`], module: 'drv/user' },
    ];
    const o = { srctree: root, objtree: root, srcarch: 'none', config: new Map<string, string>(), objects };
    const scan = scanTree(o, scanEnvironment(o, new Map()));
    const user = scan.modules.get('drv/user')!;
    const deps = predictDependencies(user, exportOwners(scan.modules.values()), new HeaderReferences(scan.index));
    expect([...deps].map(([m, syms]) => [m, syms.sort()])).toEqual([['core/core', ['__core_do', 'core_peek_slow']]]);
  });

  it('a local header\'s inline stand-in hides an export only in the branch that is compiled', () => {
    const root = tree({
      'include/linux/export.h': EXPORT_H,
      'lib/helper.c': '#include <linux/export.h>\nint helper_setup(void) { return 0; }\nEXPORT_SYMBOL(helper_setup);\n',
      'drv/helper.h': '#if IS_ENABLED(CONFIG_HELPER)\nint helper_setup(void);\n#else\nstatic inline int helper_setup(void) { return -1; }\n#endif\n',
      'drv/drv.c': '#include "helper.h"\nint probe(void) { return helper_setup(); }\n',
    });
    const deps = (config: Record<string, string>) => {
      const objects: TreeObject[] = [
        { object: 'lib/helper.o', source: join(root, 'lib/helper.c'), argv: ['gcc', `-I${join(root, 'include')}`], module: 'lib/helper' },
        { object: 'drv/drv.o', source: join(root, 'drv/drv.c'), argv: ['gcc', `-I${join(root, 'include')}`], module: 'drv/drv' },
      ];
      const o = { srctree: root, objtree: root, srcarch: 'none', config: new Map(Object.entries(config)), objects };
      const scan = scanTree(o, scanEnvironment(o, new Map()));
      return [...predictDependencies(scan.modules.get('drv/drv')!, exportOwners(scan.modules.values()), new HeaderReferences(scan.index)).keys()];
    };
    expect(deps({ CONFIG_HELPER: 'm' })).toEqual(['lib/helper']);
    expect(deps({})).toEqual([]);
  });
});
