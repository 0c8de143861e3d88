/**
 * Predicted imports kept per module between runs. A module's prediction depends on its own scan,
 * the shared header index and which module exports each symbol it meets; it is reused for a module
 * whose scan was reused while the index is the same and no symbol whose owner changed (an export
 * added, removed or moved) can be met from its code (HeaderReferences.reaching): a source edit
 * re-predicts the edited module, and the modules that can reach an export it changed. After a
 * shared header changes, the names whose definitions in it changed (their text, not their line)
 * count as moved: a prediction that can meet none of them is the same with the new index. A header
 * whose #includes changed changes what is visible only to the modules that include it, directly or
 * through other headers: those are predicted again.
 */
import { createHash, hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest, writeKeptFileAtomic } from '@nx-kbuild/diagnostics';
import type { IndexTables, RemotePredictor } from '../scan/parallel-scan';
import type { ModuleSymbols } from '../scan/tree-scan';
import type { ModuleImports } from './module-imports';
import { predictedImports } from './module-imports';
import { mayReach, type ExportOwners, type HeaderReferences } from './predict';
import type { HeaderIndex } from '../scan/header-index';

interface Kept {
  key: string;
  /** Each exported symbol's owner when the predictions were made. */
  owners: [string, string][];
  modules: [string, string[]][];
  /** The header index the predictions were made with: its digest, its files, and each header's names and #includes. */
  index: string;
  indexFiles: [string, string][];
  headers: HeaderNames[];
  /**
   * HeaderReferences.referrerTable() of that index (each name's referrers space-separated), when it
   * was read: with the same index, a run that predicts a few modules takes it instead of reading
   * every definition again (half a second).
   */
  referrers?: [string, string][];
}

/**
 * What a prediction can read of one indexed header: the names it defines (macros and inline
 * functions), each with a digest of its definitions there (a macro's text, an inline function's
 * references; not their lines), and the headers it #includes. Each list is one string (space-
 * separated; #includes NUL-separated): 200,000 names load as 6,000 strings, split when their header changes.
 */
export type HeaderNames = [file: string, names: string, digests: string, includes: string];

/** The header index a prediction is made with: kept-scan's digest of its files, and those files ([path, signature]). */
export interface IndexIdentity {
  digest: string;
  files: readonly [string, string][];
}

/** HeaderNames of the indexed headers (of those of `only`, when given). */
export function headersOf(index: HeaderIndex, only?: ReadonlySet<string>): HeaderNames[] {
  const byFile = new Map<string, Map<string, string[]>>();
  const add = (file: string, name: string, text: string) => {
    if (only && !only.has(file)) return;
    let names = byFile.get(file);
    if (!names) byFile.set(file, (names = new Map()));
    const l = names.get(name);
    if (l) l.push(text);
    else names.set(name, [text]);
  };
  for (const [name, defs] of index.definitions) for (const d of defs) add(d.file, name, d.text.slice(d.start, d.end));
  for (const [name, defs] of index.functions) for (const f of defs) add(f.file, name, `\0${[...f.refs].sort().join(' ')}`);
  const files = new Set([...byFile.keys(), ...[...index.includes.keys()].filter((f) => !only || only.has(f))]);
  return [...files].map((f): HeaderNames => {
    const names = byFile.get(f) ?? new Map<string, string[]>();
    // One call per name (200,000): crypto's one-shot hash, not a Hash object each.
    const digests = [...names.values()].map((texts) => hash('sha1', texts.join('\0\n'), 'base64'));
    return [f, [...names.keys()].join(' '), digests.join(' '), (index.includes.get(f) ?? []).join('\0')];
  });
}

export class KeptPredictions {
  private readonly key: string;
  private readonly old = new Map<string, string[]>();
  private readonly now = new Map<string, string[]>();
  private predicted = 0;
  /** Symbols whose owner is not what it was when the kept predictions were made. */
  private readonly moved = new Set<string>();
  /** The names from which a moved symbol can be met (computed when first needed). */
  private reach?: Set<string>;

  /**
   * `index`: what identifies the header index (kept-scan's digest of its files, and those files);
   * `reusable`: the modules whose scan was reused.
   */
  constructor(
    private readonly file: string,
    private readonly index: IndexIdentity,
    private readonly owners: ExportOwners,
    private readonly headers: () => HeaderReferences,
    private readonly reusable: (module: string) => boolean,
  ) {
    this.key = createHash('sha256').update(`${codeDigest(join(__dirname, '..'))}\0`).digest('hex');
    try {
      const kept = deserialize(readFileSync(file)) as Kept;
      if (kept.key === this.key && kept.index === this.index.digest) this.keptReferrers = kept.referrers;
      if (kept.key === this.key) {
        this.compareHeaders(kept);
        this.changedNames = this.moved.size;
        for (const [name, symbols] of kept.modules) this.old.set(name, symbols);
        const before = new Map(kept.owners);
        for (const [symbol, owner] of owners) if (before.get(symbol) !== owner) this.moved.add(symbol);
        for (const symbol of before.keys()) if (!owners.has(symbol)) this.moved.add(symbol);
      }
    } catch {
      // nothing kept yet, or unreadable: predict every module
    }
    if (this.old.size === 0) {
      this.moved.clear();
      this.includesChanged.clear();
    }
  }

