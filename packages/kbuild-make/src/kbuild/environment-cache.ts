import { homedir } from 'node:os';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import { probeKbuildEnvironment } from './probe';

/**
 * kbuild's exported environment, probed from the real make once per tree, configuration and
 * toolchain (as the issue allows) and kept in <objtree>/.nx-kbuild-env.json. The key covers what
 * the top-level Makefile reads to compute it: the configuration (auto.conf), the top, arch and
 * scripts makefiles (size and mtime), the make-relevant variables of the caller's environment,
 * and the identity of every tool the probed environment names (CC, LD, ...).
 */
export function cachedKbuildEnvironment(srctree: string, objtree: string, probe = probeKbuildEnvironment): Record<string, string> {
  const file = join(objtree, '.nx-kbuild-env.json');
  const key = inputsKey(srctree, objtree);
  try {
    const hit = JSON.parse(readFileSync(file, 'utf8')) as { key: string; tools: Record<string, string>; env: Record<string, string> };
    if (hit.key === key && Object.entries(hit.tools).every(([tool, id]) => toolIdentity(tool, hit.env.PATH) === id)) return hit.env;
  } catch {
    /* no cache yet, or unreadable: probe */
  }
  const env = probe(srctree, objtree);
  const tools: Record<string, string> = {};
  for (const name of TOOL_VARIABLES) {
    const tool = env[name]?.split(/\s+/)[0];
    if (tool) tools[tool] = toolIdentity(tool, env.PATH);
  }
  writeFileAtomic(file, JSON.stringify({ key, tools, env }));
  return env;
}

const TOOL_VARIABLES = ['CC', 'LD', 'AR', 'NM', 'OBJCOPY', 'OBJDUMP', 'READELF', 'STRIP', 'HOSTCC', 'HOSTCXX', 'PAHOLE', 'RUSTC', 'PERL', 'PYTHON3'];
const MAKE_ENVIRONMENT = /^(ARCH|SRCARCH|SUBARCH|CROSS_COMPILE|LLVM|LLVM_IAS|CC|LD|AR|NM|OBJCOPY|OBJDUMP|HOSTCC|HOSTCXX|K[A-Z0-9_]*|INSTALL_[A-Z_]*|PATH|O|V|W|C|M|RUSTC|RUSTFLAGS|PAHOLE|CONFIG_SHELL|MAKEFLAGS)$/;

function inputsKey(srctree: string, objtree: string): string {
  const h = createHash('sha256').update(`v1\0${srctree}\0${objtree}\0`);
  for (const f of ['.config', 'include/config/auto.conf']) {
    try {
      h.update(f).update(readFileSync(join(objtree, f)));
    } catch {
      h.update(`${f}\0missing`);
    }
  }
  const makefiles = ['Makefile'];
  for (const dir of ['scripts', ...readdirSync(join(srctree, 'arch')).map((a) => `arch/${a}`)]) {
    try {
      for (const f of readdirSync(join(srctree, dir))) if (/^(Makefile|Kbuild)|\.include$/.test(f)) makefiles.push(`${dir}/${f}`);
    } catch {
      /* not a directory */
    }
  }
  for (const f of makefiles.sort()) {
    const st = statSync(join(srctree, f), { throwIfNoEntry: false });
    h.update(`${f}:${st ? `${st.size}:${st.mtimeMs}` : 'missing'}\0`);
  }
  for (const name of Object.keys(process.env).filter((n) => MAKE_ENVIRONMENT.test(n)).sort()) h.update(`${name}=${process.env[name]}\0`);
  return h.digest('hex');
}

function toolIdentity(tool: string, path = ''): string {
  const candidates = isAbsolute(tool) ? [tool] : path.split(delimiter).map((d) => join(d, tool));
  for (const c of candidates) {
    const st = statSync(c, { throwIfNoEntry: false });
    if (st?.isFile()) return `${realpathSync(c)}:${st.size}:${st.mtimeMs}`;
  }
  return 'missing';
}

/** Where `$(shell ...)` probe results are cached: $NX_KBUILD_SHELL_CACHE, else under the user's cache dir. */
export function defaultShellCache(): string {
  return process.env.NX_KBUILD_SHELL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nx-kbuild', 'kbuild-shell.json');
}
