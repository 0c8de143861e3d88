import type { TargetConfiguration } from '@nx/devkit';
import type { BuiltinDirCommands } from '@nx-kbuild/kbuild-make';
import type { TreeModel } from './model/tree-model';
import type { ArchiveSpec, CompileSpec, GenksymsSpec } from './runner/spec';
import { afterGenerate, compileObjects, generateTarget, genksymsObjects, stepTarget, TARGETS, type ProjectPlan, type StepContext } from './targets';

/** The project of a kbuild directory's built-in code: `<dir>/built-in` (`built-in` for the tree's root). */
export const builtinProjectName = (dir: string): string => (dir === '.' ? 'built-in' : `${dir}/built-in`);

/**
 * In-tree built-in code, one project per kbuild directory asked for: `compile` and `genksyms` as
 * for a module's objects (Makefile.build's commands, .cmd files with #SYMVER lines), then
 * `archive`: its built-in.a (and lib.a), after its subdirectories' (a thin archive takes their
 * members in). Directory by directory, so a change recompiles and archives again only the
 * directories it reaches. vmlinux itself (vmlinux.a, vmlinux.o and modpost, kallsyms, the link and
 * BTF) is left to kbuild, which finds these outputs and their .cmd files up to date.
 */
export function builtinProjects(model: TreeModel, builtin: NonNullable<TreeModel['builtin']>, c: StepContext): ProjectPlan[] {
  const cwd = model.kernelDir;
  return builtin.dirs.map((d) => {
    const name = builtinProjectName(d.dir);
    const sources = d.objects.map((o) => c.ws(o.source));
    const headers = (builtin.headers.get(d.dir) ?? []).map((h) => `{workspaceRoot}/${h}`);
    const archiveOutputs = d.archives.flatMap((a) => [a.archive, a.cmdFile]);
    const targets: Record<string, TargetConfiguration> = d.objects.length ? objectTargets(model, d, c, [...sources, ...headers], archiveOutputs) : {};
    const archive: ArchiveSpec = { step: 'archive', cwd, envFile: c.envFile, downstream: [], archives: d.archives.map((a) => ({ archive: a.archive, cmdFile: a.cmdFile, ar: a.ar, savedcmd: a.savedcmd })) };
    targets[TARGETS.archive] = stepTarget(model.workspaceRoot, archive, c.identity.env, {
      dependsOn: [...(d.objects.length ? [TARGETS.genksyms] : []), `^${TARGETS.archive}`],
      // A thin archive records its members' paths and sizes, a subdirectory's members included.
      inputs: [c.identity, c.external, { dependentTasksOutputFiles: '**/*.o', transitive: true }, { dependentTasksOutputFiles: '**/*.a', transitive: true }],
      outputs: archiveOutputs.map(c.ws),
      metadata: { description: `Archive ${d.archives.map((a) => a.archive).join(' and ')} as kbuild does (ar, thin)` },
    });
    return {
      root: name,
      config: {
        name,
        root: name,
        projectType: 'library',
        tags: ['kbuild:built-in'],
        targets,
        metadata: { description: `The built-in code of ${d.dir}: ${d.objects.length} object(s), ${d.subdirs.length} subdirector${d.subdirs.length === 1 ? 'y' : 'ies'}` },
      },
    };
  });
}

function objectTargets(model: TreeModel, d: BuiltinDirCommands, c: StepContext, inputs: string[], downstream: string[]): Record<string, TargetConfiguration> {
  const cwd = model.kernelDir;
  const compile: CompileSpec = {
    step: 'compile',
    cwd,
    envFile: c.envFile,
    downstream,
    objects: compileObjects(d.objects),
  };
  const objectOutputs = d.objects.flatMap((o) => [o.object, o.depfile]);
  const generate = d.generate && generateTarget(model, d.generate, c, [...objectOutputs, ...downstream], `${d.dir}'s built-in code`);
  const genksyms: GenksymsSpec = {
    step: 'genksyms',
    cwd,
    envFile: c.envFile,
    downstream,
    fixdep: 'scripts/basic/fixdep',
    nm: model.builtin!.nm,
    ...genksymsObjects(d.objects),
  };
  return {
    ...(generate && { [TARGETS.generate]: generate }),
    [TARGETS.compile]: stepTarget(model.workspaceRoot, compile, c.identity.env, {
      ...(generate && { dependsOn: afterGenerate.dependsOn }),
      inputs: [...inputs, c.identity, c.external, ...(generate ? afterGenerate.inputs : [])],
      outputs: objectOutputs.map(c.ws),
      metadata: { description: `Compile the ${d.objects.length} built-in object(s) of ${d.dir} as kbuild does (gcc, objtool)` },
    }),
    [TARGETS.genksyms]: stepTarget(model.workspaceRoot, genksyms, c.identity.env, {
      dependsOn: [TARGETS.compile],
      inputs: [...inputs, c.identity, c.external, { dependentTasksOutputFiles: '**/*.o' }, { dependentTasksOutputFiles: '**/.*.d' }],
      outputs: d.objects.map((o) => c.ws(o.cmdFile)),
      metadata: { description: `Record the .cmd files of ${d.dir}'s objects with genksyms CRCs of their exports (#SYMVER lines)` },
    }),
  };
}
