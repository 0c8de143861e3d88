import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetHeaders, includedWorkspaceHeaders } from './headers';

let ws: string | undefined;
afterEach(() => ws && rmSync(ws, { recursive: true, force: true }));

function workspace(files: Record<string, string>): string {
  ws = mkdtempSync(join(tmpdir(), 'nx-kbuild-headers-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(ws, rel)), { recursive: true });
    writeFileSync(join(ws, rel), text);
  }
  forgetHeaders();
  return ws;
}

describe('workspace headers of a source', () => {
  const files = {
    'drivers/x/x.c': '#include <linux/a.h>\n#include "local.h"\n',
    'drivers/x/local.h': '#include <linux/c.h>\n#include "../common/shared.h"\n',
    'drivers/common/shared.h': '#include <asm/d.h>\n',
    'include/linux/a.h': '#include <linux/b.h>\n',
    'include/linux/b.h': '',
    'include/linux/c.h': '',
    'arch/x86/include/asm/d.h': '',
  };
  const argv = (root: string) => ['gcc', `-I${root}/arch/x86/include`, `-I${root}/include`, '-c', 'drivers/x/x.c'];

  it('follows every header it can include, without shared directories', () => {
    const root = workspace(files);
    expect(includedWorkspaceHeaders(join(root, 'drivers/x/x.c'), argv(root), root, root).sort()).toEqual([
      'arch/x86/include/asm/d.h',
      'drivers/common/shared.h',
      'drivers/x/local.h',
      'include/linux/a.h',
      'include/linux/b.h',
      'include/linux/c.h',
    ]);
  });

  it("lists a shared directory's headers as one glob and does not follow them", () => {
    const root = workspace(files);
    const shared = [join(root, 'include'), join(root, 'arch/x86/include')];
    expect(includedWorkspaceHeaders(join(root, 'drivers/x/x.c'), argv(root), root, root, shared).sort()).toEqual([
      'arch/x86/include/**/*.h',
      'drivers/common/shared.h',
      'drivers/x/local.h',
      'include/**/*.h',
    ]);
  });
});
