import type { OperationInput, OperationOutput } from '../conf';
import {
  AutoconfWriter,
  autoConfNames,
  forEachAssignment,
  heading,
  parseSymValue,
  symbolLine,
  throwConfigErrors,
  writeAutoconfCmd,
  type ConfigMessage,
} from '../model/confdata';
import { Tri, TRI_TEXT, triAnd, triNot, triOr } from '../model/expr';
import { compareValues, strtoll } from '../model/kconfig';
import { Flag } from '../model/symbol';
import { COMPARE_OPS, ExprKind, nameHash, PROP_TYPES, SYM_TYPES, SymCode, type EvalPlan, type PlanTables } from './eval-plan';

const PROMPT_MENU = PROP_TYPES.indexOf('menu');
const PROP_DEFAULT = PROP_TYPES.indexOf('default');
const PROP_RANGE = PROP_TYPES.indexOf('range');

/**
 * conf --olddefconfig / --syncconfig over an EvalPlan: the same passes as runOperation over the
 * object tree (model/kconfig.ts, model/confdata.ts), one method per function there, in the same
 * order of calculation, on a copy of the plan's state tables. The differential tests run both.
 */
export function runPlan(plan: EvalPlan, input: Pick<OperationInput, 'config' | 'previousAutoConf' | 'configOnly'>): OperationOutput {
  const ev = new PlanEvaluation(plan);
  const messages = input.config ? ev.readConfig(input.config.file, input.config.text, 'user') : [];
  throwConfigErrors(messages);
  ev.calcAll();
  const config = ev.writeConfig();
  if (input.configOnly) return { config, messages };
  const touched = ev.changedSymbols(input.previousAutoConf);
  const auto = ev.writeAutoconf();
  return {
    config,
    autoConf: auto.autoConf,
    autoconfH: auto.autoconfH,
    rustcCfg: auto.rustcCfg,
    autoConfCmd: writeAutoconfCmd(plan.meta.files, new Map(plan.meta.env)),
    touched,
    messages,
  };
}

class PlanEvaluation {
  private readonly t: PlanTables;
  private readonly flags: Int32Array;
  private readonly currTri: Int32Array;
  private readonly currVal: string[];
  private readonly userTri: Int32Array;
  private readonly userVal: string[];
  private readonly autoTri: Int32Array;
  private readonly autoVal: string[];
  private readonly visible: Int32Array;
  private readonly dirDepTri: Int32Array;
  private readonly revDepTri: Int32Array;
  private readonly impliedTri: Int32Array;
  private readonly propVisTri: Int32Array;
  /** Each choice's member list, reordered by readConfig. */
  private readonly members: number[][];
  private readonly yes: number;
  private readonly mod: number;
  private readonly no: number;
  private readonly modulesSym: number;
  private modulesVal: Tri;

  constructor(private readonly plan: EvalPlan) {
    const t = (this.t = plan.tables);
    const strs = (ids: Int32Array) => {
      const out = new Array<string>(ids.length);
      for (let i = 0; i < ids.length; i++) out[i] = ids[i] < 0 ? '' : plan.strings[ids[i]];
      return out;
    };
    this.flags = t.symFlags.slice();
    this.currTri = t.currTri.slice();
    this.currVal = strs(t.currVal);
    this.userTri = t.userTri.slice();
    this.userVal = strs(t.userVal);
    this.autoTri = t.autoTri.slice();
    this.autoVal = strs(t.autoVal);
    this.visible = t.visible.slice();
    this.dirDepTri = t.dirDepTri.slice();
    this.revDepTri = t.revDepTri.slice();
    this.impliedTri = t.impliedTri.slice();
    this.propVisTri = t.propVisTri.slice();
    this.members = Array.from(t.choiceSym, (_, c) => Array.from(t.members.subarray(t.memberStart[c], t.memberStart[c + 1])));
    [this.yes, this.mod, this.no, this.modulesSym, this.modulesVal] = t.special;
  }

  private name(s: number): string | null {
    const id = this.t.symName[s];
    return id < 0 ? null : this.plan.strings[id];
  }

  private find(name: string): number | undefined {
    if (name === 'y') return this.yes;
    if (name === 'm') return this.mod;
    if (name === 'n') return this.no;
    const { names, symName } = this.t;
    const mask = names.length - 1;
    for (let slot = nameHash(name) & mask; names[slot] >= 0; slot = (slot + 1) & mask) {
      if (this.plan.strings[symName[names[slot]]] === name) return names[slot];
    }
    return undefined;
  }

