import { readFileSync } from 'node:fs';

/**
 * Where a module's sources first name a symbol (as a whole word), for pointing at a use. A use
 * through a header's macro names the symbol in no source: then the first source, line 1.
 */
export function firstMention(sources: readonly string[], symbol: string): { file: string; line: number } {
  const word = new RegExp(`\\b${symbol.replace(/[^\w]/g, '\\$&')}\\b`);
  for (const file of sources) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue; // a generated source not made yet
    }
    const at = text.search(word);
    if (at >= 0) return { file, line: text.slice(0, at).split('\n').length };
  }
  return { file: sources[0], line: 1 };
}
