/**
 * A finalized Kconfig tree flattened into integer tables: what an olddefconfig or syncconfig needs
 * to calculate every value and write .config, auto.conf and autoconf.h, and nothing else (no help
 * texts, no source positions). Kept between runs as the tables' bytes, so loading it is reading a
 * file: a configuration edited since the last run is evaluated without building ~300,000 objects
 * (the kept object graph's decode alone took longer than the whole evaluation does here).
 *
 * Every reference is an index into another table (-1: none). Strings are indices into `strings`.
 */
export interface EvalPlan {
  meta: PlanMeta;
  strings: string[];
  tables: PlanTables;
}

export interface PlanMeta {
  /** The model key (model-cache.ts) of the tree this plan was made from, and what it covers. */
  key: string;
  files: string[];
  envNames: string[];
  shellCommands: string[];
  /** The environment values the tree used (auto.conf.cmd), and the parser's warnings. */
  env: [string, string][];
  messages: string[];
}

/** Symbol types, property types and expression kinds as small integers. */
export const SYM_TYPES = ['unknown', 'bool', 'tristate', 'int', 'hex', 'string'] as const;
/** SYM_TYPES' indices, by name. */
export const enum SymCode {
  Unknown = 0,
  Bool = 1,
  Tristate = 2,
  Int = 3,
  Hex = 4,
  String = 5,
}
export const PROP_TYPES = ['prompt', 'menu', 'comment', 'default', 'select', 'imply', 'range'] as const;
export const enum ExprKind {
  Sym = 0,
  Not = 1,
  And = 2,
  Or = 3,
  Range = 4,
  Cmp = 5,
}
export const COMPARE_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;

export const TABLE_NAMES = [
  // symbols: type, initial state and the expressions their value depends on
  'symType',
  'symName',
  'symFlags',
  'currTri',
  'currVal',
  'userTri',
  'userVal',
  'autoTri',
  'autoVal',
  'visible',
  'dirDepTri',
  'revDepTri',
  'impliedTri',
  'dirDepExpr',
  'revDepExpr',
  'impliedExpr',
  /** Symbol i's properties are propStart[i] .. propEnd[i] - 1. */
  'propStart',
  'propEnd',
  /** sym_get_choice_menu, as an index into the choice tables. */
  'choiceOf',
  /** 1 when the symbol is in a choice's member list (sym->choice). */
  'inChoice',
  // properties (symbols' first, then prompts of menus without a symbol)
  'propType',
  'propText',
  'propVisExpr',
  'propVisTri',
  'propExpr',
  // expressions: for Sym, a is the symbol; Not, a is the operand; And/Or, the operands are
  // operands[a] .. operands[b - 1] (a chain of one operator is one node); Cmp and Range, a and b
  // are symbols (op for Cmp)
  'exprKind',
  'exprA',
  'exprB',
  'exprOp',
  'operands',
  // choices: the choice symbol, its member list and the symbols of its menu's sub-entries
  'choiceSym',
  'memberStart',
  'members',
  'subStart',
  'subs',
  // the menu tree (index 0 is the root menu)
  'menuSym',
  'menuPrompt',
  'menuVisibility',
  'menuList',
  'menuNext',
  'menuParent',
  /** conf's symbol hash-table order (auto.conf). */
  'hashOrder',
  /**
   * The symbols sym_find sees, by name: an open-addressing table (a power of two long, -1 for
   * empty) indexed by nameHash, so a lookup needs no Map built first.
   */
  'names',
  /** The constants y, m, n, the MODULES symbol and the value of MODULES last calculated. */
  'special',
] as const;

/** FNV-1a over a name's UTF-16 units (the plan's own table; conf's buckets are symbol.ts hashStr). */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export type TableName = (typeof TABLE_NAMES)[number];
export type PlanTables = Record<TableName, Int32Array>;

/**
 * The tables as one object literal: its properties stay fast (an object given 40-odd properties one
 * by one becomes a dictionary, and every table access a hash lookup).
 */
export function planTables(get: (name: TableName) => Int32Array): PlanTables {
  // prettier-ignore
  return {
    symType: get('symType'), symName: get('symName'), symFlags: get('symFlags'), currTri: get('currTri'),
    currVal: get('currVal'), userTri: get('userTri'), userVal: get('userVal'), autoTri: get('autoTri'),
    autoVal: get('autoVal'), visible: get('visible'), dirDepTri: get('dirDepTri'),
    revDepTri: get('revDepTri'), impliedTri: get('impliedTri'), dirDepExpr: get('dirDepExpr'),
    revDepExpr: get('revDepExpr'), impliedExpr: get('impliedExpr'), propStart: get('propStart'),
    propEnd: get('propEnd'), choiceOf: get('choiceOf'), inChoice: get('inChoice'),
    propType: get('propType'), propText: get('propText'), propVisExpr: get('propVisExpr'),
    propVisTri: get('propVisTri'), propExpr: get('propExpr'), exprKind: get('exprKind'),
    exprA: get('exprA'), exprB: get('exprB'), exprOp: get('exprOp'), operands: get('operands'),
    choiceSym: get('choiceSym'), memberStart: get('memberStart'), members: get('members'),
    subStart: get('subStart'), subs: get('subs'), menuSym: get('menuSym'), menuPrompt: get('menuPrompt'),
    menuVisibility: get('menuVisibility'), menuList: get('menuList'), menuNext: get('menuNext'),
    menuParent: get('menuParent'), hashOrder: get('hashOrder'), names: get('names'),
    special: get('special'),
  };
}
