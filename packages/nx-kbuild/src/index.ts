import { dirname, join, relative } from 'node:path';
import {
  DependencyType,
  type CreateDependencies,
  type CreateNodes,
  type PreTasksExecution,
  type CreateNodesResult,
  type RawProjectGraphDependency,
} from '@nx/devkit';
import { loadTreeModel, type TreeModel } from './model/tree-model';
import { buildDirOf, normalizeOptions, type KbuildPluginOptions } from './model/options';
import { loadInTreeModel } from './model/in-tree-model';
import { cachedKbuildEnvironment } from '@nx-kbuild/kbuild-make';
import { buildProjects, identityEnv } from './targets';
import { builtinProjectName } from './builtin-targets';
import { computeIdentity, computeInTreeIdentity } from './model/identity';
import { forgetHeaders } from './model/headers';

export type { KbuildPluginOptions } from './model/options';

const DEFAULT_TREE_PROJECT = 'kbuild-tree';

/** One evaluation per graph computation: createNodes and createDependencies share it. */
let lastModel: { key: string; model: Promise<TreeModel> } | undefined;

function modelFor(workspaceRoot: string, options: KbuildPluginOptions, fresh: boolean): Promise<TreeModel> {
  const key = JSON.stringify([workspaceRoot, options]);
  if (!fresh && lastModel?.key === key) return lastModel.model;
  forgetHeaders();
  const model = options.objtree !== undefined ? loadInTreeModel(workspaceRoot, options) : Promise.resolve().then(() => loadTreeModel(workspaceRoot, options));
  lastModel = { key, model };
  return model;
}

/**
 * One Nx project per module that the tree's config builds (named as modpost names it), and one for
 * the tree as a whole. The tree's top Kbuild (or Makefile) anchors them.
 */
export const createNodes: CreateNodes<KbuildPluginOptions> = [
  '**/{Kbuild,Makefile}',
  async (files, rawOptions, context) => {
    const options = normalizeOptions(rawOptions);
    const treeRel = relative(context.workspaceRoot, join(context.workspaceRoot, options.tree ?? '.')) || '.';
    const anchors = files.filter((f) => (dirname(f) === '.' ? '.' : dirname(f)) === treeRel);
    const anchor = anchors.find((f) => f.endsWith('Kbuild')) ?? anchors[0];
    if (!anchor) return [];
    const model = await modelFor(context.workspaceRoot, options, true);
    for (const w of model.configWarnings) process.stderr.write(`${w}\n`);
    for (const d of model.tree.diagnostics) {
      process.stderr.write(`${relative(context.workspaceRoot, d.file)}:${d.line}: ${d.severity}: ${d.message}\n`);
    }
    const projects: CreateNodesResult['projects'] = {};
    for (const plan of buildProjects(model, options.treeProject ?? DEFAULT_TREE_PROJECT, options)) projects[plan.root] = plan.config;
    return [[anchor, { projects }]];
  },
];

/**
 * Nx's file ownership rule, the project whose root is the longest directory prefix of a file, as a
 * lookup of the file's directories from the deepest up (a whole kernel has 4,225 roots and 20,000
 * edges to place). Of projects with the same root, the first owns.
 */
function fileOwners(roots: readonly [name: string, root: string][]): (file: string) => string | undefined {
  const byRoot = new Map<string, string>();
  for (const [name, root] of roots) {
    const r = root === '' ? '.' : root;
    if (!byRoot.has(r)) byRoot.set(r, name);
  }
  return (file) => {
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const owner = byRoot.get(dir);
      if (owner !== undefined) return owner;
      if (dir === '.' || dir === '/') return undefined;
    }
  };
}

/**
 * Module → module edges from the symbols each module uses and another exports. An edge is static,
 * pointing at the consumer's source, when that source belongs to the consumer's project; modules
 * that share a directory have virtual roots, so their edges are implicit.
 */
export const createDependencies: CreateDependencies<KbuildPluginOptions> = async (rawOptions, context) => {
  const options = normalizeOptions(rawOptions);
  const model = await modelFor(context.workspaceRoot, options, false);
  const treeProject = options.treeProject ?? DEFAULT_TREE_PROJECT;
  const ownerOf = fileOwners(Object.entries(context.projects).map(([name, p]) => [name, p.root]));
  const edge = (source: string, target: string, file: string): RawProjectGraphDependency => {
    const sourceFile = relative(context.workspaceRoot, file);
    return ownerOf(sourceFile) === source
      ? { source, target, type: DependencyType.static, sourceFile }
      : { source, target, type: DependencyType.implicit };
  };
  const deps: RawProjectGraphDependency[] = model.edges.map((e) => edge(e.from, e.to, e.sourceFile));
  // The tree project collects every module's outputs (Module.symvers, modules.order).
  for (const m of model.tree.modules) deps.push(edge(treeProject, m.name, m.definedIn.file));
  // A directory's built-in.a takes in its subdirectories'.
  for (const d of model.builtin?.dirs ?? []) for (const s of d.subdirs) deps.push({ source: builtinProjectName(d.dir), target: builtinProjectName(s), type: DependencyType.implicit });
  // Only between projects Nx has (a tree whose files Nx ignores has none).
  return deps.filter((d) => context.projects[d.source] && context.projects[d.target]);
};

/**
 * Before any task is hashed: one hash of the kernel build directory, the toolchain and nx-kbuild
 * itself, given to every task's cache key through an environment input (one per kernel directory).
 */
export const preTasksExecution: PreTasksExecution<KbuildPluginOptions> = (rawOptions, context) => {
  const options = normalizeOptions(rawOptions);
  const buildDir = buildDirOf(context.workspaceRoot, options);
  process.env[identityEnv(buildDir)] =
    options.objtree !== undefined
      ? computeInTreeIdentity(buildDir, cachedKbuildEnvironment(context.workspaceRoot, buildDir))
      : computeIdentity(context.workspaceRoot, buildDir);
};
