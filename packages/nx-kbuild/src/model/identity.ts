import { spawnSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

function statTree(h: Hash, dir: string, seen: Set<string>): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return;
  }
  if (seen.has(real)) return;
  seen.add(real);
  let entries: string[];
  try {
    entries = readdirSync(real).sort();
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(real, e);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) statTree(h, p, seen);
    else h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
  }
}

function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function statFile(h: Hash, path: string | undefined): void {
  if (!path) return;
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    h.update(`${real}\0${st.size}\0${st.mtimeMs}\n`);
  } catch {
    h.update(`${path}\0missing\n`);
  }
}

/**
 * One hash for everything outside the workspace that a kbuild pass reads: the kernel build
 * directory and the kernel source it points at (headers, .config, Module.symvers, vmlinux, scripts),
 * every tool the passes run (the compiler proper included), and nx-kbuild's own code. Computed once
 * per Nx invocation (preTasksExecution) and hashed into every task through an `env` input.
 *
 * Installed trees are identified by path, size and mtime of each file (package installs change
 * them); the workspace's own files are hashed by content by Nx itself.
 */
/** nx-kbuild's own code: the plugin, its runner and the engines it loads. */
function statOwnCode(h: Hash, seen: Set<string>): void {
  statTree(h, join(__dirname, '..'), seen);
  for (const engine of ['@nx-kbuild/kbuild-make', '@nx-kbuild/symbols', '@nx-kbuild/kconfig', '@nx-kbuild/diagnostics']) {
    statTree(h, dirname(require.resolve(engine)), seen);
  }
}

/** The compiler, the linker and friends a kbuild environment names, and gcc's own cc1 and as. */
function statToolchain(h: Hash, vars: Record<string, string>): void {
  for (const tool of ['CC', 'LD', 'NM', 'OBJCOPY', 'PAHOLE']) statFile(h, which((vars[tool] ?? '').trim().split(/\s+/)[0]));
  const cc = (vars.CC ?? '').trim().split(/\s+/)[0];
  for (const prog of ['cc1', 'as']) {
    const r = spawnSync(cc, [`-print-prog-name=${prog}`], { encoding: 'utf8' });
    const p = (r.stdout ?? '').trim();
    statFile(h, p.includes('/') ? p : which(p));
  }
}

/**
 * In-tree builds: what the passes read from the build directory besides the workspace's sources
 * (the configuration, generated headers, the tools `make prepare` built, vmlinux for module BTF)
 * and the toolchain. The objects the passes write are not part of it.
 */
export function computeInTreeIdentity(objtree: string, env: Record<string, string>): string {
  const h = createHash('sha256');
  h.update('nx-kbuild-in-tree-identity-v1\n');
  const seen = new Set<string>();
  statOwnCode(h, seen);
  h.update(`objtree ${objtree}\n`);
  for (const f of ['.config', 'vmlinux', 'tools/objtool/objtool', 'tools/bpf/resolve_btfids/resolve_btfids', '.nx-kbuild-env.json']) statFile(h, join(objtree, f));
  for (const d of ['include', 'scripts', `arch/${env.SRCARCH ?? ''}/include`]) statTree(h, join(objtree, d), seen);
  statToolchain(h, env);
  return h.digest('hex');
}

export function computeIdentity(workspaceRoot: string, kernelDir: string): string {
  const h = createHash('sha256');
  h.update('nx-kbuild-identity-v2\n');
  const seen = new Set<string>();
  statOwnCode(h, seen);
  h.update(`kernel ${kernelDir}\n`);
  statTree(h, kernelDir, seen);
  // The probe cache names the kernel source directory and the tools kbuild uses.
  const cacheDir = join(workspaceRoot, '.nx-kbuild');
  for (const f of existsSync(cacheDir) ? readdirSync(cacheDir).filter((f) => f.startsWith('probe-')).sort() : []) {
    const probe = JSON.parse(readFileSync(join(cacheDir, f), 'utf8')) as { kernelDir: string; vars: Record<string, string> };
    if (probe.kernelDir !== kernelDir) continue;
    const v = probe.vars;
    if (v.srctree) statTree(h, v.srctree, seen);
    statToolchain(h, v);
  }
  return h.digest('hex');
}
