/**
 * The kernel's shared headers (include/ and arch/<arch>/include/), indexed once: every `#define`
 * with the `#if` conditions around it. Sources are scanned without preprocessing these headers
 * for each file; a macro a source needs from them is chosen among its definitions by evaluating
 * those conditions in the source's own context (config, -D flags). Include guards are dropped.
 */
import { readFileSync } from 'node:fs';
import { contentSignature, noteContent } from '@nx-kbuild/kbuild-make';
import type { HeaderIndexCache, HeaderPart } from './header-index-cache';
import { dirname, join } from 'node:path';
import { filesUnder } from './include-files';
import { functionBodies, includeGuard, lex, lexTokens, type CodeSpan, type DirectiveLine, type Token } from './lexer';
import { parseDefine, type Macro } from './macros';

/** One clause of a definition's condition: an `#if` expression (text[start, end)), wanted true or false. */
export interface Clause {
  text: string;
  start: number;
  end: number;
  line: number;
  /** #ifdef/#ifndef: the range is a name, tested with `defined`. */
  ifdef: boolean;
  want: boolean;
  /** `#ifndef X` whose block defines X: a once-guard, true when the block is first read. */
  guard?: boolean;
  tokens?: Token[];
}

/** A definition as indexed: its text range, parsed the first time a scan looks it up. */
export interface IndexedMacro {
  file: string;
  text: string;
  start: number;
  end: number;
  line: number;
  /** All clauses must hold (the enclosing #if/#elif/#else chain, outermost first). */
  when: Clause[];
  parsed?: Macro | null;
}

export interface HeaderIndex {
  roots: string[];
  definitions: Map<string, IndexedMacro[]>;
  /** Headers without an include guard (X-macro lists among them). */
  unguarded: Set<string>;
  /** Headers whose code may export or add .modinfo (linux/pwm.h's MODULE_IMPORT_NS(PWM)). */
  invoking: Set<string>;
  /**
   * Which indexed headers include each header, and under what conditions: a definition counts
   * only where its header is reached (asm/string_32.h is included only when CONFIG_X86_32).
   */
  includedBy: Map<string, { from: string; when: Clause[] }[]>;
  /** What each inline function the headers define refers to (every #if branch), by header. */
  functions: Map<string, { file: string; refs: ReadonlySet<string> }[]>;
  /** The indexed headers each indexed header includes. */
  includes: Map<string, string[]>;
  files: number;
  bytes: number;
}

/** The macro an indexed definition defines (undefined when it does not parse). */
export function macroOf(d: IndexedMacro): Macro | undefined {
  if (d.parsed === undefined) {
    try {
      d.parsed = parseDefine(lexTokens(d.text, d.start, d.end, d.line), d.file, d.line);
    } catch {
      d.parsed = null; // a header error surfaces when a source that includes it is compiled
    }
  }
  return d.parsed ?? undefined;
}

export function clauseTokens(c: Clause): Token[] {
  if (!c.tokens) {
    const t = lexTokens(c.text, c.start, c.end, c.line);
    c.tokens = c.ifdef && t[0] ? [{ ...t[0], text: 'defined' }, t[0]] : t;
  }
  return c.tokens;
}

interface Frame {
  /** Clauses for the branch being read. */
  clauses: Clause[];
  /** Conditions of the earlier branches of this #if chain (each negated for later branches). */
  earlier: Clause[];
  guard: boolean;
  /** The name an #ifndef opening tests (for once-guards inside headers). */
  ifndefName?: string;
  inFirstBranch: boolean;
}

const NAME = /[ \t]*([A-Za-z_$][\w$]*)/y;

/** An #include of an indexed header, as read (resolved once the whole index is built). */
export interface IncludeEdge {
  from: string;
  name: string;
  quoted: boolean;
  when: Clause[];
}

