import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import type { Command, CompileStep, GenerateCommands, ModuleCommands } from '@nx-kbuild/kbuild-make';
import { dotTarget, stepOutputs } from '@nx-kbuild/kbuild-make';
import type { TreeModel } from './model/tree-model';
import type { KbuildPluginOptions } from './model/options';
import type { CompileSpec, GenerateSpec, FinalCompileSpec, GenksymsSpec, LinkSpec, ModpostSpec, StepSpec, SymbolsCheckSpec, TreeLinkSpec } from './runner/spec';
import { SPEC_ENV, SPEC_FILE_ENV, SPEC_INLINE_LIMIT } from './runner/spec';
import { builtinProjects } from './builtin-targets';

export const TARGETS = { generate: 'generate', compile: 'compile', genksyms: 'genksyms', modpost: 'modpost', link: 'link', archive: 'archive', moduleCommon: 'module-common', symbolsCheck: 'symbols-check' } as const;

const RUNNER = join(__dirname, 'runner', 'cli.js');

function shellPath(p: string): string {
  if (p.includes("'")) throw new Error(`nx-kbuild: unsupported character ' in install path ${p}`);
  return `'${p}'`;
}

/**
 * Environment variable carrying the identity of one kernel build directory and its toolchain
 * (see model/identity.ts): one per kernel, so workspaces with several plugin entries stay exact.
 */
export function identityEnv(kernelDir: string): string {
  return `NX_KBUILD_IDENTITY_${createHash('sha256').update(kernelDir).digest('hex').slice(0, 12)}`;
}

/**
 * Where a large spec (or the tree's environment) goes: <workspace>/.nx-kbuild/specs/<sha256>.json,
 * written when the graph is computed. The name is the content's hash, and the name is in the
 * target's options: the cache key still covers every command.
 */
export function specFile(workspaceRoot: string, json: string): string {
  const name = `${createHash('sha256').update(json).digest('hex')}.json`;
  const rel = join('.nx-kbuild', 'specs', name);
  const abs = join(workspaceRoot, rel);
  if (!existsSync(abs)) {
    writeFileAtomic(abs, json);
  }
  return rel;
}

/** A task that runs one kbuild pass through the runner: spawned directly, no Node fork of Nx's own. */
export function stepTarget(workspaceRoot: string, spec: StepSpec, identity: string, extra: Partial<TargetConfiguration>): TargetConfiguration {
  const json = JSON.stringify(spec);
  const carried = json.length <= SPEC_INLINE_LIMIT ? { [SPEC_ENV]: json } : { [SPEC_FILE_ENV]: specFile(workspaceRoot, json) };
  return {
    executor: 'nx:run-commands',
    cache: true,
    ...extra,
    options: {
      command: `node ${shellPath(RUNNER)}`,
      env: { ...carried, NX_KBUILD_IDENTITY_VAR: identity },
      forwardAllArgs: false,
    },
  };
}

/** What a pass's targets share: paths as workspace inputs and outputs, kbuild's environment, the kernel identity. */
export interface StepContext {
  /** A path relative to the build directory as a workspace input/output. */
  ws: (path: string) => string;
  envFile: string;
  identity: { env: string };
  external: { externalDependencies: string[] };
}

/** Every header of the tree as one input (what a file whose #includes are not known may read). */
const treeHeaders = (model: TreeModel): string => `{workspaceRoot}/${relative(model.workspaceRoot, model.root) || '.'}/**/*.h`;

/**
 * `generate`: the files a directory's rules make for the objects of a module or of a directory's
 * built-in code (generated sources, headers, the host programs that write them), before they compile.
 */
export function generateTarget(model: TreeModel, g: GenerateCommands, c: StepContext, downstream: string[], what: string): TargetConfiguration {
  const cwd = model.kernelDir;
  const spec: GenerateSpec = { step: 'generate', cwd, envFile: c.envFile, downstream, fixdep: 'scripts/basic/fixdep', steps: g.steps };
  return stepTarget(model.workspaceRoot, spec, c.identity.env, {
    // Files of the source tree (tools of the build directory, scripts/ from `make prepare`, are in
    // the kernel identity); a step that compiles a host program may include any header of the tree.
    inputs: [
      ...g.inputs.map((i) => resolve(cwd, i)).filter((i) => !i.startsWith(cwd + '/')).map(c.ws),
      ...(g.steps.some((st) => st.how === 'if_changed_dep') ? [treeHeaders(model)] : []),
      c.identity,
      c.external,
    ],
    outputs: g.steps.flatMap((st) => stepOutputs(st).map(c.ws)),
    metadata: { description: `Make what ${what}'s objects need by its directory's rules: ${g.steps.map((st) => basename(st.target)).join(', ')}` },
  });
}

