import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command, ShellList } from '@nx-kbuild/kbuild-make';
import { runScript } from './shell';

/** A pass failed: the tool's own message has already been printed; this carries its exit code. */
export class StepFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Runs a command from its argument array (never through a shell), output going to ours. */
export function run(cmd: Command, cwd: string): void {
  const r = spawnSync(cmd.argv[0], cmd.argv.slice(1), {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
  });
  if (r.error) throw new StepFailed(`cannot run ${cmd.argv[0]}: ${r.error.message}`, 127);
  if (r.status !== 0) throw new StepFailed(`${cmd.argv[0]} failed (exit ${r.status ?? r.signal})`, r.status ?? 1);
}

/**
 * kbuild's filechk: the commands run as `set -e` runs them, their output together the file's new
 * content, written to `.tmp_<name>` (its directory made first, as filechk's `mkdir -p`) and
 * moved over `target` only when it differs: kbuild leaves an unchanged file alone, so what
 * depends on it is not rebuilt. `what` names the step in a failure.
 */
export function filechk(target: string, commands: ShellList, cwd: string, what: string): void {
  const path = resolve(cwd, target);
  const tmp = join(dirname(path), `.tmp_${basename(path)}`);
  mkdirSync(dirname(path), { recursive: true });
  try {
    const out = openSync(tmp, 'w');
    let status: number;
    try {
      status = runScript(commands, cwd, out, true);
    } finally {
      closeSync(out);
    }
    if (status !== 0) throw new StepFailed(`${target}: ${what} failed (exit ${status})`, status);
    if (!existsSync(path) || !readFileSync(path).equals(readFileSync(tmp))) renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** run(), without blocking: for commands that may run side by side. */
export function runAsync(cmd: Command, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.argv[0], cmd.argv.slice(1), {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
    });
    child.once('error', (e) => reject(new StepFailed(`cannot run ${cmd.argv[0]}: ${e.message}`, 127)));
    child.once('close', (status, signal) => {
      if (status === 0) resolve();
      else reject(new StepFailed(`${cmd.argv[0]} failed (exit ${status ?? signal})`, status ?? 1));
    });
  });
}

/** Runs `work` on every item, at most `limit` at a time; the first failure wins, after the others settle. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await work(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}

/** Runs a command and returns its standard output. */
export function capture(argv: string[], cwd: string): string {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new StepFailed(`cannot run ${argv[0]}: ${r.error.message}`, 127);
  if (r.status !== 0) throw new StepFailed(`${argv[0]} failed (exit ${r.status ?? r.signal})`, r.status ?? 1);
  return r.stdout;
}

/** `a | b`, both from argument arrays; fails if either side fails. Returns b's standard output. */
export function pipe(a: Command, b: Command, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const left = spawn(a.argv[0], a.argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    const right = spawn(b.argv[0], b.argv.slice(1), { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
    left.stdout.pipe(right.stdin);
    let out = '';
    right.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const codes: (number | null)[] = [];
    let failed = false;
    const done = (which: string, code: number | null) => {
      codes.push(code);
      if (code !== 0 && !failed) {
        failed = true;
        reject(new StepFailed(`${which} failed (exit ${code})`, code ?? 1));
      }
      if (codes.length === 2 && !failed) resolve(out);
    };
    left.on('error', (e) => reject(new StepFailed(`cannot run ${a.argv[0]}: ${e.message}`, 127)));
    right.on('error', (e) => reject(new StepFailed(`cannot run ${b.argv[0]}: ${e.message}`, 127)));
    left.on('close', (c) => done(a.argv[0], c));
    right.on('close', (c) => done(b.argv[0], c));
  });
}

export function removeAll(paths: readonly string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}

/** kbuild's make-cmd: the command as recorded in a .cmd file (`$` doubled, `#` spelled $(pound)). */
export function makeCmd(text: string): string {
  return text.replace(/\$/g, '$$$$').replace(/#/g, '$(pound)');
}
