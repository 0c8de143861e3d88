import type { Preprocessor } from './preprocess';

export type TokenType =
  | 'EOL' | 'EOF' | 'WORD' | 'WORD_QUOTE' | 'ASSIGN_VAL' | 'HELPTEXT'
  | 'bool' | 'choice' | 'comment' | 'config' | 'def_bool' | 'def_tristate' | 'default' | 'depends'
  | 'endchoice' | 'endif' | 'endmenu' | 'help' | 'hex' | 'if' | 'imply' | 'int' | 'mainmenu' | 'menu'
  | 'menuconfig' | 'modules' | 'on' | 'prompt' | 'range' | 'select' | 'source' | 'string' | 'tristate'
  | 'visible' | '||' | '&&' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '!' | '(' | ')' | ':=' | '+=';

export interface Token {
  type: TokenType;
  text: string;
  /** Line where the token starts. */
  line: number;
}

const KEYWORDS = new Set<string>([
  'bool', 'choice', 'comment', 'config', 'def_bool', 'def_tristate', 'default', 'depends', 'endchoice',
  'endif', 'endmenu', 'help', 'hex', 'if', 'imply', 'int', 'mainmenu', 'menu', 'menuconfig', 'modules',
  'on', 'prompt', 'range', 'select', 'source', 'string', 'tristate', 'visible',
]);
/** Characters of a word (lexer.l's [A-Za-z0-9_-]), and `$` which starts an expansion inside one. */
const WORD_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_-]/.test(ch)) WORD_CHAR[c] = 1;
}
const DOLLAR = 0x24;

/** Two-character operators, then one-character ones, as lexer.l matches them (longest first). */
function operatorAt(t: string, pos: number): TokenType | undefined {
  const c = t[pos];
  const d = t[pos + 1];
  switch (c) {
    case '|':
      return d === '|' ? '||' : undefined;
    case '&':
      return d === '&' ? '&&' : undefined;
    case '!':
      return d === '=' ? '!=' : '!';
    case '<':
      return d === '=' ? '<=' : '<';
    case '>':
      return d === '=' ? '>=' : '>';
    case ':':
      return d === '=' ? ':=' : undefined;
    case '+':
      return d === '=' ? '+=' : undefined;
    case '=':
      return '=';
    case '(':
      return '(';
    case ')':
      return ')';
    default:
      return undefined;
  }
}

/**
 * One Kconfig file's scanner, mirroring scripts/kconfig/lexer.l: words and keywords, quoted
 * strings with `$(...)` expanded, assignment values taken raw, help text by indentation.
 */
export class FileLexer {
  private pos = 0;
  line = 1;
  private state: 'initial' | 'assign' = 'initial';

  constructor(
    readonly file: string,
    private readonly text: string,
    private readonly pp: Preprocessor,
    private readonly warn: (msg: string) => void,
  ) {}


  enterAssignValue(): void {
    this.state = 'assign';
  }

