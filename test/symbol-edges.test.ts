import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edit, exampleWorkspace, kbuildMake, nx } from './helpers/workspace';

async function dependencies(ws: string): Promise<(project: string) => string[]> {
  const r = await nx(ws, ['graph', '--file=graph.json']);
  expect(r.status, r.output).toBe(0);
  const graph = JSON.parse(readFileSync(join(ws, 'graph.json'), 'utf8')) as { graph: { dependencies: Record<string, { target: string }[]> } };
  return (p) => graph.graph.dependencies[p].map((d) => d.target).sort();
}

/** The graph's module edges come from the symbol engine: what the compiled code uses, not every name a source mentions. */
describe('module edges from the symbol engine', () => {
  const workspace = exampleWorkspace('edges');

  it('ignores exported names that are comments, dead #if branches, locals or struct members, and follows a local header macro', async () => {
    const ws = workspace();
    // Each of these named an export, and so made an edge, for a scan of a source's raw identifiers.
    edit(
      ws,
      'stats/exm_stats.c',
      'long exm_stats_total(void)\n{\n',
      [
        '/* Unlike exm_core_version(), the counters need no registry. */',
        '#if 0',
        'static int exm_stats_registered(void) { return exm_register(NULL); }',
        '#endif',
        '',
        'long exm_stats_total(void)',
        '{',
        '\tint exm_unregister = 0; /* a local that shadows nothing it uses */',
        '',
        '\t(void)exm_unregister;',
        '',
      ].join('\n'),
    );
    edit(
      ws,
      'drivers/exm_relay.c',
      '#include <exm/core.h>\n',
      '#include <exm/core.h>\n#include <exm/stats.h>\n#include "relay_hw.h"\n\nstruct relay_ops {\n\tint (*exm_bus_read)(int reg);\n};\n',
    );
    edit(ws, 'drivers/exm_relay.c', '\treturn 0;\n}', '\tRELAY_COUNT(1);\n\treturn 0;\n}');
    writeFileSync(join(ws, 'drivers/relay_hw.h'), '/* Counts switchings through the statistics module. */\n#define RELAY_COUNT(n) exm_stats_add("relay", (n))\n');
    const deps = await dependencies(ws);
    expect(deps('exm_stats')).toEqual([]);
    // The only use of exm_stats_add is inside the header's macro: a raw scan of the source missed it.
    expect(deps('exm_relay')).toEqual(['exm_core', 'exm_stats']);
  });

  it('once compiled (by Nx or by make M=), takes the exact imports from the objects', async () => {
    const ws = workspace();
    // A use the compiler removes (IS_ENABLED of an unset option is 0): predicted, but not in the object.
    edit(ws, 'drivers/exm_relay.c', '\tRELAY_COUNT(1);\n', '\tif (IS_ENABLED(CONFIG_EXM_RELAY_COUNTS))\n\t\tRELAY_COUNT(1);\n');
    expect((await dependencies(ws))('exm_relay')).toEqual(['exm_core', 'exm_stats']);
    const built = await nx(ws, ['run', 'exm_relay:genksyms']);
    expect(built.status, built.output).toBe(0);
    expect((await dependencies(ws))('exm_relay')).toEqual(['exm_core']);
    // An edit makes the object older than its source: back to the prediction until it is rebuilt.
    edit(ws, 'drivers/exm_relay.c', 'MODULE_DESCRIPTION(', '/* edited */\nMODULE_DESCRIPTION(');
    expect((await dependencies(ws))('exm_relay')).toEqual(['exm_core', 'exm_stats']);
    // Objects kbuild itself built count the same way: its .cmd files record the same commands.
    const made = await kbuildMake(ws);
    expect(made.status, made.output).toBe(0);
    expect((await dependencies(ws))('exm_relay')).toEqual(['exm_core']);
  });
});
