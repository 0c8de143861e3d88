import { SourceError } from '@nx-kbuild/diagnostics';
import { Tri, TRI_TEXT } from './expr';
import { allEntries, type Kconfig } from './kconfig';
import { Flag, type KSymbol, type Menu, type SymType } from './symbol';

export interface ConfigMessage {
  file: string;
  line: number;
  text: string;
  /** Invalid values and malformed lines are errors; unknown symbols and overrides are warnings. */
  severity: 'warning' | 'error';
}

/** Invalid values in the files read are fatal, as in conf: all of them in one error. */
export function throwConfigErrors(messages: ConfigMessage[]): void {
  const errors = messages.filter((m) => m.severity === 'error');
  if (errors.length) {
    throw new SourceError(errors[0].file, errors[0].line, errors.map((e, i) => (i === 0 ? e.text : `${e.file}:${e.line}: ${e.text}`)).join('\n'));
  }
}

/** sym_string_valid */
export function stringValid(sym: KSymbol, str: string): boolean {
  return validFor(sym.type, str);
}

export function validFor(type: SymType, str: string): boolean {
  switch (type) {
    case 'string':
      return true;
    case 'int':
      return /^-?(0|[1-9][0-9]*)$/.test(str);
    case 'hex':
      return /^(0[xX])?[0-9a-fA-F]+$/.test(str);
    case 'bool':
    case 'tristate':
      return /^[yYmMnN]/.test(str);
    default:
      return false;
  }
}

/** conf_set_sym_val: returns false when the value is invalid for the symbol. */
function setSymVal(sym: KSymbol, which: 'user' | 'auto', raw: string, warn: (t: string) => void): boolean {
  const v = parseSymValue(sym.type, sym.name, which, raw, warn);
  if (v === undefined) return false;
  if (v === null) return true;
  if (v.tri !== undefined) sym[which].tri = v.tri;
  else sym[which].val = v.val;
  sym.flags |= which === 'user' ? Flag.DefUser : Flag.DefAuto;
  return true;
}

export type ParsedValue = { tri: Tri; val?: undefined } | { tri?: undefined; val: string };

/**
 * conf_set_sym_val's reading of a value: a tristate (bool, tristate) or a string (the others);
 * null when the line is accepted but sets nothing; undefined when the value is invalid (warned).
 */
export function parseSymValue(type: SymType, name: string | null, which: 'user' | 'auto', raw: string, warn: (t: string) => void): ParsedValue | null | undefined {
  switch (type) {
    case 'tristate':
    case 'bool':
      if (raw[0] === 'm' && type === 'tristate') return TRISTATES[Tri.Mod];
      if (raw[0] === 'y') return TRISTATES[Tri.Yes];
      if (raw[0] === 'n') return TRISTATES[Tri.No];
      return invalidValue(name, which, raw, warn);
    case 'string': {
      let p = raw;
      if (which === 'user') {
        if (p[0] !== '"') return null; // conf moves on without a value or a warning
        const unquoted = unquote(p);
        if (unquoted === undefined) {
          warn('invalid string found');
          return undefined;
        }
        p = unquoted;
      }
      return validFor(type, p) ? { val: p } : invalidValue(name, which, raw, warn);
    }
    case 'int':
    case 'hex':
      return validFor(type, raw) ? { val: raw } : invalidValue(name, which, raw, warn);
    default:
      return null;
  }
}

/** One object per tristate value, shared by every line that sets one (read-only). */
const TRISTATES: readonly ParsedValue[] = [{ tri: Tri.No }, { tri: Tri.Mod }, { tri: Tri.Yes }];

function invalidValue(name: string | null, which: 'user' | 'auto', raw: string, warn: (t: string) => void): undefined {
  if (which === 'user') warn(`symbol value '${raw}' invalid for ${name}`);
  return undefined;
}

/** A .config string value without its quotes and escapes (undefined: no closing quote). */
export function unquote(p: string): string | undefined {
  let out = '';
  for (let i = 1; i < p.length; i++) {
    if (p[i] === '"') return out;
    if (p[i] === '\\') i++;
    if (i < p.length) out += p[i];
  }
  return undefined;
}

function shownValue(sym: KSymbol, which: 'user' | 'auto'): string {
  return sym.type === 'bool' || sym.type === 'tristate' ? TRI_TEXT[sym[which].tri] : sym[which].val;
}

