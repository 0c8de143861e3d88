import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, nx } from './helpers/workspace';

const NOT_ENFORCED = 'module-scoped exports not enforced: EXPORT_SYMBOL_GPL_FOR_MODULES exists but this modpost treats "module:..." as an ordinary namespace';

/** `nx run kbuild-tree:symbols-check` on the example tree. */
describe('symbols-check target', () => {
  const workspace = exampleWorkspace('symbols-check');

  /** The findings (every line of the report but its summary), the summary, and the exit status. */
  async function check(): Promise<{ status: number; findings: string[]; summary: string; output: string }> {
    const r = await nx(workspace(), ['run', 'kbuild-tree:symbols-check']);
    const report = r.status === 0 || r.output.includes('symbols-check found') ? readFileSync(join(workspace(), 'symbols-check.txt'), 'utf8').trimEnd().split('\n') : [];
    return { status: r.status, findings: report.slice(0, -1), summary: report[report.length - 1] ?? '', output: r.output };
  }

  it('finds nothing in the example tree, with every import read from the objects', async () => {
    const r = await check();
    expect(r.status, r.output).toBe(0);
    expect(r.findings).toEqual([]);
    expect(r.summary).toBe(`symbols-check: 6 modules (imports exact from objects for 6, predicted for 0; ${NOT_ENFORCED}): 0 errors, 0 warnings`);
    // Nothing changed: the check, and everything it depends on, comes from the cache.
    const again = await nx(workspace(), ['run', 'kbuild-tree:symbols-check']);
    expect(again.status, again.output).toBe(0);
    expect(again.ran).toEqual([]);
    expect(again.cached).toContain('kbuild-tree:symbols-check');
  });
});
