import { Tri, type Expr } from './expr';

export type SymType = 'unknown' | 'bool' | 'tristate' | 'int' | 'hex' | 'string';
export type PropType = 'prompt' | 'menu' | 'comment' | 'default' | 'select' | 'imply' | 'range';

/** Symbol flags, as in scripts/kconfig/expr.h. */
export const enum Flag {
  Const = 1 << 0,
  Valid = 1 << 1,
  Write = 1 << 2,
  DefUser = 1 << 4,
  DefAuto = 1 << 5,
}

export interface SourceLoc {
  file: string;
  line: number;
}

export interface Property extends SourceLoc {
  type: PropType;
  /** Prompt text (prompt, menu, comment). */
  text?: string;
  expr?: Expr;
  /** The condition (`if ...`), with the menu's dependencies once finalized. */
  visible: { expr?: Expr; tri: Tri };
  menu: Menu;
}

/** A node of the menu tree (struct menu). */
export interface Menu extends SourceLoc {
  sym?: KSymbol;
  prompt?: Property;
  dep?: Expr;
  visibility?: Expr;
  parent?: Menu;
  next?: Menu;
  list?: Menu;
  help?: string;
  /** For a choice: its members, highest priority first (choice->choice_members). */
  choiceMembers?: KSymbol[];
  /** `if` blocks are menu nodes without prompt or symbol. */
  isIf?: boolean;
}

export interface SymValue {
  val: string;
  tri: Tri;
}

export class KSymbol {
  type: SymType = 'unknown';
  flags: number;
  curr: SymValue = { val: '', tri: Tri.No };
  /** def[S_DEF_USER] and def[S_DEF_AUTO]. */
  user: SymValue = { val: '', tri: Tri.No };
  auto: SymValue = { val: '', tri: Tri.No };
  visible: Tri = Tri.No;
  dirDep: { expr?: Expr; tri: Tri } = { tri: Tri.Yes };
  revDep: { expr?: Expr; tri: Tri } = { tri: Tri.No };
  implied: { expr?: Expr; tri: Tri } = { tri: Tri.No };
  props: Property[] = [];
  menus: Menu[] = [];
  /** The choice whose member list holds this symbol (choice_link). */
  choice?: Menu;
  /** Memo of sym_get_choice_menu (null: not in a choice); set after the tree is finalized. */
  choiceMenu?: Menu | null;
  /** The expression naming this symbol, shared: expressions are never changed in place. */
  symExpr?: Expr;

  constructor(
    /** null for a choice (a choice is a symbol with no name). */
    readonly name: string | null,
    flags: number,
    /** Position in conf's symbol hash table, which decides auto.conf's order. */
    readonly bucket: number,
    readonly seq: number,
  ) {
    this.flags = flags;
  }

  /** A quoted constant ("foo", 64) rather than a symbol of the tree. */
  isConst(): boolean {
    return (this.flags & Flag.Const) !== 0;
  }

  isChoice(): boolean {
    return this.name === null;
  }

  isChoiceValue(): boolean {
    return this.choice !== undefined;
  }

  hasValue(): boolean {
    return (this.flags & Flag.DefUser) !== 0;
  }

  displayName(): string {
    return this.name ?? '<choice>';
  }
}

export const SYMBOL_HASHSIZE = 1 << 14;

/** scripts/include/hash.h: FNV-1a 32 over the name's bytes (char is signed on the kernel's hosts). */
export function hashStr(s: string): number {
  let h = 2166136261;
  // Symbol names are ASCII; anything else is hashed over its UTF-8 bytes.
  if (/^[\x00-\x7f]*$/.test(s)) {
    for (let i = 0; i < s.length; i++) h = Math.imul((h ^ s.charCodeAt(i)) >>> 0, 0x01000193) >>> 0;
    return h >>> 0;
  }
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] >= 0x80 ? bytes[i] - 256 : bytes[i];
    h = Math.imul((h ^ c) >>> 0, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