const INCLUDE = /[ \t]*([<"])([^>"]+)[>"]/y;

/** Adds one header's definitions, includes and inline functions to the index; returns whether it has an include guard. */
export function indexHeader(
  file: string,
  text: string,
  definitions: Map<string, IndexedMacro[]>,
  includes: IncludeEdge[] = [],
  functions?: Map<string, { file: string; refs: ReadonlySet<string> }[]>,
): boolean {
  const all = lex(text, false);
  if (functions)
    for (const [name, refs] of functionBodies(text, all.filter((l): l is CodeSpan => l.directive === undefined))) {
      const l = functions.get(name);
      if (l) l.push({ file, refs });
      else functions.set(name, [{ file, refs }]);
    }
  const lines = all.filter((l): l is DirectiveLine => l.directive !== undefined);
  const stack: Frame[] = [];
  const nameAt = (start: number): string | undefined => {
    NAME.lastIndex = start;
    return NAME.exec(text)?.[1];
  };
  const guard = includeGuard(lines, (d) => nameAt(d.start));
  const context = (): Clause[] => stack.flatMap((f) => (f.guard ? [] : f.clauses));
  const clause = (l: DirectiveLine, want: boolean): Clause => ({ text, start: l.start, end: l.end, line: l.line, ifdef: l.directive !== 'if' && l.directive !== 'elif', want });
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k];
    switch (l.directive) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const c = clause(l, l.directive !== 'ifndef');
        stack.push({ clauses: [c], earlier: [c], guard: k === 0 && guard?.macro !== undefined, ifndefName: l.directive === 'ifndef' ? nameAt(l.start) : undefined, inFirstBranch: true });
        break;
      }
      case 'elif': {
        const f = stack[stack.length - 1];
        if (!f) break;
        const c = clause(l, true);
        f.clauses = [...f.earlier.map((e) => ({ ...e, want: !e.want, tokens: undefined, guard: false })), c];
        f.earlier.push(c);
        f.guard = false;
        f.inFirstBranch = false;
        break;
      }
      case 'else': {
        const f = stack[stack.length - 1];
        if (!f) break;
        f.clauses = f.earlier.map((e) => ({ ...e, want: !e.want, tokens: undefined, guard: false }));
        f.guard = false;
        f.inFirstBranch = false;
        break;
      }
      case 'endif':
        stack.pop();
        break;
      case 'include': {
        INCLUDE.lastIndex = l.start;
        const m = INCLUDE.exec(text);
        if (m) includes.push({ from: file, name: m[2], quoted: m[1] === '"', when: context() });
        break;
      }
      case 'define': {
        const name = nameAt(l.start);
        if (!name) break;
        for (const f of stack) if (f.ifndefName === name && f.inFirstBranch) f.clauses[0].guard = true;
        let list = definitions.get(name);
        if (!list) definitions.set(name, (list = []));
        list.push({ file, text, start: l.start, end: l.end, line: l.line, when: context() });
        break;
      }
    }
  }
  return guard !== undefined;
}

/** Code that may export or add .modinfo at file scope (a superset: comments match too). */
const INVOKES = /^[ \t]*(?:MODULE_IMPORT_NS|MODULE_INFO|MODULE_LICENSE|EXPORT_SYMBOL\w*)\s*\(/m;

/** Each name's list of `from` appended to its list in `into` (one header's part added to the index). */
function appendByName<T>(into: Map<string, T[]>, from: ReadonlyMap<string, T[]>): void {
  for (const [name, items] of from) {
    const list = into.get(name);
    if (list) for (const x of items) list.push(x);
    else into.set(name, items);
  }
}

/** Indexes every header under the given roots, in -I order (arch/x86/include/, include/). */
export function buildHeaderIndex(roots: string[], cache?: HeaderIndexCache): HeaderIndex {
  const definitions = new Map<string, IndexedMacro[]>();
  const files: string[] = [];
  for (const r of roots) filesUnder(r, (name) => name.endsWith('.h'), files);
  let bytes = 0;
  const unguarded = new Set<string>();
  const invoking = new Set<string>();
  const includes: IncludeEdge[] = [];
  const functions = new Map<string, { file: string; refs: ReadonlySet<string> }[]>();
  for (const f of files) {
    const index = (): HeaderPart => {
      const text = readFileSync(f, 'latin1');
      const p: HeaderPart = { text, guarded: false, invokes: INVOKES.test(text), definitions: new Map(), includes: [], functions: new Map() };
      p.guarded = indexHeader(f, text, p.definitions, p.includes, p.functions);
      return p;
    };
    // A kept header's part, or one indexed now: added to the index in the same order either way.
    let part: HeaderPart;
    if (cache) part = cache.part(f, contentSignature(f), index);
    else {
      noteContent(f);
      part = index();
    }
    bytes += part.text.length;
    if (!part.guarded) unguarded.add(f);
    if (part.invokes) invoking.add(f);
    appendByName(definitions, part.definitions);
    for (const e of part.includes) includes.push(e);
    appendByName(functions, part.functions);
  }
  cache?.save();
  const known = new Set(files);
  const includedBy = new Map<string, { from: string; when: Clause[] }[]>();
  const includesOf = new Map<string, string[]>();
  for (const e of includes) {
    const dirs = e.quoted ? [dirname(e.from), ...roots] : roots;
    const target = dirs.map((d) => join(d, e.name)).find((p) => known.has(p));
    if (!target) continue;
    let l = includedBy.get(target);
    if (!l) includedBy.set(target, (l = []));
    l.push({ from: e.from, when: e.when });
    let out = includesOf.get(e.from);
    if (!out) includesOf.set(e.from, (out = []));
    out.push(target);
  }
  return { roots, definitions, unguarded, invoking, includedBy, includes: includesOf, functions, files: files.length, bytes };
}

/** Whether `file` is one the index covers. */
export function isIndexed(index: HeaderIndex, file: string): boolean {
  return index.roots.some((r) => file.startsWith(r + '/'));
}
