import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { edit, exampleWorkspace, nx } from './helpers/workspace';

const NOT_ENFORCED = 'module-scoped exports not enforced: EXPORT_SYMBOL_GPL_FOR_MODULES exists but this modpost treats "module:..." as an ordinary namespace';
const ENFORCED =
  'module-scoped exports checked as Linux 6.16 enforces them ("module:" namespaces, imported implicitly by the modules they name); this kernel does not enforce them';

/** `nx run kbuild-tree:symbols-check` on the example tree, each check made to fire by one small edit of the copy. */
describe('symbols-check target', () => {
  const workspace = exampleWorkspace('symbols-check');
  const originals = new Map<string, string>();

  /** Edits a file of the copy, to be restored after the test. */
  function change(rel: string, from: string, to: string): void {
    const path = join(workspace(), rel);
    if (!originals.has(path)) originals.set(path, readFileSync(path, 'utf8'));
    edit(workspace(), rel, from, to);
  }

  afterEach(() => {
    for (const [path, text] of originals) writeFileSync(path, text);
    originals.clear();
  });

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

  it('reports a missing MODULE_IMPORT_NS at the use', async () => {
    change('drivers/exm_led.c', 'MODULE_IMPORT_NS(EXM_STATS);\n', '');
    const r = await check();
    expect(r.status).not.toBe(0);
    expect(r.findings).toEqual([
      'drivers/exm_led.c:19: error: module exm_led uses symbol exm_stats_add from namespace EXM_STATS, but does not import it.',
      'drivers/exm_led.c:20: error: module exm_led uses symbol exm_stats_total from namespace EXM_STATS, but does not import it.',
    ]);
  });

  it('reports a GPL-only symbol used by a module whose license is not GPL-compatible, at its MODULE_LICENSE', async () => {
    change('drivers/exm_led.c', 'MODULE_LICENSE("GPL");', 'MODULE_LICENSE("Proprietary");');
    const r = await check();
    expect(r.status).not.toBe(0);
    expect(r.findings).toEqual(["drivers/exm_led.c:31: error: GPL-incompatible module exm_led.ko uses GPL-only symbol 'exm_stats_add'"]);
  });

  it('reports a symbol two modules export', async () => {
    change('drivers/exm_relay.c', 'module_init(', 'long exm_stats_total(void)\n{\n\treturn 0;\n}\nEXPORT_SYMBOL(exm_stats_total);\n\nmodule_init(');
    const r = await check();
    expect(r.status).not.toBe(0);
    expect(r.findings).toEqual(["drivers/exm_relay.c:20: error: exm_relay: 'exm_stats_total' exported twice. Previous export was in exm_stats.ko"]);
  });

  it('reports an explicit import of a module-scoped namespace where such namespaces are enforced', async () => {
    // exm_sensor's MODULE_IMPORT_NS(module:exm_sensor) is needed on 6.12 and an error from 6.16 on.
    change('nx.json', '"config": "config"', '"config": "config",\n        "enforceModuleScopedExports": true');
    const r = await check();
    expect(r.status).not.toBe(0);
    expect(r.findings).toEqual([
      `drivers/exm_sensor.c:32: error: module exm_sensor imports the module-scoped namespace module:exm_sensor explicitly; such a namespace is imported only implicitly, by the modules it names (${ENFORCED})`,
    ]);
  });

  it('reports a symbol nobody exports, from the compiled object', async () => {
    change('drivers/exm_relay.c', '#include <exm/core.h>\n', '#include <exm/core.h>\n\nint exm_relay_switch(int on);\n');
    change('drivers/exm_relay.c', '\treturn 0;', '\treturn exm_relay_switch(1);');
    const r = await check();
    expect(r.status).not.toBe(0);
    expect(r.findings).toEqual(['drivers/exm_relay.c:6: error: "exm_relay_switch" [drivers/exm_relay.ko] undefined!']);
    expect(r.summary).toContain('imports exact from objects for 6');
  });

  it('warns about a module-scoped export whose module this configuration does not build as a module, naming its Kconfig symbol', async () => {
    change('config', '# CONFIG_EXM_DEBUG is not set\n', '# CONFIG_EXM_DEBUG is not set\n# CONFIG_EXM_SENSOR is not set\n');
    // The example's export is gated on CONFIG_EXM_SENSOR=m (include/exm/export.h): off, there is none.
    const gated = await check();
    expect(gated.status, gated.output).toBe(0);
    expect(gated.findings).toEqual([]);
    // Without the gate the export stays, and nothing can use it.
    change('bus/exm_bus.c', 'EXPORT_SYMBOL_GPL_FOR_MODULE_IF(exm_bus_calibrate, "exm_sensor", CONFIG_EXM_SENSOR);', 'EXPORT_SYMBOL_GPL_FOR_MODULES(exm_bus_calibrate, "exm_sensor");');
    const r = await check();
    expect(r.status, r.output).toBe(0);
    expect(r.findings).toEqual([
      'bus/exm_bus.c:24: warning: exm_bus_calibrate is exported only to exm_sensor, and this configuration builds none of them as a module, so the export is dead (or, built in, never checked); ' +
        `set one of them to m (exm_sensor: CONFIG_EXM_SENSOR=n) or gate the export on it [${NOT_ENFORCED}]`,
    ]);
  });
});
