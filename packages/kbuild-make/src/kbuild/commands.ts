import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { matchPattern, words } from '../make/words';
import type { KbuildGlobals } from './probe';
import { PROBE_OBJECT } from './probe';
import { shellWords } from './shell-words';
import type { DirFlags, ModuleSpec, ObjectSpec } from './tree';
import type { ShellList } from './shell-script';

/** One process to run: an argument array, plus the text kbuild would record for it. */
export interface Command {
  argv: string[];
  /** The command as kbuild's `cmd_*` expands it (what `savedcmd_` records), single-spaced. */
  text: string;
  env?: Record<string, string>;
}

export interface CompileStep {
  object: string;
  source: string;
  depfile: string;
  cmdFile: string;
  /** `$(CC) $(c_flags) -c -o $@ $<` */
  cc: Command;
  /** objtool run right after the compile (single-object modules, or every object without IBT/LTO). */
  objtool?: Command;
  /** The text fixdep stores as savedcmd (cmd_cc_o_c: compile plus objtool). */
  savedcmd: string;
  /** genksyms pipeline (cmd_gensymtypes_c), run when the object exports symbols. */
  cpp: Command;
  genksyms: Command;
}

/** One step that makes a file a module's objects need (made-files.ts), as the runner performs it. */
export type GenerateStep = CommandStep | FilechkStep | RecipeStep;

interface StepTarget {
  target: string;
  /** Other files the same command writes (a pattern rule's other targets). */
  also: string[];
}

/** `cmd_<name>` run by if_changed, if_changed_dep or cmd. */
export interface CommandStep extends StepTarget {
  how: 'if_changed' | 'if_changed_dep' | 'cmd';
  run: ShellList;
  /** The command as kbuild saves it (savedcmd_). */
  text: string;
  /** if_changed: savedcmd_ written here; if_changed_dep: the same through fixdep from depfile; cmd: neither. */
  cmdFile: string;
  depfile: string;
}

/**
 * kbuild's filechk: the output of `filechk_<name>`'s commands (run as `set -e` does) is the
 * file's content; the file is replaced only when that differs (no .cmd file).
 */
export interface FilechkStep extends StepTarget {
  how: 'filechk';
  commands: ShellList;
  /** `$(filechk_<name>)` expanded, for messages. */
  text: string;
}

/** A rule's own shell lines (no kbuild command macro), each run as make runs a recipe line. */
export interface RecipeStep extends StepTarget {
  how: 'recipe';
  lines: { run: ShellList; text: string }[];
}

/** The files a step writes (what a task that runs it outputs). */
export function stepOutputs(s: GenerateStep): string[] {
  return [s.target, ...s.also, ...(s.how === 'if_changed' || s.how === 'if_changed_dep' ? [s.cmdFile] : [])];
}

/** The files a directory's rules make for a module's objects, prerequisites first, and what they read. */
export interface GenerateCommands {
  steps: GenerateStep[];
  /** Files no step makes: in the source tree, or in the build directory (tools `make prepare` built). */
  inputs: string[];
}

export interface CompositeLink {
  modFile: string;
  modContent: string;
  object: string;
  cmdFile: string;
  ld: Command;
  objtool?: Command;
  savedcmd: string;
}

export interface ModuleCommands {
  module: ModuleSpec;
  /** Files its directory's rules make before its objects compile (generated sources, headers). */
  generate?: GenerateCommands;
  objects: CompileStep[];
  /** For composite modules: the `.mod` list and `ld -r` (cmd_ld_multi_m). */
  composite?: CompositeLink;
  /** For single-object modules kbuild still writes `<mod>.mod`. */
  modFile: string;
  modContent: string;
  /** cmd_mod as kbuild records it in `.<mod>.mod.cmd` (in-tree builds). */
  modCmd?: string;
  /** The module object modpost reads (`<mod>.o`). */
  moduleObject: string;
  fixdep: string;
  nm: string;
  modpost: Command;
  /** The one-line modules.order modpost reads for this module. */
  modpostOrder: string;
  modpostOutput: string;
  modC: string;
  modO: CompileStep;
  ko: string;
  koLink: Command;
  btf: Command[];
}

