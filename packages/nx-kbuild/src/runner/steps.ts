import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { dotTarget, stepOutputs } from '@nx-kbuild/kbuild-make';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import { parseSymvers } from '@nx-kbuild/symbols';
import { capture, filechk, inParallel, makeCmd, pipe, removeAll, run, runAsync, StepFailed } from './process';
import { runScript } from './shell';
import type { ArchiveSpec, GenerateSpec, CompileSpec, FinalCompileSpec, GenksymsSpec, LinkSpec, ModpostSpec, TreeLinkSpec } from './spec';

/** kbuild's gen_objtooldep: the objtool binary becomes a dependency of the object. */
const objtoolDep = (object: string, objtool: string) => `\n${object}: $(wildcard ${objtool})\n`;

/** On failure, remove what the pass writes so nothing stale looks fresh (make's .DELETE_ON_ERROR). */
async function guarded(outputs: readonly string[], body: () => void | Promise<void>): Promise<void> {
  removeAll(outputs);
  try {
    await body();
  } catch (e) {
    removeAll(outputs);
    throw e;
  }
}

/**
 * The directory rules' files a module's objects need, in order: each command as kbuild's recipe runs
 * it, then what if_changed records (savedcmd_ in its .cmd file) or if_changed_dep (the same through
 * fixdep, the depfile removed after); `$(call cmd,...)`, filechk and a rule's own shell lines record
 * nothing. A filechk target is not removed first: kbuild keeps it when its content is the same.
 */
export function generate(spec: GenerateSpec): Promise<void> {
  const outputs = spec.steps.flatMap((s) => (s.how === 'filechk' ? [] : [...stepOutputs(s), ...(s.how === 'recipe' ? [] : [s.depfile])]));
  const runs = (text: string, status: number) => {
    if (status !== 0) throw new StepFailed(`${text.split('\n')[0].slice(0, 120)}: failed (exit ${status})`, status);
  };
  return guarded(outputs, () => {
    for (const s of spec.steps) {
      // A rule's own mkdir is Makefile.build's $(shell mkdir -p ...) of its targets' directories.
      mkdirSync(dirname(s.target), { recursive: true });
      if (s.how === 'filechk') filechk(s.target, s.commands, spec.cwd, s.text);
      else if (s.how === 'recipe') for (const l of s.lines) runs(l.text, runScript(l.run, spec.cwd, 'inherit'));
      else {
        runs(s.text, runScript(s.run, spec.cwd, 'inherit'));
        if (s.how === 'if_changed') writeFileAtomic(s.cmdFile, `savedcmd_${s.target} := ${makeCmd(s.text)}\n`);
        else if (s.how === 'if_changed_dep') {
          writeFileAtomic(s.cmdFile, capture([spec.fixdep, s.depfile, s.target, makeCmd(s.text)], spec.cwd));
          removeAll([s.depfile]);
        }
      }
    }
  });
}

/** rule_cc_o_c's compile (with objtool where kbuild runs it) and, for composite modules, rule_ld_multi_m. */
export function compile(spec: CompileSpec): Promise<void> {
  const outputs = [
    ...spec.objects.flatMap((o) => [o.object, o.depfile]),
    ...(spec.modFile !== undefined ? [spec.modFile] : []),
    ...(spec.modFile !== undefined && spec.modCmd !== undefined ? [dotTarget(spec.modFile, '.cmd')] : []),
    ...(spec.composite ? [spec.composite.object, spec.composite.cmdFile] : []),
  ];
  return guarded(outputs, async () => {
    // kbuild's Makefile.build makes the object directories of a separate build directory (O=).
    for (const dir of new Set(spec.objects.map((o) => dirname(o.object)))) mkdirSync(dir, { recursive: true });
    // Objects compile side by side, one per core, as `make -j` does; each then goes through objtool.
    await inParallel(spec.objects, availableParallelism(), async (o) => {
      await runAsync(o.cc, spec.cwd);
      if (o.objtool) await runAsync(o.objtool, spec.cwd);
    });
    if (spec.modFile !== undefined) writeFileAtomic(spec.modFile, spec.modContent ?? '');
    if (spec.modFile !== undefined && spec.modCmd !== undefined) writeFileAtomic(dotTarget(spec.modFile, '.cmd'), `savedcmd_${spec.modFile} := ${makeCmd(spec.modCmd)}\n`);
    const c = spec.composite;
    if (c) {
      run(c.ld, spec.cwd);
      if (c.objtool) run(c.objtool, spec.cwd);
      writeFileAtomic(c.cmdFile, `savedcmd_${c.object} := ${makeCmd(c.savedcmd)}\n` + (c.objtool ? objtoolDep(c.object, c.objtoolPath) : ''));
    }
  });
}

