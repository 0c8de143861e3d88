/**
 * Predicted imports kept per module between runs. A module's prediction depends on its own scan,
 * the shared header index and which module exports each symbol it meets; it is reused for a module
 * whose scan was reused while the index is the same and no symbol whose owner changed (an export
 * added, removed or moved) can be met from its code (HeaderReferences.reaching): a source edit
 * re-predicts the edited module, and the modules that can reach an export it changed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest, writeFileAtomic } from '@nx-kbuild/diagnostics';
import type { RemotePredictor } from '../scan/parallel-scan';
import type { ModuleSymbols } from '../scan/tree-scan';
import type { ModuleImports } from './module-imports';
import { predictedImports } from './module-imports';
import { mayReach, type ExportOwners, type HeaderReferences } from './predict';

interface Kept {
  key: string;
  /** Each exported symbol's owner when the predictions were made. */
  owners: [string, string][];
  modules: [string, string[]][];
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
   * `index`: what identifies the header index (kept-scan's digest of its files); `reusable`: the
   * modules whose scan was reused.
   */
  constructor(
    private readonly file: string,
    index: string,
    private readonly owners: ExportOwners,
    private readonly headers: () => HeaderReferences,
    private readonly reusable: (module: string) => boolean,
  ) {
    this.key = createHash('sha256').update(`${codeDigest(join(__dirname, '..'))}\0${index}\0`).digest('hex');
    try {
      const kept = deserialize(readFileSync(file)) as Kept;
      if (kept.key === this.key) {
        for (const [name, symbols] of kept.modules) this.old.set(name, symbols);
        const before = new Map(kept.owners);
        for (const [symbol, owner] of owners) if (before.get(symbol) !== owner) this.moved.add(symbol);
        for (const symbol of before.keys()) if (!owners.has(symbol)) this.moved.add(symbol);
      }
    } catch {
      // nothing kept yet, or unreadable: predict every module
    }
  }

  /** Whether a moved export can change `m`'s prediction. */
  private touched(m: ModuleSymbols): boolean {
    if (this.moved.size === 0) return false;
    this.reach ??= this.headers().reaching(this.moved);
    return mayReach(m, this.reach);
  }

  /** The kept prediction for `m`, if it still holds. */
  private kept(m: ModuleSymbols): string[] | undefined {
    return this.reusable(m.name) && !this.touched(m) ? this.old.get(m.name) : undefined;
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
    const answer = theirs.length > 0 ? remote.predict(this.owners, theirs.map((m) => m.name)) : undefined;
    answer?.catch(() => undefined); // reported when awaited
    for (const m of stale) if (!remote.holds(m.name)) this.fresh.set(m.name, predictedImports(m, this.owners, this.headers()).symbols);
    if (answer) for (const [name, symbols] of await answer) this.fresh.set(name, symbols);
  }

  imports(m: ModuleSymbols): ModuleImports {
    let symbols = this.fresh.get(m.name);
    if (symbols) this.predicted++;
    else symbols = this.kept(m);
    if (!symbols) {
      symbols = predictedImports(m, this.owners, this.headers()).symbols;
      this.predicted++;
    }
    this.now.set(m.name, symbols);
    return { symbols, exact: false, weak: [] };
  }

  /** How many modules were predicted this time, and why (for NX_KBUILD_STATS). */
  summary(): string {
    return `${this.predicted} of ${this.now.size} modules predicted, the others kept; ${this.moved.size} export(s) moved, reachable from ${this.reach?.size ?? 0} name(s)`;
  }

  /** Writes what was predicted, when anything was. */
  save(): void {
    if (this.predicted === 0 && this.now.size === this.old.size && this.moved.size === 0) return;
    writeFileAtomic(this.file, serialize({ key: this.key, owners: [...this.owners], modules: [...this.now] } satisfies Kept));
  }
}
