import { resolve } from 'node:path';

/** Options of the nx-kbuild plugin entry in nx.json. */
export interface KbuildPluginOptions {
  /**
   * External module trees: the kernel build directory, as for `make -C <dir> M=<tree>`
   * (e.g. /usr/src/linux-headers-6.12.117+deb12-amd64).
   */
  kernelDir?: string;
  /**
   * In-tree builds (the kernel source tree is the Nx workspace): the configured build directory,
   * as for `make O=<dir>`, relative to the workspace root (e.g. `build`). Its .config must be in
   * place (make O=<dir> olddefconfig) and `make O=<dir> prepare` run.
   */
  objtree?: string;
  /** In-tree: only modules under these directories become projects (default: every module). */
  modules?: string[];
  /**
   * In-tree: the built-in code of the kbuild directories under these (`.`: the whole kernel's)
   * becomes projects, one per directory, `<dir>/built-in`: its objects compiled and archived into
   * its built-in.a as kbuild does (default: none; vmlinux's link stays with kbuild).
   */
  builtin?: string[];
  /** The module tree, relative to the workspace root (kbuild's M=). Default: the workspace root. */
  tree?: string;
  /** The tree's config file, relative to the tree (CONFIG_X=value lines). Default: `config`. */
  config?: string;
  /** Name of the Nx project for the tree as a whole (Module.symvers, modules.order). */
  treeProject?: string;
  /** Like KBUILD_MODPOST_WARN=1: unresolved symbols are warnings, not errors. */
  modpostWarn?: boolean;
  /**
   * symbols-check: check module-scoped exports ("module:" namespaces) as Linux 6.16 and later
   * enforce them, where the kernel built against does not (6.12 treats them as ordinary namespaces).
   */
  enforceModuleScopedExports?: boolean;
}

export function normalizeOptions(raw: unknown): KbuildPluginOptions {
  const o = (raw ?? {}) as Partial<KbuildPluginOptions>;
  if (typeof o.objtree === 'string' && o.objtree !== '') return { ...o, objtree: o.objtree };
  if (typeof o.kernelDir !== 'string' || o.kernelDir === '') {
    throw new Error(
      'nx-kbuild: set the plugin option "kernelDir" (external module trees: the kernel build directory, e.g. /usr/src/linux-headers-6.12.117+deb12-amd64) or "objtree" (in-tree: the build directory, as for make O=)',
    );
  }
  return { ...o, kernelDir: o.kernelDir };
}

/** The directory every pass runs in: the kernel build directory (M= builds) or the objtree. */
export function buildDirOf(workspaceRoot: string, o: KbuildPluginOptions): string {
  return o.objtree !== undefined ? resolve(workspaceRoot, o.objtree) : o.kernelDir!;
}
