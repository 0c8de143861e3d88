import { triAnd, triNot, triOr, Tri, TRI_TEXT, type CompareOp, type Expr } from './expr';
import { Flag, hashStr, KSymbol, SYMBOL_HASHSIZE, type Menu, type Property, type SymType } from './symbol';

/**
 * The symbol table and value calculation of scripts/kconfig/symbol.c, with the same rules:
 * tristate logic, visibility from prompts, defaults, select/imply, choices, ranges, MODULES.
 */
export class Kconfig {
  readonly yes: KSymbol;
  readonly mod: KSymbol;
  readonly no: KSymbol;
  readonly rootmenu: Menu;
  modulesSym: KSymbol;
  private modulesVal: Tri = Tri.No;
  /** Symbols of the tree by name, and quoted constants ("foo") by text: sym_lookup keeps them apart. */
  private readonly byName = new Map<string, KSymbol>();
  private readonly constants = new Map<string, KSymbol>();
  private readonly symbols: KSymbol[] = [];
  private hashOrder: KSymbol[] | undefined;
  private seq = 0;
  /** Warnings conf prints while calculating (unmet direct dependencies). */
  readonly warnings: string[] = [];

  constructor() {
    const constant = (name: string, tri: Tri) => {
      const s = new KSymbol(name, Flag.Const | Flag.Valid, -1, -1);
      s.type = 'tristate';
      s.curr = { val: name, tri };
      return s;
    };
    this.yes = constant('y', Tri.Yes);
    this.mod = constant('m', Tri.Mod);
    this.no = constant('n', Tri.No);
    this.modulesSym = this.no;
    this.rootmenu = { file: '', line: 0 };
  }

  /** sym_lookup: y/m/n are the constants; quoted names (`Flag.Const`) and plain ones are distinct. */
  lookup(name: string | null, flags = 0): KSymbol {
    if (name !== null) {
      if (name === 'y') return this.yes;
      if (name === 'm') return this.mod;
      if (name === 'n') return this.no;
      const known = (flags & Flag.Const ? this.constants : this.byName).get(name);
      if (known) return known;
    }
    const bucket = name === null ? 0 : hashStr(name) % SYMBOL_HASHSIZE;
    const sym = new KSymbol(name, flags, bucket, this.seq++);
    if (name !== null) (flags & Flag.Const ? this.constants : this.byName).set(name, sym);
    this.symbols.push(sym);
    this.hashOrder = undefined;
    return sym;
  }

  /** sym_find: an existing non-constant symbol. */
  find(name: string): KSymbol | undefined {
    if (name === 'y') return this.yes;
    if (name === 'm') return this.mod;
    if (name === 'n') return this.no;
    return this.byName.get(name);
  }

  /** How many symbols lookup created (each has a distinct `seq` below this). */
  get symbolCount(): number {
    return this.seq;
  }

  /** for_all_symbols: conf's hash table order (bucket by bucket, newest first within one). */
  allSymbols(): KSymbol[] {
    if (!this.hashOrder) {
      this.hashOrder = [...this.symbols].sort((a, b) => a.bucket - b.bucket || b.seq - a.seq);
    }
    return this.hashOrder;
  }

  /** MODULES' value as the calculation last saw it (what `m` means for tristates). */
  get modulesValue(): Tri {
    return this.modulesVal;
  }

  typeOf(sym: KSymbol): SymType {
    return sym.type === 'tristate' && this.modulesVal === Tri.No ? 'bool' : sym.type;
  }

  calcExpr(e: Expr | undefined): Tri {
    if (!e) return Tri.Yes;
    switch (e.kind) {
      case 'sym':
        this.calcValue(e.sym);
        return e.sym.curr.tri;
      case 'and':
        return triAnd(this.calcExpr(e.l), this.calcExpr(e.r));
      case 'or':
        return triOr(this.calcExpr(e.l), this.calcExpr(e.r));
      case 'not':
        return triNot(this.calcExpr(e.e));
      case 'range':
        return Tri.No;
      case 'cmp':
        return this.compare(e.op, e.l, e.r);
    }
  }

  private compare(op: CompareOp, l: KSymbol, r: KSymbol): Tri {
    this.calcValue(l);
    this.calcValue(r);
    return compareValues(op, this.stringValue(l), l.type, this.stringValue(r), r.type);
  }

  stringValue(sym: KSymbol): string {
    if (sym.type === 'bool' || sym.type === 'tristate') return TRI_TEXT[sym.curr.tri];
    return sym.curr.val;
  }

