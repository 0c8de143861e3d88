/**
 * The C lexer of the symbol scanner. A file is split into directive lines (`#if …`, with
 * backslash continuations joined and comments removed, tokenized) and the code spans between
 * them, which are kept as offsets (lex: headers, read by many sources); a source, read once, is
 * read directive by directive instead (SourceReader). Most code is only searched for identifiers
 * (scanIdentifiers) and tokenized (lexTokens) from the point where a macro of interest is invoked. Numbers,
 * strings and character literals are single tokens (string values matter: namespaces are strings).
 */
export const enum Kind {
  Identifier,
  Number,
  String,
  Char,
  Punct,
}

export interface Token {
  kind: Kind;
  text: string;
  line: number;
  /** Whitespace came before the token (for `#` stringification, as cpp keeps one space). */
  space: boolean;
}

export interface DirectiveLine {
  directive: string;
  /** The tokens after the directive name (left empty by lex(text, false)). */
  tokens: Token[];
  line: number;
  /** text[start, end): what follows the directive name, up to the end of its (logical) line. */
  start: number;
  end: number;
  /**
   * What a reader made of the line, kept with it (the scanner's parsed #define): a header's lines
   * are lexed once and read again by every source that includes it.
   */
  memo: unknown;
}

/** Code between directives: text[start, end), starting on `line`. */
export interface CodeSpan {
  directive: undefined;
  start: number;
  end: number;
  line: number;
}

export type LexLine = DirectiveLine | CodeSpan;

/** Character classes by code (the scanner reads files as latin1: every code is below 256). */
const ID_START = 1;
const ID_PART = 2;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const start = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
  CLASS[c] = (start ? ID_START | ID_PART : 0) | (c >= 48 && c <= 57 ? ID_PART : 0);
}
const isIdStart = (c: number): boolean => c < 256 && (CLASS[c] & ID_START) !== 0;
const isIdPart = (c: number): boolean => c < 256 && (CLASS[c] & ID_PART) !== 0;

/**
 * The length of the punctuator at text[i] (C's multi-character ones: `...`, `<<=`, `>>=`, `##`,
 * `&&`, `||`, `->`, `++`, `--` and the comparisons and compound assignments), told from char codes:
 * slicing the text to look them up made two strings per punctuator.
 */
function punctLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const d = text.charCodeAt(i + 1);
  switch (c) {
    case 46: // .
      return d === 46 && text.charCodeAt(i + 2) === 46 ? 3 : 1;
    case 60: // <
    case 62: // >
      if (d === c) return text.charCodeAt(i + 2) === 61 ? 3 : 2;
      return d === 61 ? 2 : 1;
    case 35: // #
      return d === 35 ? 2 : 1;
    case 38: // &
    case 124: // |
    case 43: // +
      return d === c || d === 61 ? 2 : 1;
    case 45: // -
      return d === 45 || d === 61 || d === 62 ? 2 : 1;
    case 61: // =
    case 33: // !
    case 42: // *
    case 47: // /
    case 37: // %
    case 94: // ^
      return d === 61 ? 2 : 1;
    default:
      return 1;
  }
}

/**
 * A cursor over text[pos, end): `next()` skips blanks, comments and continuations and delimits one
 * token (start, stop, kind, line), noting whether a newline or a blank came before it.
 */
class Cursor {
  start = 0;
  stop = 0;
  kind: Kind = Kind.Punct;
  line: number;
  tokenLine = 0;
  newline = false;
  space = false;

  constructor(
    readonly text: string,
    public pos: number,
    readonly end: number,
    line: number,
  ) {
    this.line = line;
  }

