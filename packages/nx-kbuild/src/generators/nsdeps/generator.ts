/**
 * `nx g nx-kbuild:nsdeps`: kbuild's `make nsdeps` for the module tree, before anything compiles.
 * The symbol engine predicts what each module uses; each namespace it uses without importing gets
 * a MODULE_IMPORT_NS in the module's main source (after MODULE_LICENSE, imports sorted), in the
 * syntax the kernel tree uses, never a module-scoped one where the kernel enforces those.
 * Running it again changes nothing.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { logger, readNxJson, type Tree } from '@nx/devkit';
import {
  addNamespaceImports,
  detectDialect,
  exportTable,
  HeaderReferences,
  missingNamespaces,
  parseSymvers,
  predictDependencies,
  scanTree,
  type ExportEntry,
  type TreeObject,
} from '@nx-kbuild/symbols';
import { readConfigFile } from '@nx-kbuild/kconfig';
import { normalizeOptions } from '../../model/options';
import { loadKbuildGlobals, loadTreeModel } from '../../model/tree-model';

export interface NsdepsSchema {
  project?: string;
}

function pluginOptions(tree: Tree): unknown {
  const entry = (readNxJson(tree)?.plugins ?? []).find((p) => (typeof p === 'string' ? p : p.plugin) === 'nx-kbuild');
  if (!entry) throw new Error('nsdeps: nx.json has no nx-kbuild plugin entry');
  return typeof entry === 'string' ? {} : entry.options;
}

export default async function nsdeps(tree: Tree, schema: NsdepsSchema): Promise<void> {
  const options = normalizeOptions(pluginOptions(tree));
  if (!options.kernelDir) throw new Error('nsdeps: in-tree workspaces (objtree) are not supported yet; run it in an external module tree');
  const model = loadTreeModel(tree.root, options);
  const globals = loadKbuildGlobals(tree.root, options.kernelDir);
  const srctree = resolve(model.kernelDir, globals.vars.srctree ?? '.');
  const config = readConfigFile(join(model.kernelDir, 'include/config/auto.conf'), 'auto.conf').values;
  const objects: TreeObject[] = model.commands.modules.flatMap((mc) => mc.objects.map((o) => ({ object: o.object, source: o.source, argv: o.cc.argv, module: mc.module.name })));
  if (objects.length === 0) return;
  // The shared headers indexed are the kernel's (srctree); the sources are the tree's.
  const scan = scanTree({ srctree, objtree: model.kernelDir, srcarch: globals.vars.SRCARCH ?? 'x86', config, objects });
  const dialect = detectDialect(srctree);

  // The kernel's exports (its Module.symvers) and the tree's own (from its sources).
  const { table } = exportTable(scan.modules.values());
  const symvers = join(model.kernelDir, 'Module.symvers');
  parseSymvers(readFileSync(symvers, 'utf8')).forEach((r, k) => {
    if (table.has(r.symbol)) return;
    const e: ExportEntry = { symbol: r.symbol, license: r.exportType === 'EXPORT_SYMBOL_GPL' ? 'GPL' : '', namespace: r.namespace, file: symvers, line: k + 1, certain: true, module: r.module };
    table.set(r.symbol, e);
  });
  const owners = new Map([...table].map(([s, e]) => [s, e.module]));
  const headers = new HeaderReferences(scan.index);

  for (const m of scan.modules.values()) {
    if (schema.project && m.name !== schema.project) continue;
    const imports = [...predictDependencies(m, owners, headers).values()].flat();
    const missing = missingNamespaces(m, imports, table, dialect);
    if (missing.length === 0) continue;
    for (const ns of missing) logger.info(`Adding namespace ${ns} to module ${m.name}.ko.`);
    const sources = [...new Set(objects.filter((o) => o.module === m.name).map((o) => o.source))];
    for (const source of sources) {
      const path = relative(tree.root, source);
      const text = tree.read(path, 'utf-8');
      if (text === null) continue;
      const updated = addNamespaceImports(text, missing, dialect.namespaceSyntax);
      if (updated !== text) tree.write(path, updated);
    }
  }
}
