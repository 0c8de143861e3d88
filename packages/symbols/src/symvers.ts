/** One row of Module.symvers, in kbuild's format: crc, symbol, module, export type, namespace. */
export interface SymversRow {
  crc: string;
  symbol: string;
  module: string;
  exportType: string;
  namespace: string;
}

export function parseSymvers(text: string): SymversRow[] {
  const rows: SymversRow[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [crc, symbol, module, exportType, namespace = ''] = line.split('\t');
    rows.push({ crc, symbol, module, exportType, namespace });
  }
  return rows;
}

export function formatSymvers(rows: readonly SymversRow[]): string {
  return rows.map((r) => `${r.crc}\t${r.symbol}\t${r.module}\t${r.exportType}\t${r.namespace}\n`).join('');
}
