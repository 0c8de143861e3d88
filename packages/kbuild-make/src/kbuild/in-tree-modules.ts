import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateSubMake } from './build-dir';
import { depfileOf, dotTarget, type Command, type CompileStep, type GenerateCommands, type GenerateStep, type ModuleCommands, type TreeCommands } from './commands';
import { absoluteSource, type KernelTree, type KernelTreeOptions, type MadeFile, type ObjectCommand } from './in-tree';
import { shellWords, splitUnquoted } from './shell-words';
import { parseShellScript, redirectedOutputs, type ShellList } from './shell-script';
import type { MadeFileStep } from './made-files';
import type { ModuleSpec } from './tree';

export interface InTreeModulesOptions {
  /** KBUILD_MODPOST_WARN=1: unresolved symbols are warnings (needed without vmlinux.o). */
  modpostWarn?: boolean;
  /** Only these modules (by path relative to the source tree, without suffix). */
  only?: (modulePath: string) => boolean;
}

/** A module nx-kbuild cannot build yet, and why (it is reported, not dropped silently). */
export interface UnbuildableModule {
  module: ModuleSpec;
  reason: string;
}

/** One simple command of a kbuild command line, run as an argument array; `text` is kbuild's. */
export function simple(text: string): Command {
  return { argv: shellWords(text), text };
}

/** `a ; b` as kbuild's cmd_cc_o_c writes it (compile, then objtool): the parts to run. */
function list(text: string): Command[] {
  return splitUnquoted(text, ';').map(simple);
}

/** An object's compile (and objtool) as its directory's sub-make runs it, with its genksyms pipeline. */
export function compileStep(o: ObjectCommand): CompileStep {
  const [cc, objtool] = list(o.command);
  // An assembled object's genksyms input is a shell compound ({ echo ...; nm | sed; } | cpp |
  // genksyms), needed only when it exports symbols: left empty, the runner refuses that case.
  const pipeline = o.source.endsWith('.S') ? [] : splitUnquoted(o.genksyms ?? '', '|');
  return {
    object: o.object,
    source: o.source,
    depfile: depfileOf(o.object),
    cmdFile: dotTarget(o.object, '.cmd'),
    cc,
    ...(objtool ? { objtool } : {}),
    savedcmd: o.command,
    cpp: simple(pipeline[0] ?? ''),
    genksyms: simple(pipeline[1] ?? ''),
  };
}

/**
 * The steps that make the files a module's objects need, from their plans (evaluateKernelTree with
 * madeFiles): each file once, prerequisites first; or why they cannot be run.
 */
export function generateCommands(files: readonly MadeFile[]): GenerateCommands | { unsupported: string } {
  const out: GenerateCommands = { steps: [], inputs: [] };
  const seen = new Set<string>();
  for (const f of files) {
    const plan = f.plan;
    if ('unsupported' in plan) return { unsupported: `${f.file}: ${plan.unsupported}` };
    for (const i of plan.inputs) if (!out.inputs.includes(i)) out.inputs.push(i);
    for (const s of plan.steps) {
      if (seen.has(s.target)) continue;
      for (const f of [s.target, ...s.also]) seen.add(f);
      try {
        out.steps.push(generateStep(s));
      } catch (e) {
        return { unsupported: `${s.rule.file}:${s.rule.line}: ${s.target}: ${(e as Error).message}` };
      }
    }
  }
  return out;
}

/**
 * A planned step as the runner performs it, its shell text parsed (parseShellScript refuses what
 * only a shell does). Only the step's own files may be written by a redirection: a filechk's
 * output is its temporary file, so it has none of its own.
 */
function generateStep(s: MadeFileStep): GenerateStep {
  const own = new Set([s.target, ...s.also]);
  const writesOnly = (list: ShellList, allowed: ReadonlySet<string>): ShellList => {
    for (const f of redirectedOutputs(list)) if (!allowed.has(f)) throw new Error(`a redirection writes ${f}, not a file of this step`);
    return list;
  };
  if (s.how === 'filechk') {
    if (s.also.length > 0) throw new Error('filechk makes one file');
    return { target: s.target, also: [], how: 'filechk', commands: writesOnly(parseShellScript(s.command), new Set()), text: s.command };
  }
  if (s.how === 'recipe') return { target: s.target, also: s.also, how: 'recipe', lines: (s.lines ?? []).map((text) => ({ run: writesOnly(parseShellScript(text), own), text })) };
  return { target: s.target, also: s.also, how: s.how, run: writesOnly(parseShellScript(s.command), own), text: s.command, cmdFile: dotTarget(s.target, '.cmd'), depfile: depfileOf(s.target) };
}

/**
 * What an object list needs made first, when `what` says it needs something (a generated source, a
 * made header): the steps of `files`, or why nx-kbuild cannot build it (reported, not dropped).
 */
export function generationFor(what: string | undefined, files: readonly MadeFile[]): { generate?: GenerateCommands } | { reason: string } {
  if (what === undefined) return {};
  const g = generateCommands(files);
  if ('unsupported' in g || g.steps.length === 0) {
    return { reason: `${what}, made by a rule of its directory, which nx-kbuild cannot run: ${'unsupported' in g ? g.unsupported : 'not planned (evaluated without madeFiles)'}` };
  }
  return { generate: g };
}

/**
 * The commands that build each module of an in-tree kernel, all expanded from the kernel's own
 * makefiles: objects and their genksyms pipelines (Makefile.build, per directory), the composite
 * `ld -r`, modpost's flags (Makefile.modpost) and the final `.mod.o`, `.ko` link and BTF
 * (Makefile.modfinal). modpost runs per module, as for `make <dir>/<module>.ko`; paths are
 * relative to the build directory. `kt` must come from evaluateKernelTree with moduleSteps.
 */