  private isChoice(s: number): boolean {
    return this.t.symName[s] < 0;
  }

  private hasValue(s: number): boolean {
    return (this.flags[s] & Flag.DefUser) !== 0;
  }

  private typeOf(s: number): SymCode {
    const type = this.t.symType[s];
    return type === SymCode.Tristate && this.modulesVal === Tri.No ? SymCode.Bool : type;
  }

  private stringValue(s: number): string {
    const type = this.t.symType[s];
    return type === SymCode.Bool || type === SymCode.Tristate ? TRI_TEXT[this.currTri[s] as Tri] : this.currVal[s];
  }

  /** conf_read_simple for .config (user values) or the previous auto.conf (auto values). */
  readConfig(file: string, text: string, which: 'user' | 'auto'): ConfigMessage[] {
    const messages: ConfigMessage[] = [];
    const flag = which === 'user' ? Flag.DefUser : Flag.DefAuto;
    const [tri, val] = which === 'user' ? [this.userTri, this.userVal] : [this.autoTri, this.autoVal];
    for (let s = 0; s < this.flags.length; s++) {
      this.flags[s] &= ~flag;
      tri[s] = Tri.No;
      val[s] = '';
      if (which === 'user') this.flags[s] &= ~Flag.Valid;
    }
    // readConfig resets the symbols of the hash table only: y, m and n keep their flags.
    for (const s of [this.yes, this.mod, this.no]) this.flags[s] = this.t.symFlags[s];
    let lineNo = 0;
    const warn = (text: string) => messages.push({ file, line: lineNo, text, severity: 'warning' });
    const fail = (text: string) => messages.push({ file, line: lineNo, text, severity: 'error' });
    forEachAssignment(text, (n, name, raw) => {
      lineNo = n;
      if (name === undefined) return fail(`unexpected data: ${raw}`);
      const s = this.find(name);
      if (s === undefined) {
        if (which === 'user') warn(`unknown symbol: ${name}`);
        return;
      }
      if (this.flags[s] & flag) warn(`override: reassigning to symbol ${this.name(s)}`);
      const v = parseSymValue(SYM_TYPES[this.t.symType[s]], this.name(s), which, raw, fail);
      if (v === undefined) return;
      if (v !== null) {
        if (v.tri !== undefined) tri[s] = v.tri;
        else val[s] = v.val;
        this.flags[s] |= flag;
      }
      if (which !== 'user') return;
      const choice = this.t.choiceOf[s];
      if (choice >= 0 && this.t.inChoice[s]) {
        // A choice member read from the file gets the highest priority; the last one wins.
        const list = this.members[choice];
        list.splice(list.indexOf(s), 1);
        list.unshift(s);
      }
    });
    return messages;
  }

  calcAll(): void {
    this.calcValue(this.modulesSym);
    for (const s of this.t.hashOrder) this.calcValue(s);
  }

  private calcExpr(e: number): Tri {
    if (e < 0) return Tri.Yes;
    const t = this.t;
    switch (t.exprKind[e]) {
      case ExprKind.Sym:
        this.calcValue(t.exprA[e]);
        return this.currTri[t.exprA[e]] as Tri;
      case ExprKind.And: {
        let v = Tri.Yes; // the minimum of all operands (triAnd), each one calculated
        for (let i = t.exprA[e], end = t.exprB[e]; i < end; i++) {
          const x = this.operand(t.operands[i]);
          if (x < v) v = x;
        }
        return v;
      }
      case ExprKind.Or: {
        let v = Tri.No; // the maximum (triOr)
        for (let i = t.exprA[e], end = t.exprB[e]; i < end; i++) {
          const x = this.operand(t.operands[i]);
          if (x > v) v = x;
        }
        return v;
      }
      case ExprKind.Not:
        return triNot(this.calcExpr(t.exprA[e]));
      case ExprKind.Range:
        return Tri.No;
      default: {
        const l = t.exprA[e];
        const r = t.exprB[e];
        this.calcValue(l);
        this.calcValue(r);
        return compareValues(COMPARE_OPS[t.exprOp[e]], this.stringValue(l), SYM_TYPES[t.symType[l]], this.stringValue(r), SYM_TYPES[t.symType[r]]);
      }
    }
  }