/** fixdep, gen_objtooldep and gen_symversions_c: the object's .cmd file with its #SYMVER lines. */
export async function genksyms(spec: GenksymsSpec): Promise<void> {
  await guarded(
    spec.objects.map((o) => o.cmdFile),
    async () => {
      for (const o of spec.objects) {
        if (!existsSync(o.depfile)) throw new StepFailed(`${o.depfile} is missing: run the compile target first`, 1);
        let cmd = capture([spec.fixdep, o.depfile, o.object, makeCmd(o.savedcmd)], spec.cwd);
        if (o.objtool && spec.objtoolPath) cmd += objtoolDep(o.object, spec.objtoolPath);
        const symbols = capture([spec.nm, o.object], spec.cwd);
        if (symbols.includes(' __export_symbol_')) {
          if (o.cpp.argv.length === 0) throw new StepFailed(`${o.object}: symbols exported from assembler need genksyms over asm-prototypes.h, which nx-kbuild does not run yet`, 1);
          cmd += await pipe(o.cpp, o.genksyms, spec.cwd);
        }
        writeFileAtomic(o.cmdFile, cmd);
      }
    },
  );
}

/** Makefile.build's cmd_ar_builtin / cmd_ar (if_changed): the archive made anew, and its .cmd file. */
export function archive(spec: ArchiveSpec): Promise<void> {
  return guarded(
    spec.archives.flatMap((a) => [a.archive, a.cmdFile]),
    () => {
      for (const a of spec.archives) {
        run(a.ar, spec.cwd);
        writeFileAtomic(a.cmdFile, `savedcmd_${a.archive} := ${makeCmd(a.savedcmd)}\n`);
      }
    },
  );
}

/** modpost for one module, with the kernel's and its dependencies' Module.symvers as inputs. */
export function modpost(spec: ModpostSpec): Promise<void> {
  return guarded(spec.outputs, () => {
    writeFileAtomic(spec.order, `${spec.moduleObject}\n`);
    run(spec.modpost, spec.cwd);
  });
}

function compileWithFixdep(c: FinalCompileSpec['compile'], cwd: string, fixdep: string): void {
  run(c.cc, cwd);
  writeFileAtomic(c.cmdFile, capture([fixdep, c.depfile, c.object, makeCmd(c.savedcmd)], cwd));
  removeAll([c.depfile]);
}

/** Makefile.modfinal's `.module-common.o`. */
export function compileFinal(spec: FinalCompileSpec): Promise<void> {
  return guarded([spec.compile.object, spec.compile.cmdFile, spec.compile.depfile], () => compileWithFixdep(spec.compile, spec.cwd, spec.fixdep));
}

/** Makefile.modfinal: `<mod>.mod.o`, `ld -r -T module.lds` into the .ko, then its BTF. */
export function link(spec: LinkSpec): Promise<void> {
  return guarded([spec.modO.object, spec.modO.cmdFile, spec.modO.depfile, spec.ko, spec.koCmdFile], () => {
    compileWithFixdep(spec.modO, spec.cwd, spec.fixdep);
    run(spec.ld, spec.cwd);
    writeFileAtomic(spec.koCmdFile, `savedcmd_${spec.ko} := ${makeCmd(spec.ld.text)}\n`);
    for (const c of spec.btf) run(c, spec.cwd);
  });
}

/** The tree's Module.symvers (modules in modules.order order, as modpost writes it) and modules.order. */
export function treeLink(spec: TreeLinkSpec): Promise<void> {
  return guarded([spec.symvers, ...spec.orders.map((o) => o.file)], () => {
    const owner = new Map<string, string>();
    let symvers = '';
    for (const m of spec.modules) {
      const text = readFileSync(`${m}.symvers`, 'utf8');
      for (const row of parseSymvers(text)) {
        const prev = owner.get(row.symbol);
        if (prev) {
          process.stderr.write(`ERROR: modpost: ${m}: '${row.symbol}' exported twice. Previous export was in ${prev}.ko\n`);
          throw new StepFailed(`duplicate export of ${row.symbol}`, 1);
        }
        owner.set(row.symbol, m);
      }
      symvers += text;
    }
    writeFileAtomic(spec.symvers, symvers);
    for (const o of spec.orders) writeFileAtomic(o.file, o.modules.map((m) => `${m}.o\n`).join(''));
  });
}
