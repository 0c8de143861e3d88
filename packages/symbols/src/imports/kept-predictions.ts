/**
 * Predicted imports kept per module between runs. A module's prediction depends on its own scan,
 * the shared header index and which module exports each symbol; it is reused for a module whose
 * scan was reused while the index and every export's owner are the same (a source edit that
 * changes no export re-predicts only the edited module).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest, writeFileAtomic } from '@nx-kbuild/diagnostics';
import type { ModuleSymbols } from '../scan/tree-scan';
import type { ModuleImports } from './module-imports';
import { predictedImports } from './module-imports';
import type { ExportOwners, HeaderReferences } from './predict';

interface Kept {
  key: string;
  modules: [string, string[]][];
}

export class KeptPredictions {
  private readonly key: string;
  private readonly old = new Map<string, string[]>();
  private readonly now = new Map<string, string[]>();
  private predicted = 0;

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
    const h = createHash('sha256').update(`${codeDigest(join(__dirname, '..'))}\0${index}\0`);
    for (const [symbol, owner] of owners) h.update(`${symbol}\0${owner}\0`);
    this.key = h.digest('hex');
    try {
      const kept = deserialize(readFileSync(file)) as Kept;
      if (kept.key === this.key) for (const [name, symbols] of kept.modules) this.old.set(name, symbols);
    } catch {
      // nothing kept yet, or unreadable: predict every module
    }
  }

  imports(m: ModuleSymbols): ModuleImports {
    let symbols = this.reusable(m.name) ? this.old.get(m.name) : undefined;
    if (!symbols) {
      symbols = predictedImports(m, this.owners, this.headers()).symbols;
      this.predicted++;
    }
    this.now.set(m.name, symbols);
    return { symbols, exact: false, weak: [] };
  }

  /** Writes what was predicted, when anything was. */
  save(): void {
    if (this.predicted === 0 && this.now.size === this.old.size) return;
    writeFileAtomic(this.file, serialize({ key: this.key, modules: [...this.now] } satisfies Kept));
  }
}
