import { readFileSync, statSync } from 'node:fs';
import { noteContent } from '../memo/observations';
import { SourceError } from '@nx-kbuild/diagnostics';

/**
 * A makefile split into logical lines once, before any evaluation: what kind of line each is and,
 * for assignments, where the name and value are. Evaluating the same makefile again (kbuild reads
 * scripts/Makefile.build, Makefile.lib and Kbuild.include once per directory, 1,500 times for a
 * kernel) starts from here instead of from the text.
 */
export type Statement =
  | { kind: 'conditional'; keyword: 'ifeq' | 'ifneq' | 'ifdef' | 'ifndef'; rest: string; line: number; recipe?: string }
  | { kind: 'else'; rest: string; line: number; recipe?: string }
  | { kind: 'endif'; line: number; recipe?: string }
  | { kind: 'define'; header: string; body: string; terminated: boolean; line: number; recipe?: string }
  | { kind: 'include'; keyword: 'include' | '-include' | 'sinclude'; rest: string; line: number; recipe?: string }
  | { kind: 'vpath'; line: number; recipe?: string }
  | { kind: 'unexport'; rest: string; line: number; recipe?: string }
  | OtherStatement;

/** An assignment, a rule (or target-specific variable), `export NAME`, or a bare function call. */
export interface OtherStatement {
  kind: 'other';
  line: number;
  /** When the line starts with a tab: its text, a recipe line if it follows a rule. */
  recipe?: string;
  /** After `export`/`private`/`override` prefixes, leading whitespace dropped. */
  body: string;
  override: boolean;
  exportIt: boolean;
  assignment?: { name: string; op: string; value: string };
}

const CONDITIONALS = new Set(['ifeq', 'ifneq', 'ifdef', 'ifndef']);
const ASSIGN_OPS = ['::=', ':::=', ':=', '+=', '?=', '!=', '='] as const;

export function parseMakefile(file: string, text: string): Statement[] {
  const physical = text.split('\n');
  const out: Statement[] = [];
  let i = 0;
  while (i < physical.length) {
    const line = i + 1;
    let raw = physical[i++];
    // A recipe line keeps its backslash-newlines for the shell, without the tab that starts each
    // continued line (make's recipe prefix); elsewhere only the newline stays (see collapseContinuations).
    let recipeText = raw;
    while (endsWithContinuation(raw) && i < physical.length) {
      const next = physical[i++];
      raw = raw.slice(0, -1) + '\n' + next;
      recipeText += '\n' + (next.startsWith('\t') ? next.slice(1) : next);
    }
    const recipe = raw.startsWith('\t') ? recipeText.slice(1) : undefined;
    const stripped = stripComment(raw);
    const trimmed = stripped.trim();
    if (trimmed === '') continue;
    const [keyword, rest] = splitKeyword(trimmed);
    if (CONDITIONALS.has(keyword)) {
      out.push({ kind: 'conditional', keyword: keyword as 'ifeq', rest, line, recipe });
      continue;
    }
    if (keyword === 'else') {
      out.push({ kind: 'else', rest: rest.trim(), line, recipe });
      continue;
    }
    if (keyword === 'endif') {
      out.push({ kind: 'endif', line, recipe });
      continue;
    }
    if (keyword === 'define') {
      // The body up to the matching endef, nested defines included.
      const body: string[] = [];
      let depth = 1;
      while (i < physical.length) {
        const l = physical[i++];
        const k = splitKeyword(l.trim())[0];
        if (k === 'define') depth++;
        if (k === 'endef' && --depth === 0) break;
        body.push(l);
      }
      out.push({ kind: 'define', header: rest.trim(), body: joinDefineBody(body), terminated: depth === 0, line, recipe });
      continue;
    }
    if (keyword === 'include' || keyword === '-include' || keyword === 'sinclude') {
      out.push({ kind: 'include', keyword, rest, line, recipe });
      continue;
    }
    if (keyword === 'vpath') {
      out.push({ kind: 'vpath', line, recipe });
      continue;
    }
    if (keyword === 'unexport') {
      out.push({ kind: 'unexport', rest, line, recipe });
      continue;
    }
    // Trailing whitespace is part of a variable's value in make (even before a comment).
    let body = stripped.replace(/^[ \t]+/, '');
    let override = false;
    let exportIt = false;
    for (;;) {
      const [k, r] = splitKeyword(body);
      if (k !== 'export' && k !== 'private' && k !== 'override') break;
      body = r.replace(/^[ \t]+/, '');
      if (k === 'export') exportIt = true;
      if (k === 'override') override = true;
    }
    const a = findAssignment(body);
    // Continuations collapse first; then the whitespace after the operator is dropped.
    const assignment = a ? { name: body.slice(0, a.index), op: a.op, value: collapseContinuations(body.slice(a.index + a.op.length)).replace(/^[ \t]+/, '') } : undefined;
    out.push({ kind: 'other', line, recipe, body, override, exportIt, assignment });
  }
  return out;
}

