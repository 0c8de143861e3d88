import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differingSections, reencodeBtf } from './helpers/elf';
import { KERNEL_DIR, REPO, run } from './helpers/workspace';

/**
 * The in-tree Nx build against kbuild on the real Linux 6.12 tree with Debian's config: the kernel
 * tree is the Nx workspace, an O= directory inside it the build directory. kbuild builds
 * fs/ext4/ext4.ko, fs/xfs/xfs.ko, lib/raid6/raid6_pq.ko (whose directory makes sources from a
 * host program and awk) and crypto/async_tx/async_pq.ko (which uses raid6_pq's exports) first
 * (`make KBUILD_MODPOST_WARN=1 <dir>/<mod>.ko`, with
 * Debian's BTF-only vmlinux for module BTF) and fs/notify's built-in code (`make fs/notify/`); its
 * outputs are kept and removed, then Nx builds the same in the same directory (objects record the
 * directory they were built in).
 */
const SRCTREE = process.env.NX_KBUILD_LINUX_SRC ?? join(REPO, '.cache', 'linux-source-6.12');
const OBJ = '.nx-kbuild-out/test';
const OBJTREE = join(SRCTREE, OBJ);
/** Modules by path (relative to the tree, no suffix). */
const MODULES = ['fs/ext4/ext4', 'fs/xfs/xfs', 'lib/raid6/raid6_pq', 'crypto/async_tx/async_pq'];
const MODULE_DIRS = MODULES.map(dirname);
/** Built-in code built by Nx too: a directory with three subdirectories (Debian's config builds it in). */
const BUILTIN = 'fs/notify';
const BUILTIN_PROJECTS = ['fs/notify/built-in', 'fs/notify/dnotify/built-in', 'fs/notify/fanotify/built-in', 'fs/notify/inotify/built-in'];
const WORKSPACE_FILES = ['nx.json', '.env', 'node_modules', '.nx-kbuild'];

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await run(cmd, args, { cwd, env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return `${r.stdout}${r.stderr}`;
}

/**
 * What a module build leaves under `root` (the build directory or a copy of it), relative to it; with
 * `builtin`, what building the built-in code of BUILTIN leaves (objects, archives, their .cmd files).
 */
function builtFiles(root: string, builtin = false): string[] {
  const out: string[] = [];
  // A module directory's files also include what its rules make: sources (.c) and host programs (no suffix).
  const wanted = builtin ? (name: string) => /\.(o|a)$|^\..*\.(o|a)\.cmd$/.test(name) : (name: string) => /\.(o|ko|mod|c)$|^\..*\.cmd$|^[^.]+$/.test(name);
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (wanted(e.name)) out.push(relative(root, p));
    }
  };
  for (const m of builtin ? [BUILTIN] : MODULE_DIRS) if (existsSync(join(root, m))) walk(join(root, m));
  return out.sort();
}

