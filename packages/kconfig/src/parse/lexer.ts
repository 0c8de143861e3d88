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
const OPERATORS = ['||', '&&', '!=', '<=', '>=', ':=', '+=', '=', '<', '>', '!', '(', ')'] as const;
const isTokenChar = (c: string | undefined): boolean => {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  return (x >= 97 && x <= 122) || (x >= 65 && x <= 90) || (x >= 48 && x <= 57) || x === 95 || x === 45;
};

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
      if (isTokenChar(c) || c === '$') {
        let end = this.pos;
        let dollar = false;
        while (end < t.length && (isTokenChar(t[end]) || t[end] === '$')) {
          if (t[end] === '$') dollar = true;
          end++;
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
      const op = OPERATORS.find((o) => t.startsWith(o, this.pos));
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
      out += c;
      this.pos++;
    }
  }

  /**
   * Help text after `help`: lines indented at least as much as the first one, tabs counted to
   * the next multiple of 8, indentation beyond the first line's kept as spaces.
   */
  helpText(): Token {
    const t = this.text;
    const line = this.line;
    let out = '';
    let firstTs = 0;
    while (this.pos < t.length) {
      const lineEnd = t.indexOf('\n', this.pos);
      const stop = lineEnd < 0 ? t.length : lineEnd;
      const raw = t.slice(this.pos, stop);
      let ts = 0;
      let k = 0;
      for (; k < raw.length && (raw[k] === ' ' || raw[k] === '\t'); k++) ts = raw[k] === '\t' ? (ts & ~7) + 8 : ts + 1;
      const body = raw.slice(k).replace(/[ \t]+$/, '');
      if (body === '') {
        // A blank line: kept, unless the next line starts at column 0 (that ends the help).
        const nextChar = t[stop + 1];
        if (lineEnd < 0) {
          this.pos = t.length;
          break;
        }
        this.pos = stop + 1;
        this.line++;
        if (nextChar !== undefined && nextChar !== ' ' && nextChar !== '\t' && nextChar !== '\n') break;
        out += '\n';
        continue;
      }
      if (k === 0 && firstTs !== 0) break;
      if (firstTs && ts < firstTs) {
        // Less indented: help ends; the line's indentation is consumed, its text is lexed normally.
        this.pos += k;
        break;
      }
      if (firstTs) out += ' '.repeat(ts - firstTs);
      else firstTs = ts;
      out += body;
      if (lineEnd < 0) {
        this.pos = t.length;
        break;
      }
      this.pos = stop + 1;
      this.line++;
      // A newline followed by a line starting at column 0 ends the help and is not part of it.
      const nextChar = t[this.pos];
      if (nextChar !== undefined && nextChar !== ' ' && nextChar !== '\t' && nextChar !== '\n') break;
      out += '\n';
    }
    return { type: 'HELPTEXT', text: out, line };
  }
}
