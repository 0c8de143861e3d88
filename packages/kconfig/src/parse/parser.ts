import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SourceError } from '@nx-kbuild/diagnostics';
import { exprAnd, exprSym, type CompareOp, type Expr } from '../model/expr';
import type { Kconfig } from '../model/kconfig';
import { Flag, type KSymbol, type Menu, type Property, type PropType, type SymType } from '../model/symbol';
import { FileLexer, type Token, type TokenType } from './lexer';
import { Preprocessor } from './preprocess';
import type { ShellRunner } from './shell-cache';

export interface ParseOptions {
  /** The kernel source tree ($(srctree)); relative `source` paths are looked up here. */
  srctree: string;
  /** Environment the preprocessor reads (ARCH, SRCARCH, CC, ...). */
  env: Record<string, string | undefined>;
  shell: ShellRunner;
  /** Files given in memory, by the name `source` uses (they win over the disk). */
  files?: Record<string, string>;
  /** Messages conf prints: warnings and $(info ...). */
  onMessage?: (text: string, kind: 'warning' | 'info') => void;
}

export interface ParseResult {
  /** Every Kconfig file read, in the order conf lists them in auto.conf.cmd (deps_config). */
  files: string[];
  /** Environment variables the Kconfig files used, with the values seen. */
  env: Map<string, string>;
}

interface Frame {
  lexer: FileLexer;
  /** Line of the `source` statement in the parent. */
  sourceLine: number;
}

/**
 * Parses a Kconfig tree into `kc` (menus, symbols, properties), as scripts/kconfig/parser.y does.
 * Errors are collected like conf's (file:line each) and thrown together at the end.
 */
export class KconfigParser {
  private stack: Frame[] = [];
  private readonly pp: Preprocessor;
  private tok!: Token;
  private prevToken: TokenType = 'EOL';
  private prevPrevToken: TokenType = 'EOL';
  private curLine = 0;
  /** File and line of the statement being parsed (conf's cur_filename/cur_lineno at reduction). */
  private stmtLine = 0;
  private stmtFile = '';
  private readonly errors: string[] = [];
  private readonly files: string[] = [];
  private currentMenu: Menu;
  private currentEntry: Menu;
  private appendTo: { menu: Menu; field: 'list' | 'next' };
  private currentChoice: Menu | undefined;

  constructor(
    private readonly kc: Kconfig,
    private readonly options: ParseOptions,
  ) {
    this.pp = new Preprocessor(options.env, options.shell, {
      where: () => ({ file: this.curFile(), line: this.lexer()?.line ?? 0 }),
      info: (t) => options.onMessage?.(t, 'info'),
      warning: (t) => options.onMessage?.(t, 'warning'),
    });
    this.currentMenu = this.currentEntry = kc.rootmenu;
    this.appendTo = { menu: kc.rootmenu, field: 'list' };
  }

  private lexer(): FileLexer | undefined {
    return this.stack[this.stack.length - 1]?.lexer;
  }

  private curFile(): string {
    return this.lexer()?.file ?? '';
  }

  private warn(msg: string): void {
    this.options.onMessage?.(msg, 'warning');
  }

  private resolve(name: string): string | undefined {
    if (this.options.files?.[name] !== undefined) return name;
    if (existsSync(name) && isAbsolute(name)) return name;
    const p = join(this.options.srctree, name);
    return existsSync(p) ? p : undefined;
  }

  private open(name: string, fromLine: number): void {
    const path = this.resolve(name);
    if (!path) {
      if (this.stack.length === 0) throw new SourceError(name, 0, `can't find file ${name}`);
      throw new SourceError(this.curFile(), fromLine, `can't open file "${name}"`);
    }
    if (this.stack.some((f) => f.lexer.file === name)) {
      const chain = [...this.stack].reverse().map((f) => `  included from: ${f.lexer.file}:${f.sourceLine}`);
      throw new SourceError(this.curFile(), fromLine, `Recursive inclusion detected.\nInclusion path:\n  current file : ${name}\n${chain.join('\n')}`);
    }
    const text = this.options.files?.[name] ?? readFileSync(path, 'utf8');
    this.files.push(name);
    this.stack.push({ lexer: new FileLexer(name, text, this.pp, (m) => this.warn(m)), sourceLine: fromLine });
  }

