/**
 * modpost's rules (scripts/mod/modpost.c: sym_add_exported, check_exports), with its wording,
 * applied to what the scanner knows before anything compiles: each module's exports and
 * .modinfo from its sources, its imports predicted (imports/predict.ts) or, once compiled,
 * read from its objects. Module-scoped namespaces follow the tree's dialect (dialect.ts).
 */
import type { FoundExport } from '../scan/source-scan';
import type { ModuleSymbols } from '../scan/tree-scan';
import { implicitlyImported, isModuleScoped, type Dialect } from './dialect';

export interface Finding {
  severity: 'error' | 'warning';
  check: 'exported-twice' | 'missing-namespace-import' | 'gpl-only' | 'module-scoped-import' | 'module-scoped-unreachable' | 'unresolved';
  module: string;
  message: string;
  /** The symbol the finding is about, where it is about one. */
  symbol?: string;
  /** Where to look: the export, the MODULE_IMPORT_NS or MODULE_LICENSE, or the use. */
  file?: string;
  line?: number;
}

export interface CheckOptions {
  dialect: Dialect;
  /** modpost -N (KBUILD_MODPOST_WARN / MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS): missing imports warn. */
  allowMissingNamespaceImports?: boolean;
}

/** include/linux/license.h's license_is_gpl_compatible(). */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const modName = (m: string) => (m === 'vmlinux' ? m : `${m}.ko`);

export interface ExportEntry extends FoundExport {
  module: string;
}

/** The tree's export table (first export of each symbol), with modpost's "exported twice" errors. */
export function exportTable(modules: Iterable<ModuleSymbols>): { table: Map<string, ExportEntry>; findings: Finding[] } {
  const table = new Map<string, ExportEntry>();
  const findings: Finding[] = [];
  for (const m of modules)
    for (const e of m.exports) {
      const prev = table.get(e.symbol);
      if (!prev) {
        table.set(e.symbol, { ...e, module: m.name });
        continue;
      }
      // Both in compiled code for sure: an #if the scanner could not decide may be the other branch.
      if (prev.certain && e.certain && !(prev.module === m.name && prev.file === e.file && prev.line === e.line))
        findings.push({
          severity: 'error',
          check: 'exported-twice',
          module: m.name,
          message: `${m.name}: '${e.symbol}' exported twice. Previous export was in ${modName(prev.module)}`,
          symbol: e.symbol,
          file: e.file,
          line: e.line,
        });
    }
  return { table, findings };
}

/**
 * check_exports() for one module: `imports` are the symbols it uses (predicted or exact).
 * modpost does not check vmlinux; neither do we.
 */
export function checkModule(m: ModuleSymbols, imports: Iterable<string>, table: ReadonlyMap<string, ExportEntry>, o: CheckOptions): Finding[] {
  if (m.name === 'vmlinux') return [];
  const findings: Finding[] = [];
  const basename = base(m.name);
  const imported = new Set(m.modinfo.filter((i) => i.tag === 'import_ns').map((i) => i.value));
  const licenses = m.modinfo.filter((i) => i.tag === 'license');
  const incompatible = licenses.find((l) => !GPL_COMPATIBLE.has(l.value));
  for (const i of m.modinfo)
    if (i.tag === 'import_ns' && isModuleScoped(i.value, o.dialect))
      findings.push({
        severity: 'error',
        check: 'module-scoped-import',
        module: m.name,
        message: `module ${basename} imports the module-scoped namespace ${i.value} explicitly; such a namespace is imported only implicitly, by the modules it names (${o.dialect.description})`,
        file: i.file,
        line: i.line,
      });
  for (const sym of imports) {
    const exp = table.get(sym);
    if (!exp || exp.module === m.name) continue;
    if (needsImport(exp, imported, basename, o.dialect))
      findings.push({
        severity: o.allowMissingNamespaceImports ? 'warning' : 'error',
        check: 'missing-namespace-import',
        module: m.name,
        message: `module ${basename} uses symbol ${sym} from namespace ${exp.namespace}, but does not import it.`,
        symbol: sym,
        file: exp.file,
        line: exp.line,
      });
    if (incompatible && exp.license === 'GPL')
      findings.push({
        severity: 'error',
        check: 'gpl-only',
        module: m.name,
        message: `GPL-incompatible module ${basename}.ko uses GPL-only symbol '${sym}'`,
        symbol: sym,
        file: incompatible.file,
        line: incompatible.line,
      });
  }
  return findings;
}

/** modpost's ignore_undef_symbol(): resolved by the .mod.c or the linker, never by an export. */
const NOT_IMPORTS = new Set(['__this_module', '_GLOBAL_OFFSET_TABLE_']);

/**
 * check_exports()' first rule, for exact imports only (the undefined symbols of a module's objects):
 * a symbol nobody exports is an error (a warning with KBUILD_MODPOST_WARN), unless bound weak.
 * `modulePath` is the module as the message names it (modpost: its path without .ko).
 */
export function unresolvedImports(m: ModuleSymbols, undefinedSymbols: Iterable<string>, weak: ReadonlySet<string>, table: ReadonlyMap<string, ExportEntry>, modulePath: string, warnOnly = false): Finding[] {
  const findings: Finding[] = [];
  for (const sym of undefinedSymbols) {
    if (table.has(sym) || weak.has(sym) || NOT_IMPORTS.has(sym)) continue;
    findings.push({ severity: warnOnly ? 'warning' : 'error', check: 'unresolved', module: m.name, message: `"${sym}" [${modulePath}.ko] undefined!`, symbol: sym });
  }
  return findings;
}

function needsImport(exp: ExportEntry, imported: ReadonlySet<string>, basename: string, d: Dialect): boolean {
  return !imported.has(exp.namespace) && !implicitlyImported(exp.namespace, basename, d);
}

/**
 * The namespaces `m` uses without importing them, in the order its imports name them (modpost's
 * modules.nsdeps). A module-scoped namespace is never one to import where the dialect enforces it.
 */
export function missingNamespaces(m: ModuleSymbols, imports: Iterable<string>, table: ReadonlyMap<string, ExportEntry>, d: Dialect): string[] {
  const basename = base(m.name);
  const imported = new Set(m.modinfo.filter((i) => i.tag === 'import_ns').map((i) => i.value));
  const out = new Set<string>();
  for (const sym of imports) {
    const exp = table.get(sym);
    if (exp && exp.module !== m.name && needsImport(exp, imported, basename, d) && !isModuleScoped(exp.namespace, d)) out.add(exp.namespace);
  }
  return [...out];
}
