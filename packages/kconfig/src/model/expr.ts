import type { KSymbol } from './symbol';

/** Tristate values, ordered as in scripts/kconfig: n < m < y. */
export const enum Tri {
  No = 0,
  Mod = 1,
  Yes = 2,
}

/** A tristate as .config spells it. */
export const TRI_TEXT: Readonly<Record<Tri, 'n' | 'm' | 'y'>> = ['n', 'm', 'y'];

export const triAnd = (a: Tri, b: Tri): Tri => (a < b ? a : b);
export const triOr = (a: Tri, b: Tri): Tri => (a > b ? a : b);
export const triNot = (a: Tri): Tri => (2 - a) as Tri;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A Kconfig expression (scripts/kconfig/expr.h), without conf's simplifier: values are the same. */
export type Expr =
  | { kind: 'sym'; sym: KSymbol }
  | { kind: 'not'; e: Expr }
  | { kind: 'and' | 'or'; l: Expr; r: Expr }
  | { kind: 'cmp'; op: CompareOp; l: KSymbol; r: KSymbol }
  | { kind: 'range'; l: KSymbol; r: KSymbol };

/** expr_alloc_and: a missing side is the identity. */
export function exprAnd(a: Expr | undefined, b: Expr | undefined): Expr | undefined {
  if (!a) return b;
  return b ? { kind: 'and', l: a, r: b } : a;
}

export function exprOr(a: Expr | undefined, b: Expr | undefined): Expr | undefined {
  if (!a) return b;
  return b ? { kind: 'or', l: a, r: b } : a;
}

export function exprSym(sym: KSymbol): Expr {
  return (sym.symExpr ??= { kind: 'sym', sym });
}

/** Symbols an expression mentions (for dependency-loop detection). */
export function exprSymbols(e: Expr | undefined, out: KSymbol[] = []): KSymbol[] {
  if (!e) return out;
  switch (e.kind) {
    case 'sym':
      out.push(e.sym);
      break;
    case 'not':
      exprSymbols(e.e, out);
      break;
    case 'and':
    case 'or':
      exprSymbols(e.l, out);
      exprSymbols(e.r, out);
      break;
    case 'cmp':
    case 'range':
      out.push(e.l, e.r);
      break;
  }
  return out;
}

/** expr_gstr_print's notation, for messages. */
export function exprToString(e: Expr | undefined, parentPrec = 0): string {
  if (!e) return 'y';
  const prec = { or: 1, and: 2, cmp: 3, range: 3, not: 4, sym: 5 }[e.kind];
  let s: string;
  switch (e.kind) {
    case 'sym':
      s = e.sym.displayName();
      break;
    case 'not':
      s = `!${exprToString(e.e, prec)}`;
      break;
    case 'and':
      s = `${exprToString(e.l, prec)} && ${exprToString(e.r, prec)}`;
      break;
    case 'or':
      s = `${exprToString(e.l, prec)} || ${exprToString(e.r, prec)}`;
      break;
    case 'cmp':
      s = `${e.l.displayName()}${e.op}${e.r.displayName()}`;
      break;
    case 'range':
      s = `[${e.l.displayName()} ${e.r.displayName()}]`;
      break;
  }
  return prec < parentPrec ? `(${s})` : s;
}
