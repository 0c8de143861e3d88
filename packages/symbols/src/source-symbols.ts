import { scanTokens } from './c-scanner';

export type ExportMacro =
  | 'EXPORT_SYMBOL'
  | 'EXPORT_SYMBOL_GPL'
  | 'EXPORT_SYMBOL_NS'
  | 'EXPORT_SYMBOL_NS_GPL'
  | 'EXPORT_SYMBOL_GPL_FOR_MODULES'
  | 'EXPORT_SYMBOL_FOR_MODULES';

const EXPORT_MACROS = new Set<string>([
  'EXPORT_SYMBOL',
  'EXPORT_SYMBOL_GPL',
  'EXPORT_SYMBOL_NS',
  'EXPORT_SYMBOL_NS_GPL',
  'EXPORT_SYMBOL_GPL_FOR_MODULES',
  'EXPORT_SYMBOL_FOR_MODULES',
]);

export interface SourceExport {
  symbol: string;
  macro: ExportMacro;
  line: number;
}

export interface SourceSymbols {
  exports: SourceExport[];
  /** Every identifier the file mentions outside comments, strings and directives. */
  identifiers: Set<string>;
  /** First line each identifier appears on (for pointing at a use). */
  firstUse: Map<string, number>;
}

/**
 * What a C file exports and which names it mentions. Exports are read from the export macros
 * (first argument); the identifiers are a superset of the symbols the object will import.
 */
export function scanSourceSymbols(text: string): SourceSymbols {
  const tokens = scanTokens(text);
  const exports: SourceExport[] = [];
  const identifiers = new Set<string>();
  const firstUse = new Map<string, number>();
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (EXPORT_MACROS.has(t.text) && tokens[k + 1]?.text === '(') {
      const sym = tokens[k + 2];
      if (sym && /^[A-Za-z_]\w*$/.test(sym.text)) exports.push({ symbol: sym.text, macro: t.text as ExportMacro, line: t.line });
      continue;
    }
    if (/^[A-Za-z_]/.test(t.text) && !identifiers.has(t.text)) {
      identifiers.add(t.text);
      firstUse.set(t.text, t.line);
    }
  }
  return { exports, identifiers, firstUse };
}