  /** sym_get_choice_menu: the choice a symbol's prompt sits in, if any. */
  choiceMenuOf(sym: KSymbol): Menu | undefined {
    // The menu tree is fixed once finalized, so the answer is memoized per symbol.
    if (sym.choiceMenu !== undefined) return sym.choiceMenu || undefined;
    let menu = sym.menus.find((m) => m.prompt);
    if (menu) {
      do menu = menu.parent;
      while (menu && !menu.sym);
    }
    const result = menu?.sym?.isChoice() ? menu : undefined;
    sym.choiceMenu = result ?? null;
    return result;
  }

  /** sym_get_default_prop: the first default whose condition is not n. */
  defaultProp(sym: KSymbol): Property | undefined {
    for (const p of sym.props) {
      if (p.type !== 'default') continue;
      p.visible.tri = this.calcExpr(p.visible.expr);
      if (p.visible.tri !== Tri.No) return p;
    }
    return undefined;
  }

  rangeProp(sym: KSymbol): Property | undefined {
    for (const p of sym.props) {
      if (p.type !== 'range') continue;
      p.visible.tri = this.calcExpr(p.visible.expr);
      if (p.visible.tri !== Tri.No) return p;
    }
    return undefined;
  }

  rangeValue(sym: KSymbol, base: number): bigint {
    this.calcValue(sym);
    if (sym.type === 'int') base = 10;
    if (sym.type === 'hex') base = 16;
    return strtoll(sym.curr.val, base);
  }

  private validateRange(sym: KSymbol): void {
    if (sym.type !== 'int' && sym.type !== 'hex') return;
    const base = sym.type === 'int' ? 10 : 16;
    const prop = this.rangeProp(sym);
    if (!prop || prop.expr?.kind !== 'range') return;
    const val = strtoll(sym.curr.val, base);
    let rangeSym = prop.expr.l;
    if (val >= this.rangeValue(rangeSym, base)) {
      rangeSym = prop.expr.r;
      if (val <= this.rangeValue(rangeSym, base)) return;
    }
    sym.curr = { ...sym.curr, val: rangeSym.curr.val };
  }

  calcVisibility(sym: KSymbol): void {
    let tri = Tri.No;
    for (const p of sym.props) {
      if (p.text === undefined) continue;
      p.visible.tri = this.calcExpr(p.visible.expr);
      tri = triOr(tri, p.visible.tri);
    }
    if (tri === Tri.Mod && (sym.type !== 'tristate' || this.modulesVal === Tri.No)) tri = Tri.Yes;
    sym.visible = tri;
    if (sym.isChoiceValue()) return;
    const boolish = (t: Tri) => (t === Tri.Mod && this.typeOf(sym) === 'bool' ? Tri.Yes : t);
    sym.dirDep.tri = boolish(sym.dirDep.expr ? this.calcExpr(sym.dirDep.expr) : Tri.Yes);
    sym.revDep.tri = boolish(sym.revDep.expr ? this.calcExpr(sym.revDep.expr) : Tri.No);
    sym.implied.tri = boolish(sym.implied.expr ? this.calcExpr(sym.implied.expr) : Tri.No);
  }

  /** sym_choice_default */
  choiceDefault(choice: Menu): KSymbol | undefined {
    for (const p of choice.sym!.props) {
      if (p.type !== 'default') continue;
      p.visible.tri = this.calcExpr(p.visible.expr);
      if (p.visible.tri === Tri.No) continue;
      const def = p.expr?.kind === 'sym' ? p.expr.sym : undefined;
      if (def && def.visible !== Tri.No) return def;
    }
    for (const m of subEntries(choice)) if (m.sym && m.sym.visible !== Tri.No) return m.sym;
    return undefined;
  }

  /** sym_calc_choice: exactly one visible member is y. */
  private calcChoice(choice: Menu): KSymbol | undefined {
    let res: KSymbol | undefined;
    for (const sym of choice.choiceMembers ?? []) {
      this.calcVisibility(sym);
      if (sym.visible === Tri.No) continue;
      if (sym.hasValue() && sym.user.tri === Tri.Yes) {
        res = sym;
        break;
      }
    }
    if (!res) {
      res = this.choiceDefault(choice);
      if (res && res.hasValue() && res.user.tri === Tri.No) res = undefined;
    }
    if (!res) {
      for (const m of subEntries(choice)) {
        const s = m.sym;
        if (!s || s.visible === Tri.No || s.hasValue()) continue;
        res = s;
        break;
      }
    }
    if (!res) {
      const members = choice.choiceMembers ?? [];
      for (let i = members.length - 1; i >= 0; i--) {
        if (members[i].visible === Tri.No) continue;
        res = members[i];
        break;
      }
    }
    for (const m of subEntries(choice)) {
      const s = m.sym;
      if (!s || s.visible === Tri.No) continue;
      s.curr = { ...s.curr, tri: s === res ? Tri.Yes : Tri.No };
      s.flags |= Flag.Valid | Flag.Write;
    }
    return res;
  }