  next(): boolean {
    const text = this.text;
    const end = this.end;
    let i = this.pos;
    this.newline = false;
    this.space = false;
    for (;;) {
      if (i >= end) {
        this.pos = i;
        return false;
      }
      const c = text.charCodeAt(i);
      if (c === 10) {
        this.line++;
        this.newline = true;
        this.space = true;
        i++;
      } else if (c === 92 && (text.charCodeAt(i + 1) === 10 || (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10))) {
        i += text.charCodeAt(i + 1) === 13 ? 3 : 2;
        this.line++;
        this.space = true;
      } else if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
        i++;
        this.space = true;
      } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
        const close = text.indexOf('*/', i + 2);
        const stop = close < 0 || close + 2 > end ? end : close + 2;
        for (let k = i; k < stop; k++) if (text.charCodeAt(k) === 10) this.line++;
        i = stop;
        this.space = true;
      } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
        while (i < end && text.charCodeAt(i) !== 10) {
          if (text.charCodeAt(i) === 92 && text.charCodeAt(i + 1) === 10) {
            this.line++;
            i++;
          }
          i++;
        }
      } else break;
    }
    this.start = i;
    this.tokenLine = this.line;
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) {
      i++;
      while (i < end) {
        const d = text.charCodeAt(i);
        if (d === 92) {
          if (text.charCodeAt(i + 1) === 10) this.line++;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else if (d === 10) break; // unterminated: cpp ends it at the line (`#error don't`)
        else i++;
      }
      this.kind = c === 34 ? Kind.String : Kind.Char;
    } else if (isIdStart(c)) {
      while (i < end && isIdPart(text.charCodeAt(i))) i++;
      const d = text.charCodeAt(i);
      // Prefixed literals (L"..", u8'..') are one string token.
      if ((d === 34 || d === 39) && i - this.start <= 2 && /^(?:L|u|U|u8)$/.test(text.slice(this.start, i))) {
        this.pos = i;
        const s = this.start;
        const sp = this.space;
        const nl = this.newline;
        this.next();
        this.start = s;
        this.space = sp;
        this.newline = nl;
        return true;
      }
      this.kind = Kind.Identifier;
    } else if ((c >= 48 && c <= 57) || (c === 46 && text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57)) {
      while (i < end) {
        const d = text.charCodeAt(i);
        if (isIdPart(d) || d === 46) i++;
        else if ((d === 43 || d === 45) && /[eEpP]/.test(text[i - 1])) i++;
        else break;
      }
      this.kind = Kind.Number;
    } else {
      this.kind = Kind.Punct;
      i += Math.min(punctLength(text, i), end - i);
    }
    this.stop = i;
    this.pos = i;
    return true;
  }

  token(): Token {
    return { kind: this.kind, text: this.text.slice(this.start, this.stop), line: this.tokenLine, space: this.space };
  }
}

/**
 * Splits a file into directive lines and code spans. With `tokenize` false, directive lines carry
 * only their range (the header index tokenizes the few definitions a scan looks up). Code is only
 * delimited here (skipCode), not tokenized: the scan reads it later, as far as it needs to.
 */
export function lex(text: string, tokenize = true): LexLine[] {
  const out: LexLine[] = [];
  const cur = new Cursor(text, 0, text.length, 1);
  let lineStart = true;
  for (;;) {
    const span = skipCode(cur, lineStart);
    if (span) out.push(span);
    const directive = readDirective(cur, tokenize);
    if (!directive) break;
    out.push(directive);
    lineStart = false;
  }
  return out;
}

/** The directive line whose "#" is the cursor's next token (undefined at the end of the text). */
function readDirective(cur: Cursor, tokenize: boolean): DirectiveLine | undefined {
  if (!cur.next()) return undefined; // the "#" of a directive
  const text = cur.text;
  const directive: DirectiveLine = { directive: '', tokens: [], line: cur.tokenLine, start: cur.stop, end: cur.stop, memo: undefined };
  for (;;) {
    const pos = cur.pos;
    const line = cur.line;
    if (!cur.next()) break;
    if (cur.newline) {
      // The directive ended at the newline: the code scan starts again from there.
      cur.pos = pos;
      cur.line = line;
      break;
    }
    if (directive.directive === '' && directive.start === directive.end && cur.kind === Kind.Identifier) {
      directive.directive = text.slice(cur.start, cur.stop);
      directive.start = directive.end = cur.stop;
      continue;
    }
    if (tokenize) directive.tokens.push(cur.token());
    directive.end = cur.stop;
  }
  return directive;
}

