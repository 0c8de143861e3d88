/**
 * Module-scoped exports that cannot reach their modules under this configuration (seed 000's KVM
 * case): every module the export names is either not built or built in, so the export is dead
 * (or, built in, never checked: modpost does not check vmlinux). The finding names the Kconfig
 * symbols whose `obj-$(CONFIG_…) += <module>.o` lines would build the targets as modules.
 */
import { readFileSync } from 'node:fs';
import { noteContent } from '@nx-kbuild/kbuild-make';
import { filesUnder } from '../scan/include-files';
import type { ModuleSymbols } from '../scan/tree-scan';
import { inScope, listItemMatches, scopeTargets, type Dialect } from './dialect';
import type { Finding } from './modpost-rules';

/** Every kbuild Makefile (Makefile, Kbuild) under `dir`, built or not under this configuration. */
export function kbuildMakefiles(dir: string): string[] {
  return filesUnder(dir, (name) => name === 'Makefile' || name === 'Kbuild');
}

/** module name → the CONFIG_ symbols whose obj-$(…) lines build it, from kbuild Makefiles. */
export function moduleConfigSymbols(makefiles: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of makefiles) {
    let text: string;
    noteContent(file);
    try {
      text = readFileSync(file, 'utf8').replace(/\\\n/g, ' ');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^[ \t]*obj-\$\((CONFIG_\w+)\)[ \t]*[+:]?=(.*)$/gm))
      for (const word of m[2].split(/\s+/)) {
        if (!word.endsWith('.o')) continue;
        const name = word.slice(0, -2).split('/').pop()!;
        const list = out.get(name) ?? [];
        if (!list.includes(m[1])) list.push(m[1]);
        out.set(name, list);
      }
  }
  return out;
}

export function unreachableScopedExports(
  modules: Iterable<ModuleSymbols>,
  d: Dialect,
  config: ReadonlyMap<string, string>,
  /**
   * The modules' Kconfig symbols (moduleConfigSymbols), asked for only when an export is found
   * unreachable: reading every kbuild Makefile of the tree is most of this check's cost, and a
   * kernel without module-scoped exports needs none of them (nor does its kept result depend on them).
   */
  configSymbols: () => ReadonlyMap<string, string[]>,
): Finding[] {
  const all = [...modules];
  let configOf: ReadonlyMap<string, string[]> | undefined;
  const built = all.filter((m) => m.name !== 'vmlinux').map((m) => m.name.slice(m.name.lastIndexOf('/') + 1));
  const findings: Finding[] = [];
  for (const m of all)
    for (const e of m.exports) {
      const items = scopeTargets(e.namespace, d);
      if (!items || built.some((b) => inScope(e.namespace, b, d))) continue;
      const how = items.map((item) => {
        const names = [...(configOf ??= configSymbols())].filter(([name]) => listItemMatches(item, name) || name.replace(/-/g, '_') === item);
        const symbols = [...new Set(names.flatMap(([, s]) => s))];
        return symbols.length
          ? `${item}: ${symbols.map((s) => `${s}=${config.get(s) ?? 'n'}`).join(', ')}`
          : `${item}: no Makefile builds it`;
      });
      findings.push({
        severity: 'warning',
        check: 'module-scoped-unreachable',
        module: m.name,
        message:
          `${e.symbol} is exported only to ${items.join(', ')}, and this configuration builds none of them as a module, ` +
          `so the export is dead (or, built in, never checked); set one of them to m (${how.join('; ')}) or gate the export on it [${d.description}]`,
        file: e.file,
        line: e.line,
      });
    }
  return findings;
}