  /** calcExpr, with a symbol operand (most of them) taken without a call. */
  private operand(e: number): Tri {
    const t = this.t;
    if (t.exprKind[e] !== ExprKind.Sym) return this.calcExpr(e);
    const s = t.exprA[e];
    if (!(this.flags[s] & Flag.Valid)) this.calcValue(s);
    return this.currTri[s] as Tri;
  }

  /** sym_get_default_prop (type default) and sym_get_range_prop (type range). */
  private firstProp(s: number, type: number): number {
    const t = this.t;
    for (let p = t.propStart[s]; p < t.propEnd[s]; p++) {
      if (t.propType[p] !== type) continue;
      this.propVisTri[p] = this.calcExpr(t.propVisExpr[p]);
      if (this.propVisTri[p] !== Tri.No) return p;
    }
    return -1;
  }

  private rangeValue(s: number, base: number): bigint {
    this.calcValue(s);
    const type = this.t.symType[s];
    if (type === SymCode.Int) base = 10;
    if (type === SymCode.Hex) base = 16;
    return strtoll(this.currVal[s], base);
  }

  private validateRange(s: number): void {
    const t = this.t;
    const type = t.symType[s];
    if (type !== SymCode.Int && type !== SymCode.Hex) return;
    const base = type === SymCode.Int ? 10 : 16;
    const p = this.firstProp(s, PROP_RANGE);
    if (p < 0 || t.propExpr[p] < 0 || t.exprKind[t.propExpr[p]] !== ExprKind.Range) return;
    const val = strtoll(this.currVal[s], base);
    let rangeSym = t.exprA[t.propExpr[p]];
    if (val >= this.rangeValue(rangeSym, base)) {
      rangeSym = t.exprB[t.propExpr[p]];
      if (val <= this.rangeValue(rangeSym, base)) return;
    }
    this.currVal[s] = this.currVal[rangeSym];
  }

  private calcVisibility(s: number): void {
    const t = this.t;
    let tri = Tri.No;
    for (let p = t.propStart[s]; p < t.propEnd[s]; p++) {
      if (t.propText[p] < 0) continue;
      this.propVisTri[p] = this.calcExpr(t.propVisExpr[p]);
      tri = triOr(tri, this.propVisTri[p] as Tri);
    }
    if (tri === Tri.Mod && (t.symType[s] !== SymCode.Tristate || this.modulesVal === Tri.No)) tri = Tri.Yes;
    this.visible[s] = tri;
    if (t.inChoice[s]) return;
    this.dirDepTri[s] = this.boolish(s, t.dirDepExpr[s] >= 0 ? this.calcExpr(t.dirDepExpr[s]) : Tri.Yes);
    this.revDepTri[s] = this.boolish(s, t.revDepExpr[s] >= 0 ? this.calcExpr(t.revDepExpr[s]) : Tri.No);
    this.impliedTri[s] = this.boolish(s, t.impliedExpr[s] >= 0 ? this.calcExpr(t.impliedExpr[s]) : Tri.No);
  }

  /** m is y for a symbol that is (or acts as) a bool; typeOf is asked after the value is known. */
  private boolish(s: number, x: Tri): Tri {
    return x === Tri.Mod && this.typeOf(s) === SymCode.Bool ? Tri.Yes : x;
  }

  private subs(c: number): Int32Array {
    return this.t.subs.subarray(this.t.subStart[c], this.t.subStart[c + 1]);
  }

  /** sym_choice_default */
  private choiceDefault(c: number): number {
    const t = this.t;
    const cs = t.choiceSym[c];
    for (let p = t.propStart[cs]; p < t.propEnd[cs]; p++) {
      if (t.propType[p] !== PROP_DEFAULT) continue;
      this.propVisTri[p] = this.calcExpr(t.propVisExpr[p]);
      if (this.propVisTri[p] === Tri.No) continue;
      const e = t.propExpr[p];
      const def = e >= 0 && t.exprKind[e] === ExprKind.Sym ? t.exprA[e] : -1;
      if (def >= 0 && this.visible[def] !== Tri.No) return def;
    }
    for (const s of this.subs(c)) if (this.visible[s] !== Tri.No) return s;
    return -1;
  }

