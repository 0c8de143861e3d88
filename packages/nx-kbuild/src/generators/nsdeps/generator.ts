/**
 * `nx g nx-kbuild:nsdeps`: kbuild's `make nsdeps` for the module tree or the in-tree kernel's
 * modules, before anything compiles.
 * The symbol engine says what each module uses (exactly, from objects that are up to date, else
 * predicted); each namespace it uses without importing gets a MODULE_IMPORT_NS in the module's
 * main source (after MODULE_LICENSE, imports sorted), in the syntax the kernel tree uses, never a
 * module-scoped one where the kernel enforces those. Running it again changes nothing.
 */
import { relative, resolve } from 'node:path';
import { logger, readNxJson, type Tree } from '@nx/devkit';
import { detectDialect, namespaceEdits, nsdepsMessages } from '@nx-kbuild/symbols';
import { normalizeOptions } from '../../model/options';
import { loadInTreeModel } from '../../model/in-tree-model';
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
  // An in-tree kernel's model keeps its symbols when asked; an external tree's always does.
  const model = options.objtree !== undefined ? await loadInTreeModel(tree.root, options, false, true) : loadTreeModel(tree.root, options);
  const { scan, table, imports } = model.symbols!;
  const at = (source: string) => relative(tree.root, resolve(model.kernelDir, source));
  // Sources outside the workspace (generated in the build directory) are not edited.
  const read = (path: string) => (path.startsWith('..') ? undefined : (tree.read(path, 'utf-8') ?? undefined));
  const modules = model.commands.modules.flatMap((mc) => {
    const m = scan.modules.get(mc.module.name);
    if (!m || (schema.project && m.name !== schema.project && mc.module.name !== schema.project)) return [];
    return [{ symbols: m, sources: mc.objects.map((o) => at(o.source)), imports: imports.get(m.name)?.symbols ?? [] }];
  });
  for (const edit of namespaceEdits(modules, table, detectDialect(model.srctree), read)) {
    for (const line of nsdepsMessages(edit)) logger.info(line);
    for (const f of edit.files) tree.write(f.path, f.text);
  }
}
