import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const REPO = join(__dirname, '..', '..');
export const KERNEL_DIR = process.env.NX_KBUILD_KERNEL_DIR ?? '/usr/src/linux-headers-6.12.117+deb12-amd64';
export const EXAMPLE = join(REPO, 'examples', 'modtree');

export function requireKernel(): void {
  if (!existsSync(join(KERNEL_DIR, 'Makefile'))) {
    throw new Error(`${KERNEL_DIR} is missing: run tools/setup-debian.sh first`);
  }
}

/** Files a build writes, by kbuild's naming. */
const OUTPUT = /(\.o|\.ko|\.mod|\.mod\.c|\.symvers|\.cmd|\.d|\.modorder|^modules\.order)$/;

/** A fresh copy of the example tree as its own Nx workspace, with the repo's node_modules. */
export function makeWorkspace(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `nx-kbuild-${prefix}-`));
  cpSync(EXAMPLE, dir, {
    recursive: true,
    filter: (src) => {
      const rel = relative(EXAMPLE, src);
      const base = rel.split('/').pop() ?? '';
      return !rel.startsWith('.nx') && !(statSync(src).isFile() && OUTPUT.test(base) && !base.endsWith('.c'));
    },
  });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export function removeWorkspace(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A copy of the example tree for the tests of one describe block (made before them, removed after): call the result for its path. */
export function exampleWorkspace(prefix: string): () => string {
  let ws: string | undefined;
  beforeAll(() => {
    requireKernel();
    ws = makeWorkspace(prefix);
  });
  afterAll(() => ws && removeWorkspace(ws));
  return () => ws!;
}

/** Replaces the first `from` in a workspace file by `to`; a file without `from` is the test's own mistake. */
export function edit(ws: string, rel: string, from: string, to: string): void {
  const p = join(ws, rel);
  const text = readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`${rel} does not contain ${from}`);
  writeFileSync(p, text.replace(from, to));
}

export interface NxRun {
  status: number;
  output: string;
  /** Tasks that ran their command. */
  ran: string[];
  /** Tasks whose outputs came from the cache. */
  cached: string[];
}

/**
 * Runs a command without blocking the test worker's event loop (a blocked worker misses the
 * runner's messages), collecting its output.
 */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

/** Runs the repo's Nx in `ws` with the daemon, cloud and TUI off and a cache private to `ws`. */
export async function nx(ws: string, args: string[]): Promise<NxRun> {
  const r = await run(process.execPath, [join(REPO, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args, '--outputStyle=static'], {
    cwd: ws,
    env: {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NX_CACHE_DIRECTORY: join(ws, '.nx', 'cache'),
      NX_WORKSPACE_DATA_DIRECTORY: join(ws, '.nx', 'workspace-data'),
      FORCE_COLOR: '0',
    },
  });
  const output = `${r.stdout}\n${r.stderr}`;
  const ran: string[] = [];
  const cached: string[] = [];
  for (const m of output.matchAll(/^> nx run (\S+?)(?:\s+\[(.*?)\])?\s*$/gm)) {
    (m[2] ? cached : ran).push(m[1]);
  }
  return { status: r.status, output, ran, cached };
}

/** The tree's resolved configuration, as the plugin computes it (Kconfig + config file). */
export async function treeConfigArgs(ws: string): Promise<string[]> {
  const r = await run(process.execPath, [join(REPO, 'packages/nx-kbuild/dist/cli/tree-config.js'), ws, '--kernel', KERNEL_DIR]);
  if (r.status !== 0) throw new Error(`nx-kbuild-config failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** `make -C <kernel> M=<ws> CONFIG_...=... modules`: the reference build, with the same config values. */
export async function kbuildMake(ws: string, extra: string[] = []): Promise<{ status: number; output: string }> {
  const r = await run('make', ['-s', '-C', KERNEL_DIR, `M=${ws}`, ...(await treeConfigArgs(ws)), ...extra, 'modules']);
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

/** Every build output under `ws` (relative paths), skipping Nx's own directories. */
export function outputFiles(ws: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.nx' || e.name === 'node_modules' || e.name === '.nx-kbuild') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (OUTPUT.test(e.name) || e.name === 'Module.symvers') out.push(relative(ws, p));
    }
  };
  walk(ws);
  return out.sort();
}

export function removeOutputs(ws: string): void {
  for (const f of outputFiles(ws)) rmSync(join(ws, f));
}

export function read(ws: string, rel: string): Buffer {
  return readFileSync(join(ws, rel));
}

export function modinfo(ko: string): Record<string, string[]> {
  const r = spawnSync('/sbin/modinfo', [ko], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`modinfo ${ko} failed: ${r.stderr}`);
  const info: Record<string, string[]> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([\w.]+):\s*(.*)$/.exec(line);
    if (m) (info[m[1]] ??= []).push(m[2].trim());
  }
  return info;
}