export interface TreeCommands {
  moduleCommon: CompileStep;
  modules: ModuleCommands[];
}

const v = (g: KbuildGlobals, name: string) => g.vars[name] ?? '';

function filterOut(patterns: string[], list: string[]): string[] {
  return list.filter((w) => !patterns.some((p) => matchPattern(p, w) !== undefined));
}

const nameFixToken = (s: string) => s.replace(/-/g, '_').replace(/,/g, '_');
const nameFix = (s: string) => `'"${nameFixToken(s)}"'`;

function command(text: string, env?: Record<string, string>): Command {
  const t = words(text).join(' ');
  return { argv: shellWords(t), text: t, ...(env ? { env } : {}) };
}

export function dotTarget(path: string, suffix = ''): string {
  return join(dirname(path), `.${basename(path)}${suffix}`);
}

/** Kbuild.include's depfile: `$(subst $(comma),_,$(dot-target).d)`. */
export function depfileOf(target: string): string {
  return dotTarget(target, '.d').replace(/,/g, '_');
}

interface FlagContext {
  target: string;
  stem: string;
  modname: string;
  dir?: DirFlags;
  /** Extra words kbuild adds to _c_flags for kernel objects (sanitizers), from the probe. */
  extra: string[];
}

/** scripts/Makefile.lib's c_flags for a module object. */
function cFlags(g: KbuildGlobals, ctx: FlagContext): string {
  const base = [
    ...words(v(g, 'KBUILD_CPPFLAGS')),
    ...words(ctx.dir ? ctx.dir.kbuildCflags : v(g, 'KBUILD_CFLAGS')),
    ...words(ctx.dir?.ccflags ?? ''),
  ];
  const per = ctx.dir?.perObject[ctx.stem] ?? { add: '', remove: '' };
  const cFlagsInner = filterOut(words(per.remove), [...filterOut(words(ctx.dir?.ccflagsRemove ?? ''), base), ...words(per.add)]);
  const basetarget = basename(ctx.target).replace(/\.[^.]*$/, '');
  return [
    `-Wp,-MMD,${depfileOf(ctx.target)}`,
    v(g, 'NOSTDINC_FLAGS'),
    v(g, 'LINUXINCLUDE'),
    `-include ${v(g, 'srctree')}/include/linux/compiler_types.h`,
    cFlagsInner.join(' '),
    ...ctx.extra,
    v(g, 'KBUILD_CFLAGS_MODULE'),
    v(g, 'CFLAGS_MODULE'),
    `-DKBUILD_BASENAME=${nameFix(basetarget)}`,
    `-DKBUILD_MODNAME=${nameFix(ctx.modname)}`,
    `-D__KBUILD_MODNAME=kmod_${nameFixToken(ctx.modname)}`,
  ].join(' ');
}

/** Words kbuild adds to the probe object's _c_flags beyond KBUILD_CPPFLAGS + KBUILD_CFLAGS. */
function kernelObjectExtras(g: KbuildGlobals): string[] {
  const base = [...words(v(g, 'KBUILD_CPPFLAGS')), ...words(v(g, 'KBUILD_CFLAGS'))];
  const probe = words(v(g, '_c_flags'));
  for (let k = 0; k < base.length; k++) {
    if (probe[k] !== base[k]) {
      throw new Error(`kbuild's _c_flags do not start with KBUILD_CPPFLAGS KBUILD_CFLAGS (word ${k}: ${probe[k]} vs ${base[k]})`);
    }
  }
  return probe.slice(base.length);
}

/**
 * Checks our c_flags formula against the value kbuild computed for the probe object.
 * A mismatch means this kernel's Makefile.lib differs from what we model: refuse to guess.
 */