/**
 * A source file read in one pass, directive by directive: the code before each directive is
 * either skipped (a branch not compiled) or scanned for identifiers by the reader's user, which
 * stops at the directive's "#" (scanIdentifiers with a DirectiveStop) and moves the reader there.
 * lex() delimits all code first and the scan then reads most of it again: for sources, read
 * once, that was a tenth of the scan.
 */
export class SourceReader {
  private readonly cur: Cursor;
  /** Nothing but blanks and comments since the start of the line (only at the start of the file). */
  private lineStart = true;

  constructor(readonly text: string) {
    this.cur = new Cursor(text, 0, text.length, 1);
  }

  /** Where the code after the last directive starts (offset, line, and whether a "#" there is a directive). */
  get pos(): number {
    return this.cur.pos;
  }
  get line(): number {
    return this.cur.line;
  }
  get atLineStart(): boolean {
    return this.lineStart;
  }

  /** Skips the code before the next directive; returns the directive (undefined at the end). */
  skip(): DirectiveLine | undefined {
    skipCode(this.cur, this.lineStart);
    return this.directive();
  }

  /**
   * The code from `start` (on `line`, after the start of a line) to the next directive, as lex()
   * delimits it; the reader is left at the directive.
   */
  spanFrom(start: number, line: number): CodeSpan | undefined {
    this.cur.pos = start;
    this.cur.line = line;
    return skipCode(this.cur, false);
  }

  /** The directive whose "#" is at `pos` (on `line`), or the end of the text when `pos` is there. */
  directiveAt(pos: number, line: number): DirectiveLine | undefined {
    this.cur.pos = pos;
    this.cur.line = line;
    return this.directive();
  }

  /** The directive at the reader's position. */
  directive(): DirectiveLine | undefined {
    this.lineStart = false;
    return readDirective(this.cur, true);
  }
}

/** Where scanIdentifiers stopped at a directive: set when it returns at a directive's "#". */
export interface DirectiveStop {
  /** In: the scan starts at the start of a line (a "#" before any other token starts a directive). */
  lineStart: boolean;
  /** Out: it stopped at a directive (the offset returned is its "#"), on `line`. */
  found: boolean;
  line: number;
}

/**
 * Reads code from the cursor up to the "#" that starts a directive line (left for cur.next())
 * or the end, skipping comments and literals as the Cursor does, and returns the span from the
 * first token to the end of the last (undefined when there is none). `lineStart`: the cursor is
 * at the start of a line (a "#" there starts a directive).
 */