const cache = new Map<string, { mtimeMs: number; size: number; statements: Statement[] }>();

/**
 * A makefile's statements, parsed once per content (the file's mtime and size). Stat'ed at every
 * read: callers outside a whole-tree run (the plugin reads auto.conf before one) must see edits.
 */
export function readMakefile(file: string): Statement[] {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new SourceError(file, 0, `cannot read makefile: ${(e as Error).message}`);
  }
  noteContent(file);
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.statements;
  const statements = parseMakefile(file, readFileSync(file, 'utf8'));
  cache.set(file, { mtimeMs: st.mtimeMs, size: st.size, statements });
  return statements;
}

export function endsWithContinuation(line: string): boolean {
  let n = 0;
  for (let j = line.length - 1; j >= 0 && line[j] === '\\'; j--) n++;
  return n % 2 === 1;
}

/** make turns backslash-newline (and the whitespace around it) into one space outside recipes. */
export function collapseContinuations(value: string): string {
  return value.includes('\n') ? value.replace(/[ \t]*\n[ \t]*/g, ' ') : value;
}

/** A define's body: its lines, with backslash-newlines collapsed into one space (as make does). */
function joinDefineBody(lines: string[]): string {
  let out = '';
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k];
    if (endsWithContinuation(l) && k < lines.length - 1) out += l.slice(0, -1) + '\u0001';
    else out += l + (k < lines.length - 1 ? '\n' : '');
  }
  return out.replace(/[ \t]*\u0001[ \t]*/g, ' ');
}

export function stripComment(line: string): string {
  if (!line.includes('#')) return line;
  for (let j = 0; j < line.length; j++) {
    if (line[j] === '#') {
      let bs = 0;
      for (let k = j - 1; k >= 0 && line[k] === '\\'; k--) bs++;
      if (bs % 2 === 0) return line.slice(0, j);
      // `\#` is a literal '#'.
      line = line.slice(0, j - 1) + line.slice(j);
      j--;
    }
  }
  return line;
}

export function splitKeyword(text: string): [string, string] {
  const m = /^(-?[a-z]+)(?:[ \t]+|$)(.*)$/s.exec(text);
  if (!m) return ['', text];
  return [m[1], m[2]];
}

/** Index of `ch` outside any $(...) / ${...} nesting, or -1. */
export function topLevelIndex(text: string, ch: string): number {
  let depth = 0;
  for (let j = 0; j < text.length; j++) {
    const c = text[j];
    if (c === '$' && (text[j + 1] === '(' || text[j + 1] === '{')) {
      depth++;
      j++;
    } else if ((c === ')' || c === '}') && depth > 0) depth--;
    else if (c === ch && depth === 0) return j;
  }
  return -1;
}

export function findAssignment(body: string): { index: number; op: string } | undefined {
  let depth = 0;
  for (let j = 0; j < body.length; j++) {
    const c = body[j];
    if (c === '$' && (body[j + 1] === '(' || body[j + 1] === '{')) {
      depth++;
      j++;
      continue;
    }
    if ((c === ')' || c === '}') && depth > 0) {
      depth--;
      continue;
    }
    if (depth > 0) continue;
    if (c === ':' || c === '+' || c === '?' || c === '!' || c === '=') {
      for (const op of ASSIGN_OPS) {
        if (body.startsWith(op, j)) return { index: j, op };
      }
    }
    if (c === ':' || c === ';') return undefined; // a rule: `target: prereq` (`:=` was tested above)
  }
  return undefined;
}
