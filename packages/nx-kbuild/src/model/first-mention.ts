import { readFileSync } from 'node:fs';

/**
 * Where a module's sources first name a symbol (as a whole word), for pointing at a use. A use
 * through a header's macro names the symbol in no source: then the first source, line 1.
 */
export function firstMention(sources: readonly string[], symbol: string, read: (file: string) => string | undefined = readSource): { file: string; line: number } {
  const word = new RegExp(`\\b${symbol.replace(/[^\w]/g, '\\$&')}\\b`);
  for (const file of sources) {
    const text = read(file);
    if (text === undefined) continue; // a generated source not made yet
    const at = text.search(word);
    if (at >= 0) return { file, line: text.slice(0, at).split('\n').length };
  }
  return { file: sources[0], line: 1 };
}

function readSource(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** readSource, each file read once: a module's edges each look for their first symbol in the same sources. */
export function sourceReader(): (file: string) => string | undefined {
  const texts = new Map<string, string | undefined>();
  return (file) => {
    if (!texts.has(file)) texts.set(file, readSource(file));
    return texts.get(file);
  };
}