function skipCode(cur: Cursor, lineStart: boolean): CodeSpan | undefined {
  const text = cur.text;
  const end = cur.end;
  let i = cur.pos;
  let line = cur.line;
  let span: CodeSpan | undefined;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c >= 128 || SKIP[c] === ORDINARY) {
      // A run of characters that neither end a line nor start a comment, literal or directive.
      if (!span) span = { directive: undefined, start: i, end: i, line };
      lineStart = false;
      do c = text.charCodeAt(++i);
      while (i < end && (c >= 128 || SKIP[c] === ORDINARY));
      span.end = i;
      continue;
    }
    if (c === 10) {
      line++;
      lineStart = true;
      i++;
      continue;
    }
    if (SKIP[c] === BLANK) {
      i++;
      continue;
    }
    const d = text.charCodeAt(i + 1);
    if (c === 92 && (d === 10 || (d === 13 && text.charCodeAt(i + 2) === 10))) {
      i += d === 13 ? 3 : 2;
      line++;
      continue;
    }
    if (c === 47 && d === 42) {
      const close = text.indexOf('*/', i + 2);
      const stop = close < 0 || close + 2 > end ? end : close + 2;
      for (let k = i; k < stop; k++) if (text.charCodeAt(k) === 10) line++;
      i = stop;
      continue;
    }
    if (c === 47 && d === 47) {
      while (i < end && text.charCodeAt(i) !== 10) {
        if (text.charCodeAt(i) === 92 && text.charCodeAt(i + 1) === 10) {
          line++;
          i++;
        }
        i++;
      }
      continue;
    }
    if (lineStart && c === 35 && d !== 35) break;
    lineStart = false;
    if (!span) span = { directive: undefined, start: i, end: i, line };
    if (c === 34 || c === 39) {
      i++;
      while (i < end) {
        const e = text.charCodeAt(i);
        if (e === 92) {
          if (text.charCodeAt(i + 1) === 10) line++;
          i += 2;
        } else if (e === c) {
          i++;
          break;
        } else if (e === 10) break;
        else i++;
      }
      if (i > end) i = end;
    } else if (c === 35 && d === 35) i += 2;
    else i++;
    span.end = i;
  }
  cur.pos = i;
  cur.line = line;
  return span;
}

/** skipCode's classes of ASCII characters: the ones it must look at, and the rest. */
const ORDINARY = 0;
const BLANK = 1;
const SPECIAL = 2;
const SKIP = new Uint8Array(128);
for (const c of [32, 9, 13, 12, 11]) SKIP[c] = BLANK;
for (const c of [10, 92, 47, 35, 34, 39]) SKIP[c] = SPECIAL;

/**
 * How a file keeps from being read twice: `#ifndef G` then `#define G` as its first two lines
 * ({ macro: G }), or `#pragma once` ({ macro: undefined }); undefined when it does not. `nameOf`
 * reads the name a directive starts with (from its tokens, or from the text when directives were
 * not tokenized).
 */
export function includeGuard(lines: readonly LexLine[], nameOf: (d: DirectiveLine) => string | undefined): { macro?: string } | undefined {
  const [a, b] = lines;
  if (a?.directive === 'pragma' && nameOf(a) === 'once') return {};
  if (a?.directive !== 'ifndef' || b?.directive !== 'define') return undefined;
  const macro = nameOf(a);
  return macro !== undefined && macro === nameOf(b) ? { macro } : undefined;
}

/** The tokens of text[start, end) (a code span or part of one). */
export function lexTokens(text: string, start: number, end: number, line: number): Token[] {
  const out: Token[] = [];
  const cur = new Cursor(text, start, end, line);
  while (cur.next()) out.push(cur.token());
  return out;
}

/** Words after which a name is a tag (`struct usb_string`), not a use of a symbol. */
const TAG_WORDS = new Set(['struct', 'union', 'enum']);

/** Whether text[start, stop) is `.` or `->`: the name after it is a member, not a use of a symbol. */
function isMemberOperator(text: string, start: number, stop: number): boolean {
  const c = text.charCodeAt(start);
  return stop - start === 1 ? c === 46 : stop - start === 2 && c === 45 && text.charCodeAt(start + 1) === 62;
}

/** Macros whose first argument names a symbol without referring to it (looked up by name at run time). */
const BY_NAME = new Set(['symbol_get', 'symbol_put', 'symbol_request', 'dvb_attach', 'dvb_detach', 'symbol_put_addr']);

/**
 * The tokens of a macro invocation at `start`: the name and, when "(" follows, its arguments up
 * to the matching ")" (or the end of text[start, end), or with `stopAtDirective` the next directive
 * line). Returns where the code after it starts.
 */
