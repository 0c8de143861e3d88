import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateKernelTree } from './in-tree';

/** The Linux 6.12 source unpacked by tools/setup-debian.sh: its scripts/Makefile.build and friends. */
const LINUX = process.env.NX_KBUILD_LINUX_SRC ?? resolve(__dirname, '../../../../.cache/linux-source-6.12');

let work: string | undefined;
afterEach(() => work && rmSync(work, { recursive: true, force: true }));

/** A tiny kernel tree (the real kbuild scripts, our own Kbuild files) configured in an O= dir. */
function kernel(files: Record<string, string>, config: Record<string, string> = {}) {
  work = mkdtempSync(join(tmpdir(), 'kbuild-in-tree-'));
  const src = join(work, 'src');
  const out = join(work, 'out');
  mkdirSync(src);
  symlinkSync(join(LINUX, 'scripts'), join(src, 'scripts'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, rel)), { recursive: true });
    writeFileSync(join(src, rel), text);
  }
  mkdirSync(join(out, 'include/config'), { recursive: true });
  const conf = { CONFIG_MODULES: 'y', ...config };
  writeFileSync(join(out, 'include/config/auto.conf'), Object.entries(conf).map(([k, v]) => `${k}=${v}\n`).join(''));
  const env = {
    srctree: src, objtree: '.', VPATH: src, building_out_of_srctree: '1', KBUILD_BUILTIN: '1', KBUILD_MODULES: '1',
    SRCARCH: 'x86', ARCH: 'x86', CC: 'gcc', KBUILD_CPPFLAGS: '-D__KERNEL__', KBUILD_CFLAGS: '-O2', NOSTDINC_FLAGS: '-nostdinc',
    LINUXINCLUDE: `-I${src}/include`, KBUILD_CFLAGS_MODULE: '-DMODULE', quiet: 'quiet_',
  };
  return () => evaluateKernelTree({ srctree: src, objtree: out, env, config: conf });
}

describe.skipIf(!existsSync(join(LINUX, 'scripts/Makefile.build')))('evaluateKernelTree (real scripts/Makefile.build)', () => {
  it('expands each object\'s compile command with its module, per-object flags and subdir flags', async () => {
    const t = await kernel({
      Kbuild: 'obj-y += drivers/\n',
      'drivers/Makefile': 'subdir-ccflags-y += -DSUB\nobj-$(CONFIG_FOO) += foo/\n',
      'drivers/foo/Makefile': 'obj-m += foo.o\nfoo-y := main.o util.o\nCFLAGS_util.o += -DUTIL\n',
      'drivers/foo/main.c': '',
      'drivers/foo/util.c': '',
    }, { CONFIG_FOO: 'y' })();
    expect(t.tree.modules.map((m) => m.name)).toEqual(['foo']);
    const util = t.objects.find((o) => o.object === 'drivers/foo/util.o')!;
    expect(util.module).toBe('drivers/foo/foo');
    expect(util.command).toMatch(/^gcc -Wp,-MMD,drivers\/foo\/\.util\.o\.d -nostdinc /);
    expect(util.command).toContain(' -O2 -DSUB -DUTIL ');
    expect(util.command).toContain(`-DKBUILD_BASENAME='"util"' -DKBUILD_MODNAME='"foo"' -D__KBUILD_MODNAME=kmod_foo -c -o drivers/foo/util.o ${work}/src/drivers/foo/util.c`);
  });

  it('reports a Makefile syntax error at its file:line', async () => {
    const run = kernel({ Kbuild: 'obj-y += drivers/\n', 'drivers/Makefile': 'obj-m += a.o\nthis is not make\n', 'drivers/a.c': '' });
    await expect(run()).rejects.toThrow(/drivers\/Makefile:2: missing separator/);
  });

  it('reports an unknown function at its file:line', async () => {
    const run = kernel({ Kbuild: 'obj-y += drivers/\n', 'drivers/Makefile': '\nobj-m += $(frobnicate a.o)\n', 'drivers/a.c': '' });
    await expect(run()).rejects.toThrow(/drivers\/Makefile:2: unknown function 'frobnicate'/);
  });

  it('reports an object without a source at the Makefile line naming it', async () => {
    const run = kernel({ Kbuild: 'obj-y += drivers/\n', 'drivers/Makefile': 'obj-m += real.o\nobj-m += ghost.o\n', 'drivers/real.c': '' });
    await expect(run()).rejects.toThrow(/drivers\/Makefile:2: no source for ghost\.o/);
  });

  it('rejects a module name used twice, as kbuild\'s modules-check does', async () => {
    const run = kernel({
      Kbuild: 'obj-y += drivers/\n',
      'drivers/Makefile': 'obj-m += x/\nobj-m += y/\n',
      'drivers/x/Makefile': 'obj-m += dup.o\n',
      'drivers/x/dup.c': '',
      'drivers/y/Makefile': 'obj-m += dup.o\n',
      'drivers/y/dup.c': '',
    });
    await expect(run()).rejects.toThrow(/drivers\/y\/Makefile:1: module name conflict: dup\.ko is built here and at .*drivers\/x\/Makefile:1/);
  });
});