export function inTreeModuleCommands(k: KernelTreeOptions, kt: KernelTree, options: InTreeModulesOptions = {}): TreeCommands & { unbuildable: UnbuildableModule[] } {
  // The top Makefile runs both after the modules are built, KBUILD_MODPOST_WARN on its command line.
  const commandLine: Record<string, string> = options.modpostWarn ? { KBUILD_MODPOST_WARN: '1' } : {};
  const modpostEv = evaluateSubMake(k, 'scripts/Makefile.modpost', commandLine);
  const finalEv = evaluateSubMake(k, 'scripts/Makefile.modfinal', commandLine);
  const at = { file: 'scripts/Makefile.modfinal', line: 0 };
  const finalCompile = (target: string, source: string): CompileStep => {
    const text = finalEv.expandForTarget(target, '$(cmd_cc_o_c)', { '@': target, '<': source, '*': target.slice(0, -2), '^': source, '+': source }, at);
    return {
      object: target,
      source,
      depfile: depfileOf(target),
      cmdFile: dotTarget(target, '.cmd'),
      cc: simple(text),
      savedcmd: text,
      cpp: simple(''),
      genksyms: simple(''),
    };
  };
  const commonObject = '.module-common.o';
  const moduleCommon = finalCompile(commonObject, `${k.srctree}/scripts/module-common.c`);
  const lds = finalEv.get('ARCH_MODULE_LDS');
  const btfOn = finalEv.get('CONFIG_DEBUG_INFO_BTF_MODULES') !== '' && existsSync(join(k.objtree, 'vmlinux'));

  const abs = absoluteSource(k);
  const rel = (p: string) => p.slice(abs.length + 1);
  const byModule = new Map<string, ObjectCommand[]>();
  for (const o of kt.objects) if (o.module) (byModule.get(o.module) ?? byModule.set(o.module, []).get(o.module)!).push(o);
  const links = new Map(kt.moduleLinks.map((l) => [l.module, l]));
  const madeFor = new Map<string, MadeFile[]>();
  for (const f of kt.madeFiles) if (f.module) (madeFor.get(f.module) ?? madeFor.set(f.module, []).get(f.module)!).push(f);

  const modules: ModuleCommands[] = [];
  const unbuildable: UnbuildableModule[] = [];
  for (const m of kt.tree.modules) {
    const path = rel(m.path);
    if (options.only && !options.only(path)) continue;
    const objs = byModule.get(path) ?? [];
    if (objs.some((o) => o.inputOf)) {
      unbuildable.push({ module: m, reason: 'an object of it is made from another one by a directory rule (objcopy); not built by nx-kbuild yet' });
      continue;
    }
    // Files its directory's rules make first: generated sources, headers its objects include.
    const generated = objs.find((o) => o.generated);
    const needs = m.members.find((o) => o.made);
    const made = generationFor(generated ? `${generated.object} is compiled from ${generated.source}` : needs && `${rel(needs.object)} needs ${needs.made!.join(', ')}`, madeFor.get(path) ?? []);
    if ('reason' in made) {
      unbuildable.push({ module: m, reason: made.reason });
      continue;
    }
    const objects = objs.map(compileStep);
    const modFile = `${path}.mod`;
    const modContent = objs.map((o) => o.object).join('\n') + '\n';
    const moduleObject = `${path}.o`;
    const linkText = links.get(path)?.command;
    const composite =
      m.composite && linkText
        ? (() => {
            const [ld, objtool] = list(linkText);
            return { modFile, modContent, object: moduleObject, cmdFile: dotTarget(moduleObject, '.cmd'), ld, ...(objtool ? { objtool } : {}), savedcmd: linkText };
          })()
        : undefined;
    const modpostOutput = `${path}.symvers`;
    const modpostOrder = dotTarget(path, '.modorder');
    const modpostText = modpostEv.expandForTarget(modpostOutput, '$(MODPOST) $(modpost-args)', { '@': modpostOutput, MODORDER: modpostOrder }, { file: 'scripts/Makefile.modpost', line: 0 });
    const ko = `${path}.ko`;
    const modO = finalCompile(`${path}.mod.o`, `${path}.mod.c`);
    const prereqs = [moduleObject, modO.object, commonObject, lds, ...(btfOn ? ['vmlinux'] : [])].join(' ');
    const koText = finalEv.expandForTarget(ko, '$(cmd_ld_ko_o)', { '@': ko, '<': moduleObject, '^': prereqs, '+': prereqs, '*': path }, at);
    const btf = btfOn
      ? [
          { ...simple(finalEv.expandForTarget(ko, '$(PAHOLE) -J $(PAHOLE_FLAGS) $(MODULE_PAHOLE_FLAGS) --btf_base vmlinux $@', { '@': ko }, at)), env: { LLVM_OBJCOPY: finalEv.get('OBJCOPY') } },
          simple(finalEv.expandForTarget(ko, '$(RESOLVE_BTFIDS) -b vmlinux $@', { '@': ko }, at)),
        ]
      : [];
    modules.push({
      module: m,
      ...made,
      objects,
      composite,
      modFile,
      modContent,
      modCmd: links.get(path)?.modCommand,
      moduleObject,
      fixdep: 'scripts/basic/fixdep',
      nm: finalEv.get('NM'),
      modpost: simple(modpostText),
      modpostOrder,
      modpostOutput,
      modC: `${path}.mod.c`,
      modO,
      ko,
      koLink: simple(koText),
      btf,
    });
  }
  return { moduleCommon, modules, unbuildable };
}
