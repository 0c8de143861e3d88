import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { noteContent, noteExistence, type CompileStep, type ModuleCommands } from '@nx-kbuild/kbuild-make';

/** `#include <x>` / `#include "x"` (groups 1, 2), or `#include MACRO` (no group): one pass over a file. */
const INCLUDE = /^[ \t]*#[ \t]*include(?:[ \t]*([<"])([^>"]+)[>"]|[ \t]+[A-Za-z_])/gm;

/** Both absolute and normalized (path.join/resolve output): a prefix test, no path.relative per lookup. */
function inside(dir: string, path: string): boolean {
  return path.length > dir.length + 1 && path.startsWith(dir) && (path[dir.length] === '/' || dir === '/');
}

// A kernel module's sources share most of their headers: each file is read and each path
// looked up once per process (the plugin evaluates a tree once per graph computation).
const parsedIncludes = new Map<string, { macro: boolean; includes: { quoted: boolean; name: string }[] } | null>();
const existing = new Map<string, boolean>();

/** A file's #include lines (null when unreadable); its content is recorded as observed (kept-headers.ts). */
function includesOf(file: string): { macro: boolean; includes: { quoted: boolean; name: string }[] } | null {
  noteContent(file);
  let parsed = parsedIncludes.get(file);
  if (parsed !== undefined) return parsed;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = { macro: false, includes: [] };
    for (const m of text.matchAll(INCLUDE)) {
      if (m[1] === undefined) parsed.macro = true;
      else parsed.includes.push({ quoted: m[1] === '"', name: m[2] });
    }
  } catch {
    parsed = null;
  }
  parsedIncludes.set(file, parsed);
  return parsed;
}

function exists(path: string): boolean {
  let e = existing.get(path);
  if (e === undefined) existing.set(path, (e = existsSync(path)));
  noteExistence(path, e);
  return e;
}

/** Forgets what was read: files may have changed since the last graph computation. */
export function forgetHeaders(): void {
  parsedIncludes.clear();
  existing.clear();
  resolvers.clear();
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
  const edgesOf = includeResolver(quoteDirs, angleDirs, workspaceRoot, shared);
  const found = new Set<string>();
  const visit = (file: string) => {
    const edges = edgesOf(file);
    if (!edges) return;
    for (const e of edges) {
      if (e.followed) {
        if (found.has(e.path)) continue;
        found.add(e.path);
        visit(e.path);
      } else found.add(e.path);
    }
  };
  visit(source);
  return [...found].map((f) => (f === '*' ? '*' : relative(workspaceRoot, f)));
}

/**
 * What a file's #include lines resolve to under one set of search directories: '*' for an
 * `#include MACRO`, a shared directory's glob, or a workspace header to follow. Resolved once per
 * file and search path in a process: the objects of a module share their headers and their -I
 * lists, and resolving each object's includes again made a whole kernel's graph take seconds.
 */
type IncludeEdge = { path: string; followed: boolean };
/** A file's edges, with the candidates looked up to find them (their existence observed again on each use). */
type Resolved = { edges: IncludeEdge[] | null; looked: string[] };
const resolvers = new Map<string, Map<string, Resolved>>();

function includeResolver(quoteDirs: string[], angleDirs: string[], workspaceRoot: string, shared: readonly string[]): (file: string) => IncludeEdge[] | null {
  const key = `${workspaceRoot}\0${shared.join('\0')}\u0001${quoteDirs.join('\0')}\u0001${angleDirs.join('\0')}`;
  let memo = resolvers.get(key);
  if (!memo) resolvers.set(key, (memo = new Map()));
  const known = memo;
  return (file) => {
    const hit = known.get(file);
    if (hit !== undefined) {
      noteContent(file);
      for (const p of hit.looked) exists(p);
      return hit.edges;
    }
    const parsed = includesOf(file);
    const edges = parsed && ([] as IncludeEdge[]);
    const looked: string[] = [];
    if (parsed && edges) {
      // `#include SOME_MACRO`: cannot be resolved without preprocessing; be conservative.
      if (parsed.macro) edges.push({ path: '*', followed: false });
      for (const { quoted, name } of parsed.includes) {
        const dirs = quoted ? [dirname(file), ...quoteDirs, ...angleDirs] : angleDirs;
        for (const d of dirs) {
          const candidate = join(d, name);
          looked.push(candidate);
          if (!exists(candidate)) continue;
          const sharedDir = shared.find((s) => inside(s, candidate));
          if (sharedDir !== undefined) edges.push({ path: join(sharedDir, '**/*.h'), followed: false });
          else if (inside(workspaceRoot, candidate)) edges.push({ path: candidate, followed: true });
          break;
        }
      }
    }
    known.set(file, { edges, looked });
    return edges;
  };
}

/**
 * Each module's workspace headers (paths, or globs of `shared` directories), over the objects of
 * its compile commands (run from `cwd`).
 */
export function moduleHeaders(modules: readonly ModuleCommands[], cwd: string, workspaceRoot: string, shared: readonly string[] = []): Map<string, string[]> {
  return new Map(modules.map((mc) => [mc.module.name, objectsHeaders(mc.objects, cwd, workspaceRoot, shared)]));
}

/** The workspace headers (or shared directories' globs) a set of objects' sources include, sorted. */
export function objectsHeaders(objects: readonly Pick<CompileStep, 'source' | 'cc'>[], cwd: string, workspaceRoot: string, shared: readonly string[] = []): string[] {
  const set = new Set<string>();
  for (const o of objects) for (const h of includedWorkspaceHeaders(resolve(cwd, o.source), o.cc.argv, cwd, workspaceRoot, shared)) set.add(h);
  return [...set].sort();
}