  /** sym_calc_choice: exactly one visible member is y. */
  private calcChoice(c: number): void {
    let res = -1;
    const members = this.members[c];
    for (const s of members) {
      this.calcVisibility(s);
      if (this.visible[s] === Tri.No) continue;
      if (this.hasValue(s) && this.userTri[s] === Tri.Yes) {
        res = s;
        break;
      }
    }
    if (res < 0) {
      res = this.choiceDefault(c);
      if (res >= 0 && this.hasValue(res) && this.userTri[res] === Tri.No) res = -1;
    }
    if (res < 0) {
      for (const s of this.subs(c)) {
        if (this.visible[s] === Tri.No || this.hasValue(s)) continue;
        res = s;
        break;
      }
    }
    if (res < 0) {
      for (let i = members.length - 1; i >= 0; i--) {
        if (this.visible[members[i]] === Tri.No) continue;
        res = members[i];
        break;
      }
    }
    for (const s of this.subs(c)) {
      if (this.visible[s] === Tri.No) continue;
      this.currTri[s] = s === res ? Tri.Yes : Tri.No;
      this.flags[s] |= Flag.Valid | Flag.Write;
    }
  }

  /** sym_calc_value */
  private calcValue(s: number): void {
    if (this.flags[s] & Flag.Valid) return;
    const t = this.t;
    this.flags[s] |= Flag.Valid;
    let newVal: string;
    let newTri = Tri.No;
    switch (t.symType[s]) {
      case SymCode.Int:
        newVal = '0';
        break;
      case SymCode.Hex:
        newVal = '0x0';
        break;
      case SymCode.String:
        newVal = '';
        break;
      case SymCode.Bool:
      case SymCode.Tristate:
        newVal = 'n';
        break;
      default:
        this.currVal[s] = this.name(s) ?? '';
        this.currTri[s] = Tri.No;
        return;
    }
    this.flags[s] &= ~Flag.Write;
    this.calcVisibility(s);
    if (this.visible[s] !== Tri.No) this.flags[s] |= Flag.Write;
    this.currVal[s] = newVal;
    this.currTri[s] = Tri.No;
    const type = this.typeOf(s);
    if (type === SymCode.Bool || type === SymCode.Tristate) {
      const choice = t.choiceOf[s];
      if (choice >= 0) {
        this.calcChoice(choice);
        newTri = this.currTri[s];
      } else {
        let done = false;
        if (this.visible[s] !== Tri.No && this.hasValue(s)) {
          newTri = triAnd(this.userTri[s], this.visible[s]);
          done = true;
        }
        if (!done) {
          if (this.revDepTri[s] !== Tri.No) this.flags[s] |= Flag.Write;
          if (!this.isChoice(s)) {
            const p = this.firstProp(s, PROP_DEFAULT);
            if (p >= 0) {
              newTri = triAnd(this.calcExpr(t.propExpr[p]), this.propVisTri[p]);
              if (newTri !== Tri.No) this.flags[s] |= Flag.Write;
            }
            if (this.impliedTri[s] !== Tri.No) {
              this.flags[s] |= Flag.Write;
              newTri = triOr(newTri, this.impliedTri[s]);
              newTri = triAnd(newTri, this.dirDepTri[s]);
            }
          }
        }
        newTri = triOr(newTri, this.revDepTri[s]);
      }
      if (newTri === Tri.Mod && this.typeOf(s) === SymCode.Bool) newTri = Tri.Yes;
    } else if (type === SymCode.String || type === SymCode.Hex || type === SymCode.Int) {
      if (this.visible[s] !== Tri.No && this.hasValue(s)) {
        newVal = this.userVal[s];
      } else {
        const p = this.firstProp(s, PROP_DEFAULT);
        const e = p >= 0 ? t.propExpr[p] : -1;
        if (e >= 0 && t.exprKind[e] === ExprKind.Sym) {
          const ds = t.exprA[e];
          this.flags[s] |= Flag.Write;
          this.calcValue(ds);
          newVal = this.currVal[ds];
        }
      }
    }
    this.currVal[s] = newVal;
    this.currTri[s] = newTri;
    this.validateRange(s);
    if (this.modulesSym === s) this.modulesVal = this.currTri[s];
    if (this.isChoice(s)) this.flags[s] &= ~Flag.Write;
  }