export function verifyProbe(g: KbuildGlobals, probeDir: string): void {
  const ours = words(
    cFlags(g, { target: join(probeDir, PROBE_OBJECT), stem: PROBE_OBJECT, modname: PROBE_OBJECT, extra: kernelObjectExtras(g) }),
  ).join(' ');
  const theirs = words(v(g, 'c_flags')).join(' ');
  if (ours !== theirs) {
    throw new Error(`kbuild's c_flags for a module object differ from nx-kbuild's model of scripts/Makefile.lib:\n  kbuild:   ${theirs}\n  nx-kbuild: ${ours}`);
  }
}

function objtoolCommand(g: KbuildGlobals, target: string): Command {
  const args = [v(g, 'objtool-args-y'), v(g, 'delay-objtool') ? '--link' : '', '--module'].join(' ');
  return command(`${v(g, 'objtool')} ${args} ${target}`);
}

function compileStep(g: KbuildGlobals, obj: ObjectSpec, modname: string, dir: DirFlags | undefined, extra: string[], runObjtool: boolean): CompileStep {
  const flags = cFlags(g, { target: obj.object, stem: obj.stem, modname, dir, extra });
  const cc = command(`${v(g, 'CC')} ${flags} -c -o ${obj.object} ${obj.source}`);
  const objtool = runObjtool ? objtoolCommand(g, obj.object) : undefined;
  const genksymsFlags = [v(g, 'KBUILD_SYMTYPES') ? `-T ${obj.object.replace(/\.o$/, '.symtypes')}` : '', v(g, 'KBUILD_PRESERVE') ? '-p' : ''];
  return {
    object: obj.object,
    source: obj.source,
    depfile: depfileOf(obj.object),
    cmdFile: dotTarget(obj.object, '.cmd'),
    cc,
    objtool,
    savedcmd: objtool ? `${cc.text} ; ${objtool.text}` : cc.text,
    cpp: command(`${v(g, 'CPP')} -D__GENKSYMS__ ${flags} ${obj.source}`),
    genksyms: command(`scripts/genksyms/genksyms ${genksymsFlags.join(' ')} -r /dev/null`),
  };
}

function isStandardObject(dir: DirFlags | undefined, stem: string): boolean {
  const setting = `${dir?.objtoolSkip[stem] ?? ''}${dir?.objtoolSkipDir ?? ''}n`;
  return !setting.startsWith('y');
}

