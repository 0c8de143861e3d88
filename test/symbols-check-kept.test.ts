import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, run } from './helpers/workspace';

/**
 * nx-symbols check keeps its result and each module's scan with every file they read (Linux 6.12,
 * Debian's config): tools/symbols-check-kept.sh checks twice on a hard-linked copy of the tree,
 * then edits two sources (one export added, one removed) and a module's local header; a query
 * afterwards (imports) answers from the check's result, or after an edit from the kept scan, and
 * prints what a fresh scan gives.
 */
describe('nx-symbols check: what it keeps', () => {
  it('prints the kept result while nothing changed; after edits, scans only the modules that read the edited files, with the output of a scan from nothing', async () => {
    const r = await run('bash', [join(REPO, 'tools', 'symbols-check-kept.sh')], { cwd: REPO, env: process.env });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`symbols-check-kept.sh failed (${r.status}):\n${out}`);
    expect(out).toMatch(/first check: 4231 modules checked .*: 0 errors, 0 warnings/);
    expect(out).toMatch(/second check: the kept result, identical/);
    expect(out).toMatch(/error: vmlinux: 'netif_carrier_on' exported twice\. Previous export was in drivers\/net\/dummy\.ko/);
    expect(out).toMatch(/nx-symbols: 3 of 4231 modules scanned, the others kept/);
    // Two exports moved (netif_carrier_on to dummy, usb_stor_suspend to nobody): far from every module predicted again.
    const [predicted, total] = /nx-symbols: (\d+) of (\d+) modules predicted/.exec(out)!.slice(1).map(Number);
    expect(total).toBe(4231);
    expect(predicted).toBeGreaterThan(3);
    expect(predicted).toBeLessThan(total / 2);
    expect(out).toMatch(/predicted imports: 4231 of 4231 modules identical to predicting all anew/);
    expect(out).toMatch(/after the edit: 4231 modules checked .*: 1 errors, 0 warnings/);
    expect(out).toMatch(/after the edit, checked with nothing kept: identical/);
    expect(out).toMatch(/imports iwlmvm, from the check's answers and from the kept scan after an edit \(1 module scanned\): \d+ lines, identical to a fresh scan's/);
  });
});