  /** sym_calc_value */
  calcValue(sym: KSymbol | undefined): void {
    if (!sym || sym.flags & Flag.Valid) return;
    sym.flags |= Flag.Valid;
    const newval: { val: string; tri: Tri } = { val: '', tri: Tri.No };
    switch (sym.type) {
      case 'int':
        newval.val = '0';
        break;
      case 'hex':
        newval.val = '0x0';
        break;
      case 'string':
        newval.val = '';
        break;
      case 'bool':
      case 'tristate':
        newval.val = 'n';
        break;
      default:
        sym.curr = { val: sym.name ?? '', tri: Tri.No };
        return;
    }
    sym.flags &= ~Flag.Write;
    this.calcVisibility(sym);
    if (sym.visible !== Tri.No) sym.flags |= Flag.Write;
    sym.curr = { ...newval };
    const type = this.typeOf(sym);
    if (type === 'bool' || type === 'tristate') {
      const choice = this.choiceMenuOf(sym);
      if (choice) {
        this.calcChoice(choice);
        newval.tri = sym.curr.tri;
      } else {
        let done = false;
        if (sym.visible !== Tri.No && sym.hasValue()) {
          newval.tri = triAnd(sym.user.tri, sym.visible);
          done = true;
        }
        if (!done) {
          if (sym.revDep.tri !== Tri.No) sym.flags |= Flag.Write;
          if (!sym.isChoice()) {
            const prop = this.defaultProp(sym);
            if (prop) {
              newval.tri = triAnd(this.calcExpr(prop.expr), prop.visible.tri);
              if (newval.tri !== Tri.No) sym.flags |= Flag.Write;
            }
            if (sym.implied.tri !== Tri.No) {
              sym.flags |= Flag.Write;
              newval.tri = triOr(newval.tri, sym.implied.tri);
              newval.tri = triAnd(newval.tri, sym.dirDep.tri);
            }
          }
        }
        if (sym.dirDep.tri < sym.revDep.tri) this.warnUnmetDep(sym);
        newval.tri = triOr(newval.tri, sym.revDep.tri);
      }
      if (newval.tri === Tri.Mod && this.typeOf(sym) === 'bool') newval.tri = Tri.Yes;
    } else if (type === 'string' || type === 'hex' || type === 'int') {
      if (sym.visible !== Tri.No && sym.hasValue()) {
        newval.val = sym.user.val;
      } else {
        const prop = this.defaultProp(sym);
        if (prop && prop.expr?.kind === 'sym') {
          const ds = prop.expr.sym;
          sym.flags |= Flag.Write;
          this.calcValue(ds);
          newval.val = ds.curr.val;
        }
      }
    }
    sym.curr = newval;
    this.validateRange(sym);
    if (this.modulesSym === sym) this.modulesVal = sym.curr.tri;
    if (sym.isChoice()) sym.flags &= ~Flag.Write;
  }

  private warnUnmetDep(sym: KSymbol): void {
    this.warnings.push(
      `WARNING: unmet direct dependencies detected for ${sym.name}\n  Depends on [${sym.dirDep.tri === Tri.Mod ? 'm' : 'n'}]`,
    );
  }

  /** sym_clear_all_valid */
  clearAllValid(): void {
    for (const s of this.symbols) s.flags &= ~Flag.Valid;
    this.calcValue(this.modulesSym);
  }

  /** sym_tristate_within_range */
  tristateWithinRange(sym: KSymbol, val: Tri): boolean {
    const type = this.typeOf(sym);
    if (sym.visible === Tri.No) return false;
    if (type !== 'bool' && type !== 'tristate') return false;
    if (type === 'bool' && val === Tri.Mod) return false;
    if (sym.visible <= sym.revDep.tri) return false;
    return val >= sym.revDep.tri && val <= sym.visible;
  }

  isChangeable(sym: KSymbol): boolean {
    return !sym.isChoice() && sym.visible > sym.revDep.tri;
  }

