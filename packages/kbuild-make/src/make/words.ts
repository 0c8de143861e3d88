/** GNU make's word separators: space, tab, newline. */
export const isBlank = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a;

/** Word helpers with GNU make's whitespace rules (space, tab, newline separate words). */
export function words(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (isBlank(c)) {
      if (++i >= n) return out;
      c = text.charCodeAt(i);
    }
    const start = i;
    while (i < n && !isBlank(text.charCodeAt(i))) i++;
    out.push(text.slice(start, i));
  }
  return out;
}

export function joinWords(ws: readonly string[]): string {
  return ws.join(' ');
}

/** GNU make's `%` pattern match: returns the stem, or undefined. Only the first `%` is special. */
export function matchPattern(pattern: string, word: string): string | undefined {
  const pct = pattern.indexOf('%');
  if (pct < 0) return pattern === word ? '' : undefined;
  const prefix = pattern.slice(0, pct);
  const suffix = pattern.slice(pct + 1);
  if (word.length < prefix.length + suffix.length) return undefined;
  if (!word.startsWith(prefix) || !word.endsWith(suffix)) return undefined;
  return word.slice(prefix.length, word.length - suffix.length);
}

export function patsubstWord(pattern: string, replacement: string, word: string): string {
  const stem = matchPattern(pattern, word);
  if (stem === undefined) return word;
  const pct = replacement.indexOf('%');
  return pct < 0 ? replacement : replacement.slice(0, pct) + stem + replacement.slice(pct + 1);
}