  /** yylex: drops redundant EOLs, tracks each statement's line, switches to assignment values. */
  private advance(): void {
    for (;;) {
      const lx = this.lexer();
      if (!lx) {
        this.tok = { type: 'EOF', text: '', line: 0 };
        return;
      }
      let t = lx.next();
      if (t.type === 'EOF') {
        if (this.prevToken !== 'EOL' && this.prevToken !== 'HELPTEXT') {
          this.warn(`${lx.file}:${lx.line}:warning: no new line at end of file`);
        }
        if (this.stack.length > 1) {
          this.stack.pop();
          t = { type: 'EOL', text: '', line: lx.line };
        } else {
          this.stack.pop();
          this.tok = t;
          return;
        }
      }
      if (this.prevToken === 'EOL' || this.prevToken === 'HELPTEXT') {
        if (t.type === 'EOL') continue;
        this.curLine = t.line;
      }
      if (this.prevPrevToken === 'EOL' && this.prevToken === 'WORD' && (t.type === '=' || t.type === ':=' || t.type === '+=')) {
        this.lexer()?.enterAssignValue();
      }
      this.prevPrevToken = this.prevToken;
      this.prevToken = t.type;
      this.tok = t;
      return;
    }
  }

  private beginStatement(): void {
    this.stmtLine = this.curLine;
    this.stmtFile = this.curFile();
  }

  private error(msg: string, line = this.stmtLine || this.curLine, file = this.stmtFile || this.curFile()): void {
    this.errors.push(`${file}:${line}: ${msg}`);
  }

  private skipToEol(): void {
    while (this.tok.type !== 'EOL' && this.tok.type !== 'EOF') this.advance();
    if (this.tok.type === 'EOL') this.advance();
  }

  private expect(type: TokenType): Token | undefined {
    if (this.tok.type !== type) {
      this.error(type === 'EOL' ? `syntax error, unexpected ${describe(this.tok)}` : `syntax error, expected ${type}, got ${describe(this.tok)}`);
      return undefined;
    }
    const t = this.tok;
    this.advance();
    return t;
  }

  parse(file: string): ParseResult {
    this.open(file, 0);
    this.advance();
    if (this.tok.type === 'mainmenu') {
      this.beginStatement();
      this.advance();
      const title = this.expect('WORD_QUOTE');
      if (title && this.expect('EOL') !== undefined) this.addPrompt('menu', title.text, undefined);
      else this.skipToEol();
    }
    const end = this.statements(false);
    if (end) this.error(`syntax error, unexpected ${end}`);
    if (this.errors.length) {
      const [first, ...rest] = this.errors;
      const m = /^(.*?):(\d+): (.*)$/s.exec(first)!;
      throw new SourceError(m[1], Number(m[2]), [m[3], ...rest].join('\n'));
    }
    return { files: this.files, env: this.pp.envUsed };
  }

  /** stmt_list (or stmt_list_in_choice): returns the block end keyword that stopped it, if any. */
  private statements(inChoice: boolean): string | undefined {
    for (;;) {
      const t = this.tok;
      switch (t.type) {
        case 'EOF':
          return undefined;
        case 'endmenu':
        case 'endchoice':
        case 'endif':
          return t.type;
        case 'config':
        case 'menuconfig':
          if (inChoice && t.type === 'menuconfig') break;
          this.configStatement(t.type === 'menuconfig');
          continue;
        case 'comment':
          this.commentStatement();
          continue;
        case 'if':
          this.ifStatement(inChoice);
          continue;
        case 'choice':
          if (inChoice) break;
          this.choiceStatement();
          continue;
        case 'menu':
          if (inChoice) break;
          this.menuStatement();
          continue;
        case 'source':
          if (inChoice) break;
          this.sourceStatement();
          continue;
        case 'WORD':
          if (!inChoice) {
            this.assignmentOrUnknown();
            continue;
          }
          break;
        default:
          break;
      }
      this.error('invalid statement');
      this.skipToEol();
    }
  }

  private assignmentOrUnknown(): void {
    const name = this.tok.text;
    this.advance();
    const op = this.tok.type;
    if (op !== '=' && op !== ':=' && op !== '+=') {
      this.error(`unknown statement "${name}"`);
      this.skipToEol();
      return;
    }
    this.advance();
    let value = '';
    if (this.tok.type === 'ASSIGN_VAL') {
      value = this.tok.text;
      this.advance();
    }
    if (this.tok.type !== 'EOL' && this.tok.type !== 'EOF') {
      this.error('invalid statement');
      this.skipToEol();
      return;
    }
    this.pp.addVariable(name, value, op === '=' ? 'recursive' : op === ':=' ? 'simple' : 'append');
    if (this.tok.type === 'EOL') this.advance();
  }

  // ---- menu.c: building the tree ----

