/**
 * The exports of code the tree does not build (the kernel, other trees), from a Module.symvers:
 * modpost reads them with -i, so they resolve imports and carry license and namespace.
 */
import { readFileSync } from 'node:fs';
import { parseSymvers } from '../symvers';
import type { ExportEntry } from './modpost-rules';

/** Adds `file`'s rows to `table`; a symbol already there keeps its entry (the tree's own, whose source we can point at). */
export function addSymversExports(table: Map<string, ExportEntry>, file: string): void {
  parseSymvers(readFileSync(file, 'utf8')).forEach((r, k) => {
    if (table.has(r.symbol)) return;
    table.set(r.symbol, {
      symbol: r.symbol,
      license: r.exportType === 'EXPORT_SYMBOL_GPL' ? 'GPL' : '',
      namespace: r.namespace,
      file,
      line: k + 1,
      certain: true,
      module: r.module,
    });
  });
}
