import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, run } from './helpers/workspace';

/**
 * nsdeps for an in-tree kernel (Linux 6.12, Debian's config): tools/nsdeps-intree-check.sh drops
 * the MODULE_IMPORT_NS line of two modules on a hard-linked copy of the tree, and nx-symbols
 * nsdeps must put each back where it was, as kbuild's make nsdeps does.
 */
describe('nx-symbols nsdeps on the kernel tree', () => {
  it('adds back the imports two modules lost, byte-identical to the original sources, once', async () => {
    const r = await run('bash', [join(REPO, 'tools', 'nsdeps-intree-check.sh')], { cwd: REPO, env: process.env });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`nsdeps-intree-check.sh failed (${r.status}):\n${out}`);
    expect(out).toMatch(/ums-karma: [1-9]\d* symbols from USB_STORAGE used without importing it/);
    expect(out).toMatch(/iwlmvm: [1-9]\d* symbols from IWLWIFI used without importing it/);
    expect(out).toMatch(/nsdeps: Adding namespace USB_STORAGE to module drivers\/usb\/storage\/ums-karma\.ko\./);
    expect(out).toMatch(/nsdeps: Adding namespace IWLWIFI to module drivers\/net\/wireless\/intel\/iwlwifi\/mvm\/iwlmvm\.ko\./);
    expect(out).toMatch(/the edited sources are byte-identical to the originals again/);
    expect(out).toMatch(/second nsdeps: nsdeps: every module imports the namespaces it uses/);
    expect(out).toMatch(/check after nsdeps: 4231 modules checked .*: 0 errors, 0 warnings/);
  });
});
