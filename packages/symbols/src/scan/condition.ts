/**
 * `#if` expressions in three values: a number, or UNKNOWN when the answer depends on a macro the
 * scanner cannot see (a header it does not follow). `&&`, `||` and `?:` short-circuit past
 * unknowns, so `IS_ENABLED(CONFIG_X) && HEADER_MACRO` is still decided when CONFIG_X is off.
 */
import { Kind, type Token } from './lexer';
import { expand, MacroSyntaxError, type ExpandToken, type Lookup } from './macros';

export const UNKNOWN = Symbol('unknown');
export type Value = number | typeof UNKNOWN;

/** What the preprocessor knows of one name. */
export type Definedness = 'defined' | 'undefined' | 'unknown';

export interface ConditionContext {
  lookup: Lookup;
  definedness(name: string): Definedness;
}

const KCONFIG_TESTS = new Set(['IS_ENABLED', 'IS_BUILTIN', 'IS_MODULE', 'IS_REACHABLE']);

function tok(text: string, line: number): ExpandToken {
  return { kind: Kind.Number, text, line, space: true };
}

/** Value of a macro defined as a plain number (CONFIG_FOO 1), or unknown. */
function definedAsOne(ctx: ConditionContext, name: string): Value {
  const d = ctx.definedness(name);
  if (d === 'unknown') return UNKNOWN;
  if (d === 'undefined') return 0;
  const m = ctx.lookup(name);
  return m && m.body.length === 1 && m.body[0].text === '1' ? 1 : 0;
}

/** include/linux/kconfig.h's tests, by their definition rather than by expanding its tricks. */
function kconfigTest(ctx: ConditionContext, test: string, option: string): Value {
  const builtin = definedAsOne(ctx, option);
  const module = definedAsOne(ctx, option + '_MODULE');
  const or = (a: Value, b: Value): Value => (a === 1 || b === 1 ? 1 : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : 0);
  const and = (a: Value, b: Value): Value => (a === 0 || b === 0 ? 0 : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : 1);
  switch (test) {
    case 'IS_BUILTIN':
      return builtin;
    case 'IS_MODULE':
      return module;
    case 'IS_ENABLED':
      return or(builtin, module);
    default: {
      const inModule = ctx.definedness('MODULE');
      return or(builtin, and(module, inModule === 'unknown' ? UNKNOWN : inModule === 'defined' ? 1 : 0));
    }
  }
}

const unknownToken = (line: number): ExpandToken => ({ kind: Kind.Identifier, text: '\0unknown', line, space: true });

/** Replaces `defined X`, `defined(X)` and the Kconfig tests before macro expansion. */
function resolveOperators(tokens: readonly Token[], ctx: ConditionContext, line: number): ExpandToken[] {
  const out: ExpandToken[] = [];
  const value = (v: Value) => out.push(v === UNKNOWN ? unknownToken(line) : tok(String(v), line));
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== Kind.Identifier) {
      out.push(t);
      continue;
    }
    if (t.text === 'defined') {
      const paren = tokens[k + 1]?.text === '(';
      const name = tokens[k + (paren ? 2 : 1)];
      if (!name || name.kind !== Kind.Identifier || (paren && tokens[k + 3]?.text !== ')'))
        throw new MacroSyntaxError('operator "defined" requires an identifier', line);
      const d = ctx.definedness(name.text);
      value(d === 'unknown' ? UNKNOWN : d === 'defined' ? 1 : 0);
      k += paren ? 3 : 1;
      continue;
    }
    if (KCONFIG_TESTS.has(t.text) && tokens[k + 1]?.text === '(' && tokens[k + 3]?.text === ')' && tokens[k + 2].kind === Kind.Identifier) {
      value(kconfigTest(ctx, t.text, tokens[k + 2].text));
      k += 3;
      continue;
    }
    if (/^__has_(?:include|include_next|attribute|builtin|feature|cpp_attribute)$/.test(t.text) && tokens[k + 1]?.text === '(') {
      let depth = 0;
      let j = k + 1;
      for (; j < tokens.length; j++) {
        if (tokens[j].text === '(') depth++;
        else if (tokens[j].text === ')' && --depth === 0) break;
      }
      value(UNKNOWN);
      k = j;
      continue;
    }
    out.push(t);
  }
  return out;
}

function parseNumber(text: string, line: number): number {
  const t = text.replace(/[uUlL]+$/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^0[bB][01]+$/.test(t)) return parseInt(t.slice(2), 2);
  if (/^0[0-7]*$/.test(t)) return parseInt(t, 8) || 0;
  if (/^[1-9][0-9]*$/.test(t)) return parseInt(t, 10);
  throw new MacroSyntaxError(`invalid integer "${text}" in #if`, line);
}

