import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, nx, removeWorkspace, requireKernel } from './helpers/workspace';

/** Applies an edit for the duration of `body`, then restores the file. */
async function withEdit(ws: string, rel: string, change: (text: string) => string, body: () => Promise<void>): Promise<void> {
  const p = join(ws, rel);
  const original = readFileSync(p, 'utf8');
  const changed = change(original);
  if (changed === original) throw new Error(`edit of ${rel} changed nothing`);
  writeFileSync(p, changed);
  try {
    await body();
  } finally {
    writeFileSync(p, original);
  }
}

describe('bad input fails with the tool’s own message and leaves nothing stale', () => {
  let ws: string;
  beforeAll(async () => {
    requireKernel();
    ws = makeWorkspace('bad');
    const r = await nx(ws, ['run-many', '-t', 'link']);
    expect(r.status, r.output).toBe(0);
  });
  afterAll(() => ws && removeWorkspace(ws));

  it('a Makefile naming a missing source: file:line error from the graph, no stack trace', async () => {
    const line = readFileSync(join(ws, 'drivers/Kbuild'), 'utf8').split('\n').length;
    await withEdit(ws, 'drivers/Kbuild', (t) => t + 'obj-m += exm_ghost.o\n', async () => {
      const r = await nx(ws, ['run-many', '-t', 'link']);
      expect(r.status).not.toBe(0);
      expect(r.output).toContain(`drivers/Kbuild:${line}: no source for exm_ghost.o`);
      expect(r.output).not.toMatch(/^\s+at .*\.js:\d+/m);
    });
  });

  it('a C syntax error: gcc’s message with the file, and no .o or .ko left', async () => {
    await withEdit(ws, 'drivers/exm_relay.c', (t) => t.replace('return 0;', 'return 0'), async () => {
      const r = await nx(ws, ['run-many', '-t', 'link']);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/drivers\/exm_relay\.c:\d+:\d+: error: expected .;. before/);
      expect(r.output).toContain('exm_relay:compile');
      expect(existsSync(join(ws, 'drivers/exm_relay.o'))).toBe(false);
      expect(existsSync(join(ws, 'drivers/exm_relay.ko'))).toBe(false);
    });
    expect((await nx(ws, ['run-many', '-t', 'link'])).status).toBe(0);
    expect(existsSync(join(ws, 'drivers/exm_relay.ko'))).toBe(true);
  });

  it('an undefined symbol: modpost’s message, the modpost task fails, no .ko left', async () => {
    await withEdit(
      ws,
      'drivers/exm_relay.c',
      (t) => t.replace('static int __init exm_relay_init(void)\n{\n', 'extern int exm_missing(void);\n\nstatic int __init exm_relay_init(void)\n{\n\texm_missing();\n'),
      async () => {
        const r = await nx(ws, ['run-many', '-t', 'link']);
        expect(r.status).not.toBe(0);
        expect(r.output).toMatch(/ERROR: modpost: "exm_missing" \[.*drivers\/exm_relay\.ko\] undefined!/);
        expect(existsSync(join(ws, 'drivers/exm_relay.ko'))).toBe(false);
        expect(existsSync(join(ws, 'drivers/exm_relay.mod.c'))).toBe(false);
      },
    );
    expect((await nx(ws, ['run-many', '-t', 'link'])).status).toBe(0);
  });

  it('a missing namespace import: modpost’s message, the modpost task fails, no .ko left', async () => {
    await withEdit(ws, 'drivers/exm_led.c', (t) => t.replace('MODULE_IMPORT_NS(EXM_STATS);\n', ''), async () => {
      const r = await nx(ws, ['run-many', '-t', 'link']);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/ERROR: modpost: module exm_led uses symbol exm_stats_\w+ from namespace EXM_STATS, but does not import it\./);
      expect(existsSync(join(ws, 'drivers/exm_led.ko'))).toBe(false);
    });
    expect((await nx(ws, ['run-many', '-t', 'link'])).status).toBe(0);
    expect(existsSync(join(ws, 'drivers/exm_led.ko'))).toBe(true);
  });

  it('an invalid line in the tree config: file:line error', async () => {
    await withEdit(ws, 'config', (t) => t + 'CONFIG_EXM_LED=bogus\n', async () => {
      const r = await nx(ws, ['show', 'projects']);
      expect(r.status).not.toBe(0);
      expect(r.output).toMatch(/config:\d+: symbol value 'bogus' invalid for EXM_LED/);
    });
  });
});