  /** The kept referrers table, when the kept predictions were made with this index. */
  private keptReferrers?: [string, string][];
  /** The header references once this asked for them (with the kept referrers given to them). */
  private references?: HeaderReferences;

  /** The header references, given the kept referrers table the first time (unless they have read theirs). */
  private referencesHere(): HeaderReferences {
    if (!this.references) {
      this.references = this.headers();
      if (this.keptReferrers && !this.references.knownReferrers()) this.references.takeReferrers(new Map(this.keptReferrers.map(([name, list]) => [name, list.split(' ')])));
    }
    return this.references;
  }

  /** How many names of changed shared headers `moved` holds (the rest are exports that moved). */
  private changedNames = 0;
  /** What the kept file says of each header, brought up to date with this index. */
  private keptHeaders?: Kept['headers'];
  /** The kept predictions were made with another index (written again even when none changes). */
  private otherIndex = false;

  /** Headers (added, removed or changed) whose #includes are not what they were when the kept predictions were made. */
  private readonly includesChanged = new Set<string>();
  /** The headers from which one of includesChanged is reached through #includes, themselves included (when first needed). */
  private reachingChanged?: Set<string>;

  /**
   * Brings the kept file's headers up to this index: the same index, or one whose headers changed
   * (files added, removed or changed). The names whose definitions in those headers differ (added,
   * removed, another text) are added to `moved`, the headers whose #includes differ to
   * `includesChanged`.
   */
  private compareHeaders(kept: Kept): void {
    if (kept.index === this.index.digest) {
      this.keptHeaders = kept.headers;
      return;
    }
    this.otherIndex = true;
    const index = this.headers().index;
    const before = new Map(kept.indexFiles);
    const changed = new Set<string>();
    for (const [path, sig] of this.index.files) if (before.get(path) !== sig) changed.add(path);
    const now = new Set(this.index.files.map(([path]) => path));
    for (const path of before.keys()) if (!now.has(path)) changed.add(path);
    const old = new Map(kept.headers.map((h) => [h[0], h]));
    // Every header's #includes, not only the changed files': a header added or removed elsewhere on
    // the search path changes what an unchanged header's #include finds.
    const includesNow = (f: string) => (index.includes.get(f) ?? []).join('\0');
    for (const [f, h] of old) if (h[3] !== includesNow(f)) this.includesChanged.add(f);
    for (const f of index.includes.keys()) if (!old.has(f) && includesNow(f) !== '') this.includesChanged.add(f);
    const refreshed = new Set([...changed, ...this.includesChanged]);
    const after = new Map(headersOf(index, refreshed).map((h) => [h[0], h]));
    const digests = (h: HeaderNames | undefined): Map<string, string> => {
      if (!h || h[1] === '') return new Map();
      const d = h[2].split(' ');
      return new Map(h[1].split(' ').map((n, i) => [n, d[i]]));
    };
    for (const f of changed) {
      const [a, b] = [digests(old.get(f)), digests(after.get(f))];
      for (const [n, d] of a) if (b.get(n) !== d) this.moved.add(n);
      for (const n of b.keys()) if (!a.has(n)) this.moved.add(n);
    }
    this.keptHeaders = [...kept.headers.filter((h) => !refreshed.has(h[0])), ...after.values()];
  }

  /** Whether each module can meet a moved name, once asked (prefetch and imports both ask). */
  private readonly reaches = new Map<string, boolean>();

  /** Whether a moved export, a changed definition or a changed #include can change `m`'s prediction. */
  private touched(m: ModuleSymbols): boolean {
    if (this.moved.size === 0 && this.includesChanged.size === 0) return false;
    let r = this.reaches.get(m.name);
    if (r === undefined) {
      r = this.seesChangedIncludes(m);
      if (!r && this.moved.size > 0) {
        this.reach ??= this.referencesHere().reaching(this.moved);
        r = mayReach(m, this.reach);
      }
      this.reaches.set(m.name, r);
    }
    return r;
  }

