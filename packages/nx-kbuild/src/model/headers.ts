import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { ModuleCommands } from '@nx-kbuild/kbuild-make';

const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]/gm;
const MACRO_INCLUDE = /^[ \t]*#[ \t]*include[ \t]+[A-Za-z_]/m;

/** Both absolute and normalized (path.join/resolve output): a prefix test, no path.relative per lookup. */
function inside(dir: string, path: string): boolean {
  return path.length > dir.length + 1 && path.startsWith(dir) && (path[dir.length] === '/' || dir === '/');
}

// A kernel module's sources share most of their headers: each file is read and each path
// looked up once per process (the plugin evaluates a tree once per graph computation).
const parsedIncludes = new Map<string, { macro: boolean; includes: { quoted: boolean; name: string }[] } | null>();
const existing = new Map<string, boolean>();

function includesOf(file: string): { macro: boolean; includes: { quoted: boolean; name: string }[] } | null {
  let parsed = parsedIncludes.get(file);
  if (parsed !== undefined) return parsed;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = { macro: MACRO_INCLUDE.test(text), includes: [...text.matchAll(INCLUDE)].map((m) => ({ quoted: m[1] === '"', name: m[2] })) };
  } catch {
    parsed = null;
  }
  parsedIncludes.set(file, parsed);
  return parsed;
}

function exists(path: string): boolean {
  let e = existing.get(path);
  if (e === undefined) existing.set(path, (e = existsSync(path)));
  return e;
}

/** Forgets what was read: files may have changed since the last graph computation. */
export function forgetHeaders(): void {
  parsedIncludes.clear();
  existing.clear();
}

/**
 * Workspace headers a C file can include, directly or through other workspace headers, resolved
 * with the compile command's -I directories the way the preprocessor searches them. Conditionals
 * are not evaluated, so this is a superset of what the compiler reads: it can only over-invalidate.
 * Kernel headers are not listed: the kernel build directory is hashed as a whole (kernel identity).
 *
 * A header inside one of the `shared` directories (an in-tree kernel's include/ and
 * arch/<arch>/include/) stands for all of them: the directory's `**\/*.h` glob is listed and the
 * header is not followed. Through linux/module.h alone a module reaches most of include/, so
 * listing each one changes almost nothing but made the whole-tree graph hold 3 million paths.
 */
export function includedWorkspaceHeaders(source: string, argv: string[], cwd: string, workspaceRoot: string, shared: readonly string[] = []): string[] {
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
    const parsed = includesOf(file);
    if (!parsed) return;
    // `#include SOME_MACRO`: cannot be resolved without preprocessing; be conservative.
    if (parsed.macro) found.add('*');
    for (const { quoted, name } of parsed.includes) {
      const dirs = quoted ? [dirname(file), ...quoteDirs, ...angleDirs] : angleDirs;
      for (const d of dirs) {
        const candidate = join(d, name);
        if (exists(candidate)) {
          const sharedDir = shared.find((s) => inside(s, candidate));
          if (sharedDir !== undefined) found.add(join(sharedDir, '**/*.h'));
          else if (inside(workspaceRoot, candidate) && !found.has(candidate)) {
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

/**
 * Each module's workspace headers (paths, or globs of `shared` directories), over the objects of
 * its compile commands (run from `cwd`).
 */
export function moduleHeaders(modules: readonly ModuleCommands[], cwd: string, workspaceRoot: string, shared: readonly string[] = []): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const mc of modules) {
    const set = new Set<string>();
    for (const o of mc.objects) for (const h of includedWorkspaceHeaders(resolve(cwd, o.source), o.cc.argv, cwd, workspaceRoot, shared)) set.add(h);
    headers.set(mc.module.name, [...set].sort());
  }
  return headers;
}
