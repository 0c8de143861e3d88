/**
 * A small hand-written C scanner: it skips comments, string and character literals and
 * preprocessor directive lines, and reports identifiers with what follows them. It does not
 * preprocess; it is for fast, conservative predictions before anything compiles.
 */
export interface Token {
  text: string;
  line: number;
}

const isIdStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdPart = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);

/** Tokens of C source: identifiers and single punctuation characters (numbers are skipped). */
export function scanTokens(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let atLineStart = true;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      atLineStart = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12) {
      i++;
      continue;
    }
    // Comments.
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (text.charCodeAt(k) === 10) line++;
      i = stop;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    // Preprocessor directives: skipped whole (with continuations) except #define bodies, which can
    // use symbols (a macro calling an imported function), so those are scanned as code.
    if (c === 35 && atLineStart) {
      const m = /^#\s*(\w+)/.exec(text.slice(i, i + 40));
      if (m && m[1] !== 'define') {
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 10) {
            if (text.charCodeAt(i - 1) === 92 || (text.charCodeAt(i - 1) === 13 && text.charCodeAt(i - 2) === 92)) {
              line++;
              i++;
              continue;
            }
            break;
          }
          i++;
        }
        continue;
      }
      i += m ? m[0].length : 1;
      atLineStart = false;
      continue;
    }
    atLineStart = false;
    if (c === 34 || c === 39) {
      // String or character literal.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === c) {
          i++;
          break;
        } else {
          if (d === 10) line++;
          i++;
        }
      }
      out.push({ text: c === 34 ? '"' : "'", line });
      continue;
    }
    if (isIdStart(c)) {
      const start = i;
      while (i < n && isIdPart(text.charCodeAt(i))) i++;
      out.push({ text: text.slice(start, i), line });
      continue;
    }
    if (c >= 48 && c <= 57) {
      while (i < n && (isIdPart(text.charCodeAt(i)) || text.charCodeAt(i) === 46)) i++;
      continue;
    }
    out.push({ text: text[i], line });
    i++;
  }
  return out;
}