/** modpost reading these symbol dumps (`-i <module>.symvers`) besides what its command reads. */
function withInputs(modpost: Command, symvers: readonly string[]): Command {
  const dumps = [...new Set(symvers)].sort();
  if (dumps.length === 0) return modpost;
  const args = dumps.flatMap((f) => ['-i', f]);
  return { ...modpost, argv: [...modpost.argv, ...args], text: `${modpost.text} ${args.join(' ')}` };
}

/** How a compile target follows `generate`: after it, with the files it made in its cache key. */
export const afterGenerate = { dependsOn: [TARGETS.generate], inputs: [{ dependentTasksOutputFiles: '**/*' }] };

/** The compile pass's view of objects (module members or a directory's built-in objects). */
export const compileObjects = (objects: readonly CompileStep[]): CompileSpec['objects'] =>
  objects.map((o) => ({ object: o.object, source: o.source, depfile: o.depfile, cc: o.cc, objtool: o.objtool }));

/** The genksyms pass's view of the same objects, with the objtool its .cmd files name. */
export const genksymsObjects = (objects: readonly CompileStep[]): Pick<GenksymsSpec, 'objtoolPath' | 'objects'> => ({
  objtoolPath: objects.find((o) => o.objtool)?.objtool?.argv[0],
  objects: objects.map((o) => ({ object: o.object, depfile: o.depfile, cmdFile: o.cmdFile, savedcmd: o.savedcmd, cpp: o.cpp, genksyms: o.genksyms, objtool: o.objtool !== undefined })),
});

export interface ProjectPlan {
  root: string;
  config: ProjectConfiguration;
}

export function projectRootFor(model: TreeModel, mc: ModuleCommands, sharedDirs: Set<string>): string {
  const dir = relative(model.workspaceRoot, mc.module.dir) || '.';
  return sharedDirs.has(mc.module.dir) ? join(dir, mc.module.name) : dir;
}

