/**
 * Macro definitions and expansion (C11 6.10.3, the parts exports need): object- and function-like
 * macros, `#` and `##`, variadic parameters, arguments expanded before substitution, rescanning
 * with each token carrying the names it must not expand again (cpp's hide sets).
 */
import { Kind, type Token } from './lexer';

export interface Macro {
  name: string;
  /** Parameter names of a function-like macro; undefined for an object-like one. */
  params?: string[];
  variadic?: boolean;
  body: Token[];
  file: string;
  line: number;
}

/** What the expander knows of a name: a macro, nothing, or "may be defined, cannot tell". */
export type Lookup = (name: string) => Macro | undefined;

export interface ExpandToken extends Token {
  hide?: ReadonlySet<string>;
}

export class MacroSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Parses the tokens after `#define`. */
export function parseDefine(tokens: Token[], file: string, line: number): Macro {
  const nameTok = tokens[0];
  if (!nameTok || nameTok.kind !== Kind.Identifier) throw new MacroSyntaxError('macro names must be identifiers', line);
  const name = nameTok.text;
  // Function-like only when "(" follows the name with no space between.
  if (tokens[1] && tokens[1].text === '(' && !tokens[1].space) {
    const params: string[] = [];
    let variadic = false;
    let k = 2;
    for (;;) {
      const t = tokens[k];
      if (!t) throw new MacroSyntaxError(`missing ')' in parameter list of macro "${name}"`, line);
      if (t.text === ')') break;
      if (t.text === '...') {
        variadic = true;
        params.push('__VA_ARGS__');
      } else if (t.kind === Kind.Identifier) {
        if (tokens[k + 1]?.text === '...') {
          variadic = true;
          k++;
        }
        params.push(t.text);
      } else if (t.text !== ',') throw new MacroSyntaxError(`invalid parameter list of macro "${name}"`, line);
      k++;
    }
    return { name, params, variadic, body: tokens.slice(k + 1), file, line };
  }
  return { name, body: tokens.slice(1), file, line };
}

/** Splits `( a, (b, c), d )` starting at `open`; returns the arguments and the index of ")". */
export function collectArguments(tokens: readonly ExpandToken[], open: number): { args: ExpandToken[][]; close: number } | undefined {
  const args: ExpandToken[][] = [[]];
  let depth = 0;
  for (let k = open + 1; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === Kind.Punct) {
      if (t.text === '(') depth++;
      else if (t.text === ')') {
        if (depth === 0) return { args, close: k };
        depth--;
      } else if (t.text === ',' && depth === 0) {
        args.push([]);
        continue;
      }
    }
    args[args.length - 1].push(t);
  }
  return undefined;
}

