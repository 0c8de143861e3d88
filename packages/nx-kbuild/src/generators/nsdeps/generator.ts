/**
 * `nx g nx-kbuild:nsdeps`: kbuild's `make nsdeps` for the module tree, before anything compiles.
 * The symbol engine says what each module uses (exactly, from objects that are up to date, else
 * predicted); each namespace it uses without importing gets a MODULE_IMPORT_NS in the module's
 * main source (after MODULE_LICENSE, imports sorted), in the syntax the kernel tree uses, never a
 * module-scoped one where the kernel enforces those. Running it again changes nothing.
 */
import { relative } from 'node:path';
import { logger, readNxJson, type Tree } from '@nx/devkit';
import { addNamespaceImports, detectDialect, missingNamespaces } from '@nx-kbuild/symbols';
import { normalizeOptions } from '../../model/options';
import { loadTreeModel } from '../../model/tree-model';

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
  const { scan, table, imports } = model.symbols!; // an external tree's model always keeps them
  const dialect = detectDialect(model.srctree);

  for (const mc of model.commands.modules) {
    const m = scan.modules.get(mc.module.name);
    if (!m || (schema.project && m.name !== schema.project)) continue;
    const missing = missingNamespaces(m, imports.get(m.name)?.symbols ?? [], table, dialect);
    if (missing.length === 0) continue;
    for (const ns of missing) logger.info(`Adding namespace ${ns} to module ${m.name}.ko.`);
    for (const source of new Set(mc.objects.map((o) => o.source))) {
      const path = relative(tree.root, source);
      const text = tree.read(path, 'utf-8');
      if (text === null) continue;
      const updated = addNamespaceImports(text, missing, dialect.namespaceSyntax);
      if (updated !== text) tree.write(path, updated);
    }
  }
}
