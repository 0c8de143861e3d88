/**
 * Imports predicted before anything compiles: the symbols a module's code names, directly or
 * through the header macros and inline functions it uses, that another module exports. What
 * modpost will find in the object's undefined symbols is a subset of the names the code
 * mentions; following macros and inline bodies adds what they expand to.
 */
import { scanIdentifiers } from '../scan/lexer';
import type { HeaderIndex, IndexedMacro } from '../scan/header-index';
import type { ModuleSymbols } from '../scan/tree-scan';

/** symbol → the module exporting it ("vmlinux" for built-in code). */
export type ExportOwners = ReadonlyMap<string, string>;

export function exportOwners(modules: Iterable<ModuleSymbols>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of modules) for (const e of m.exports) if (!owners.has(e.symbol)) owners.set(e.symbol, m.name);
  return owners;
}

/** What a name refers to where one shared header defines it (a macro or an inline function). */
export interface HeaderReference {
  file: string;
  refs: readonly string[];
}

const NONE: readonly HeaderReference[] = [];

/**
 * What a name can stand for in the shared headers a module includes: the identifiers of its
 * macro definitions and inline function bodies there (every #if branch: a superset).
 */
export class HeaderReferences {
  /** Per name, built once: a prediction asks for the same names for every module. */
  private readonly byName = new Map<string, readonly HeaderReference[]>();

  constructor(private readonly index: HeaderIndex) {}

  /** The shared headers reached from `direct` through the headers' own #includes (any branch). */
  visible(direct: Iterable<string>): ReadonlySet<string> {
    const seen = new Set<string>();
    const work = [...direct];
    while (work.length) {
      const f = work.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const x of this.index.includes.get(f) ?? []) if (!seen.has(x)) work.push(x);
    }
    return seen;
  }

  /** Names whose header definitions refer to each name (built on first use: every definition is read). */
  private referrers?: Map<string, string[]>;

  /**
   * The names from which following header definitions (macros, inline functions; any header,
   * visible or not) can reach one of `targets`, the targets included: a prediction that starts
   * from none of them never meets a target.
   */
  reaching(targets: Iterable<string>): Set<string> {
    if (!this.referrers) {
      const referrers = new Map<string, string[]>();
      for (const name of new Set([...this.index.functions.keys(), ...this.index.definitions.keys()])) {
        for (const h of this.of(name)) {
          for (const r of h.refs) {
            const list = referrers.get(r);
            if (list) list.push(name);
            else referrers.set(r, [name]);
          }
        }
      }
      this.referrers = referrers;
    }
    const out = new Set<string>();
    const work = [...targets];
    while (work.length) {
      const name = work.pop()!;
      if (out.has(name)) continue;
      out.add(name);
      for (const r of this.referrers.get(name) ?? []) if (!out.has(r)) work.push(r);
    }
    return out;
  }

  /** Every shared header's definition of `name`, with what it refers to (the caller keeps the visible ones). */
  of(name: string): readonly HeaderReference[] {
    let out = this.byName.get(name);
    if (out === undefined) {
      const list: HeaderReference[] = [];
      for (const f of this.index.functions.get(name) ?? []) list.push({ file: f.file, refs: [...f.refs] });
      for (const d of this.index.definitions.get(name) ?? []) list.push({ file: d.file, refs: macroReferences(d, name) });
      this.byName.set(name, (out = list.length ? list : NONE));
    }
    return out;
  }
}

function macroReferences(d: IndexedMacro, name: string): string[] {
  const set = new Set<string>();
  scanIdentifiers(d.text, d.start, d.end, d.line, (id, _o, _l, reference) => (reference && id !== name && set.add(id), false));
  return [...set];
}

/**
 * Whether `m`'s prediction can meet a name of `names` (see HeaderReferences.reaching): it starts
 * from the module's identifiers and what its own macros and inline functions refer to.
 */
export function mayReach(m: ModuleSymbols, names: ReadonlySet<string>): boolean {
  if (names.size < m.identifiers.size) {
    for (const n of names) if (m.identifiers.has(n)) return true;
  } else for (const id of m.identifiers) if (names.has(id)) return true;
  for (const refs of m.functions.values()) for (const r of refs) if (names.has(r)) return true;
  return false;
}

/** The modules `m` is predicted to depend on, each with the symbols that make the edge. */
export function predictDependencies(m: ModuleSymbols, owners: ExportOwners, headers: HeaderReferences): Map<string, string[]> {
  const own = new Set(m.exports.map((e) => e.symbol));
  const visible = headers.visible(m.sharedHeaders);
  const seen = new Set<string>();
  const work: string[] = [];
  const push = (id: string) => {
    if (!seen.has(id)) {
      seen.add(id);
      work.push(id);
    }
  };
  for (const id of m.identifiers) push(id);
  const deps = new Map<string, string[]>();
  while (work.length) {
    const id = work.pop()!;
    const owner = owners.get(id);
    // A name the module declares or defines itself (a local, a parameter, its own function, macro
    // or local-header inline - xe's compat headers stand in for i915's functions) is not the export.
    const local = m.functions.get(id);
    if (owner !== undefined && owner !== m.name && !own.has(id) && !m.declared.has(id) && !local) {
      const list = deps.get(owner);
      if (list) list.push(id);
      else deps.set(owner, [id]);
      continue; // an exported function's body is not the importer's code
    }
    // The module's own macro or inline function hides a header's of the same name.
    if (local) for (const r of local) push(r);
    else for (const h of headers.of(id)) if (visible.has(h.file)) for (const r of h.refs) push(r);
  }
  return deps;
}