describe("in-tree Nx build of ext4.ko, xfs.ko, raid6_pq.ko, async_pq.ko and fs/notify's built-in code against kbuild (Linux 6.12, Debian config)", () => {
  let reference: string;
  let nxEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(join(SRCTREE, 'Kbuild'))) throw new Error(`${SRCTREE} is missing: run tools/setup-debian.sh first`);
    rmSync(OBJTREE, { recursive: true, force: true });
    mkdirSync(OBJTREE, { recursive: true });
    cpSync(join(KERNEL_DIR, '.config'), join(OBJTREE, '.config'));
    await sh('make', ['-s', `O=${OBJTREE}`, 'olddefconfig'], SRCTREE);
    await sh('make', ['-s', '-j2', `O=${OBJTREE}`, 'prepare'], SRCTREE);
    // Module BTF is encoded against vmlinux: Debian ships a BTF-only one with the headers.
    cpSync(join(KERNEL_DIR, 'vmlinux'), join(OBJTREE, 'vmlinux'));
    await sh('make', ['-s', '-j2', `O=${OBJTREE}`, 'KBUILD_MODPOST_WARN=1', ...MODULES.map((m) => `${m}.ko`), `${BUILTIN}/`], SRCTREE);
    reference = mkdtempSync(join(tmpdir(), 'nx-kbuild-in-tree-ref-'));
    for (const f of [...builtFiles(OBJTREE), ...builtFiles(OBJTREE, true)]) {
      mkdirSync(join(reference, f, '..'), { recursive: true });
      cpSync(join(OBJTREE, f), join(reference, f));
    }
    for (const m of [...MODULE_DIRS, BUILTIN]) rmSync(join(OBJTREE, m), { recursive: true, force: true });
    rmSync(join(OBJTREE, '.module-common.o'), { force: true });

    // The kernel tree as an Nx workspace (removed again afterwards).
    writeFileSync(
      join(SRCTREE, 'nx.json'),
      JSON.stringify({ plugins: [{ plugin: 'nx-kbuild', options: { objtree: OBJ, modules: MODULES, builtin: [BUILTIN], modpostWarn: true } }] }, null, 2),
    );
    writeFileSync(join(SRCTREE, '.env'), 'NX_ISOLATE_PLUGINS=false\n');
    if (!existsSync(join(SRCTREE, 'node_modules'))) symlinkSync(join(REPO, 'node_modules'), join(SRCTREE, 'node_modules'));
    const nxData = mkdtempSync(join(tmpdir(), 'nx-kbuild-in-tree-nx-'));
    nxEnv = {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      FORCE_COLOR: '0',
      NX_CACHE_DIRECTORY: join(nxData, 'cache'),
      NX_WORKSPACE_DATA_DIRECTORY: join(nxData, 'workspace-data'),
    };
  });

  afterAll(() => {
    for (const f of WORKSPACE_FILES) rmSync(join(SRCTREE, f), { recursive: true, force: true });
    if (reference) rmSync(reference, { recursive: true, force: true });
  });

  it('one project per module, built by the nx-kbuild tasks: every .o, .mod.c, .mod and .cmd byte-identical, .ko identical but for pahole -j\'s BTF', async () => {
    const nx = [join(REPO, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')];
    const projects = (await sh(process.execPath, [...nx, 'show', 'projects'], SRCTREE, nxEnv)).split('\n').filter((l) => /^[a-z0-9_/-]+$/.test(l));
    expect(projects.sort()).toEqual([...MODULES.map((m) => basename(m)), ...BUILTIN_PROJECTS, 'kbuild-tree'].sort());

    await sh(process.execPath, [...nx, 'run-many', '-t', 'link', '-p', ...MODULES.map((m) => basename(m)), '--parallel=2', '--outputStyle=static'], SRCTREE, nxEnv);

    const ref = builtFiles(reference);
    expect(builtFiles(OBJTREE)).toEqual(ref);
    const objects = ref.filter((f) => f.endsWith('.o'));
    expect(objects.length).toBeGreaterThan(150);
    // raid6_pq's directory made its generated sources: the host program, its output and awk's, with their .cmd files.
    for (const f of ['lib/raid6/mktables', 'lib/raid6/.mktables.cmd', 'lib/raid6/tables.c', 'lib/raid6/.tables.c.cmd', 'lib/raid6/int8.c', 'lib/raid6/.int8.c.cmd']) expect(ref, f).toContain(f);
    // kbuild's one modpost over both modules resolved async_pq's uses of raid6_pq (its .mod.c has their
    // CRCs and depends on it); Nx's modpost of async_pq reads raid6_pq's exports to the same effect.
    expect(readFileSync(join(reference, 'crypto/async_tx/async_pq.mod.c'), 'utf8')).toMatch(/MODULE_INFO\(depends, "[^"]*raid6_pq/);
    // .ko: every section but the BTF ones byte-identical as built; and byte-identical altogether once
    // BTF is encoded again without pahole's racy threads (see reencodeBtf).
    const env = JSON.parse(readFileSync(join(OBJTREE, '.nx-kbuild-env.json'), 'utf8')).env as Record<string, string>;
    const pahole = `${env.PAHOLE} -J ${env.PAHOLE_FLAGS} ${env.MODULE_PAHOLE_FLAGS ?? ''}`.split(/\s+/).filter((w) => w !== '');
    const resolveBtfids = join(OBJTREE, 'tools/bpf/resolve_btfids/resolve_btfids');
    for (const f of ref) {
      const a = readFileSync(join(reference, f));
      const b = readFileSync(join(OBJTREE, f));
      if (f.endsWith('.ko')) {
        expect(differingSections(a, b), f).toEqual([]);
        expect(reencodeBtf(b, OBJTREE, pahole, resolveBtfids).equals(reencodeBtf(a, OBJTREE, pahole, resolveBtfids)), f).toBe(true);
      } else expect(b.equals(a), f).toBe(true);
    }

    // compile_commands.json: nx-kbuild-make's, from the evaluation, against the kernel's own
    // scripts/clang-tools/gen_compile_commands.py reading the .cmd files of this build.
    await sh('python3', [join(SRCTREE, 'scripts/clang-tools/gen_compile_commands.py'), '-d', '.', '-o', 'kernel-cc.json'], OBJTREE);
    await sh(process.execPath, [join(REPO, 'packages/kbuild-make/dist/cli.js'), '--srctree', SRCTREE, '--objtree', OBJTREE, '--compile-commands=ours-cc.json'], OBJTREE);
    const kernelCc = (JSON.parse(readFileSync(join(OBJTREE, 'kernel-cc.json'), 'utf8')) as { file: string }[]).filter(
      (e) => MODULE_DIRS.some((m) => e.file.startsWith(join(OBJTREE, m) + '/') || e.file.startsWith(join(SRCTREE, m) + '/')) && !e.file.endsWith('.mod.c'),
    );
    const oursCc = new Map((JSON.parse(readFileSync(join(OBJTREE, 'ours-cc.json'), 'utf8')) as { file: string }[]).map((e) => [e.file, e]));
    // Every compiled object: not a composite module's own object (ext4.o: ld -r) nor the .mod.o files.
    const linked = (f: string) => readFileSync(join(reference, dirname(f), `.${basename(f)}.cmd`), 'utf8').startsWith(`savedcmd_${f} := ld `);
    const compiled = objects.filter((f) => !f.endsWith('.mod.o') && !linked(f));
    expect(kernelCc.length).toBe(compiled.length);
    for (const e of kernelCc) expect(oursCc.get(e.file), e.file).toEqual(e);

    // A second run takes everything from the cache.
    const again = await sh(process.execPath, [...nx, 'run-many', '-t', 'link', '-p', ...MODULES.map((m) => basename(m)), '--parallel=2', '--outputStyle=static'], SRCTREE, nxEnv);
    // compile, genksyms, modpost and link of each module, raid6_pq's generate, and the tree's module-common.
    expect(again).toMatch(/Cache:\s+18\/18 hit/);
  });

  it("built-in code, one project per kbuild directory: objects, archives and .cmd files byte-identical, and kbuild's make finds them up to date", async () => {
    const nx = [join(REPO, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')];
    await sh(process.execPath, [...nx, 'run', `${BUILTIN}/built-in:archive`, '--outputStyle=static'], SRCTREE, nxEnv);
    const ref = builtFiles(reference, true);
    expect(builtFiles(OBJTREE, true)).toEqual(ref);
    // 10 objects and 4 archives (fs/notify and its three subdirectories), each with its .cmd file.
    expect(ref.filter((f) => f.endsWith('.o')).length).toBe(10);
    expect(ref.filter((f) => f.endsWith('.a')).length).toBe(4);
    for (const f of ref) expect(readFileSync(join(OBJTREE, f)).equals(readFileSync(join(reference, f))), f).toBe(true);

    // vmlinux is left to kbuild: its make finds what Nx built up to date (same commands, newer outputs).
    const stamps = () => ref.map((f) => `${f} ${statSync(join(OBJTREE, f)).mtimeMs}`);
    const before = stamps();
    await sh('make', ['-s', `O=${OBJTREE}`, `${BUILTIN}/`], SRCTREE);
    expect(stamps()).toEqual(before);

    // Outputs gone: all 12 tasks (compile, genksyms and archive of each directory) come from the cache.
    rmSync(join(OBJTREE, BUILTIN), { recursive: true, force: true });
    const again = await sh(process.execPath, [...nx, 'run', `${BUILTIN}/built-in:archive`, '--outputStyle=static'], SRCTREE, nxEnv);
    expect(again).toMatch(/Cache:\s+12\/12 hit/);
    for (const f of ref) expect(readFileSync(join(OBJTREE, f)).equals(readFileSync(join(reference, f))), f).toBe(true);
  });

  it('nsdeps in the in-tree workspace: ext4 and xfs import every namespace they use, so nothing changes', async () => {
    const nx = [join(REPO, 'node_modules', 'nx', 'dist', 'bin', 'nx.js')];
    const out = await sh(process.execPath, [...nx, 'g', 'nx-kbuild:nsdeps', '--dry-run'], SRCTREE, nxEnv);
    expect(out).not.toMatch(/Adding namespace/);
    expect(out).not.toMatch(/^(UPDATE|CREATE) /m);
  });
});