  private addEntry(sym: KSymbol | undefined): Menu {
    const menu: Menu = { sym, parent: this.currentMenu, file: this.stmtFile, line: this.stmtLine };
    this.appendTo.menu[this.appendTo.field] = menu;
    this.appendTo = { menu, field: 'next' };
    this.currentEntry = menu;
    if (sym) sym.menus.push(menu);
    return menu;
  }

  private addMenu(): Menu {
    this.appendTo = { menu: this.currentEntry, field: 'list' };
    this.currentMenu = this.currentEntry;
    return this.currentMenu;
  }

  private endMenu(): void {
    this.appendTo = { menu: this.currentMenu, field: 'next' };
    this.currentMenu = this.currentMenu.parent ?? this.kc.rootmenu;
  }

  private setType(type: SymType): void {
    const sym = this.currentEntry.sym!;
    if (sym.type === type) return;
    if (sym.type === 'unknown') {
      sym.type = type;
      return;
    }
    const names: Record<SymType, string> = { bool: 'bool', tristate: 'tristate', int: 'integer', hex: 'hex', string: 'string', unknown: 'unknown' };
    this.warn(`${this.currentEntry.file}:${this.currentEntry.line}:warning: ignoring type redefinition of '${sym.displayName()}' from '${names[sym.type]}' to '${names[type]}'`);
  }

  private addProp(type: PropType, expr: Expr | undefined, dep: Expr | undefined): Property {
    const prop: Property = { type, expr, visible: { expr: dep, tri: 0 }, menu: this.currentEntry, file: this.stmtFile, line: this.stmtLine };
    this.currentEntry.sym?.props.push(prop);
    return prop;
  }

  private addPrompt(type: 'prompt' | 'menu' | 'comment', text: string, dep: Expr | undefined): void {
    const prop = this.addProp(type, undefined, dep);
    if (/^\s/.test(text)) {
      this.warn(`${prop.file}:${prop.line}:warning: leading whitespace ignored`);
      text = text.replace(/^\s+/, '');
    }
    if (this.currentEntry.prompt) this.warn(`${prop.file}:${prop.line}:warning: prompt redefined`);
    if (type === 'prompt') {
      for (let m = this.currentEntry.parent; m; m = m.parent) {
        if (m.visibility) prop.visible.expr = exprAnd(prop.visible.expr, m.visibility);
      }
    }
    prop.text = text;
    this.currentEntry.prompt = prop;
  }

  // ---- statements ----

  private symbolName(): KSymbol | undefined {
    if (this.tok.type !== 'WORD') {
      this.error(`syntax error, unexpected ${describe(this.tok)}`);
      return undefined;
    }
    const sym = this.kc.lookup(this.tok.text, 0);
    this.advance();
    return sym;
  }

  private configStatement(menuconfig: boolean): void {
    this.beginStatement();
    this.advance();
    const sym = this.symbolName();
    if (!sym || this.expect('EOL') === undefined) {
      this.skipToEol();
      return;
    }
    const entry = this.addEntry(sym);
    this.configOptions(false);
    if (menuconfig) {
      if (entry.prompt) entry.prompt.type = 'menu';
      else this.warn(`${entry.file}:${entry.line}: warning: menuconfig statement without prompt`);
    }
    if (this.currentChoice) {
      if (!entry.prompt) this.error('error: choice member must have a prompt', entry.line, entry.file);
      if (sym.type !== 'bool') this.error('error: choice member must be bool', entry.line, entry.file);
      if (!sym.choice) {
        sym.choice = this.currentChoice;
        this.currentChoice.choiceMembers!.push(sym);
      }
    }
  }

