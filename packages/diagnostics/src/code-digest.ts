import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const digests = new Map<string, string>();

/**
 * The identity of a package's own code (every .js/.ts file under `dir`: path, size, mtime), for
 * cache keys: a new build of an engine never reuses what an old one computed.
 */
export function codeDigest(dir: string): string {
  const had = digests.get(dir);
  if (had) return had;
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js') || e.name.endsWith('.ts')) {
        const st = statSync(p);
        h.update(`${p}:${st.size}:${st.mtimeMs}\n`);
      }
    }
  };
  walk(dir);
  const digest = h.digest('hex');
  digests.set(dir, digest);
  return digest;
}
