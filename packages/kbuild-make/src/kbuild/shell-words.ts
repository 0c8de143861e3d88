/**
 * Splits a command line the way /bin/sh splits a simple command: quotes and backslashes only.
 * Flags in kbuild Makefiles carry shell quoting (`-DNS='"FOO"'`); we run commands with argument
 * arrays, so we unquote here and refuse anything that would need a real shell.
 */
export function shellWords(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (BLANK[text.charCodeAt(i)] === 1) {
      i++;
      continue;
    }
    // One word: runs of ordinary characters are taken as slices (a compile command is 3 KB).
    let cur = '';
    let run = i;
    for (; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code < 128 && BLANK[code] === 1) break;
      if (code >= 128 || ORDINARY[code] === 1) continue;
      cur += text.slice(run, i);
      const c = text[i];
      if (c === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) throw new Error(`unterminated ' in: ${text}`);
        cur += text.slice(i + 1, end);
        i = end;
      } else if (c === '"') {
        let j = i + 1;
        for (; j < n && text[j] !== '"'; j++) {
          if (text[j] === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) j++;
          else if (text[j] === '$' || text[j] === '`') throw new Error(`shell expansion is not supported in: ${text}`);
          cur += text[j];
        }
        if (j >= n) throw new Error(`unterminated " in: ${text}`);
        i = j;
      } else if (c === '\\') {
        cur += text[++i] ?? '';
      } else throw new Error(`shell syntax '${c}' is not supported in a flag: ${text}`);
      run = i + 1;
    }
    out.push(cur + text.slice(run, i));
  }
  return out;
}

/** Blanks between words, and the characters a word takes as they are (ASCII; the rest is ordinary). */
const BLANK = new Uint8Array(128);
const ORDINARY = new Uint8Array(128).fill(1);
for (const c of ' \t\n') BLANK[c.charCodeAt(0)] = 1;
for (const c of ' \t\n\'"\\$`;&|<>(){}*?[~') ORDINARY[c.charCodeAt(0)] = 0;

/** Quotes one argument for display in the style kbuild's .cmd files use. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Splits a kbuild command line at unquoted `;` (a list) or `|` (a pipeline), into the simple
 * commands kbuild's shell runs one after the other. Empty parts (a trailing `;`) are dropped.
 */
export function splitUnquoted(text: string, separator: ';' | '|'): string[] {
  const parts: string[] = [];
  let start = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === separator && !(separator === '|' && text[i + 1] === '|')) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}