  /**
   * Whether `m` includes, directly or through other headers, one whose #includes changed. If it
   * does not, the headers it sees are the same as before: what it reached before went through
   * headers whose #includes are unchanged, so it is reached now, and it would then include a
   * changed header now too.
   */
  private seesChangedIncludes(m: ModuleSymbols): boolean {
    if (this.includesChanged.size === 0) return false;
    if (!this.reachingChanged) {
      // The index's includedBy holds the edges of its `includes` (which visible() walks), reversed.
      const includedBy = this.referencesHere().index.includedBy;
      const reaching = new Set(this.includesChanged);
      const work = [...reaching];
      while (work.length)
        for (const { from } of includedBy.get(work.pop()!) ?? [])
          if (!reaching.has(from)) {
            reaching.add(from);
            work.push(from);
          }
      this.reachingChanged = reaching;
    }
    for (const h of m.sharedHeadersQuickly?.() ?? m.sharedHeaders) if (this.reachingChanged.has(h)) return true;
    return false;
  }

  /** The kept prediction for `m`, if it still holds. */
  private kept(m: ModuleSymbols): string[] | undefined {
    return this.reusable(m.name) && !this.touched(m) ? this.old.get(m.name) : undefined;
  }

  /** headersOf(the index), read by another thread (takeIndexTables). */
  private headerNames?: HeaderNames[];

  /** Uses what another thread read of the same index: its references to predict, its header names for save(). */
  takeIndexTables(tables: IndexTables): void {
    this.headers().takeReferrers(tables.referrers);
    this.headerNames = tables.headerNames;
  }

  /**
   * Whether predicting `modules` (prefetch) and saving the result read the index here, so that
   * the IndexTables another thread read of it are worth taking: not when only modules `remote`
   * holds are predicted, nothing moved, and the index is the one the kept predictions were made
   * with (after a source edit: the index is then never built on this thread).
   */
  wantsIndexTables(modules: Iterable<ModuleSymbols>, remote: RemotePredictor): boolean {
    if (!this.keptHeaders || this.otherIndex || this.moved.size > 0 || this.includesChanged.size > 0) return true;
    for (const m of modules) if (!remote.holds(m.name) && !this.kept(m)) return true;
    return false;
  }

  /** Predictions made ahead of imports(), by prefetch. */
  private readonly fresh = new Map<string, string[]>();

  /**
   * Predicts every module of `modules` whose kept prediction does not hold: those `remote`'s
   * threads hold there, the others here at the same time.
   */
  async prefetch(modules: Iterable<ModuleSymbols>, remote: RemotePredictor): Promise<void> {
    const stale = [...modules].filter((m) => !this.kept(m));
    const theirs = stale.filter((m) => remote.holds(m.name));
    // Without its tables taken, the thread has not read its referrers: the kept ones are the same.
    const answer = theirs.length > 0 ? remote.predict(this.owners, theirs.map((m) => m.name), this.headerNames ? undefined : this.keptReferrers) : undefined;
    answer?.catch(() => undefined); // reported when awaited
    for (const m of stale) if (!remote.holds(m.name)) this.fresh.set(m.name, predictedImports(m, this.owners, this.referencesHere()).symbols);
    if (answer) for (const [name, symbols] of await answer) this.fresh.set(name, symbols);
  }

  imports(m: ModuleSymbols): ModuleImports {
    let symbols = this.fresh.get(m.name);
    if (symbols) this.predicted++;
    else symbols = this.kept(m);
    if (!symbols) {
      symbols = predictedImports(m, this.owners, this.referencesHere()).symbols;
      this.predicted++;
    }
    this.now.set(m.name, symbols);
    return { symbols, exact: false, weak: [] };
  }

  /** How many modules were predicted this time, and why (for NX_KBUILD_STATS). */
  summary(): string {
    const header = this.changedNames ? `, ${this.changedNames} name(s) of changed shared headers` : '';
    const includes = this.includesChanged.size ? `, ${this.includesChanged.size} shared header(s) with other #includes, seen through ${this.reachingChanged?.size ?? 0} header(s)` : '';
    return `${this.predicted} of ${this.now.size} modules predicted, the others kept; ${this.moved.size - this.changedNames} export(s) moved${header}${includes}, reachable from ${this.reach?.size ?? 0} name(s)`;
  }

  /** Writes what was predicted, when anything was. */
  save(): void {
    if (this.predicted === 0 && this.now.size === this.old.size && this.moved.size === 0 && !this.otherIndex) return;
    const headers = this.keptHeaders ?? this.headerNames ?? headersOf(this.headers().index);
    // The referrers as read this time, or as kept with this index (not read only to be kept).
    const table = this.references?.knownReferrers();
    const referrers = table ? [...table].map(([name, list]): [string, string] => [name, list.join(' ')]) : this.keptReferrers;
    writeKeptFileAtomic(this.file, serialize({ key: this.key, owners: [...this.owners], modules: [...this.now], index: this.index.digest, indexFiles: [...this.index.files], headers, referrers } satisfies Kept));
  }
}
