/**
 * The symbol engine's checks over an evaluated tree (model/tree-symbols.ts): modpost's rules with
 * each module's imports exact where its objects are up to date, else predicted, against the
 * tree's exports and the kernel's Module.symvers; and module-scoped exports no module of the
 * configuration can use. Every finding gets a place a user can open.
 */
import { relative, resolve } from 'node:path';
import { checkTree, detectDialect, enforcedDialect, type Dialect, type Finding } from '@nx-kbuild/symbols';
import { firstMention } from '../model/first-mention';
import type { KbuildPluginOptions } from '../model/options';
import type { TreeModel } from '../model/tree-model';

export interface PlacedFinding extends Omit<Finding, 'check' | 'file' | 'line'> {
  /** The engine's check, or "scan": a source the scanner could not read as its command compiles it. */
  check: Finding['check'] | 'scan';
  file: string;
  line: number;
}

export interface TreeCheck {
  findings: PlacedFinding[];
  dialect: Dialect;
  modules: number;
  /** Modules whose imports were read from up-to-date objects. */
  exact: number;
}

export function checkTreeModel(model: TreeModel, options: Pick<KbuildPluginOptions, 'modpostWarn' | 'enforceModuleScopedExports'>): TreeCheck {
  const detected = detectDialect(model.srctree);
  const dialect = options.enforceModuleScopedExports ? enforcedDialect(detected) : detected;
  if (!model.symbols) throw new Error('nx-kbuild: the tree was evaluated without keeping its symbols (loadInTreeModel keepSymbols)');
  const { scan, table, imports } = model.symbols;
  const byName = new Map(model.commands.modules.map((mc) => [mc.module.name, mc]));
  const none = { symbols: [], exact: false, weak: [] };
  const raw = checkTree(scan, dialect, model.configValues, model.root, {
    table,
    imports: (m) => imports.get(m.name) ?? none,
    warnUnresolved: options.modpostWarn,
    allowMissingNamespaceImports: model.configValues.get('CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS') === 'y',
    modulePath: (m) => relative(model.workspaceRoot, byName.get(m.name)?.module.path ?? m.name),
  });
  const errors = scan.errors.map((e): PlacedFinding => ({ severity: 'error', check: 'scan', module: '', message: e.message, file: e.file, line: e.line }));
  const findings = raw.map((f): PlacedFinding => {
    const mc = byName.get(f.module);
    // The consumer's use is where to act on a missing import or an unresolved symbol.
    if (mc && f.symbol && (f.check === 'missing-namespace-import' || f.check === 'unresolved'))
      return { ...f, ...firstMention(mc.objects.map((o) => resolve(model.kernelDir, o.source)), f.symbol) };
    if (f.file !== undefined && f.line !== undefined) return { ...f, file: f.file, line: f.line };
    return { ...f, file: mc?.module.definedIn.file ?? model.configFile, line: mc?.module.definedIn.line ?? 0 };
  });
  return { findings: [...errors, ...findings], dialect, modules: byName.size, exact: [...imports.values()].filter((i) => i.exact).length };
}