  /** sym_get_string_default (for savedefconfig). */
  stringDefault(sym: KSymbol): string {
    this.calcVisibility(sym);
    this.calcValue(this.modulesSym);
    let val = this.no.curr.tri;
    let str = '';
    const prop = this.defaultProp(sym);
    if (prop) {
      if (sym.type === 'bool' || sym.type === 'tristate') val = triAnd(this.calcExpr(prop.expr), prop.visible.tri);
      else if (prop.expr?.kind === 'sym') {
        this.calcValue(prop.expr.sym);
        str = prop.expr.sym.curr.val;
      }
    }
    val = triOr(val, sym.revDep.tri);
    if (val === Tri.Mod && !sym.isChoiceValue() && this.modulesSym.curr.tri === Tri.No) val = Tri.Yes;
    if (sym.type === 'bool' && val === Tri.Mod) val = Tri.Yes;
    if (val < sym.implied.tri) val = sym.implied.tri;
    switch (sym.type) {
      case 'bool':
      case 'tristate':
        return TRI_TEXT[val];
      case 'int':
        return str === '' ? '0' : str;
      case 'hex':
        return str === '' ? '0x0' : str;
      default:
        return str;
    }
  }
}

/** menu_for_each_sub_entry: depth-first over a menu's descendants. */
export function* subEntries(root: Menu): Generator<Menu> {
  let m = root.list;
  while (m) {
    yield m;
    if (m.list) {
      m = m.list;
      continue;
    }
    while (m && m !== root && !m.next) m = m.parent;
    if (!m || m === root) return;
    m = m.next;
  }
}

/** menu_for_each_entry from the root. */
export function* allEntries(root: Menu): Generator<Menu> {
  yield* subEntries(root);
}

/** strtoll with the base's digits, stopping at the first invalid one (as C does). */
export function strtoll(s: string, base: number): bigint {
  const m = (base === 16 ? /^\s*([+-]?)(?:0[xX])?([0-9a-fA-F]*)/ : base === 10 ? /^\s*([+-]?)([0-9]*)/ : /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/).exec(s);
  if (!m || !m[2]) return 0n;
  let digits = m[2];
  let b = base;
  if (base === 0) {
    if (/^0[xX]/.test(digits)) {
      digits = digits.slice(2);
      b = 16;
    } else if (digits.startsWith('0') && digits.length > 1) b = 8;
    else b = 10;
  }
  let v = 0n;
  for (const ch of digits.toLowerCase()) v = v * BigInt(b) + BigInt(parseInt(ch, b));
  const max = (1n << 63n) - 1n;
  if (v > max) v = m[1] === '-' ? 1n << 63n : max;
  return m[1] === '-' ? -v : v;
}

/** expr_calc_value of a comparison, given both sides' values and types. */
export function compareValues(op: CompareOp, s1: string, type1: SymType, s2: string, type2: SymType): Tri {
  let res: number;
  const p1 = type1 !== 'string' || type2 !== 'string' ? parseForCompare(s1, type1) : undefined;
  const p2 = type1 !== 'string' || type2 !== 'string' ? parseForCompare(s2, type2) : undefined;
  if (!p1 || !p2) res = s1 < s2 ? -1 : s1 > s2 ? 1 : 0;
  else if (p1.kind === 'unsigned' || p2.kind === 'unsigned') {
    const a = BigInt.asUintN(64, p1.value);
    const b = BigInt.asUintN(64, p2.value);
    res = a > b ? 1 : a < b ? -1 : 0;
  } else res = p1.value > p2.value ? 1 : p1.value < p2.value ? -1 : 0;
  const t = (b: boolean) => (b ? Tri.Yes : Tri.No);
  switch (op) {
    case '=':
      return t(res === 0);
    case '!=':
      return t(res !== 0);
    case '<':
      return t(res < 0);
    case '<=':
      return t(res <= 0);
    case '>':
      return t(res > 0);
    default:
      return t(res >= 0);
  }
}

/** expr_parse_string: the number a comparison sees, or undefined for a plain string. */
function parseForCompare(s: string, type: SymType): { kind: 'signed' | 'unsigned'; value: bigint } | undefined {
  if (type === 'bool' || type === 'tristate') {
    return { kind: 'signed', value: BigInt(s === 'n' ? 0 : s === 'm' ? 1 : s === 'y' ? 2 : -1) };
  }
  const re = type === 'int' ? /^\s*[+-]?[0-9]+$/ : type === 'hex' ? /^\s*[+-]?(0[xX])?[0-9a-fA-F]+$/ : /^\s*[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)$/;
  if (!re.test(s) || !/[0-9a-fA-F]$/.test(s)) return undefined;
  const base = type === 'int' ? 10 : type === 'hex' ? 16 : 0;
  return { kind: type === 'hex' ? 'unsigned' : 'signed', value: strtoll(s, base) };
}