function stringify(arg: readonly Token[], line: number): ExpandToken {
  let s = '';
  arg.forEach((t, k) => {
    if (k > 0 && t.space) s += ' ';
    s += t.kind === Kind.String || t.kind === Kind.Char ? t.text.replace(/[\\"]/g, (c) => '\\' + c) : t.text;
  });
  return { kind: Kind.String, text: `"${s}"`, line, space: true };
}

function paste(left: ExpandToken, right: ExpandToken): ExpandToken {
  const text = left.text + right.text;
  const kind = /^[A-Za-z_$][\w$]*$/.test(text) ? Kind.Identifier : /^[0-9.]/.test(text) ? Kind.Number : left.kind;
  return { kind, text, line: left.line, space: left.space, hide: left.hide };
}

const PLACEMARKER: ExpandToken = { kind: Kind.Punct, text: '', line: 0, space: false };

export interface Expander {
  lookup: Lookup;
  /** Names left alone even when defined (the scanner reads their invocations). */
  stop?: ReadonlySet<string>;
  /**
   * Macros whose expansion, with opaque arguments, cannot contain a `stop` name (`module_param`'s
   * VERIFY_OCTAL_PERMISSIONS, THIS_MODULE, __aligned): left unexpanded where what they expand to
   * cannot matter to an invocation of a stop name. So only at the top of the expansion (not in an
   * argument being expanded first), outside every parenthesis (not in a call's arguments), not
   * after a name (a "(" it expands to could start a call), not before a "(" (a name it expands to
   * could take it), with its arguments well formed (an error is reported as before) and naming
   * opaque macros only (the body may pass them on). Expanding them was most of the time the
   * scanner spent expanding. A malformed invocation inside their definitions goes unreported, as
   * at the top of a file's code, where they are not expanded either.
   */
  opaque?: (name: string) => boolean;
}

/** Whether a call's arguments name only opaque macros (or none). */
function onlyOpaque(args: readonly ExpandToken[][], opaque: (name: string) => boolean): boolean {
  for (const a of args) for (const t of a) if (t.kind === Kind.Identifier && !opaque(t.text)) return false;
  return true;
}

/** Whether `m` can be invoked with `args` (what expand() would otherwise report). */
function takes(m: Macro, args: readonly ExpandToken[][]): boolean {
  const params = m.params!;
  const n = params.length === 0 && args.length === 1 && args[0].length === 0 ? 0 : args.length;
  return m.variadic === true || n === params.length || (params.length === 1 && n === 0);
}

/** Expands every macro in `input`, rescanning until nothing is left to expand. */
export function expand(input: readonly ExpandToken[], ex: Expander, depth = 0): ExpandToken[] {
  if (depth > 200) throw new MacroSyntaxError('macro expansion too deep', input[0]?.line ?? 0);
  const work: ExpandToken[] = input.slice();
  const out: ExpandToken[] = [];
  // Parentheses open in `out` (for opaque macros, at the top only).
  const opaque = depth === 0 ? ex.opaque : undefined;
  let open = 0;
  let i = 0;
  while (i < work.length) {
    const t = work[i];
    if (t.kind !== Kind.Identifier || t.hide?.has(t.text) || ex.stop?.has(t.text)) {
      if (opaque !== undefined && t.kind === Kind.Punct) open += t.text === '(' ? 1 : t.text === ')' ? -1 : 0;
      out.push(t);
      i++;
      continue;
    }
    const m = ex.lookup(t.text);
    if (!m) {
      out.push(t);
      i++;
      continue;
    }
    if (opaque !== undefined && open === 0 && out[out.length - 1]?.kind !== Kind.Identifier && opaque(t.text)) {
      const invoked = m.params !== undefined && work[i + 1]?.text === '(';
      const call = invoked ? collectArguments(work, i + 1) : undefined;
      const last = call === undefined ? i : call.close;
      if ((!invoked || (call !== undefined && takes(m, call.args) && onlyOpaque(call.args, opaque))) && work[last + 1]?.text !== '(') {
        for (let k = i; k <= last; k++) out.push(work[k]);
        i = last + 1;
        continue;
      }
    }
    const hide = withName(t.hide, m.name);
    if (!m.params) {
      const rep = substitute(m, [], hide, t, ex, depth);
      work.splice(i, 1, ...rep);
      continue;
    }
    if (work[i + 1]?.text !== '(') {
      out.push(t);
      i++;
      continue;
    }
    const call = collectArguments(work, i + 1);
    if (!call) throw new MacroSyntaxError(`unterminated argument list invoking macro "${m.name}"`, t.line);
    let args = call.args;
    if (m.params.length === 0 && args.length === 1 && args[0].length === 0) args = [];
    if (m.variadic) {
      const fixed = m.params.length - 1;
      if (args.length > fixed) args = [...args.slice(0, fixed), joinWithCommas(args.slice(fixed), t.line)];
      while (args.length < m.params.length) args.push([]);
    } else if (args.length !== m.params.length && !(m.params.length === 1 && args.length === 0)) {
      throw new MacroSyntaxError(`macro "${m.name}" passed ${args.length} arguments, but takes ${m.params.length}`, t.line);
    }
    const rep = substitute(m, args, hide, t, ex, depth);
    work.splice(i, call.close - i + 1, ...rep);
  }
  return out;
}

function joinWithCommas(args: ExpandToken[][], line: number): ExpandToken[] {
  const out: ExpandToken[] = [];
  args.forEach((a, k) => {
    if (k > 0) out.push({ kind: Kind.Punct, text: ',', line, space: false });
    out.push(...a);
  });
  return out;
}

function substitute(m: Macro, args: ExpandToken[][], hide: ReadonlySet<string>, site: Token, ex: Expander, depth: number): ExpandToken[] {
  const params = m.params ?? [];
  const expanded = new Map<number, ExpandToken[]>();
  const argOf = (name: string) => params.indexOf(name);
  const body = m.body;
  const out: ExpandToken[] = [];
  for (let k = 0; k < body.length; k++) {
    const b = body[k];
    if (m.params && b.text === '#' && body[k + 1] && argOf(body[k + 1].text) >= 0) {
      out.push(stringify(args[argOf(body[k + 1].text)] ?? [], site.line));
      k++;
      continue;
    }
    if (b.text === '##' && out.length > 0 && body[k + 1]) {
      const next = body[k + 1];
      const p = argOf(next.text);
      const right: ExpandToken[] = p >= 0 ? (args[p] ?? []) : [next];
      const left = out.pop()!;
      k++;
      if (right.length === 0) {
        out.push(left);
        continue;
      }
      if (left === PLACEMARKER) out.push(...right);
      else {
        out.push(paste(left, right[0]));
        out.push(...right.slice(1));
      }
      continue;
    }
    const p = b.kind === Kind.Identifier ? argOf(b.text) : -1;
    if (p >= 0) {
      const arg = args[p] ?? [];
      if (body[k + 1]?.text === '##') {
        // Operand of ##: the argument unexpanded (or a placemarker when empty).
        out.push(...(arg.length ? arg : [PLACEMARKER]));
        continue;
      }
      let e = expanded.get(p);
      if (!e) {
        e = expand(arg, ex, depth + 1);
        expanded.set(p, e);
      }
      out.push(...e);
      continue;
    }
    out.push(b);
  }
  // Each token takes the invocation's line and the hide set; built field by field (a spread of
  // each token was most of what expanding module_param's and the like's bodies cost).
  const result: ExpandToken[] = [];
  for (const t of out) {
    if (t === PLACEMARKER) continue;
    result.push({ kind: t.kind, text: t.text, line: site.line, space: result.length === 0 ? site.space : t.space, hide: mergeHide(t.hide, hide) });
  }
  return result;
}

/**
 * Hide sets are made once per thread and never changed: the same expansion (module_param's, say,
 * in every module) makes the same sets, so each is looked up from the one it extends or merges
 * rather than copied (copies were a sixth of what scanning a small module allocated).
 */
let EMPTY_HIDE: ReadonlySet<string> = new Set();
const extended = new WeakMap<ReadonlySet<string>, Map<string, ReadonlySet<string>>>();
const merged = new WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, ReadonlySet<string>>>();

/** Lets go of every hide set made (each is reachable from the empty one): before scanning a tree. */
export function forgetHideSets(): void {
  EMPTY_HIDE = new Set();
}

/** `set` with `name` added. */
function withName(set: ReadonlySet<string> | undefined, name: string): ReadonlySet<string> {
  const base = set ?? EMPTY_HIDE;
  let byName = extended.get(base);
  if (!byName) extended.set(base, (byName = new Map()));
  let out = byName.get(name);
  if (!out) {
    const s = new Set(base);
    s.add(name);
    byName.set(name, (out = s));
  }
  return out;
}

function mergeHide(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
  if (!a || a.size === 0 || a === b) return b;
  let withB = merged.get(a);
  if (!withB) merged.set(a, (withB = new WeakMap()));
  let out = withB.get(b);
  if (!out) {
    const s = new Set(a);
    for (const x of b) s.add(x);
    withB.set(b, (out = s));
  }
  return out;
}

/** The value of adjacent string literals ("a" "b" → ab), or undefined if `tokens` is not one. */
export function stringValue(tokens: readonly Token[]): string | undefined {
  if (tokens.length === 0) return undefined;
  let s = '';
  for (const t of tokens) {
    if (t.kind !== Kind.String) return undefined;
    s += unescapeC(t.text.slice(1, -1));
  }
  return s;
}

function unescapeC(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}