  /** menu_is_visible */
  private menuIsVisible(m: number): boolean {
    const t = this.t;
    const prompt = t.menuPrompt[m];
    if (prompt < 0) return false;
    if (t.menuVisibility[m] >= 0 && this.calcExpr(t.menuVisibility[m]) === Tri.No) return false;
    const s = t.menuSym[m];
    let visible: Tri;
    if (s >= 0) {
      this.calcValue(s);
      visible = this.propVisTri[prompt];
    } else {
      visible = this.propVisTri[prompt] = this.calcExpr(t.propVisExpr[prompt]);
    }
    if (visible !== Tri.No) return true;
    if (s < 0 || this.currTri[s] === Tri.No) return false;
    for (let c = t.menuList[m]; c >= 0; c = t.menuNext[c]) if (this.menuIsVisible(c)) return true;
    return false;
  }

  private title(): string {
    const p = this.t.menuPrompt[0];
    const text = p >= 0 ? this.t.propText[p] : -1;
    return text >= 0 ? this.plan.strings[text] : 'Main menu';
  }

  private line(s: number, forDotConfig: boolean): string {
    return symbolLine(SYM_TYPES[this.t.symType[s]], this.name(s), this.stringValue(s), forDotConfig);
  }

  private promptText(m: number): string {
    return this.plan.strings[this.t.propText[this.t.menuPrompt[m]]];
  }

  /** conf_write */
  writeConfig(): string {
    const t = this.t;
    let out = heading(this.title(), 'pound');
    let needNewline = false;
    const written = new Uint8Array(this.flags.length);
    let m = t.menuList[0];
    while (m >= 0) {
      const s = t.menuSym[m];
      if (s < 0) {
        if (this.menuIsVisible(m)) {
          out += `\n#\n# ${this.promptText(m)}\n#\n`;
          needNewline = false;
        }
      } else if (!this.isChoice(s) && !written[s]) {
        this.calcValue(s);
        if (this.flags[s] & Flag.Write) {
          if (needNewline) {
            out += '\n';
            needNewline = false;
          }
          written[s] = 1;
          out += this.line(s, true);
        }
      }
      if (t.menuList[m] >= 0) {
        m = t.menuList[m];
        continue;
      }
      for (;;) {
        if (t.menuSym[m] < 0 && m !== 0 && t.menuPrompt[m] >= 0 && t.propType[t.menuPrompt[m]] === PROMPT_MENU && this.menuIsVisible(m)) {
          out += `# end of ${this.promptText(m)}\n`;
          needNewline = true;
        }
        if (t.menuNext[m] >= 0) {
          m = t.menuNext[m];
          break;
        }
        m = t.menuParent[m];
        if (m < 0) break;
      }
    }
    return out;
  }

  /** conf_write_autoconf */
  writeAutoconf(): ReturnType<AutoconfWriter['done']> {
    const t = this.t;
    for (const s of t.hashOrder) this.calcValue(s);
    const files = new AutoconfWriter(this.title());
    for (const s of t.hashOrder) {
      const name = this.name(s);
      if (!(this.flags[s] & Flag.Write) || name === null || t.symType[s] === SymCode.Unknown) continue;
      files.add(SYM_TYPES[t.symType[s]], name, this.stringValue(s));
    }
    return files.done();
  }

  /** conf_touch_deps: the symbols whose value differs from the previous auto.conf's. */
  changedSymbols(previousAutoConf: string | undefined): string[] {
    const t = this.t;
    const touched: string[] = [];
    if (previousAutoConf !== undefined) this.readConfig('include/config/auto.conf', previousAutoConf, 'auto');
    const previous = autoConfNames(previousAutoConf);
    for (const s of t.hashOrder) {
      const name = this.name(s);
      if (name === null) continue;
      const type = t.symType[s];
      const tristate = type === SymCode.Bool || type === SymCode.Tristate;
      if (this.flags[s] & Flag.Write) {
        if (this.flags[s] & Flag.DefAuto) {
          if (tristate ? this.currTri[s] === this.autoTri[s] : this.stringValue(s) === this.autoVal[s]) continue;
        } else if (tristate && this.currTri[s] === Tri.No) continue;
      } else if (!(this.flags[s] & Flag.DefAuto)) continue;
      touched.push(name);
      previous.delete(name);
    }
    for (const name of previous) if (this.find(name) === undefined) touched.push(name);
    return touched;
  }
}