/**
 * conf_read_simple: loads a .config (def 'user') or auto.conf (def 'auto'). Unknown symbols and
 * malformed lines are warnings with file:line, as in conf; the last assignment wins.
 */
export function readConfig(kc: Kconfig, file: string, text: string, which: 'user' | 'auto', warnUnknown: boolean, merge = false): ConfigMessage[] {
  const messages: ConfigMessage[] = [];
  const flag = which === 'user' ? Flag.DefUser : Flag.DefAuto;
  // A fragment merged on top (merge_config.sh) keeps the values read before it.
  if (!merge) {
    for (const sym of kc.allSymbols()) {
      sym.flags &= ~flag;
      sym[which] = { val: '', tri: Tri.No };
    }
  }
  if (which === 'user') for (const sym of kc.allSymbols()) sym.flags &= ~Flag.Valid;
  let lineNo = 0;
  const warn = (t: string) => messages.push({ file, line: lineNo, text: t, severity: 'warning' });
  const fail = (t: string) => messages.push({ file, line: lineNo, text: t, severity: 'error' });
  forEachAssignment(text, (n, name, val) => {
    lineNo = n;
    if (name === undefined) return fail(`unexpected data: ${val}`);
    const sym = kc.find(name);
    if (!sym) {
      if (which === 'user' && warnUnknown) warn(`unknown symbol: ${name}`);
      return;
    }
    const had = (sym.flags & flag) !== 0;
    const before = had ? shownValue(sym, which) : '';
    if (had && !merge) warn(`override: reassigning to symbol ${sym.name}`);
    if (!setSymVal(sym, which, val, fail)) return;
    // merge_config.sh reports a fragment's value only when it changes the one before it.
    if (had && merge && shownValue(sym, which) !== before) warn(`value of CONFIG_${sym.name} is redefined by fragment: ${before} -> ${shownValue(sym, which)}`);
    if (which !== 'user') return;
    const choice = kc.choiceMenuOf(sym);
    if (choice?.choiceMembers && sym.choice) {
      // A choice member read from the file gets the highest priority; the last one wins.
      const list = choice.choiceMembers;
      list.splice(list.indexOf(sym), 1);
      list.unshift(sym);
    }
  });
  return messages;
}

/**
 * conf_read_simple's lines: each assignment's line number, name and value ('n' for "is not set");
 * a line that is neither an assignment nor a comment comes with no name and the line as value.
 */
export function forEachAssignment(text: string, each: (line: number, name: string | undefined, val: string) => void): void {
  let lineNo = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line === '') continue;
    if (line[0] === '#') {
      // "# CONFIG_<name> is not set", the name ending at the first space (conf's sscanf).
      if (!line.startsWith('# CONFIG_')) continue;
      const space = line.indexOf(' ', 9);
      if (space >= 0 && line.endsWith(' is not set') && space === line.length - 11) each(lineNo, line.slice(9, space), 'n');
      continue;
    }
    const eq = line.indexOf('=');
    if (!line.startsWith('CONFIG_') || eq < 0) each(lineNo, undefined, line);
    else each(lineNo, line.slice(7, eq), line.slice(eq + 1));
  }
}

/** conf_read's second half: calculates every symbol once. */
export function calcAll(kc: Kconfig): void {
  kc.calcValue(kc.modulesSym);
  for (const sym of kc.allSymbols()) kc.calcValue(sym);
}

export function heading(title: string, style: 'pound' | 'c'): string {
  return style === 'pound'
    ? `#\n# Automatically generated file; DO NOT EDIT.\n# ${title}\n#\n`
    : `/*\n * Automatically generated file; DO NOT EDIT.\n * ${title}\n */\n`;
}