export function lexInvocation(text: string, start: number, end: number, line: number, stopAtDirective = false): { tokens: Token[]; next: number; line: number } {
  const cur = new Cursor(text, start, end, line);
  const tokens: Token[] = [];
  if (!cur.next()) return { tokens, next: end, line };
  tokens.push(cur.token());
  let next = cur.pos;
  let nextLine = cur.line;
  let depth = 0;
  while (cur.next()) {
    const c = cur.kind === Kind.Punct && cur.stop - cur.start === 1 ? text.charCodeAt(cur.start) : 0;
    if (depth === 0 && c !== 40) break;
    if (c === 35 && cur.newline && stopAtDirective) break;
    tokens.push(cur.token());
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) {
      next = cur.pos;
      nextLine = cur.line;
      return { tokens, next, line: nextLine };
    }
    next = cur.pos;
    nextLine = cur.line;
  }
  return { tokens, next, line: nextLine };
}

/** The rule scanIdentifiers applies, for code already in tokens: given the two tokens before a name. */
export function isReferencePosition(prev: string | undefined, prevprev: string | undefined): boolean {
  if (prev === '.' || prev === '->' || (prev !== undefined && TAG_WORDS.has(prev))) return false;
  return !(prev === '(' && prevprev !== undefined && BY_NAME.has(prevprev));
}

/**
 * Calls `visit(name, offset, line, reference)` for each identifier of text[start, end);
 * `reference` is false where the name cannot be a use of a symbol: after `.`/`->` (a member),
 * after struct/union/enum (a tag), as the first argument of symbol_get() and its kin. Stops when
 * `visit` returns true and returns the offset reached (`end` when it did not stop).
 */
export function scanIdentifiers(
  text: string,
  start: number,
  end: number,
  line: number,
  visit: (name: string, offset: number, line: number, reference: boolean) => boolean,
  declared?: (name: string) => void,
  directives?: DirectiveStop,
): number {
  const cur = new Cursor(text, start, end, line);
  // The first token is on a new line when the scan starts at one (the start of a file).
  let firstOnLine = directives?.lineStart ?? false;
  let notReference = false;
  let byName = false;
  let byNameArgument = false;
  // A name after a type-like word and before ; = , [ ) or : is being declared (`u8 bt_info;`):
  // a local of that name is not the exported symbol.
  let typeBefore = false;
  let candidate: string | undefined;
  // A declared name followed by a parameter list and "{" is a function the code defines.
  let paramsOf: string | undefined;
  let parens = 0;
  let definedAfterParams: string | undefined;
  // `int (*probe)(struct device *);`: a pointer declarator; how far one has been read (type,
  // "(", "*", name, ")"), and its name. A call through a pointer has no type word before it.
  let pointerStage = 0;
  let pointerName: string | undefined;
  while (cur.next()) {
    const lineStarts = firstOnLine || cur.newline;
    firstOnLine = false;
    if (definedAfterParams !== undefined) {
      // `static int acp_init(struct acp *a) {`: the module defines a function of that name.
      if (declared && cur.kind === Kind.Punct && text.charCodeAt(cur.start) === 123) declared(definedAfterParams);
      definedAfterParams = undefined;
    }
    if (cur.kind === Kind.Identifier) {
      const name = text.slice(cur.start, cur.stop);
      if (visit(name, cur.start, cur.tokenLine, !notReference && !byNameArgument)) return cur.start;
      candidate = typeBefore ? name : undefined;
      // One lookup for the three word lists (most names are in none).
      const word = WORDS.get(name) ?? 0;
      if (pointerStage === 3) {
        pointerStage = 4;
        pointerName = name;
      } else pointerStage = word & NOT_TYPE ? 0 : 1;
      typeBefore = (word & NOT_TYPE) === 0;
      notReference = (word & TAG) !== 0;
      byName = (word & ARGUMENT_BY_NAME) !== 0;
      byNameArgument = false;
    } else if (cur.kind === Kind.Punct) {
      const c = text.charCodeAt(cur.start);
      const one = cur.stop - cur.start === 1;
      if (c === 35 && one && lineStarts && directives !== undefined) {
        directives.found = true;
        directives.line = cur.tokenLine;
        return cur.start;
      }
      if (candidate !== undefined && declared && one && (c === 59 || c === 61 || c === 44 || c === 91 || c === 41 || c === 58)) declared(candidate);
      if (pointerStage === 5 && one && (c === 40 || c === 91) && declared) declared(pointerName!);
      pointerStage = !one ? 0 : pointerStage === 1 && c === 40 ? 2 : pointerStage === 2 && c === 42 ? 3 : pointerStage === 4 && c === 41 ? 5 : 0;
      if (one && c === 40) {
        if (candidate !== undefined && paramsOf === undefined) {
          paramsOf = candidate;
          parens = 0;
        }
        if (paramsOf !== undefined) parens++;
      } else if (one && c === 41 && paramsOf !== undefined && --parens === 0) {
        definedAfterParams = paramsOf;
        paramsOf = undefined;
      }
      candidate = undefined;
      typeBefore = one && c === 42 && typeBefore;
      byNameArgument = byName && one && c === 40;
      byName = false;
      notReference = isMemberOperator(text, cur.start, cur.stop);
    } else {
      notReference = byName = byNameArgument = typeBefore = false;
      candidate = undefined;
      pointerStage = 0;
    }
  }
  return end;
}

