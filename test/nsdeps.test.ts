import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, nx } from './helpers/workspace';

/** `nx g nx-kbuild:nsdeps` on the example tree, against the real 6.12 headers. */
describe('nsdeps generator', () => {
  const workspace = exampleWorkspace('nsdeps');
  const led = () => join(workspace(), 'drivers/exm_led.c');
  const sensor = () => join(workspace(), 'drivers/exm_sensor.c');

  it('adds the missing import after MODULE_LICENSE, in 6.12 syntax, and is idempotent', async () => {
    const original = readFileSync(led(), 'utf8');
    const sensorBefore = readFileSync(sensor(), 'utf8');
    writeFileSync(led(), original.replace('MODULE_IMPORT_NS(EXM_STATS);\n', ''));
    const first = await nx(workspace(), ['g', 'nx-kbuild:nsdeps']);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('Adding namespace EXM_STATS to module exm_led.ko.');
    const fixed = readFileSync(led(), 'utf8');
    expect(fixed).toContain('MODULE_LICENSE("GPL");\nMODULE_IMPORT_NS(EXM_STATS);\n');
    expect(fixed.replace('MODULE_IMPORT_NS(EXM_STATS);\n', '')).toBe(original.replace('MODULE_IMPORT_NS(EXM_STATS);\n', ''));
    // exm_sensor imports what it uses, module:exm_sensor included (an ordinary namespace on 6.12).
    expect(readFileSync(sensor(), 'utf8')).toBe(sensorBefore);
    const second = await nx(workspace(), ['g', 'nx-kbuild:nsdeps']);
    expect(second.status, second.output).toBe(0);
    expect(second.output).not.toContain('Adding namespace');
    expect(readFileSync(led(), 'utf8')).toBe(fixed);
  });
});
