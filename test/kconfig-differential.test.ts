import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNEL_DIR, REPO, run as spawnAsync } from './helpers/workspace';

/** The Linux 6.12 source unpacked by tools/setup-debian.sh. */
const SRCTREE = process.env.NX_KBUILD_LINUX_SRC ?? join(REPO, '.cache', 'linux-source-6.12');
const CLI = join(REPO, 'packages', 'kconfig', 'dist', 'cli.js');
const MODEL = 'include/config/.nx-kconfig-model.bin';
const PLAN = 'include/config/.nx-kconfig-plan.bin';
const RESULT = 'include/config/.nx-kconfig-result.json';
const OUTPUTS = ['.config', 'include/config/auto.conf', 'include/generated/autoconf.h', 'include/config/auto.conf.cmd'];

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await spawnAsync(cmd, args, { cwd, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/** conf, as kbuild runs it: `make O=<dir> <target>` then `syncconfig` for auto.conf. */
async function kconfigReference(dir: string, target: string[]): Promise<void> {
  await run('make', ['-s', '-C', SRCTREE, `O=${dir}`, ...target], SRCTREE);
  await run('make', ['-s', '-C', SRCTREE, `O=${dir}`, ...target.filter((t) => t.startsWith('ARCH=')), 'syncconfig'], SRCTREE);
}

/** nx-kconfig in its own build directory, same steps. */
async function kconfigOurs(dir: string, op: string[], cache: string, env: Record<string, string> = {}): Promise<void> {
  await run(process.execPath, [CLI, ...op, '--srctree', SRCTREE], dir, { NX_KCONFIG_CACHE: cache, ...env });
  await run(process.execPath, [CLI, '--syncconfig', '--srctree', SRCTREE], dir, { NX_KCONFIG_CACHE: cache, ...env });
}

function touchedSymbols(dir: string): string[] {
  const d = join(dir, 'include', 'config');
  return readdirSync(d).filter((f) => /^[A-Z0-9_]+$/.test(f)).sort();
}

describe('Kconfig engine against scripts/kconfig/conf (Linux 6.12)', () => {
  let work: string;
  beforeAll(() => {
    if (!existsSync(join(SRCTREE, 'Kconfig'))) throw new Error(`${SRCTREE} is missing: run tools/setup-debian.sh first`);
    work = mkdtempSync(join(tmpdir(), 'nx-kconfig-diff-'));
  });
  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  const cases: { name: string; conf: string[]; ours: string[]; seed?: string; allconfig?: string; env?: Record<string, string> }[] = [
    { name: 'defconfig', conf: ['defconfig'], ours: ['--defconfig=arch/x86/configs/x86_64_defconfig'] },
    { name: 'allnoconfig', conf: ['allnoconfig'], ours: ['--allnoconfig'] },
    { name: 'allmodconfig', conf: ['allmodconfig'], ours: ['--allmodconfig'] },
    { name: 'allyesconfig', conf: ['allyesconfig'], ours: ['--allyesconfig'] },
    { name: 'alldefconfig', conf: ['alldefconfig'], ours: ['--alldefconfig'] },
    { name: "Debian's config through olddefconfig", conf: ['olddefconfig'], ours: ['--olddefconfig'], seed: join(KERNEL_DIR, '.config') },
    { name: 'tinyconfig (allnoconfig with KCONFIG_ALLCONFIG)', conf: ['tinyconfig'], ours: ['--allnoconfig'], allconfig: 'kernel/configs/tiny-base.config' },
  ];

  // Other architectures, configured with the host compiler on both sides (no cross toolchain needed).
  for (const [arch, defconfig] of [
    ['arm64', 'defconfig'],
    ['riscv', 'defconfig'],
    ['powerpc', 'ppc64_defconfig'],
    ['s390', 'defconfig'],
    ['arm', 'multi_v7_defconfig'],
    ['loongarch', 'loongson3_defconfig'],
    ['sparc', 'sparc64_defconfig'],
    ['mips', 'ath25_defconfig'],
  ]) {
    // arch/powerpc/Makefile exports NM="$(NM) --synthetic" to conf: give nx-kconfig the same environment.
    const env: Record<string, string> = arch === 'powerpc' ? { ARCH: arch, NM: 'nm --synthetic' } : { ARCH: arch };
    cases.push({ name: `ARCH=${arch} ${defconfig}`, conf: [`ARCH=${arch}`, defconfig], ours: [`--defconfig=arch/${arch}/configs/${defconfig}`], env });
  }

  it("savedefconfig of Debian's config: the minimal defconfig is byte-identical", async () => {
    const ref = join(work, 'savedefconfig-conf');
    const ours = join(work, 'savedefconfig-ours');
    for (const d of [ref, ours]) {
      mkdirSync(d, { recursive: true });
      copyFileSync(join(KERNEL_DIR, '.config'), join(d, '.config'));
    }
    await run('make', ['-s', '-C', SRCTREE, `O=${ref}`, 'olddefconfig'], SRCTREE);
    await run('make', ['-s', '-C', SRCTREE, `O=${ref}`, 'savedefconfig'], SRCTREE);
    await kconfigOurs(ours, ['--olddefconfig'], join(work, 'cache.json'));
    await run(process.execPath, [CLI, '--savedefconfig=defconfig', '--srctree', SRCTREE], ours, { NX_KCONFIG_CACHE: join(work, 'cache.json') });
    expect(readFileSync(join(ours, 'defconfig'), 'utf8') === readFileSync(join(ref, 'defconfig'), 'utf8')).toBe(true);
  });

  it('defconfig with the kvm_guest.config fragment merged (make defconfig kvm_guest.config)', async () => {
    const ref = join(work, 'merge-conf');
    const ours = join(work, 'merge-ours');
    for (const d of [ref, ours]) mkdirSync(d, { recursive: true });
    await kconfigReference(ref, ['defconfig', 'kvm_guest.config']);
    const cache = join(work, 'cache.json');
    await run(process.execPath, [CLI, '--defconfig=arch/x86/configs/x86_64_defconfig', '--srctree', SRCTREE], ours, { NX_KCONFIG_CACHE: cache });
    await kconfigOurs(ours, ['--olddefconfig', '--merge=kernel/configs/kvm_guest.config'], cache);
    for (const f of OUTPUTS.slice(0, 3)) expect(readFileSync(join(ours, f), 'utf8') === readFileSync(join(ref, f), 'utf8'), f).toBe(true);
  });

  for (const c of cases) {
    it(`${c.name}: .config, auto.conf, autoconf.h and auto.conf.cmd are byte-identical`, async () => {
      const ref = join(work, `${c.name.replace(/\W+/g, '_')}-conf`);
      const ours = join(work, `${c.name.replace(/\W+/g, '_')}-ours`);
      mkdirSync(ref, { recursive: true });
      mkdirSync(ours, { recursive: true });
      if (c.seed) {
        copyFileSync(c.seed, join(ref, '.config'));
        copyFileSync(c.seed, join(ours, '.config'));
      }
      await kconfigReference(ref, c.conf);
      if (c.allconfig) {
        // make tinyconfig = allnoconfig with tiny-base.config, then tiny.config merged by olddefconfig.
        await kconfigOurs(ours, c.ours, join(work, 'cache.json'), { KCONFIG_ALLCONFIG: c.allconfig });
        await run('bash', [join(SRCTREE, 'scripts/kconfig/merge_config.sh'), '-m', '.config', join(SRCTREE, 'kernel/configs/tiny.config'), join(SRCTREE, 'arch/x86/configs/tiny.config')], ours);
        await kconfigOurs(ours, ['--olddefconfig'], join(work, 'cache.json'));
      } else await kconfigOurs(ours, c.ours, join(work, 'cache.json'), c.env ?? {});
      const compare = () => {
        for (const f of OUTPUTS) {
          const a = readFileSync(join(ref, f), 'utf8');
          const b = readFileSync(join(ours, f), 'utf8');
          expect(b === a, `${f} differs from conf's`).toBe(true);
        }
        expect(touchedSymbols(ours)).toEqual(touchedSymbols(ref));
      };
      compare();
      // The tree was parsed twice alike, so it was kept with its evaluation plan: syncconfig
      // evaluates the plan, and the outputs are the same.
      expect(existsSync(join(ours, MODEL))).toBe(true);
      expect(existsSync(join(ours, PLAN))).toBe(true);
      rmSync(join(ours, RESULT));
      await run(process.execPath, [CLI, '--syncconfig', '--srctree', SRCTREE], ours, { NX_KCONFIG_CACHE: join(work, 'cache.json'), ...(c.env ?? {}) });
      compare();
    });
  }
});
