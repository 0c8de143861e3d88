/**
 * The files a scan reads besides its sources, each read or looked up once per scan of a tree
 * (the caches are cleared before a scan). When the scan records what it reads, a file is noted
 * on every use, cached or not: each module's scan records its own reads.
 * where an #include resolves (by search path and including directory), followed headers (lexed), and the macro names of headers too large to follow.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { noteContent, noteExistence, observationScope, type Observed } from '@nx-kbuild/kbuild-make';
import { DefinedNames } from './defined-names';
import { functionBodies, includeGuard, lex, scanIdentifiers, type CodeSpan, type LexLine } from './lexer';

const sizes = new Map<string, number>();
/**
 * Where an include resolved (null: nowhere), every candidate path looked up on the way, and the
 * observations those lookups were last noted in (a driver's sources repeat the same includes
 * along dozens of -I directories: noted once per module, not once per source).
 */
const resolved = new Map<string, { found: string | null; looked: string[]; noted: Observed | undefined }>();
const searchPaths = new Map<string, number>();
const headers = new Map<string, HeaderFile>();
const definedNames = new Map<string, DefinedNames>();

/** Files under `dir` (recursively, hidden entries skipped, a missing dir is empty) whose names `accept` takes. */
export function filesUnder(dir: string, accept: (name: string) => boolean, out: string[] = []): string[] {
  let entries;
  noteContent(dir);
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) filesUnder(join(dir, e.name), accept, out);
    else if (accept(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

/** Size of a file; -1 when there is no such path, -2 when it is not a file (not recorded). */
function statSize(path: string): number {
  let size = sizes.get(path);
  if (size === undefined) {
    // Most include candidates do not exist: a thrown error per miss (50,000 in a tree scan) cost
    // more than the system calls.
    try {
      const s = statSync(path, { throwIfNoEntry: false });
      size = s === undefined ? -1 : s.isFile() ? s.size : -2;
    } catch {
      size = -1; // unreadable (a directory on the way that cannot be searched)
    }
    sizes.set(path, size);
  }
  return size;
}

/** Size of a file, -1 when there is no such file (its content recorded as observed). */
export function fileSize(path: string): number {
  noteContent(path);
  return Math.max(statSize(path), -1);
}

/**
 * Whether an include candidate is a file, recorded as a test of its existence: which header an
 * #include finds depends on which candidates exist, not on what they hold (a shared header's
 * content is the index's; a followed one's is recorded when it is read).
 */
function isIncludable(path: string): boolean {
  const size = statSize(path);
  noteExistence(path, size !== -1);
  return size >= 0;
}

/** A small number naming one search path (-iquote dirs, then -I dirs), for cache keys. */
export function searchPathId(quoteDirs: readonly string[], includeDirs: readonly string[]): number {
  const key = quoteDirs.join('\n') + '\0' + includeDirs.join('\n');
  let id = searchPaths.get(key);
  if (id === undefined) searchPaths.set(key, (id = searchPaths.size));
  return id;
}

/**
 * Each file's directory, and path.resolve(dir, name) per pair: an include directory's candidate for
 * each name (modules with a search path of their own look up the same pairs), an object's -I
 * directories against the build directory.
 */
const directories = new Map<string, string>();
const resolvedPaths = new Map<string, Map<string, string>>();

function directoryOf(file: string): string {
  let d = directories.get(file);
  if (d === undefined) directories.set(file, (d = dirname(file)));
  return d;
}

export function resolvedPath(dir: string, name: string): string {
  let byName = resolvedPaths.get(dir);
  if (!byName) resolvedPaths.set(dir, (byName = new Map()));
  let p = byName.get(name);
  if (p === undefined) byName.set(name, (p = resolve(dir, name)));
  return p;
}

/** Where cpp finds `name` (#include "name" when quoted, <name> otherwise; #include_next after `from`). */
export function resolveInclude(
  name: string,
  quoted: boolean,
  from: string,
  next: boolean,
  path: { id: number; quoteDirs: readonly string[]; includeDirs: readonly string[] },
): string | undefined {
  const fromDir = directoryOf(from);
  const key = `${path.id}\0${quoted ? fromDir : ''}\0${next ? from : ''}\0${name}`;
  const hit = resolved.get(key);
  if (hit !== undefined) {
    const scope = observationScope();
    if (scope !== undefined && hit.noted !== scope) {
      hit.noted = scope;
      for (const p of hit.looked) isIncludable(p);
    }
    return hit.found ?? undefined;
  }
  const dirs = [...(quoted ? [fromDir, ...path.quoteDirs] : []), ...path.includeDirs];
  let found: string | null = null;
  const looked: string[] = [];
  for (const d of next ? dirs.filter((x) => !from.startsWith(x + '/')) : dirs) {
    const candidate = resolvedPath(d, name);
    looked.push(candidate);
    if (isIncludable(candidate)) {
      found = candidate;
      break;
    }
  }
  resolved.set(key, { found, looked, noted: observationScope() });
  return found ?? undefined;
}

/** A header as the scanner reads it. */
export interface HeaderFile {
  /** Directive lines, and code spans when `text` is kept. */
  lines: readonly LexLine[];
  /**
   * Kept only when the header's code may invoke a macro that exports or adds .modinfo: it names
   * one of `interesting` (kernel/rcu/tasks.h exports), or has no include guard (an X-macro list
   * such as asm/GEN-for-each-reg.h, expanded by a macro its includer defines).
   */
  text?: string;
  /** Identifiers of its code (when `text` is kept). */
  codeIds?: ReadonlySet<string>;
  /**
   * The inline functions it defines, by the code span each starts in, with what each refers to
   * (for predicting imports: only those in branches the includer compiles count).
   */
  functionsAt: ReadonlyMap<CodeSpan, [string, ReadonlySet<string>][]>;
  /** Its include guard (lexer's includeGuard), if it has one. */
  guard?: { macro?: string };
}

export function headerFile(file: string, interesting: ReadonlySet<string>): HeaderFile {
  let h = headers.get(file);
  noteContent(file);
  if (!h) {
    const text = readFileSync(file, 'latin1');
    const lines = lex(text);
    const guard = includeGuard(lines, (d) => d.tokens[0]?.text);
    const codeIds = new Set<string>();
    for (const l of lines) if (l.directive === undefined) scanIdentifiers(text, l.start, l.end, l.line, (id) => (codeIds.add(id), false));
    const keep = !guard || [...codeIds].some((id) => interesting.has(id));
    const starts = new Map<string, CodeSpan>();
    const functionsAt = new Map<CodeSpan, [string, ReadonlySet<string>][]>();
    for (const [name, refs] of functionBodies(text, lines.filter((l): l is CodeSpan => l.directive === undefined), starts)) {
      const at = starts.get(name)!;
      const list = functionsAt.get(at);
      if (list) list.push([name, refs]);
      else functionsAt.set(at, [[name, refs]]);
    }
    h = keep ? { lines, text, codeIds, functionsAt, guard } : { lines, functionsAt, guard };
    headers.set(file, h);
  }
  return h;
}

/** The names a header #defines anywhere (for headers too large to follow). */
export function namesDefinedIn(file: string): DefinedNames {
  let s = definedNames.get(file);
  noteContent(file);
  if (!s) definedNames.set(file, (s = DefinedNames.of(readFileSync(file, 'latin1'))));
  return s;
}

/** Forgets everything read (before scanning a tree that may have changed). */
export function forgetIncludeFiles(): void {
  directories.clear();
  resolvedPaths.clear();
  sizes.clear();
  resolved.clear();
  headers.clear();
  definedNames.clear();
}