export function buildProjects(model: TreeModel, treeProject: string, options: KbuildPluginOptions): ProjectPlan[] {
  const cwd = model.kernelDir;
  // Paths of in-tree commands are relative to the build directory (where the passes run).
  const ws = (p: string) => `{workspaceRoot}/${relative(model.workspaceRoot, isAbsolute(p) ? p : join(cwd, p))}`;
  const inTree = model.outputRoot !== model.root;
  // In-tree, Makefile.modpost's command reads no other module's exports (kbuild runs modpost once
  // over all modules it builds): each module's modpost is given those of the modules it uses.
  const symversOf = new Map(model.commands.modules.map((mc) => [mc.module.name, mc.modpostOutput]));
  const usedSymvers = new Map<string, string[]>();
  if (inTree) for (const e of model.edges) if (symversOf.has(e.to)) (usedSymvers.get(e.from) ?? usedSymvers.set(e.from, []).get(e.from)!).push(symversOf.get(e.to)!);
  const perDir = new Map<string, number>();
  for (const m of model.tree.modules) perDir.set(m.dir, (perDir.get(m.dir) ?? 0) + 1);
  const sharedDirs = new Set([...perDir].filter(([, n]) => n > 1).map(([d]) => d));
  if (perDir.has(model.root)) sharedDirs.add(model.root); // the tree project owns the tree root
  const treeRootRel = relative(model.workspaceRoot, model.root) || '.';
  const common = model.commands.moduleCommon;
  const plans: ProjectPlan[] = [];
  const external = { externalDependencies: [] as string[] };
  // What the symbols-check target reads of every module: its sources and headers.
  const checkInputs = new Set<string>();
  // Kernel and toolchain identity, computed once per Nx run by preTasksExecution.
  const identityInput = { env: identityEnv(model.kernelDir) };
  const envFile = specFile(model.workspaceRoot, JSON.stringify(model.env));

  for (const mc of model.commands.modules) {
    const m = mc.module;
    const root = projectRootFor(model, mc, sharedDirs);
    // A generated source's #includes are not known before it is made: every header of the tree counts.
    const headerInputs = (mc.generate ? ['*'] : (model.headers.get(m.name) ?? [])).map((h) => (h === '*' ? treeHeaders(model) : `{workspaceRoot}/${h}`));
    const sources = mc.objects.map((o) => ws(o.source));
    for (const input of [...sources, ...headerInputs]) checkInputs.add(input);
    const objtoolPath = join(cwd, 'tools/objtool/objtool');
    const linkOutputs = [mc.modO.object, mc.modO.cmdFile, mc.ko, dotTarget(mc.ko, '.cmd')];
    const modpostOutputs = [mc.modC, mc.modpostOutput, mc.modpostOrder];

    const compile: CompileSpec = {
      step: 'compile',
      cwd,
      envFile,
      downstream: [...modpostOutputs, ...linkOutputs],
      objects: compileObjects(mc.objects),
      modFile: mc.modFile,
      modContent: mc.modContent,
      ...(mc.modCmd !== undefined ? { modCmd: mc.modCmd } : {}),
      composite: mc.composite && { ...mc.composite, objtoolPath: mc.composite.objtool?.argv[0] ?? objtoolPath },
    };
    const compileOutputs = [
      ...mc.objects.flatMap((o) => [ws(o.object), ws(o.depfile)]),
      ws(mc.modFile),
      ...(mc.modCmd !== undefined ? [ws(dotTarget(mc.modFile, '.cmd'))] : []),
      ...(mc.composite ? [ws(mc.composite.object), ws(mc.composite.cmdFile)] : []),
    ];
    const genksyms: GenksymsSpec = {
      step: 'genksyms',
      cwd,
      envFile,
      downstream: [...modpostOutputs, ...linkOutputs],
      fixdep: mc.fixdep,
      nm: mc.nm,
      ...genksymsObjects(mc.objects),
    };
    const modpost: ModpostSpec = {
      step: 'modpost',
      cwd,
      envFile,
      downstream: linkOutputs,
      moduleObject: mc.moduleObject,
      order: mc.modpostOrder,
      modpost: withInputs(mc.modpost, usedSymvers.get(m.name) ?? []),
      outputs: modpostOutputs,
    };
    const link: LinkSpec = {
      step: 'link',
      cwd,
      envFile,
      downstream: [],
      fixdep: mc.fixdep,
      modO: { object: mc.modO.object, depfile: mc.modO.depfile, cmdFile: mc.modO.cmdFile, cc: mc.modO.cc, savedcmd: mc.modO.savedcmd },
      ko: mc.ko,
      koCmdFile: dotTarget(mc.ko, '.cmd'),
      ld: mc.koLink,
      btf: mc.btf,
    };

    const generate = mc.generate && generateTarget(model, mc.generate, { ws, envFile, identity: identityInput, external }, [...mc.objects.flatMap((o) => [o.object, o.depfile]), ...modpostOutputs, ...linkOutputs], m.name);
    const targets: Record<string, TargetConfiguration> = {
      ...(generate && { [TARGETS.generate]: generate }),
      [TARGETS.compile]: stepTarget(model.workspaceRoot, compile, identityInput.env, {
        ...(generate && { dependsOn: afterGenerate.dependsOn }),
        inputs: [...sources, ...headerInputs, identityInput, external, ...(generate ? afterGenerate.inputs : [])],
        outputs: compileOutputs,
        metadata: { description: `Compile ${m.members.length} object(s) of ${m.name}.ko as kbuild does (gcc, objtool${m.composite ? ', ld -r' : ''})` },
      }),
      [TARGETS.genksyms]: stepTarget(model.workspaceRoot, genksyms, identityInput.env, {
        dependsOn: [TARGETS.compile],
        inputs: [...sources, ...headerInputs, identityInput, external, { dependentTasksOutputFiles: '**/*.o' }, { dependentTasksOutputFiles: '**/.*.d' }],
        outputs: mc.objects.map((o) => ws(o.cmdFile)),
        metadata: { description: `Record ${m.name}'s .cmd files with genksyms CRCs of its exports (#SYMVER lines)` },
      }),
      [TARGETS.modpost]: stepTarget(model.workspaceRoot, modpost, identityInput.env, {
        dependsOn: [TARGETS.compile, TARGETS.genksyms, `^${TARGETS.modpost}`],
        inputs: [
          identityInput,
          external,
          { dependentTasksOutputFiles: '**/*.o' },
          { dependentTasksOutputFiles: '**/.*.cmd' },
          { dependentTasksOutputFiles: '**/*.symvers' },
        ],
        outputs: modpostOutputs.map(ws),
        metadata: { description: `modpost for ${m.name}: ${basename(mc.modC)} and its Module.symvers rows` },
      }),
      [TARGETS.link]: stepTarget(model.workspaceRoot, link, identityInput.env, {
        dependsOn: [TARGETS.compile, TARGETS.modpost, { projects: [treeProject], target: TARGETS.moduleCommon }],
        inputs: [
          identityInput,
          external,
          { dependentTasksOutputFiles: '**/*.o' },
          { dependentTasksOutputFiles: '**/*.mod.c' },
        ],
        outputs: linkOutputs.map(ws),
        metadata: { description: `Link ${basename(mc.ko)} (ld -r with module.lds) and add its BTF (pahole, resolve_btfids)` },
      }),
    };
    plans.push({
      root,
      config: {
        name: m.name,
        root,
        projectType: 'library',
        tags: ['kbuild:module'],
        targets,
        metadata: {
          description: `${m.name}.ko, from ${relative(model.workspaceRoot, m.definedIn.file)}:${m.definedIn.line}`,
        } as ProjectConfiguration['metadata'],
      },
    });
  }

  if (model.builtin) plans.push(...builtinProjects(model, model.builtin, { ws, envFile, identity: identityInput, external }));

  const commonSpec: FinalCompileSpec = {
    step: 'compile-final',
    cwd,
    envFile,
    downstream: [],
    fixdep: 'scripts/basic/fixdep',
    compile: { object: common.object, depfile: common.depfile, cmdFile: common.cmdFile, cc: common.cc, savedcmd: common.savedcmd },
  };
  const treeLink: TreeLinkSpec = {
    step: 'tree-link',
    modules: model.commands.modules.map((mc) => mc.module.path),
    symvers: join(model.root, 'Module.symvers'),
    orders: model.orderDirs.map((dir) => {
      return {
        file: join(dir, 'modules.order'),
        modules: model.commands.modules.map((mc) => mc.module.path).filter((p) => p.startsWith(dir + '/')),
      };
    }),
  };
  const moduleNames = model.commands.modules.map((mc) => mc.module.name);
  const symbolsCheck: SymbolsCheckSpec = {
    step: 'symbols-check',
    workspaceRoot: model.workspaceRoot,
    options,
    path: process.env.PATH ?? '',
    report: join(model.outputRoot, 'symbols-check.txt'),
  };
  plans.push({
    root: treeRootRel,
    config: {
      name: treeProject,
      root: treeRootRel,
      projectType: 'application',
      tags: ['kbuild:tree'],
      targets: {
        [TARGETS.moduleCommon]: stepTarget(model.workspaceRoot, commonSpec, identityInput.env, {
          inputs: [identityInput, external],
          outputs: [ws(common.object), ws(common.cmdFile)],
          metadata: { description: 'Compile .module-common.o, linked into every module of the tree' },
        }),
        // After genksyms (and so compile) of every module: its objects and .cmd files are up to date,
        // so the checks read exact imports, and the cache key covers them.
        [TARGETS.symbolsCheck]: stepTarget(model.workspaceRoot, symbolsCheck, identityInput.env, {
          dependsOn: [{ projects: moduleNames, target: TARGETS.genksyms }],
          inputs: [
            ...checkInputs,
            ...model.tree.makefiles.map(ws),
            ws(model.configFile),
            identityInput,
            external,
            { dependentTasksOutputFiles: '**/*.o', transitive: true },
            { dependentTasksOutputFiles: '**/.*.cmd', transitive: true },
          ],
          outputs: [ws(symbolsCheck.report)],
          metadata: { description: "modpost's symbol checks over the tree, with file:line: missing namespace imports, GPL-only symbols, exports made twice, module-scoped namespaces, unresolved symbols" },
        }),
        // In-tree, Module.symvers belongs to the whole kernel (vmlinux included): not assembled here.
        ...(inTree
          ? {}
          : {
              [TARGETS.link]: stepTarget(model.workspaceRoot, treeLink, identityInput.env, {
                dependsOn: [{ projects: moduleNames, target: TARGETS.link }],
                inputs: [external, { dependentTasksOutputFiles: '**/*.symvers', transitive: true }],
                outputs: [ws(treeLink.symvers), ...treeLink.orders.map((o) => ws(o.file))],
                metadata: { description: "The tree's Module.symvers and modules.order, as `make M=` writes them" },
              }),
            }),
      },
    },
  });
  return plans;
}

