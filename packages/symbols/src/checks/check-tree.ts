/**
 * Every check over a scanned tree, from predicted imports: modpost's (exported twice, missing
 * namespace import, GPL-only symbol, explicit import of a module-scoped namespace) and module-scoped
 * exports no module of the configuration can use.
 */
import { HeaderReferences, exportOwners, predictDependencies } from '../imports/predict';
import type { TreeScan } from '../scan/tree-scan';
import type { Dialect } from './dialect';
import { kbuildMakefiles, moduleConfigSymbols, unreachableScopedExports } from './module-scope';
import { checkModule, exportTable, type Finding } from './modpost-rules';

export function checkTree(scan: TreeScan, dialect: Dialect, config: ReadonlyMap<string, string>, srctree: string): Finding[] {
  const owners = exportOwners(scan.modules.values());
  const headers = new HeaderReferences(scan.index);
  const { table, findings } = exportTable(scan.modules.values());
  for (const m of scan.modules.values()) findings.push(...checkModule(m, [...predictDependencies(m, owners, headers).values()].flat(), table, { dialect }));
  findings.push(...unreachableScopedExports(scan.modules.values(), dialect, config, moduleConfigSymbols(kbuildMakefiles(srctree))));
  return findings;
}