/** The commands kbuild 6.12 runs to build the modules of an external tree, object by object. */
export function moduleCommands(
  g: KbuildGlobals,
  tree: { root: string; modules: ModuleSpec[] },
  depsOf: (m: ModuleSpec) => ModuleSpec[],
  options: { modpostWarn?: boolean; extraSymbols?: string[] } = {},
): TreeCommands {
  const extra = kernelObjectExtras(g);
  const objtoolOn = v(g, 'CONFIG_OBJTOOL') !== '';
  const delay = v(g, 'delay-objtool') !== '';
  const moduleCommonObj = join(tree.root, '.module-common.o');
  const withoutCfi = (c: string) => filterOut(words(v(g, 'CC_FLAGS_CFI')), words(c)).join(' ');

  const finalCompile = (target: string, source: string, modname: string): CompileStep => {
    const flags = withoutCfi(cFlags(g, { target, stem: basename(target, '.o'), modname, extra }));
    const cc = command(`${v(g, 'CC')} ${flags} -c -o ${target} ${source}`);
    return {
      object: target,
      source,
      depfile: dotTarget(target, '.d'),
      cmdFile: dotTarget(target, '.cmd'),
      cc,
      savedcmd: cc.text,
      cpp: command(''),
      genksyms: command(''),
    };
  };

  const lds = ['scripts/module.lds', `arch/${v(g, 'SRCARCH')}/module.lds`].find((p) => existsSync(join(g.kernelDir, p)));
  const haveVmlinux = existsSync(join(g.kernelDir, 'vmlinux'));

  const modules = tree.modules.map((m): ModuleCommands => {
    const objects = m.members.map((o) =>
      compileStep(g, o, m.name, m.flags, extra, objtoolOn && isStandardObject(m.flags, o.stem) && (delay ? !m.composite : true)),
    );
    const modFile = `${m.path}.mod`;
    const modContent = m.members.map((o) => o.object).join('\n') + '\n';
    const moduleObject = `${m.path}.o`;
    let composite: CompositeLink | undefined;
    if (m.composite) {
      const ld = command(`${v(g, 'LD')} ${v(g, 'KBUILD_LDFLAGS')} ${m.flags.ldflags} -r -o ${moduleObject} @${modFile}`);
      const objtool = objtoolOn && delay ? objtoolCommand(g, moduleObject) : undefined;
      composite = {
        modFile,
        modContent,
        object: moduleObject,
        cmdFile: dotTarget(moduleObject, '.cmd'),
        ld,
        objtool,
        savedcmd: objtool ? `${ld.text} ; ${objtool.text}` : ld.text,
      };
    }
    const modpostOutput = `${m.path}.symvers`;
    const modpostOrder = dotTarget(m.path, '.modorder');
    const modpostFlags = [
      v(g, 'CONFIG_MODULES') ? '-M' : '',
      v(g, 'CONFIG_MODVERSIONS') ? '-m' : '',
      v(g, 'CONFIG_MODULE_SRCVERSION_ALL') ? '-a' : '',
      v(g, 'CONFIG_SECTION_MISMATCH_WARN_ONLY') ? '' : '-E',
      options.modpostWarn ? '-w' : '',
      v(g, 'CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS') ? '-N' : '',
    ].join(' ');
    const inputs = [
      existsSync(join(g.kernelDir, 'Module.symvers')) ? '-i Module.symvers' : '',
      '-e',
      ...(options.extraSymbols ?? []).map((s) => `-i ${s}`),
      ...depsOf(m).map((d) => `-i ${d.path}.symvers`),
    ].join(' ');
    const modC = `${m.path}.mod.c`;
    const ko = `${m.path}.ko`;
    const modO = finalCompile(`${m.path}.mod.o`, modC, m.name);
    const koLink = command(
      `${v(g, 'LD')} -r ${v(g, 'KBUILD_LDFLAGS')} ${v(g, 'KBUILD_LDFLAGS_MODULE')} ${v(g, 'LDFLAGS_MODULE')} -T ${lds ?? 'scripts/module.lds'} -o ${ko} ${moduleObject} ${modO.object} ${moduleCommonObj}`,
    );
    const btf =
      v(g, 'CONFIG_DEBUG_INFO_BTF_MODULES') && haveVmlinux
        ? [
            command(`${v(g, 'PAHOLE')} -J ${v(g, 'PAHOLE_FLAGS')} ${v(g, 'MODULE_PAHOLE_FLAGS')} --btf_base vmlinux ${ko}`, {
              LLVM_OBJCOPY: v(g, 'OBJCOPY'),
            }),
            command(`${v(g, 'RESOLVE_BTFIDS')} -b vmlinux ${ko}`),
          ]
        : [];
    return {
      module: m,
      objects,
      composite,
      modFile,
      modContent,
      moduleObject,
      fixdep: 'scripts/basic/fixdep',
      nm: v(g, 'NM'),
      modpost: command(`scripts/mod/modpost ${modpostFlags} -o ${modpostOutput} -T ${modpostOrder} ${inputs}`),
      modpostOrder,
      modpostOutput,
      modC,
      modO,
      ko,
      koLink,
      btf,
    };
  });
  return {
    moduleCommon: finalCompile(moduleCommonObj, `${v(g, 'srctree')}/scripts/module-common.c`, '.module-common.o'),
    modules,
  };
}
