/** Options of the nx-kbuild plugin entry in nx.json. */
export interface KbuildPluginOptions {
  /** Kernel build directory, as for `make -C <dir> M=<tree>` (e.g. /usr/src/linux-headers-6.12.117+deb12-amd64). */
  kernelDir: string;
  /** The module tree, relative to the workspace root (kbuild's M=). Default: the workspace root. */
  tree?: string;
  /** The tree's config file, relative to the tree (CONFIG_X=value lines). Default: `config`. */
  config?: string;
  /** Name of the Nx project for the tree as a whole (Module.symvers, modules.order). */
  treeProject?: string;
  /** Like KBUILD_MODPOST_WARN=1: unresolved symbols are warnings, not errors. */
  modpostWarn?: boolean;
}

export function normalizeOptions(raw: unknown): KbuildPluginOptions {
  const o = (raw ?? {}) as Partial<KbuildPluginOptions>;
  if (typeof o.kernelDir !== 'string' || o.kernelDir === '') {
    throw new Error('nx-kbuild: the plugin option "kernelDir" is required (the kernel build directory, e.g. /usr/src/linux-headers-6.12.117+deb12-amd64)');
  }
  return { ...o, kernelDir: o.kernelDir };
}
