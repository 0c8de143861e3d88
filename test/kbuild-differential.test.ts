import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, run } from './helpers/workspace';

/**
 * The kbuild evaluator against kbuild's own dry run (`make -n -k all` in an O= directory) on the
 * Linux 6.12 tree: every module's member list, the modules.order order and each object's compile
 * command, byte for byte. tools/intree-commands-check.sh does the work and fails on any difference.
 */
async function check(target: string): Promise<string> {
  const r = await run('bash', [join(REPO, 'tools', 'intree-commands-check.sh'), target], { cwd: REPO, env: process.env });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`intree-commands-check.sh ${target} failed (${r.status}):\n${out}`);
  return out;
}

function count(out: string, re: RegExp): number[] {
  const m = re.exec(out);
  if (!m) throw new Error(`no match for ${re} in:\n${out}`);
  return m.slice(1).map(Number);
}

describe('kbuild evaluator against make -n -k all (Linux 6.12)', () => {
  it("Debian's config: 4,230 modules, every compile command byte-identical", async () => {
    const out = await check('debian');
    const [same, compared] = count(out, /compile commands: (\d+) of (\d+) objects/);
    expect(same).toBe(compared);
    expect(compared).toBeGreaterThan(14900);
    expect(count(out, /module member lists: (\d+) of (\d+) identical/)).toEqual([4230, 4230]);
    // Every object of the dry run's 15,078 has its owner: module, built in, or other (vDSO, realmode, EFI stub).
    expect(count(out, /owners: (\d+) objects in modules, (\d+) built in, (\d+) other/)).toEqual([12445, 2581, 52]);
    expect(out).toMatch(/modules\.order: identical order/);
    expect(count(out, /archives: (\d+) of (\d+) built-in/)).toEqual([745, 745]);
  });

  it("Debian's config, O=build directly inside the tree ($(srctree) spelled ..): the same, byte for byte", async () => {
    const out = await check('debian-inner');
    const [same, compared] = count(out, /compile commands: (\d+) of (\d+) objects/);
    expect(same).toBe(compared);
    expect(compared).toBeGreaterThan(14900);
    expect(count(out, /module member lists: (\d+) of (\d+) identical/)).toEqual([4230, 4230]);
    expect(out).toMatch(/modules\.order: identical order/);
    const [archivesSame, archivesMade] = count(out, /archives: (\d+) of (\d+) built-in/);
    expect(archivesSame).toBe(archivesMade);
  });

  it('allmodconfig: 10,052 modules, every compile command byte-identical', async () => {
    const out = await check('allmodconfig');
    const [same, compared] = count(out, /compile commands: (\d+) of (\d+) objects/);
    expect(same).toBe(compared);
    expect(compared).toBeGreaterThan(24000);
    expect(count(out, /module member lists: (\d+) of (\d+) identical/)).toEqual([10052, 10052]);
    expect(out).toMatch(/modules\.order: identical order/);
  });

  it('x86_64 defconfig: every compile command byte-identical', async () => {
    const out = await check('defconfig');
    const [same, compared] = count(out, /compile commands: (\d+) of (\d+) objects/);
    expect(same).toBe(compared);
    expect(compared).toBeGreaterThan(2800);
    expect(out).toMatch(/modules\.order: identical order/);
  });
});

describe('kbuild evaluator memo (Linux 6.12, Debian config)', () => {
  it('after each Makefile edit, reusing the memo gives exactly what evaluating every directory gives', async () => {
    const r = await run('bash', [join(REPO, 'tools', 'intree-incremental-check.sh')], { cwd: REPO, env: process.env });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`intree-incremental-check.sh failed (${r.status}):\n${out}`);
    // The first run in a fresh build directory creates kbuild's output directories; the second is served by the memo.
    expect(out).toMatch(/second run: identical to a full evaluation \([01] directories evaluated/);
    expect(out).toMatch(/no change: identical to a full evaluation \([01] directories evaluated/);
    expect(out).toMatch(/ccflags-y added to one module directory: identical to a full evaluation \(2 directories evaluated/);
    expect(out).toMatch(/an object added to a composite module: identical/);
    expect(out).toMatch(/subdir-ccflags-y added to drivers\/net \(every directory under it\): identical/);
    expect(out).toMatch(/a module added: identical/);
    expect(out).toMatch(/a source removed: reported with the Makefile line/);
  });
});
