/**
 * Module → module edges from the symbol engine (tree-symbols.ts): an edge for each module whose
 * exports another uses, with the symbols, whether the imports were read from objects (exact) or
 * predicted from the sources, and the consumer's source that names the first symbol.
 */
import { resolve } from 'node:path';
import type { ModuleCommands } from '@nx-kbuild/kbuild-make';
import { firstMention, sourceReader } from './first-mention';
import type { TreeSymbols } from './tree-symbols';

export interface ModuleEdge {
  from: string;
  to: string;
  /** Symbols `from` uses that `to` exports. */
  symbols: string[];
  /** The consumer's source that mentions the first symbol. */
  sourceFile: string;
  /** True when `from`'s imports come from its up-to-date objects, false when predicted. */
  exact: boolean;
}

/** `cwd`: where the commands run (the objects' relative paths start there). */
export function symbolEdges(modules: readonly ModuleCommands[], symbols: TreeSymbols, cwd: string): ModuleEdge[] {
  const inTree = new Set(modules.map((mc) => mc.module.name));
  const edges: ModuleEdge[] = [];
  for (const mc of modules) {
    const imports = symbols.imports.get(mc.module.name);
    if (!imports) continue;
    const byTarget = new Map<string, string[]>();
    for (const sym of imports.symbols) {
      const owner = symbols.table.get(sym)?.module;
      if (owner === undefined || owner === mc.module.name || !inTree.has(owner)) continue;
      byTarget.set(owner, [...(byTarget.get(owner) ?? []), sym]);
    }
    const sources = mc.objects.map((o) => resolve(cwd, o.source));
    const read = sourceReader();
    for (const [to, syms] of byTarget) {
      syms.sort();
      edges.push({ from: mc.module.name, to, symbols: syms, sourceFile: firstMention(sources, syms[0], read).file, exact: imports.exact });
    }
  }
  return edges;
}