function charValue(text: string): number {
  const body = text.replace(/^[LuU8]*'/, '').slice(0, -1);
  if (body[0] !== '\\') return body.charCodeAt(0) || 0;
  const e = body.slice(1);
  if (e[0] === 'x') return parseInt(e.slice(1), 16);
  if (/^[0-7]/.test(e)) return parseInt(e, 8);
  return ({ n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34 } as Record<string, number>)[e] ?? e.charCodeAt(0);
}

const BINARY: Record<string, number> = {
  '*': 10, '/': 10, '%': 10, '+': 9, '-': 9, '<<': 8, '>>': 8, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '==': 6, '!=': 6, '&': 5, '^': 4, '|': 3, '&&': 2, '||': 1,
};

/** Evaluates the tokens of an `#if`/`#elif`. */
export function evaluateCondition(tokens: readonly Token[], ctx: ConditionContext, line: number): Value {
  const resolved = resolveOperators(tokens, ctx, line);
  const expanded = expand(resolved, { lookup: ctx.lookup });
  // `defined` produced by an expansion (undefined behaviour, but the kernel's headers do it).
  const again = expanded.some((t) => t.text === 'defined') ? resolveOperators(expanded, ctx, line) : expanded;
  let pos = 0;
  const peek = () => again[pos]?.text;

  const primary = (): Value => {
    const t = again[pos++];
    if (!t) throw new MacroSyntaxError('#if with no expression', line);
    if (t.text === '(') {
      const v = ternary();
      if (again[pos++]?.text !== ')') throw new MacroSyntaxError("missing ')' in expression", line);
      return v;
    }
    if (t.text === '!' || t.text === '-' || t.text === '+' || t.text === '~') {
      const v = primary();
      if (v === UNKNOWN) return UNKNOWN;
      return t.text === '!' ? Number(!v) : t.text === '-' ? -v : t.text === '~' ? ~v : v;
    }
    if (t.kind === Kind.Number) return parseNumber(t.text, line);
    if (t.kind === Kind.Char) return charValue(t.text);
    if (t.kind === Kind.Identifier) {
      if (t.text === '\0unknown') return UNKNOWN;
      // A function-like macro the scanner cannot expand (its header is not followed).
      if (peek() === '(') {
        let depth = 0;
        for (; pos < again.length; pos++) {
          if (again[pos].text === '(') depth++;
          else if (again[pos].text === ')' && --depth === 0) break;
        }
        pos++;
        return UNKNOWN;
      }
      // Identifiers left after expansion are 0, unless the name may be defined where we cannot see.
      return ctx.definedness(t.text) === 'undefined' ? 0 : UNKNOWN;
    }
    throw new MacroSyntaxError(`token "${t.text}" is not valid in preprocessor expressions`, line);
  };

  const binary = (minPrec: number): Value => {
    let left = primary();
    for (;;) {
      const op = peek();
      const prec = op !== undefined ? BINARY[op] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      pos++;
      const right = binary(prec + 1);
      left = apply(op!, left, right);
    }
  };

  const ternary = (): Value => {
    const c = binary(1);
    if (peek() !== '?') return c;
    pos++;
    const a = ternary();
    if (again[pos++]?.text !== ':') throw new MacroSyntaxError("missing ':' in conditional expression", line);
    const b = ternary();
    if (c === UNKNOWN) return a === b ? a : UNKNOWN;
    return c ? a : b;
  };

  const v = ternary();
  if (pos < again.length) throw new MacroSyntaxError(`missing binary operator before token "${again[pos].text}"`, line);
  return v;
}

function apply(op: string, a: Value, b: Value): Value {
  if (op === '&&') return a === 0 || b === 0 ? 0 : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : 1;
  if (op === '||') return (a !== UNKNOWN && a !== 0) || (b !== UNKNOWN && b !== 0) ? 1 : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : 0;
  if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
  switch (op) {
    case '*': return a * b;
    case '/': return b === 0 ? UNKNOWN : Math.trunc(a / b);
    case '%': return b === 0 ? UNKNOWN : a % b;
    case '+': return a + b;
    case '-': return a - b;
    case '<<': return a * 2 ** b;
    case '>>': return Math.floor(a / 2 ** b);
    case '<': return Number(a < b);
    case '<=': return Number(a <= b);
    case '>': return Number(a > b);
    case '>=': return Number(a >= b);
    case '==': return Number(a === b);
    case '!=': return Number(a !== b);
    case '&': return Number(BigInt(a) & BigInt(b));
    case '^': return Number(BigInt(a) ^ BigInt(b));
    default: return Number(BigInt(a) | BigInt(b));
  }
}
