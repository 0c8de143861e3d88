import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShellRunner } from './parse/shell-cache';

/** KERNELVERSION from the top Makefile (VERSION.PATCHLEVEL.SUBLEVEL plus EXTRAVERSION). */
export function kernelVersion(srctree: string): string | undefined {
  const makefile = join(srctree, 'Makefile');
  if (!existsSync(makefile)) return undefined; // a Kconfig tree that is not a kernel
  const mk = readFileSync(makefile, 'utf8');
  const get = (k: string) => new RegExp(`^${k}[ \t]*=[ \t]*(.*)$`, 'm').exec(mk)?.[1].trim() ?? '';
  return `${get('VERSION')}.${get('PATCHLEVEL')}.${get('SUBLEVEL')}${get('EXTRAVERSION')}`;
}

const SRCARCH: Record<string, string> = { x86_64: 'x86', i386: 'x86', sparc64: 'sparc', sh64: 'sh', parisc64: 'parisc' };

/**
 * The environment kbuild exports to conf: ARCH/SRCARCH, KERNELVERSION, the toolchain names
 * (CROSS_COMPILE-prefixed), srctree and the compiler's version text. Values already in `base` win.
 */
export function kbuildEnvironment(srctree: string, base: Record<string, string | undefined>, shell: ShellRunner): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  const cross = base.CROSS_COMPILE ?? '';
  env.ARCH ??= 'x86';
  env.SRCARCH ??= SRCARCH[env.ARCH] ?? env.ARCH;
  env.KERNELVERSION ??= kernelVersion(srctree);
  env.srctree ??= srctree;
  env.CC ??= `${cross}gcc`;
  env.LD ??= `${cross}ld`;
  env.AR ??= `${cross}ar`;
  env.NM ??= `${cross}nm`;
  env.OBJCOPY ??= `${cross}objcopy`;
  env.PAHOLE ??= 'pahole';
  env.RUSTC ??= 'rustc';
  env.BINDGEN ??= 'bindgen';
  env.PYTHON3 ??= 'python3';
  env.CC_VERSION_TEXT ??= shell.run(`LC_ALL=C ${env.CC} --version 2>/dev/null | head -n 1`).replace(/#/g, '');
  env.RUSTC_VERSION_TEXT ??= shell.run(`${env.RUSTC} --version 2>/dev/null`);
  return env;
}

export function readOptional(file: string): { file: string; text: string } | undefined {
  return existsSync(file) ? { file, text: readFileSync(file, 'utf8') } : undefined;
}