  next(): Token {
    const t = this.text;
    if (this.state === 'assign') {
      while (this.pos < t.length && (t[this.pos] === ' ' || t[this.pos] === '\t')) this.pos++;
      const line = this.line;
      if (this.pos >= t.length) {
        this.state = 'initial';
        return { type: 'EOF', text: '', line };
      }
      if (t[this.pos] === '\n') {
        this.pos++;
        this.line++;
        this.state = 'initial';
        return { type: 'EOL', text: '', line };
      }
      const end = t.indexOf('\n', this.pos);
      const stop = end < 0 ? t.length : end;
      const value = t.slice(this.pos, stop);
      this.pos = stop;
      return { type: 'ASSIGN_VAL', text: value, line };
    }
    for (;;) {
      if (this.pos >= t.length) return { type: 'EOF', text: '', line: this.line };
      const c = t[this.pos];
      const line = this.line;
      if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
        continue;
      }
      if (c === '\\' && t[this.pos + 1] === '\n') {
        this.pos += 2;
        this.line++;
        continue;
      }
      if (c === '\n') {
        this.pos++;
        this.line++;
        return { type: 'EOL', text: '', line };
      }
      if (c === '"' || c === "'") return this.quoted(c);
      const code = t.charCodeAt(this.pos);
      if (code === DOLLAR || (code < 128 && WORD_CHAR[code])) {
        let end = this.pos;
        let dollar = false;
        for (; end < t.length; end++) {
          const x = t.charCodeAt(end);
          if (x === DOLLAR) dollar = true;
          else if (x >= 128 || !WORD_CHAR[x]) break;
        }
        const word = t.slice(this.pos, end);
        if (!dollar) {
          this.pos = end;
          return KEYWORDS.has(word) ? { type: word as TokenType, text: word, line } : { type: 'WORD', text: word, line };
        }
        // expand_token: expand from the token's start over the rest of the line, push back the rest.
        // flex pushes the unexpanded rest of the line back: it is the original text, so just move on.
        const lineEnd = t.indexOf('\n', this.pos);
        const stop = lineEnd < 0 ? t.length : lineEnd;
        const [value, used] = this.pp.expandOneToken(t.slice(this.pos, stop), 0);
        this.pos += used;
        if (value !== '') return { type: 'WORD', text: value, line };
        continue;
      }
      const op = operatorAt(t, this.pos);
      if (op) {
        this.pos += op.length;
        return { type: op, text: op, line };
      }
      this.warn(`${this.file}:${this.line}:warning: ignoring unsupported character '${c}'`);
      this.pos++;
    }
  }

  private quoted(quote: string): Token {
    const line = this.line;
    this.pos++;
    let out = '';
    const t = this.text;
    for (;;) {
      if (this.pos >= t.length) return { type: 'WORD_QUOTE', text: out, line };
      const c = t[this.pos];
      if (c === '$') {
        const lineEnd = t.indexOf('\n', this.pos);
        const stop = lineEnd < 0 ? t.length : lineEnd;
        const [value, used] = this.pp.expandDollar(t.slice(this.pos + 1, stop), 0);
        out += value;
        this.pos += 1 + used;
        continue;
      }
      if (c === '\\') {
        if (t[this.pos + 1] !== undefined && t[this.pos + 1] !== '\n') {
          out += t[this.pos + 1];
          this.pos += 2;
        } else this.pos += 1;
        continue;
      }
      if (c === quote) {
        this.pos++;
        return { type: 'WORD_QUOTE', text: out, line };
      }
      if (c === '\n') {
        this.warn(`${this.file}:${line}:warning: multi-line strings not supported`);
        return { type: 'WORD_QUOTE', text: out, line };
      }
      // A run of plain characters is taken as one slice (char by char, += builds a rope).
      let end = this.pos + 1;
      for (; end < t.length; end++) {
        const d = t[end];
        if (d === quote || d === '$' || d === '\\' || d === '\n') break;
      }
      out += t.slice(this.pos, end);
      this.pos = end;
    }
  }

  /**
   * Help text after `help`: lines indented at least as much as the first one, tabs counted to
   * the next multiple of 8, indentation beyond the first line's kept as spaces.
   */
  helpText(): Token {
    const t = this.text;
    const line = this.line;
    // Pieces are joined once at the end: a string grown by += is a rope of thousands of parts,
    // and help texts (3 MB in Linux) live as long as the model does.
    const out: string[] = [];
    let firstTs = 0;
    while (this.pos < t.length) {
      const lineEnd = t.indexOf('\n', this.pos);
      const stop = lineEnd < 0 ? t.length : lineEnd;
      let ts = 0;
      let k = this.pos;
      for (; k < stop; k++) {
        const c = t.charCodeAt(k);
        if (c === 0x20) ts++;
        else if (c === 0x09) ts = (ts & ~7) + 8;
        else break;
      }
      let bodyEnd = stop;
      while (bodyEnd > k && (t.charCodeAt(bodyEnd - 1) === 0x20 || t.charCodeAt(bodyEnd - 1) === 0x09)) bodyEnd--;
      if (bodyEnd === k) {
        // A blank line: kept, unless the next line starts at column 0 (that ends the help).
        const nextChar = t[stop + 1];
        if (lineEnd < 0) {
          this.pos = t.length;
          break;
        }
        this.pos = stop + 1;
        this.line++;
        if (nextChar !== undefined && nextChar !== ' ' && nextChar !== '\t' && nextChar !== '\n') break;
        out.push('\n');
        continue;
      }
      if (k === this.pos && firstTs !== 0) break;
      if (firstTs && ts < firstTs) {
        // Less indented: help ends; the line's indentation is consumed, its text is lexed normally.
        this.pos = k;
        break;
      }
      if (firstTs) out.push(' '.repeat(ts - firstTs));
      else firstTs = ts;
      out.push(t.slice(k, bodyEnd));
      if (lineEnd < 0) {
        this.pos = t.length;
        break;
      }
      this.pos = stop + 1;
      this.line++;
      // A newline followed by a line starting at column 0 ends the help and is not part of it.
      const nextChar = t[this.pos];
      if (nextChar !== undefined && nextChar !== ' ' && nextChar !== '\t' && nextChar !== '\n') break;
      out.push('\n');
    }
    return { type: 'HELPTEXT', text: out.join(''), line };
  }
}
