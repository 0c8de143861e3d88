import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseShellScript } from '@nx-kbuild/kbuild-make';
import { describe, expect, it } from 'vitest';
import { runScript } from './shell';

describe('runScript', () => {
  it("runs cfg80211's shipped-certs recipe: a subshell's list into the target, a pipeline feeding cat", () => {
    const dir = mkdtempSync(join(tmpdir(), 'shell-'));
    writeFileSync(join(dir, 'a.hex'), '0x01,\n');
    writeFileSync(join(dir, 'b.hex'), '0x02,\n');
    const script = parseShellScript(`(echo '#include "reg.h"'; \\\n  echo 'const u8 c[] = {'; \\\n  echo | cat - a.hex b.hex ; \\\n  echo '};'; \\\n ) > out.c`);
    expect(runScript(script, dir, 'inherit')).toBe(0);
    expect(readFileSync(join(dir, 'out.c'), 'utf8')).toBe('#include "reg.h"\nconst u8 c[] = {\n\n0x01,\n0x02,\n};\n');
  });

  it('gives the status of the last command, and with set -e that of the first failing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shell-'));
    expect(runScript(parseShellScript('false; true'), dir, 'inherit')).toBe(0);
    expect(runScript(parseShellScript('true | false'), dir, 'inherit')).toBe(1);
    expect(runScript(parseShellScript('set -e; false; echo never > x'), dir, 'inherit')).toBe(1);
    // A subshell's set -e stays in it.
    expect(runScript(parseShellScript('(set -e); false; true'), dir, 'inherit')).toBe(0);
    expect(runScript(parseShellScript('no-such-tool-here'), dir, 'inherit')).toBe(127);
  });
});