export function escapeString(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** __print_symbol for .config (n as "is not set", strings escaped) or auto.conf (n omitted, raw strings). */
function printSymbol(kc: Kconfig, sym: KSymbol, forDotConfig: boolean): string {
  return symbolLine(sym.type, sym.name, kc.stringValue(sym), forDotConfig);
}

export function symbolLine(type: SymType, name: string | null, val: string, forDotConfig: boolean): string {
  if (type === 'unknown') return '';
  if ((type === 'bool' || type === 'tristate') && val[0] === 'n') {
    return forDotConfig ? `# CONFIG_${name} is not set\n` : '';
  }
  if (type === 'string' && forDotConfig) val = escapeString(val);
  return `CONFIG_${name}=${val}\n`;
}

/** menu_is_visible */
export function menuIsVisible(kc: Kconfig, menu: Menu): boolean {
  if (!menu.prompt) return false;
  if (menu.visibility && kc.calcExpr(menu.visibility) === Tri.No) return false;
  const sym = menu.sym;
  let visible: Tri;
  if (sym) {
    kc.calcValue(sym);
    visible = menu.prompt.visible.tri;
  } else {
    visible = menu.prompt.visible.tri = kc.calcExpr(menu.prompt.visible.expr);
  }
  if (visible !== Tri.No) return true;
  if (!sym || sym.curr.tri === Tri.No) return false;
  for (let c = menu.list; c; c = c.next) if (menuIsVisible(kc, c)) return true;
  return false;
}

/** conf_write: the .config text, with the menu comment blocks and order conf writes. */
export function writeConfig(kc: Kconfig): string {
  let out = heading(title(kc), 'pound');
  let needNewline = false;
  const written = new Set<KSymbol>();
  let menu: Menu | undefined = kc.rootmenu.list;
  while (menu) {
    const sym = menu.sym;
    if (!sym) {
      if (menuIsVisible(kc, menu)) {
        out += `\n#\n# ${menu.prompt!.text}\n#\n`;
        needNewline = false;
      }
    } else if (!sym.isChoice() && !written.has(sym)) {
      kc.calcValue(sym);
      if (sym.flags & Flag.Write) {
        if (needNewline) {
          out += '\n';
          needNewline = false;
        }
        written.add(sym);
        out += printSymbol(kc, sym, true);
      }
    }
    if (menu.list) {
      menu = menu.list;
      continue;
    }
    for (;;) {
      if (!menu.sym && menu !== kc.rootmenu && menu.prompt?.type === 'menu' && menuIsVisible(kc, menu)) {
        out += `# end of ${menu.prompt.text}\n`;
        needNewline = true;
      }
      if (menu.next) {
        menu = menu.next;
        break;
      }
      menu = menu.parent;
      if (!menu) break;
    }
  }
  return out;
}

export interface AutoconfFiles {
  autoConf: string;
  autoconfH: string;
  rustcCfg: string;
}

/** conf_write_autoconf's three files, symbols in conf's hash-table order. */
export function writeAutoconf(kc: Kconfig): AutoconfFiles {
  for (const sym of kc.allSymbols()) kc.calcValue(sym);
  const files = new AutoconfWriter(title(kc));
  for (const sym of kc.allSymbols()) {
    if (!(sym.flags & Flag.Write) || sym.name === null || sym.type === 'unknown') continue;
    files.add(sym.type, sym.name, kc.stringValue(sym));
  }
  return files.done();
}

const title = (kc: Kconfig) => kc.rootmenu.prompt?.text ?? 'Main menu';

/** The three files conf_write_autoconf writes, one written symbol at a time. */
export class AutoconfWriter {
  private autoConf: string;
  private autoconfH: string;
  private rustcCfg = '';

  constructor(title: string) {
    this.autoConf = heading(title, 'pound');
    this.autoconfH = heading(title, 'c');
  }

  add(type: SymType, name: string, val: string): void {
    this.autoConf += symbolLine(type, name, val, false);
    switch (type) {
      case 'bool':
      case 'tristate':
        if (val !== 'n') {
          this.autoconfH += `#define CONFIG_${name}${val === 'm' ? '_MODULE' : ''} 1\n`;
          this.rustcCfg += `--cfg=CONFIG_${name}\n--cfg=CONFIG_${name}="${val}"\n`;
        }
        break;
      case 'hex': {
        const prefixed = /^0[xX]/.test(val) ? val : `0x${val}`;
        this.autoconfH += `#define CONFIG_${name} ${prefixed}\n`;
        this.rustcCfg += `--cfg=CONFIG_${name}=${escapeString(prefixed)}\n`;
        break;
      }
      case 'string':
        this.autoconfH += `#define CONFIG_${name} ${escapeString(val)}\n`;
        this.rustcCfg += `--cfg=CONFIG_${name}=${escapeString(val)}\n`;
        break;
      default:
        this.autoconfH += `#define CONFIG_${name} ${val}\n`;
        this.rustcCfg += `--cfg=CONFIG_${name}=${escapeString(val)}\n`;
    }
  }

  done(): AutoconfFiles {
    return { autoConf: this.autoConf, autoconfH: this.autoconfH, rustcCfg: this.rustcCfg };
  }
}

/** conf_write_autoconf_cmd: auto.conf.cmd, which makes kbuild re-run syncconfig when inputs change. */
export function writeAutoconfCmd(files: string[], env: Map<string, string>): string {
  let s = 'autoconfig := include/config/auto.conf\n\ndeps_config := \\\n';
  for (const f of files) s += `\t${f} \\\n`;
  s += '\n$(autoconfig): $(deps_config)\n$(deps_config): ;\n';
  for (const [k, v] of env) s += `\nifneq "$(${k})" "${v}"\n$(autoconfig): FORCE\nendif\n`;
  return s;
}

/**
 * conf_touch_deps: the include/config/<SYMBOL> files whose timestamps tell kbuild which
 * symbols changed since the previous auto.conf (fixdep makes objects depend on them).
 */
export function changedSymbols(kc: Kconfig, previousAutoConf: string | undefined): string[] {
  const touched: string[] = [];
  if (previousAutoConf !== undefined) readConfig(kc, 'include/config/auto.conf', previousAutoConf, 'auto', false);
  const previous = autoConfNames(previousAutoConf);
  for (const sym of kc.allSymbols()) {
    if (sym.isChoice() || sym.name === null) continue;
    if (sym.flags & Flag.Write) {
      if (sym.flags & Flag.DefAuto) {
        if (sym.type === 'bool' || sym.type === 'tristate') {
          if (sym.curr.tri === sym.auto.tri) continue;
        } else if (kc.stringValue(sym) === sym.auto.val) continue;
      } else if ((sym.type === 'bool' || sym.type === 'tristate') && sym.curr.tri === Tri.No) continue;
    } else if (!(sym.flags & Flag.DefAuto)) continue;
    touched.push(sym.name);
    previous.delete(sym.name);
  }
  // Symbols in the old auto.conf that no longer exist at all.
  for (const name of previous) if (!kc.find(name)) touched.push(name);
  return touched;
}

/** The names an auto.conf assigns. */
export function autoConfNames(text: string | undefined): Set<string> {
  return new Set(text === undefined ? [] : text.split('\n').filter((l) => l.startsWith('CONFIG_')).map((l) => l.slice(7, l.indexOf('='))));
}

/** conf_write_defconfig: the minimal config (savedefconfig). */
export function writeDefconfig(kc: Kconfig): string {
  kc.clearAllValid();
  let out = '';
  for (const menu of allEntries(kc.rootmenu)) {
    const sym = menu.sym;
    if (!sym || sym.isChoice()) continue;
    kc.calcValue(sym);
    if (!(sym.flags & Flag.Write)) continue;
    sym.flags &= ~Flag.Write;
    if (!kc.isChangeable(sym)) continue;
    if (kc.stringValue(sym) === kc.stringDefault(sym)) continue;
    const choice = kc.choiceMenuOf(sym);
    if (choice) {
      const ds = kc.choiceDefault(choice);
      if (sym === ds && sym.curr.tri === Tri.Yes) continue;
    }
    out += printSymbol(kc, sym, true);
  }
  return out;
}

export type AllMode = 'default' | 'yes' | 'mod' | 'no';

/** conf_set_all_new_symbols (all*config, defconfig): every prompted bool/tristate without a value. */
export function setAllNewSymbols(kc: Kconfig, mode: AllMode): void {
  for (const menu of allEntries(kc.rootmenu)) {
    const sym = menu.sym;
    if (!sym || !menu.prompt || sym.hasValue() || (sym.type !== 'bool' && sym.type !== 'tristate') || sym.isChoiceValue()) continue;
    if (sym.isChoice() || mode === 'default') continue;
    sym.user = { val: '', tri: mode === 'yes' ? Tri.Yes : mode === 'mod' ? Tri.Mod : Tri.No };
    sym.flags |= Flag.DefUser;
  }
  kc.clearAllValid();
}
