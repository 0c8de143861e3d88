import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * kbuild's global variables for external modules, read from the real make once per kernel build
 * directory and toolchain. These are the parts of every command that come from the top-level and
 * arch Makefiles (with their cc-option probes); everything per directory is evaluated by us.
 */
export interface KbuildGlobals {
  kernelDir: string;
  vars: Record<string, string>;
  /** Environment kbuild exports to the commands it runs (objtool needs SRCARCH, for one). */
  env: Record<string, string>;
}

/** Make's own bookkeeping variables: they name the probe's temporary files, not the build. */
const NOT_KBUILD_ENV = /^(MAKEFLAGS|MFLAGS|MAKELEVEL|MAKEOVERRIDES|MAKE_TERMOUT|MAKE_TERMERR|NXKB_.*|_|OLDPWD|PWD)$/;

export const PROBE_VARIABLES = [
  'CC', 'CPP', 'LD', 'NM', 'OBJCOPY', 'AWK', 'PAHOLE', 'PAHOLE_FLAGS', 'MODULE_PAHOLE_FLAGS', 'RESOLVE_BTFIDS',
  'NOSTDINC_FLAGS', 'LINUXINCLUDE', 'KBUILD_CPPFLAGS', 'KBUILD_CFLAGS', 'KBUILD_CFLAGS_MODULE', 'CFLAGS_MODULE',
  'KBUILD_LDFLAGS', 'KBUILD_LDFLAGS_MODULE', 'LDFLAGS_MODULE', 'srctree', 'objtree', 'SRCARCH', 'KERNELRELEASE',
  'objtool', 'objtool-args-y', 'delay-objtool', 'CC_FLAGS_CFI', 'KBUILD_SYMTYPES', 'KBUILD_PRESERVE',
  'CONFIG_OBJTOOL', 'CONFIG_MODVERSIONS', 'CONFIG_MODULES', 'CONFIG_MODULE_SRCVERSION_ALL',
  'CONFIG_SECTION_MISMATCH_WARN_ONLY', 'CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS',
  'CONFIG_DEBUG_INFO_BTF_MODULES', 'CONFIG_LTO_CLANG', '_c_flags', 'c_flags',
] as const;

/** The object name the probe asks kbuild about; our command builder must reproduce its c_flags. */
export const PROBE_OBJECT = 'nxkbuild-probe';

function probeKbuild(): string {
  return [
    `NXKB_VARS := ${PROBE_VARIABLES.join(' ')}`,
    `$(obj)/${PROBE_OBJECT}: private part-of-module := y`,
    `$(obj)/${PROBE_OBJECT}: FORCE`,
    '\t$(foreach v,$(NXKB_VARS),$(file >>$(NXKB_OUT),$(v)=$($(v))))@env -0 > $(NXKB_ENV)',
    `always-y += ${PROBE_OBJECT}`,
    '',
  ].join('\n');
}

/** Runs `make -C <kernelDir> M=<temp dir>` with a probe Kbuild file and returns the variables. */
export function probeKbuildGlobals(kernelDir: string, make = 'make'): KbuildGlobals & { probeDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-probe-'));
  try {
    writeFileSync(join(dir, 'Kbuild'), probeKbuild());
    const out = join(dir, 'vars.txt');
    const envFile = join(dir, 'env.bin');
    try {
      execFileSync(make, ['-s', '-C', kernelDir, `M=${dir}`, `NXKB_OUT=${out}`, `NXKB_ENV=${envFile}`, 'modules'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      const err = e as { stderr?: string };
      throw new Error(`probing kbuild in ${kernelDir} failed:\n${err.stderr ?? String(e)}`);
    }
    const vars: Record<string, string> = {};
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1).trim();
    }
    const env: Record<string, string> = {};
    for (const entry of readFileSync(envFile, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const [k, val] = [entry.slice(0, eq), entry.slice(eq + 1)];
      if (!NOT_KBUILD_ENV.test(k) && process.env[k] !== val) env[k] = val;
    }
    return { kernelDir, vars, env, probeDir: dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The environment the top-level Makefile gives every directory's sub-make in an in-tree build
 * (`make -C <srctree> O=<objtree> all`): its exported variables, KBUILD_CFLAGS and the rest with
 * their cc-option probes already run. Read from the real make once (about a second); the
 * goal-dependent switches are set as `make all` sets them.
 */
export function probeKbuildEnvironment(srctree: string, objtree: string, make = 'make'): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-env-'));
  try {
    const envFile = join(dir, 'env.bin');
    try {
      execFileSync(make, ['-C', srctree, `O=${objtree}`, '--no-print-directory', '--eval', `nxkb-env: ; @env -0 > ${envFile}`, 'nxkb-env'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      const err = e as { stderr?: string };
      throw new Error(`reading kbuild's environment from ${srctree} (O=${objtree}) failed:\n${err.stderr ?? String(e)}`);
    }
    const env: Record<string, string> = {};
    for (const entry of readFileSync(envFile, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const name = entry.slice(0, eq);
      if (!NOT_KBUILD_ENV.test(name) && name !== 'SHLVL') env[name] = entry.slice(eq + 1);
    }
    // What `make all` decides from its goals (the probe's goal is not `all`).
    env.KBUILD_BUILTIN = '1';
    env.KBUILD_MODULES = '1';
    return env;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
