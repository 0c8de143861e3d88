/**
 * Runs what parseShellScript (kbuild-make) read of a recipe, as /bin/sh (dash) would, each program
 * from its argument array: lists in order, pipelines with each command's output the next one's
 * input, groups with their redirections, `echo`, `:` and `set -e`/`set +e` done here.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Pipeline, ShellCommand, ShellList } from '@nx-kbuild/kbuild-make';

/** Where a command's standard output goes: a file descriptor, ours, or (inside a pipeline) captured. */
type Output = number | 'inherit' | 'capture';

interface Run {
  cwd: string;
  /** `set -e`: a failing pipeline ends the list. */
  errexit: boolean;
}

/** The exit status of a simple command, and its output when captured. */
interface Done {
  status: number;
  captured?: Buffer;
}

/** echo's output, written at once (as sh's echo is, before the next command starts) or captured for a pipe. */
function write(out: Output, text: string): Buffer | undefined {
  if (out === 'capture') return Buffer.from(text);
  writeSync(out === 'inherit' ? 1 : out, text);
  return undefined;
}

function simple(c: ShellCommand & { kind: 'simple' }, run: Run, input: Buffer | undefined, out: Output): Done {
  const argv = c.argv;
  if (argv[0] === 'echo') return { status: 0, captured: write(out, argv.slice(1).join(' ') + '\n') };
  if (argv[0] === ':') return { status: 0, captured: out === 'capture' ? Buffer.alloc(0) : undefined };
  if (argv[0] === 'set') {
    run.errexit = argv[1] === '-e';
    return { status: 0, captured: out === 'capture' ? Buffer.alloc(0) : undefined };
  }
  const stdin = c.stdin !== undefined ? openSync(resolve(run.cwd, c.stdin), 'r') : input !== undefined ? 'pipe' : 'ignore';
  const stdout = c.stdout !== undefined ? openSync(resolve(run.cwd, c.stdout), 'w') : out === 'capture' ? 'pipe' : out;
  try {
    const r = spawnSync(argv[0], argv.slice(1), {
      cwd: run.cwd,
      input: stdin === 'pipe' ? input : undefined,
      stdio: [stdin, stdout, 'inherit'],
      env: c.env ? { ...process.env, ...c.env } : process.env,
      maxBuffer: 1 << 30,
    });
    if (r.error) {
      process.stderr.write(`${argv[0]}: ${r.error.message}\n`);
      return { status: 127 };
    }
    return { status: r.status ?? 128, captured: stdout === 'pipe' ? r.stdout : undefined };
  } finally {
    if (typeof stdin === 'number') closeSync(stdin);
    if (typeof stdout === 'number' && stdout !== out) closeSync(stdout);
  }
}

function pipeline(p: Pipeline, run: Run, out: Output): number {
  if (p.length === 1) return command(p[0], run, out);
  // parseShellScript takes only simple commands into a pipeline of several.
  let input: Buffer | undefined;
  let status = 0;
  p.forEach((c, k) => {
    const last = k === p.length - 1;
    const d = simple(c as ShellCommand & { kind: 'simple' }, run, input ?? Buffer.alloc(0), last ? out : 'capture');
    input = d.captured;
    status = d.status;
  });
  return status;
}

function command(c: ShellCommand, run: Run, out: Output): number {
  if (c.kind === 'simple') return simple(c, run, undefined, out).status;
  const target = c.stdout !== undefined ? openSync(resolve(run.cwd, c.stdout), 'w') : out;
  try {
    // A subshell's `set -e` stays in it; a `{ …; }` group shares the list's.
    const inner = c.subshell ? { ...run } : run;
    return list(c.body, inner, target);
  } finally {
    if (typeof target === 'number' && target !== out) closeSync(target);
  }
}

function list(l: ShellList, run: Run, out: Output): number {
  let status = 0;
  for (const p of l) {
    status = pipeline(p, run, out);
    if (status !== 0 && run.errexit) return status;
  }
  return status;
}

/** Runs a parsed script in `cwd`, its output to `out`; returns its exit status as sh's. */
export function runScript(script: ShellList, cwd: string, out: number | 'inherit', errexit = false): number {
  return list(script, { cwd, errexit }, out);
}
