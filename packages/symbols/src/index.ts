export { scanTokens } from './c-scanner';
export type { Token } from './c-scanner';
export { scanSourceSymbols } from './source-symbols';
export type { ExportMacro, SourceExport, SourceSymbols } from './source-symbols';
export { formatSymvers, parseSymvers } from './symvers';
export type { SymversRow } from './symvers';
