import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]/gm;
const MACRO_INCLUDE = /^[ \t]*#[ \t]*include[ \t]+[A-Za-z_]/m;

function inside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

/**
 * Workspace headers a C file can include, directly or through other workspace headers, resolved
 * with the compile command's -I directories the way the preprocessor searches them. Conditionals
 * are not evaluated, so this is a superset of what the compiler reads: it can only over-invalidate.
 * Kernel headers are not listed: the kernel build directory is hashed as a whole (kernel identity).
 */
export function includedWorkspaceHeaders(source: string, argv: string[], cwd: string, workspaceRoot: string): string[] {
  const quoteDirs: string[] = [];
  const angleDirs: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    let dir: string | undefined;
    let quoteOnly = false;
    if (a === '-I' || a === '-iquote') dir = argv[++k];
    else if (a.startsWith('-iquote')) {
      dir = a.slice(7);
      quoteOnly = true;
    } else if (a.startsWith('-I')) dir = a.slice(2);
    if (a === '-iquote') quoteOnly = true;
    if (dir === undefined) continue;
    const abs = resolve(cwd, dir);
    (quoteOnly ? quoteDirs : angleDirs).push(abs);
  }
  const found = new Set<string>();
  const visit = (file: string) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    if (MACRO_INCLUDE.test(text)) {
      // `#include SOME_MACRO`: cannot be resolved without preprocessing; be conservative.
      found.add('*');
    }
    for (const m of text.matchAll(INCLUDE)) {
      const name = m[2];
      const dirs = m[1] === '"' ? [dirname(file), ...quoteDirs, ...angleDirs] : angleDirs;
      for (const d of dirs) {
        const candidate = join(d, name);
        if (existsSync(candidate)) {
          if (inside(workspaceRoot, candidate) && !found.has(candidate)) {
            found.add(candidate);
            visit(candidate);
          }
          break;
        }
      }
    }
  };
  visit(source);
  return [...found].map((f) => (f === '*' ? '*' : relative(workspaceRoot, f)));
}