  /** config_option_list / choice_option_list */
  private configOptions(choice: boolean): void {
    for (;;) {
      const t = this.tok.type;
      this.beginStatement();
      const startLine = this.stmtLine;
      if (t === 'depends') {
        if (!this.dependsOption(this.currentEntry)) return;
        continue;
      }
      if (t === 'help') {
        this.advance();
        if (this.tok.type !== 'EOL') {
          this.error('syntax error, unexpected token after help');
          return this.skipToEol();
        }
        // The help text starts right after the `help` line.
        const help = this.lexer()!.helpText();
        const entry = this.currentEntry;
        if (entry.help !== undefined) {
          this.warn(`${this.stmtFile}:${startLine}: warning: '${entry.sym?.displayName() ?? '<choice>'}' defined with more than one help text -- only the last one will be used`);
        }
        entry.help = help.text;
        this.prevToken = 'HELPTEXT';
        this.advance();
        continue;
      }
      if (choice) {
        if (t === 'prompt' || t === 'bool') {
          this.advance();
          const text = this.expect('WORD_QUOTE');
          if (!text) return this.skipToEol();
          const cond = this.ifExpr();
          if (this.expect('EOL') === undefined) return this.skipToEol();
          this.addPrompt('prompt', text.text, cond);
          continue;
        }
        if (t === 'default') {
          this.advance();
          const sym = this.symbolName();
          const cond = this.ifExpr();
          if (!sym || this.expect('EOL') === undefined) return this.skipToEol();
          this.addProp('default', exprSym(sym), cond);
          continue;
        }
        return;
      }
      switch (t) {
        case 'bool':
        case 'tristate':
        case 'int':
        case 'hex':
        case 'string': {
          this.advance();
          const type = (t === 'bool' ? 'bool' : t) as SymType;
          if (this.tok.type === 'WORD_QUOTE') {
            const text = this.tok.text;
            this.advance();
            const cond = this.ifExpr();
            if (this.expect('EOL') === undefined) return this.skipToEol();
            this.addPrompt('prompt', text, cond);
          } else if (this.expect('EOL') === undefined) return this.skipToEol();
          this.setType(type);
          continue;
        }
        case 'prompt': {
          this.advance();
          const text = this.expect('WORD_QUOTE');
          if (!text) return this.skipToEol();
          const cond = this.ifExpr();
          if (this.expect('EOL') === undefined) return this.skipToEol();
          this.addPrompt('prompt', text.text, cond);
          continue;
        }
        case 'default':
        case 'def_bool':
        case 'def_tristate': {
          this.advance();
          const e = this.expr();
          const cond = this.ifExpr();
          if (!e || this.expect('EOL') === undefined) return this.skipToEol();
          this.addProp('default', e, cond);
          if (t !== 'default') this.setType(t === 'def_bool' ? 'bool' : 'tristate');
          continue;
        }
        case 'select':
        case 'imply': {
          this.advance();
          const sym = this.symbolName();
          const cond = this.ifExpr();
          if (!sym || this.expect('EOL') === undefined) return this.skipToEol();
          this.addProp(t, exprSym(sym), cond);
          continue;
        }
        case 'range': {
          this.advance();
          const a = this.symbol();
          const b = a && this.symbol();
          const cond = this.ifExpr();
          if (!a || !b || this.expect('EOL') === undefined) return this.skipToEol();
          this.addProp('range', { kind: 'range', l: a, r: b }, cond);
          continue;
        }
        case 'modules': {
          this.advance();
          if (this.expect('EOL') === undefined) return this.skipToEol();
          const sym = this.currentEntry.sym!;
          if (this.kc.modulesSym !== this.kc.no) {
            this.error(`symbol '${sym.name}' redefines option 'modules' already defined by symbol '${this.kc.modulesSym.name}'`);
          } else this.kc.modulesSym = sym;
          continue;
        }
        default:
          return;
      }
    }
  }

  private choiceStatement(): void {
    this.beginStatement();
    this.advance();
    if (this.expect('EOL') === undefined) return this.skipToEol();
    const sym = this.kc.lookup(null, 0);
    const entry = this.addEntry(sym);
    this.setType('bool');
    entry.choiceMembers = [];
    this.configOptions(true);
    if (!entry.prompt) this.error('error: choice must have a prompt', entry.line, entry.file);
    this.addMenu();
    const outer = this.currentChoice;
    this.currentChoice = entry;
    const end = this.statements(true);
    this.currentChoice = outer;
    this.endBlock(end, 'choice', entry);
  }

  private endBlock(end: string | undefined, expected: 'choice' | 'if' | 'menu', block: Menu): void {
    if (!end) {
      this.error(`unexpected end of file: missing 'end${expected}' for the '${expected}' at ${block.file}:${block.line}`, block.line, block.file);
      return;
    }
    const name = end.slice(3);
    this.beginStatement();
    const endFile = this.curFile();
    this.advance();
    if (this.tok.type !== 'EOL' && this.tok.type !== 'EOF') {
      this.error('invalid statement');
      this.skipToEol();
    } else if (this.tok.type === 'EOL') this.advance();
    if (name !== expected) {
      this.error(`unexpected '${name}' within ${expected} block`);
      return;
    }
    if (block.file !== endFile) {
      this.error(`'${name}' in different file than '${expected}' (opened at ${block.file}:${block.line})`);
      return;
    }
    this.endMenu();
  }

  /** `depends on <expr>` of an entry; false after a syntax error (the rest of the line is skipped). */
  private dependsOption(entry: Menu): boolean {
    this.beginStatement();
    this.advance();
    if (!this.expect('on')) {
      this.skipToEol();
      return false;
    }
    const e = this.expr();
    if (!e || this.expect('EOL') === undefined) {
      this.skipToEol();
      return false;
    }
    entry.dep = exprAnd(entry.dep, e);
    return true;
  }

