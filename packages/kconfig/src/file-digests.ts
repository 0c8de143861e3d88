import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';

/**
 * Content digests of the files a key covers, remembered between runs with each file's inode,
 * size and mtime (nanoseconds): a file whose signature is unchanged is not read and hashed again
 * (1,600 Kconfig files per run otherwise). The keys stay content digests. A file modified less than
 * `RACY_MS` before it was hashed is not remembered: another write within the same mtime tick
 * could leave its signature unchanged (git's "racily clean" entries).
 */
const RACY_MS = 2000;

type Known = Record<string, [signature: string, digest: string]>;

export class FileDigests {
  private readonly known: Known = {};
  private readonly now = new Map<string, string | undefined>();
  private readonly lists = new Map<string, string | undefined>();
  private changed = false;

  /** `file`: where they are remembered (none: within this run only). */
  constructor(private readonly file?: string) {
    if (!file) return;
    try {
      this.known = JSON.parse(readFileSync(file, 'utf8')) as Known;
    } catch {
      // nothing remembered yet, or unreadable: every file is read once
    }
  }

  /** The file's content digest, undefined when it is gone. */
  get(path: string): string | undefined {
    if (this.now.has(path)) return this.now.get(path);
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    let digest: string | undefined;
    if (st) {
      const signature = `${st.ino}:${st.size}:${st.mtimeNs}`;
      const k = this.known[path];
      if (k && k[0] === signature) digest = k[1];
      else {
        try {
          digest = createHash('sha256').update(readFileSync(path)).digest('base64');
        } catch {
          digest = undefined; // gone since the stat
        }
        if (digest !== undefined && Date.now() - Number(st.mtimeMs) > RACY_MS) {
          this.known[path] = [signature, digest];
          this.changed = true;
        }
      }
    }
    this.now.set(path, digest);
    return digest;
  }

  /**
   * One digest over a list of files (relative to `root`) and their contents, undefined when one
   * is gone; computed once per list in a run (the model's and the result's keys cover the same).
   */
  combined(root: string, files: string[]): string | undefined {
    const id = `${root}\0${files.join('\0')}`;
    if (this.lists.has(id)) return this.lists.get(id);
    const h = createHash('sha256');
    let out: string | undefined = '';
    for (const f of files) {
      const digest = this.get(join(root, f));
      if (digest === undefined) {
        out = undefined;
        break;
      }
      h.update(f).update('\0').update(digest).update('\0');
    }
    if (out !== undefined) out = h.digest('hex');
    this.lists.set(id, out);
    return out;
  }

  save(): void {
    if (this.file && this.changed) writeFileAtomic(this.file, JSON.stringify(this.known));
  }
}
