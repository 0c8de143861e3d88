/**
 * nx-symbols' queries (exports, imports, why) over what a scan found and predicted: the whole
 * tree's scan, or the answers a check kept (checks/check-cache.ts), which hold only what the
 * queries read of each module.
 */
import { SourceError } from '@nx-kbuild/diagnostics';
import { exportOwners, type ExportOwners } from './imports/predict';
import type { FoundExport, FoundModinfo } from './scan/source-scan';

/** What the queries read of a module. */
export interface QueriedModule {
  /** "vmlinux" or the module's path without .ko. */
  name: string;
  exports: readonly FoundExport[];
  /** Its .modinfo entries; those the queries print are `import_ns`. */
  modinfo: readonly FoundModinfo[];
}

export type Query = 'exports' | 'imports' | 'why';

/** The modules in scan order (the first to export a symbol owns it, see exportOwners), and each one's predicted imports. */
export interface QueriedTree<M extends QueriedModule = QueriedModule> {
  modules: readonly M[];
  imports(m: M): readonly string[];
}

/** A file and line as the output shows it: relative to the source tree when inside it. */
export const where = (f: { file?: string; line?: number }, srctree: string) => (f.file ? `${f.file.startsWith(srctree + '/') ? f.file.slice(srctree.length + 1) : f.file}:${f.line}` : '');

/** A module named by its path (arch/x86/kvm/kvm-intel) or its name, `-` and `_` alike (kvm-intel, kvm_intel). */
export function findModule<M extends { name: string }>(modules: Iterable<M>, name: string): M {
  const norm = (s: string) => s.replace(/-/g, '_');
  const hits = [...modules].filter((m) => m.name === name || norm(m.name.slice(m.name.lastIndexOf('/') + 1)) === norm(name));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new SourceError('<arguments>', 0, `"${name}" names ${hits.length} modules: ${hits.map((m) => m.name).join(', ')}`);
  throw new SourceError('<arguments>', 0, `no module "${name}" is built under this configuration`);
}

/** A module's predicted imports by the module that exports each, modules and symbols sorted. */
function symbolsByOwner(symbols: readonly string[], owners: ExportOwners): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const s of [...symbols].sort()) {
    const owner = owners.get(s)!;
    const list = by.get(owner);
    if (list) list.push(s);
    else by.set(owner, [s]);
  }
  return new Map([...by].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The lines a query prints. */
export function answerQuery<M extends QueriedModule>(query: Query, args: readonly string[], tree: QueriedTree<M>, srctree: string): string[] {
  const owners = exportOwners(tree.modules);
  const dependencies = (m: M) => symbolsByOwner(tree.imports(m), owners);
  const m = findModule(tree.modules, args[0]);
  const out: string[] = [];
  if (query === 'exports') {
    for (const e of m.exports)
      out.push(`${e.symbol}\t${e.license === 'GPL' ? 'EXPORT_SYMBOL_GPL' : 'EXPORT_SYMBOL'}\t${e.namespace}\t${where(e, srctree)}${e.certain ? '' : '\t(in an #if branch the scanner could not decide)'}`);
  } else if (query === 'imports') {
    for (const [dep, syms] of dependencies(m)) out.push(`${dep}\t${syms.join(' ')}`);
    for (const i of m.modinfo.filter((x) => x.tag === 'import_ns')) out.push(`import_ns ${i.value}\t${where(i, srctree)}`);
  } else {
    const other = findModule(tree.modules, args[1]);
    const syms = dependencies(m).get(other.name);
    if (!syms) out.push(`${m.name} does not use any symbol ${other.name} exports`);
    for (const s of syms ?? []) {
      const e = other.exports.find((x) => x.symbol === s)!;
      out.push(`${s}\t${e.namespace ? `namespace ${e.namespace}\t` : ''}exported at ${where(e, srctree)}`);
    }
  }
  return out;
}
