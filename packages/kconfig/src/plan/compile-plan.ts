import type { KconfigTree } from '../conf';
import type { Expr } from '../model/expr';
import { subEntries } from '../model/kconfig';
import type { KSymbol, Menu, Property } from '../model/symbol';
import { COMPARE_OPS, ExprKind, nameHash, planTables, PROP_TYPES, SYM_TYPES, TABLE_NAMES, type EvalPlan, type PlanMeta, type TableName } from './eval-plan';

/** Gives each distinct value the index it got when first seen, appending it to `list`. */
function interner<T>(list: T[]): (value: T) => number {
  const ids = new Map<T, number>();
  return (value) => {
    let id = ids.get(value);
    if (id === undefined) {
      id = list.length;
      list.push(value);
      ids.set(value, id);
    }
    return id;
  };
}

/** A tree the plan cannot stand for (a symbol sym_find would not give back by its name). */
export class PlanMismatch extends Error {}

/**
 * Flattens a finalized tree, before any value is calculated, into an EvalPlan. Every table row is
 * the object's state as it is now, so evaluating the plan starts where evaluating the tree would.
 */
export function compilePlan(tree: KconfigTree, meta: Omit<PlanMeta, 'env' | 'messages'>): EvalPlan {
  const { kc } = tree;
  const t = Object.fromEntries(TABLE_NAMES.map((n) => [n, [] as number[]])) as Record<TableName, number[]>;
  const strings: string[] = [];
  const string = interner(strings);
  const str = (s: string | undefined | null): number => (s === undefined || s === null ? -1 : string(s));
  // Symbols: y, m, n, then conf's hash order; any other symbol an expression names is appended.
  const syms: KSymbol[] = [];
  const sym = interner(syms);
  for (const s of [kc.yes, kc.mod, kc.no, ...kc.allSymbols()]) sym(s);

  const exprIds = new Map<Expr, number>();
  const expr = (e: Expr | undefined): number => {
    if (!e) return -1;
    const known = exprIds.get(e);
    if (known !== undefined) return known;
    let a: number;
    let b = -1;
    let op = -1;
    switch (e.kind) {
      case 'sym':
        a = sym(e.sym);
        break;
      case 'not':
        a = expr(e.e);
        break;
      case 'and':
      case 'or': {
        // A chain of the same operator is one node over its operands, in the same order (no
        // operand is skipped either way, so the order of calculation is conf's).
        const operands: number[] = [];
        const flatten = (x: Expr) => {
          if (x.kind === e.kind) {
            flatten(x.l);
            flatten(x.r);
          } else operands.push(expr(x));
        };
        flatten(e);
        a = t.operands.length;
        t.operands.push(...operands);
        b = t.operands.length;
        break;
      }
      case 'cmp':
      case 'range':
        if (e.kind === 'cmp') op = COMPARE_OPS.indexOf(e.op);
        a = sym(e.l);
        b = sym(e.r);
        break;
    }
    const id = t.exprKind.length;
    const kind = { sym: ExprKind.Sym, not: ExprKind.Not, and: ExprKind.And, or: ExprKind.Or, range: ExprKind.Range, cmp: ExprKind.Cmp }[e.kind];
    t.exprKind.push(kind);
    t.exprA.push(a);
    t.exprB.push(b);
    t.exprOp.push(op);
    exprIds.set(e, id);
    return id;
  };

  const propIds = new Map<Property, number>();
  const prop = (p: Property): number => {
    const id = t.propType.length;
    propIds.set(p, id);
    t.propType.push(PROP_TYPES.indexOf(p.type));
    t.propText.push(str(p.text));
    t.propVisExpr.push(expr(p.visible.expr));
    t.propVisTri.push(p.visible.tri);
    t.propExpr.push(expr(p.expr));
    return id;
  };

  const choiceIds = new Map<Menu, number>();
  const choice = (m: Menu): number => {
    let id = choiceIds.get(m);
    if (id !== undefined) return id;
    id = t.choiceSym.length;
    choiceIds.set(m, id);
    t.choiceSym.push(m.sym ? sym(m.sym) : -1);
    // readConfig reorders a choice's member list only when it has one: every choice here has.
    if (!m.choiceMembers) throw new PlanMismatch(`a choice at ${m.file}:${m.line} has no member list`);
    t.memberStart.push(t.members.length);
    for (const s of m.choiceMembers) t.members.push(sym(s));
    t.subStart.push(t.subs.length);
    for (const sub of subEntries(m)) if (sub.sym) t.subs.push(sym(sub.sym));
    return id;
  };

  // The menu tree, depth first from the root (index 0).
  const menus: Menu[] = [];
  const menuIds = new Map<Menu, number>();
  const walk = (m: Menu) => {
    menuIds.set(m, menus.length);
    menus.push(m);
    for (let c = m.list; c; c = c.next) walk(c);
  };
  walk(kc.rootmenu);
  for (const m of menus) if (m.sym) sym(m.sym);

  // One row per symbol, in index order; flattening a row's expressions and choice may index more
  // symbols, whose rows follow.
  let rows = 0;
  const flushSymbols = () => {
    for (; rows < syms.length; rows++) {
      const s = syms[rows];
      t.symType.push(SYM_TYPES.indexOf(s.type));
      t.symName.push(str(s.name));
      t.symFlags.push(s.flags);
      t.currTri.push(s.curr.tri);
      t.currVal.push(str(s.curr.val));
      t.userTri.push(s.user.tri);
      t.userVal.push(str(s.user.val));
      t.autoTri.push(s.auto.tri);
      t.autoVal.push(str(s.auto.val));
      t.visible.push(s.visible);
      t.dirDepTri.push(s.dirDep.tri);
      t.revDepTri.push(s.revDep.tri);
      t.impliedTri.push(s.implied.tri);
      t.dirDepExpr.push(expr(s.dirDep.expr));
      t.revDepExpr.push(expr(s.revDep.expr));
      t.impliedExpr.push(expr(s.implied.expr));
      t.propStart.push(t.propType.length);
      for (const p of s.props) prop(p);
      t.propEnd.push(t.propType.length);
      t.inChoice.push(s.choice !== undefined ? 1 : 0);
      const m = kc.choiceMenuOf(s);
      t.choiceOf.push(m ? choice(m) : -1);
    }
  };
  flushSymbols();

  const menuRef = (m: Menu | undefined) => (m ? (menuIds.get(m) ?? -1) : -1);
  for (const m of menus) {
    t.menuSym.push(m.sym ? sym(m.sym) : -1);
    t.menuPrompt.push(m.prompt ? (propIds.get(m.prompt) ?? prop(m.prompt)) : -1);
    t.menuVisibility.push(expr(m.visibility));
    t.menuList.push(menuRef(m.list));
    t.menuNext.push(menuRef(m.next));
    t.menuParent.push(menuRef(m.parent));
  }
  flushSymbols();
  t.memberStart.push(t.members.length);
  t.subStart.push(t.subs.length);

  for (const s of kc.allSymbols()) t.hashOrder.push(sym(s));
  const named = syms.filter((s) => s.name !== null && !s.isConst());
  let size = 1;
  while (size < 2 * named.length) size *= 2;
  t.names = new Array<number>(size).fill(-1);
  for (const s of named) {
    if (kc.find(s.name!) !== s) throw new PlanMismatch(`symbol ${s.name} is not the one its name finds`);
    let slot = nameHash(s.name!) & (size - 1);
    while (t.names[slot] >= 0) slot = (slot + 1) & (size - 1);
    t.names[slot] = sym(s);
  }
  t.special.push(sym(kc.yes), sym(kc.mod), sym(kc.no), sym(kc.modulesSym), kc.modulesValue);

  const tables = planTables((n) => Int32Array.from(t[n]));
  return { meta: { ...meta, env: [...tree.env], messages: tree.messages }, strings, tables };
}
