import type { Dialect } from '../checks/dialect';
import { missingNamespaces, type ExportEntry } from '../checks/modpost-rules';
import type { ModuleSymbols } from '../scan/tree-scan';
import { addNamespaceImports } from './add-imports';

/** A module as nsdeps sees it: what the scan found, its sources, and the symbols it uses. */
export interface NsdepsModule {
  symbols: ModuleSymbols;
  /** Its objects' sources (the one with MODULE_LICENSE is the one that changes). */
  sources: readonly string[];
  imports: Iterable<string>;
}

export interface ModuleEdit {
  /** The module's path, as modules.nsdeps names it. */
  module: string;
  /** The namespaces added, in modules.nsdeps order. */
  namespaces: string[];
  /** The sources rewritten, with their new text. */
  files: { path: string; text: string }[];
}

/**
 * kbuild's `make nsdeps` (modpost's modules.nsdeps, then scripts/nsdeps on each module's sources):
 * each namespace a module uses without importing it gets a MODULE_IMPORT_NS in its main source,
 * in the tree's syntax; never a module-scoped one where the kernel enforces those (see
 * missingNamespaces). Sources `read` cannot give (generated ones not built yet) are left alone.
 */
export function namespaceEdits(
  modules: Iterable<NsdepsModule>,
  table: ReadonlyMap<string, ExportEntry>,
  dialect: Dialect,
  read: (path: string) => string | undefined,
): ModuleEdit[] {
  const edits: ModuleEdit[] = [];
  for (const m of modules) {
    if (m.symbols.name === 'vmlinux') continue;
    const namespaces = missingNamespaces(m.symbols, m.imports, table, dialect);
    if (namespaces.length === 0) continue;
    const files: ModuleEdit['files'] = [];
    for (const path of new Set(m.sources)) {
      const text = read(path);
      if (text === undefined) continue;
      const updated = addNamespaceImports(text, namespaces, dialect.namespaceSyntax);
      if (updated !== text) files.push({ path, text: updated });
    }
    edits.push({ module: m.symbols.name, namespaces, files });
  }
  return edits;
}

/** What kbuild's nsdeps prints for a module it adds imports to. */
export const nsdepsMessages = (e: ModuleEdit): string[] => e.namespaces.map((ns) => `Adding namespace ${ns} to module ${e.module}.ko.`);
