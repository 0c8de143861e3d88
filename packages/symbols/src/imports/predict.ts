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

export function exportOwners(modules: Iterable<Pick<ModuleSymbols, 'name'> & { exports: readonly { symbol: string }[] }>): Map<string, string> {
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

/** How many names HeaderReferences.reaching searches the header texts for before it reads every definition. */
const SEARCHES = 64;

/** Everything reached from `start` by following `next` (which is told how many were found so far). */
function closure(start: Iterable<string>, next: (item: string, found: number) => Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const work = [...start];
  while (work.length) {
    const item = work.pop()!;
    if (seen.has(item)) continue;
    seen.add(item);
    for (const x of next(item, seen.size)) if (!seen.has(x)) work.push(x);
  }
  return seen;
}

/**
 * What a name can stand for in the shared headers a module includes: the identifiers of its
 * macro definitions and inline function bodies there (every #if branch: a superset).
 */
export class HeaderReferences {
  /** Per name, built once: a prediction asks for the same names for every module. */
  private readonly byName = new Map<string, readonly HeaderReference[]>();

  constructor(readonly index: HeaderIndex) {}

  /** Each header's number, and the headers each #includes by number (see visible); numbered once. */
  private headerIds?: Map<string, number>;
  private readonly includesById: number[][] = [];

  /** The number of `file` (a header the index does not know includes nothing the walk can follow). */
  private headerId(ids: Map<string, number>, file: string): number {
    let id = ids.get(file);
    if (id === undefined) {
      ids.set(file, (id = this.includesById.length));
      this.includesById.push([]);
    }
    return id;
  }

  private numberHeaders(): Map<string, number> {
    const ids = new Map<string, number>();
    for (const [from, to] of this.index.includes) this.includesById[this.headerId(ids, from)] = to.map((f) => this.headerId(ids, f));
    return ids;
  }

  /**
   * The shared headers reached from `direct` through the headers' own #includes (any branch). Asked
   * for every module, each reaching a thousand or more headers: walked by number and marked in an
   * array, rather than collected in a set of names.
   */
  visible(direct: Iterable<string>): { has(file: string): boolean } {
    const ids = (this.headerIds ??= this.numberHeaders());
    const work: number[] = [];
    for (const f of direct) work.push(this.headerId(ids, f));
    const seen = new Uint8Array(this.includesById.length);
    while (work.length) {
      const id = work.pop()!;
      if (seen[id] === 1) continue;
      seen[id] = 1;
      for (const x of this.includesById[id]) if (seen[x] === 0) work.push(x);
    }
    return { has: (file) => seen[ids.get(file) ?? seen.length] === 1 };
  }

  /** Names whose header definitions refer to each name: every definition read (for a search that meets many names). */
  private referrers?: Map<string, string[]>;
  /** The macro definitions of each header text, in order (for searching the texts). */
  private macrosByText?: Map<string, { name: string; d: IndexedMacro }[]>;

  /**
   * The names from which following header definitions (macros, inline functions; any header,
   * visible or not) can reach one of `targets`, the targets included: a prediction that starts
   * from none of them never meets a target.
   */
  reaching(targets: Iterable<string>): Set<string> {
    const start = [...targets];
    // Many targets (the names of an edited shared header): every definition read once at once.
    if (start.length > SEARCHES) return this.reachingAll(start);
    return closure(start, (name, found) => this.referrersOf(name, found));
  }

  /**
   * The names whose definitions refer to `target`. A few are found by searching the header texts
   * for it (a changed export is rarely named in shared headers); past SEARCHES names, every
   * definition's references are read once instead.
   */
  private referrersOf(target: string, searched: number): readonly string[] {
    if (this.referrers || searched > SEARCHES) return this.allReferrers().get(target) ?? [];
    const out: string[] = [];
    for (const [name, defs] of this.index.functions) if (defs.some((f) => f.refs.has(target))) out.push(name);
    if (!this.macrosByText) {
      this.macrosByText = new Map();
      for (const [name, defs] of this.index.definitions) {
        for (const d of defs) {
          const list = this.macrosByText.get(d.text);
          if (list) list.push({ name, d });
          else this.macrosByText.set(d.text, [{ name, d }]);
        }
      }
      for (const list of this.macrosByText.values()) list.sort((a, b) => a.d.start - b.d.start);
    }
    for (const [text, defs] of this.macrosByText) {
      for (let at = text.indexOf(target); at >= 0; at = text.indexOf(target, at + 1)) {
        // The definition the occurrence is in, if any: the last one starting at or before it.
        let lo = 0;
        let hi = defs.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (defs[mid].d.start <= at) lo = mid;
          else hi = mid - 1;
        }
        const { name, d } = defs[lo];
        if (d.start > at || at >= d.end) continue;
        if (macroReferences(d, name).includes(target)) out.push(name);
        at = d.end;
      }
    }
    return out;
  }

  /** The names whose header definitions refer to each name (every definition read), for another thread's HeaderReferences of the same index. */
  referrerTable(): Map<string, string[]> {
    return this.allReferrers();
  }

  /** referrerTable() if it has been read or given (undefined otherwise: not read only to be asked). */
  knownReferrers(): Map<string, string[]> | undefined {
    return this.referrers;
  }

  /** Uses referrerTable() of the same index, read by another thread (it takes half a second to read), unless read here already. */
  takeReferrers(table: Map<string, string[]>): void {
    this.referrers ??= table;
  }

  private allReferrers(): Map<string, string[]> {
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
    return this.referrers;
  }

  private exportReach?: { owners: ExportOwners; names: ReadonlySet<string> };

  /**
   * The names that are exported, or from which following any header's definitions (visible to a
   * module or not) reaches an exported name. Kept for the last `owners` asked with.
   */
  reachingExports(owners: ExportOwners): ReadonlySet<string> {
    if (this.exportReach?.owners !== owners) this.exportReach = { owners, names: this.reachingAll(owners.keys()) };
    return this.exportReach.names;
  }

  /** reaching() with every definition read at once (what many targets need). */
  private reachingAll(targets: Iterable<string>): Set<string> {
    const referrers = this.allReferrers();
    return closure(targets, (name) => referrers.get(name) ?? []);
  }

  /**
   * The names from which following header definitions reaches one of `names`, less the names a
   * header definition never refers to (a module's own macros: the caller knows them; amdgpu has
   * sixty thousand).
   */
  reachingReferred(names: Iterable<string>): Set<string> {
    const referrers = this.allReferrers();
    const referred: string[] = [];
    for (const n of names) if (referrers.has(n)) referred.push(n);
    return this.reachingAll(referred);
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
  // A kept module tells from its stored form: decoding every module's names took 1.5 s.
  const quick = m.mayMention?.(names);
  if (quick !== undefined) return quick;
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
  // Following a name can lead to an import only if the headers' definitions (any header's) lead
  // from it to an export or to one of the module's own macros and functions (which can refer to
  // anything: MODULE_INFO's parameter `info` is dvb-usb's printk macro). Most of what code names
  // (types, attributes, helpers) leads to neither and is not followed.
  const reach = headers.reachingExports(owners);
  const reachOwn = headers.reachingReferred(m.functions.keys());
  const seen = new Set<string>();
  const work: string[] = [];
  const push = (id: string) => {
    if (!(reach.has(id) || m.functions.has(id) || reachOwn.has(id)) || seen.has(id)) return;
    seen.add(id);
    work.push(id);
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