/** Words after which a name is used, not declared. */
const NOT_TYPES = new Set(['return', 'sizeof', 'case', 'else', 'goto', 'typeof', '__typeof__', 'do', 'if', 'while', 'for', 'switch', 'asm', '__asm__', 'defined']);

const NOT_TYPE = 1;
const TAG = 2;
const ARGUMENT_BY_NAME = 4;
/** NOT_TYPES, TAG_WORDS and BY_NAME as flags of one map. */
const WORDS = new Map<string, number>();
for (const [set, flag] of [
  [NOT_TYPES, NOT_TYPE],
  [TAG_WORDS, TAG],
  [BY_NAME, ARGUMENT_BY_NAME],
] as const)
  for (const w of set) WORDS.set(w, (WORDS.get(w) ?? 0) | flag);

/**
 * The identifiers each function defined in text's code spans refers to (header inline functions:
 * a module that calls one uses what its body uses). Bodies of every #if branch are read;
 * `startSpan` receives the span each function starts in (to tell which branch defines it).
 */
export function functionBodies(text: string, spans: readonly CodeSpan[], startSpan?: Map<string, CodeSpan>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let braces = 0;
  let parens = 0;
  let candidate: string | undefined; // identifier before the top-level "(" just closed
  let last: string | undefined;
  let body: Set<string> | undefined;
  let notReference = false;
  for (const span of spans) {
    const cur = new Cursor(text, span.start, span.end, span.line);
    while (cur.next()) {
      if (cur.kind === Kind.Identifier) {
        const name = text.slice(cur.start, cur.stop);
        if (body && !notReference) body.add(name);
        notReference = TAG_WORDS.has(name);
        last = name;
        continue;
      }
      if (cur.kind !== Kind.Punct) {
        notReference = false;
        continue;
      }
      const c = text.charCodeAt(cur.start);
      const one = cur.stop - cur.start === 1;
      notReference = isMemberOperator(text, cur.start, cur.stop);
      if (!one) continue;
      if (c === 40) {
        if (braces === 0 && parens === 0) candidate = last;
        parens++;
      } else if (c === 41) parens = Math.max(0, parens - 1);
      else if (c === 123) {
        if (braces === 0 && parens === 0 && candidate) {
          body = out.get(candidate) ?? new Set();
          out.set(candidate, body);
          startSpan?.set(candidate, span);
        }
        braces++;
      } else if (c === 125) {
        braces = Math.max(0, braces - 1);
        if (braces === 0) {
          body = undefined;
          candidate = undefined;
        }
      } else if (c === 59 && braces === 0) candidate = undefined;
      else if (c === 61 && braces === 0) candidate = undefined;
      last = undefined;
    }
  }
  return out;
}
