/**
 * Every check over a scanned tree: modpost's (exported twice, missing namespace import, GPL-only
 * symbol, explicit import of a module-scoped namespace, and, where a module's imports are exact,
 * unresolved symbols) and module-scoped exports no module of the configuration can use.
 */
import { HeaderReferences, exportOwners } from '../imports/predict';
import { predictedImports, type ModuleImports } from '../imports/module-imports';
import type { ModuleSymbols, TreeScan } from '../scan/tree-scan';
import type { Dialect } from './dialect';
import { kbuildMakefiles, moduleConfigSymbols, unreachableScopedExports } from './module-scope';
import { checkModule, exportTable, unresolvedImports, type ExportEntry, type Finding } from './modpost-rules';

export interface TreeCheckOptions {
  /** Exports beyond the tree's own (Module.symvers rows, see symvers-exports.ts), already merged with `exportTable`'s. */
  table?: ReadonlyMap<string, ExportEntry>;
  /** Each module's imports; default: predicted from the sources. */
  imports?: (m: ModuleSymbols) => ModuleImports;
  /** modpost's -w / -N: unresolved symbols and missing namespace imports only warn. */
  warnUnresolved?: boolean;
  allowMissingNamespaceImports?: boolean;
  /** How unresolved symbols name a module (modpost: its path); default: its name. */
  modulePath?: (m: ModuleSymbols) => string;
}

/** `makefileRoot`: where the Makefiles that say which config symbol builds which module are. */
export function checkTree(scan: TreeScan, dialect: Dialect, config: ReadonlyMap<string, string>, makefileRoot: string, o: TreeCheckOptions = {}): Finding[] {
  const { table: own, findings } = exportTable(scan.modules.values());
  const table = o.table ?? own;
  const owners = exportOwners(scan.modules.values());
  let headers: HeaderReferences | undefined; // built on the first prediction: the index takes seconds
  const importsOf = o.imports ?? ((m: ModuleSymbols) => predictedImports(m, owners, (headers ??= new HeaderReferences(scan.index))));
  for (const m of scan.modules.values()) {
    const imports = importsOf(m);
    findings.push(...checkModule(m, imports.symbols, table, { dialect, allowMissingNamespaceImports: o.allowMissingNamespaceImports }));
    if (imports.exact && m.name !== 'vmlinux')
      findings.push(...unresolvedImports(m, imports.symbols, new Set(imports.weak), table, o.modulePath?.(m) ?? m.name, o.warnUnresolved));
  }
  findings.push(...unreachableScopedExports(scan.modules.values(), dialect, config, () => moduleConfigSymbols(kbuildMakefiles(makefileRoot))));
  return findings;
}
