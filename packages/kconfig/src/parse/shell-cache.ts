import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';

export interface ShellRunner {
  run(command: string): string;
}

/**
 * Runs `$(shell ...)` as conf does (popen: /bin/sh -c, first 4095 bytes of output, trailing
 * newlines dropped, inner newlines turned into spaces) and caches results on disk.
 *
 * The key is the command text plus the identity (real path, size, mtime) of every word of it
 * that names an existing file or a program on PATH: the compiler, the linker, the scripts it
 * runs. A new toolchain or script changes the key; a warm evaluation runs no process at all.
 */
export class CachedShell implements ShellRunner {
  private readonly memo = new Map<string, string>();
  private readonly identities = new Map<string, string>();
  /** Keys computed in this process (a key is asked for by each cache key check). */
  private readonly keys = new Map<string, string>();
  private cache: Record<string, string> = {};
  /** Results computed by this process (not read from the cache file), by key. */
  private readonly fresh: Record<string, string> = {};
  private dirty = false;
  runs = 0;
  hits = 0;
  /** Every command asked for in this process, in first-use order. */
  readonly used: string[] = [];

  constructor(
    private readonly cacheFile: string | undefined,
    private readonly cwd: string,
    /** Environment the probes run with; kbuild's variables (CC, LD, ...) are added once known. */
    public env: Record<string, string | undefined>,
  ) {
    if (cacheFile && existsSync(cacheFile)) {
      try {
        this.cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, string>;
      } catch {
        this.cache = {};
      }
    }
  }

  private identity(word: string): string {
    let id = this.identities.get(word);
    if (id !== undefined) return id;
    id = '';
    const candidates = isAbsolute(word) || word.includes('/') ? [isAbsolute(word) ? word : join(this.cwd, word)] : (this.env.PATH ?? '').split(delimiter).map((d) => join(d, word));
    for (const c of candidates) {
      // Most candidates do not exist: check without throwing, resolve links only for hits.
      const st = statSync(c, { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      id = `${realpathSync(c)}:${st.size}:${st.mtimeMs}`;
      break;
    }
    this.identities.set(word, id);
    return id;
  }

  key(command: string): string {
    let key = this.keys.get(command);
    if (key !== undefined) return key;
    const h = createHash('sha256').update(command);
    for (const w of new Set(command.split(/[\s;|&(){}<>"'=,]+/))) {
      if (/^[A-Za-z0-9_./+-]+$/.test(w) && !/^-/.test(w)) h.update('\0').update(this.identity(w));
    }
    key = h.digest('hex');
    this.keys.set(command, key);
    return key;
  }

  run(command: string): string {
    const memo = this.memo.get(command);
    if (memo !== undefined) return memo;
    this.used.push(command);
    const key = this.key(command);
    let out = this.cache[key];
    if (out === undefined) {
      out = this.exec(command);
      this.cache[key] = out;
      this.fresh[key] = out;
      this.dirty = true;
      this.runs++;
    } else this.hits++;
    this.memo.set(command, out);
    return out;
  }

  private exec(command: string): string {
    // conf runs probes in the build directory; they create and remove .tmp_$$ directories there.
    // Loaded here: a run whose probes are all cached never starts a process.
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    let raw: Buffer;
    try {
      raw = execFileSync('/bin/sh', ['-c', command], { cwd: this.cwd, env: this.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    } catch (e) {
      raw = ((e as { stdout?: Buffer }).stdout ?? Buffer.alloc(0)) as Buffer;
    }
    let n = Math.min(raw.length, 4095);
    while (n > 0 && raw[n - 1] === 0x0a) n--;
    return raw.subarray(0, n).toString('utf8').replace(/\n/g, ' ');
  }

  /** The results this process computed (for another process or thread to absorb). */
  freshResults(): Record<string, string> {
    return { ...this.fresh };
  }

  /** Takes results computed elsewhere (a worker thread), to be saved with ours. */
  absorb(results: Record<string, string>): void {
    for (const [key, out] of Object.entries(results)) {
      if (this.cache[key] === undefined) {
        this.cache[key] = out;
        this.dirty = true;
      }
    }
  }

  /** Writes new results back (temp file + rename). */
  save(): void {
    if (!this.cacheFile || !this.dirty) return;
    writeFileAtomic(this.cacheFile, JSON.stringify(this.cache));
    this.dirty = false;
  }
}

/** A scratch build directory for probes when the caller has none. */
export function scratchDir(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kconfig-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