  private ifStatement(inChoice: boolean): void {
    this.beginStatement();
    this.advance();
    const e = this.expr();
    if (!e || this.expect('EOL') === undefined) return this.skipToEol();
    const entry = this.addEntry(undefined);
    entry.isIf = true;
    entry.dep = exprAnd(entry.dep, e);
    this.addMenu();
    const end = this.statements(inChoice);
    this.endBlock(end, 'if', entry);
  }

  /** `menu "title"` / `comment "text"`: an entry without a symbol, its prompt the quoted text. */
  private titledEntry(type: 'menu' | 'comment'): Menu | undefined {
    this.beginStatement();
    this.advance();
    const title = this.expect('WORD_QUOTE');
    if (!title || this.expect('EOL') === undefined) {
      this.skipToEol();
      return undefined;
    }
    const entry = this.addEntry(undefined);
    this.addPrompt(type, title.text, undefined);
    return entry;
  }

  private menuStatement(): void {
    const entry = this.titledEntry('menu');
    if (!entry) return;
    for (;;) {
      if (this.tok.type === 'visible') {
        this.beginStatement();
        this.advance();
        const cond = this.ifExpr();
        if (this.expect('EOL') === undefined) {
          this.skipToEol();
          continue;
        }
        entry.visibility = exprAnd(entry.visibility, cond);
        continue;
      }
      if (this.tok.type === 'depends') {
        this.dependsOption(entry);
        continue;
      }
      break;
    }
    this.addMenu();
    const end = this.statements(false);
    this.endBlock(end, 'menu', entry);
  }

  private commentStatement(): void {
    const entry = this.titledEntry('comment');
    if (!entry) return;
    while (this.tok.type === 'depends') {
      if (!this.dependsOption(entry)) return;
    }
  }

  private sourceStatement(): void {
    this.beginStatement();
    const line = this.curLine;
    this.advance();
    const name = this.tok;
    if (name.type !== 'WORD_QUOTE') {
      this.error(`syntax error, unexpected ${describe(name)}`);
      return this.skipToEol();
    }
    // The new file is pushed before the EOL is read, as conf's parser action does.
    const lx = this.lexer()!;
    const eol = lx.next();
    if (eol.type !== 'EOL' && eol.type !== 'EOF') {
      this.error('invalid statement');
      return this.skipToEol();
    }
    this.prevToken = 'EOL';
    this.open(name.text, line);
    this.advance();
  }

  private ifExpr(): Expr | undefined {
    if (this.tok.type !== 'if') return undefined;
    this.advance();
    return this.expr();
  }

  // ---- expressions: || < && < (= !=) < (< <= > >=) < ! ----

  private symbol(): KSymbol | undefined {
    const t = this.tok;
    if (t.type === 'WORD') {
      this.advance();
      return this.kc.lookup(t.text, 0);
    }
    if (t.type === 'WORD_QUOTE') {
      this.advance();
      return this.kc.lookup(t.text, Flag.Const);
    }
    this.error(`syntax error, unexpected ${describe(t)}`);
    return undefined;
  }

  private expr(): Expr | undefined {
    return this.binary('||', 'or', () => this.binary('&&', 'and', () => this.unary()));
  }

  /** A left-associative chain `operand (op operand)*`. */
  private binary(op: '||' | '&&', kind: 'or' | 'and', operand: () => Expr | undefined): Expr | undefined {
    let l = operand();
    while (l && this.tok.type === op) {
      this.advance();
      const r = operand();
      if (!r) return undefined;
      l = { kind, l, r };
    }
    return l;
  }

  private unary(): Expr | undefined {
    const t = this.tok.type;
    if (t === '!') {
      this.advance();
      const e = this.unary();
      return e && { kind: 'not', e };
    }
    if (t === '(') {
      this.advance();
      const e = this.expr();
      if (!e || !this.expect(')')) return undefined;
      return e;
    }
    const s = this.symbol();
    if (!s) return undefined;
    const op = this.tok.type;
    if (op === '=' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      this.advance();
      const r = this.symbol();
      return r && { kind: 'cmp', op: op as CompareOp, l: s, r };
    }
    return exprSym(s);
  }
}

function describe(t: Token): string {
  if (t.type === 'EOL') return 'end of line';
  if (t.type === 'EOF') return 'end of file';
  if (t.type === 'WORD' || t.type === 'WORD_QUOTE') return `'${t.text}'`;
  return `'${t.type}'`;
}
