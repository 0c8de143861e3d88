import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MakeEvaluator, type Variable } from '../make/evaluator';
import { matchPattern } from '../make/words';
import { dirRules, type DirRule } from './goals';

/** What every `make -f scripts/Makefile.build obj=<dir>` sub-make of an in-tree build starts from. */
export interface KbuildEnvironment {
  /** The kernel source tree, spelled as the top Makefile spells $(srctree). */
  srctree: string;
  /** The build directory (O=): make's working directory. */
  objtree: string;
  /** The variables the top and arch Makefiles export to their sub-makes: their environment. */
  env: Record<string, string>;
  /** Runs `$(shell ...)` probes (cc-option and friends), cached by the caller. */
  shell?: (command: string) => string;
}

export interface BuildDirNeeds {
  /** need-builtin=1: the parent links this directory's built-in.a. */
  builtin: boolean;
  /** need-modorder=1: the parent collects this directory's modules.order. */
  modorder: boolean;
}

/**
 * One kbuild directory as its sub-make sees it: scripts/Makefile.build evaluated with `obj=<dir>`,
 * which reads auto.conf, Kbuild.include, Makefile.compiler, the directory's Kbuild/Makefile and
 * Makefile.lib. The result holds every variable and target-specific variable of the directory,
 * so any recipe of it can be expanded exactly as make would.
 */
export function evaluateBuildDir(k: KbuildEnvironment, obj: string, needs: BuildDirNeeds): MakeEvaluator {
  return evaluateSubMake(k, 'scripts/Makefile.build', { obj, 'need-builtin': needs.builtin ? '1' : '', 'need-modorder': needs.modorder ? '1' : '' });
}

/**
 * A sub-make of the top-level Makefile (`$(MAKE) -f $(srctree)/<makefile> <commandLine>`): the
 * exported environment, no goals, the makefile read.
 */
export function evaluateSubMake(k: KbuildEnvironment, makefile: string, commandLine: Record<string, string>): MakeEvaluator {
  const ev = new MakeEvaluator({ cwd: k.objtree, commandLine, allowShell: true, shell: k.shell, preloaded: preloaded(k) });
  for (const [name, value] of Object.entries(k.env)) ev.setEnvironment(name, value);
  ev.setSimple('MAKECMDGOALS', '', 'default');
  ev.evalFile(resolve(k.objtree, k.srctree, makefile));
  return ev;
}

/** Reads what every sub-make starts from (auto.conf, the prelude) ahead of the first directory. */
export function warmBuildDir(k: KbuildEnvironment): void {
  preloaded(k);
}

interface Preloaded {
  stamp: string;
  files: Set<string>;
  vars: ReadonlyMap<string, Variable>;
}
const preloads = new Map<string, Preloaded>();

/** Makefiles every sub-make reads before the directory's own, identical for every directory. */
const PRELUDE = ['scripts/Kbuild.include', 'scripts/Makefile.compiler'];

/**
 * What every directory's sub-make reads before its own Makefile, read once and shared as a base
 * scope: include/config/auto.conf (7,000 assignments for a distribution config), and
 * Kbuild.include and Makefile.compiler, whose definitions do not depend on the directory (they
 * only define functions, and constants from the top-level environment).
 */
function preloaded(k: KbuildEnvironment): Preloaded | undefined {
  const autoConf = join(k.objtree, 'include/config/auto.conf');
  const files = [autoConf, ...PRELUDE.map((f) => resolve(k.objtree, k.srctree, f))];
  const stats = files.map((f) => statSync(f, { throwIfNoEntry: false }));
  if (stats.some((st) => !st)) return undefined;
  const stamp = stats.map((st) => `${st!.mtimeMs}:${st!.size}`).join(' ') + `\0${k.env.quiet ?? ''}\0${k.env.srctree ?? ''}`;
  const hit = preloads.get(k.objtree);
  if (hit?.stamp === stamp) return hit;
  const conf = new MakeEvaluator({ cwd: k.objtree });
  conf.evalFile(autoConf);
  const prelude = new MakeEvaluator({ cwd: k.objtree });
  for (const [name, value] of Object.entries(k.env)) prelude.setEnvironment(name, value);
  for (const f of PRELUDE) prelude.evalFile(resolve(k.objtree, k.srctree, f));
  const vars = new Map(conf.vars.ownVariables());
  for (const [name, v] of prelude.vars.ownVariables()) if (v.origin !== 'environment') vars.set(name, v);
  const entry = { stamp, files: new Set(files), vars };
  preloads.set(k.objtree, entry);
  return entry;
}

/** The recipe variable kbuild compiles an object with, by source suffix (scripts/Makefile.build). */
const COMPILE_COMMAND: Record<string, string> = { '.c': 'cc_o_c', '.S': 'as_o_S', '.rs': 'rustc_o_rs' };

/**
 * The command that compiles `target` from `source` in directory `ev` (what its `.cmd` file's
 * savedcmd_ records): `$(cmd_cc_o_c)` or `$(cmd_as_o_S)` expanded with the pattern rule's
 * automatic variables and the target's own variables. `target` is relative to the build
 * directory; `source` is spelled as make's VPATH search finds it.
 */
export function compileCommand(ev: MakeEvaluator, target: string, source: string, via: string[] = []): string {
  const obj = ev.get('obj');
  const suffix = source.slice(source.lastIndexOf('.'));
  const cmd = COMPILE_COMMAND[suffix];
  if (!cmd) throw new Error(`${target}: no kbuild compile rule for ${suffix} sources`);
  const stem = patternStem(ev, target, source) ?? target.slice(obj.length + 1, -2);
  return ev.expandForTarget(target, `$(cmd_${cmd})`, { '@': target, '<': source, '*': stem, '^': source, '+': source }, { file: 'scripts/Makefile.build', line: 0 }, via);
}

const rulesOf = new WeakMap<MakeEvaluator, DirRule[]>();

/** A directory's rules, expanded once per evaluation (every object of the directory asks). */
function rules(ev: MakeEvaluator): DirRule[] {
  let r = rulesOf.get(ev);
  if (!r) rulesOf.set(ev, (r = dirRules(ev)));
  return r;
}

/**
 * `$*` for the pattern rule make uses: of the rules whose prerequisite is this source, the one
 * with the shortest stem (GNU make's choice). Makefile.build's `$(obj)/%.o` is the fallback.
 */
function patternStem(ev: MakeEvaluator, target: string, source: string): string | undefined {
  const srctree = ev.get('srctree');
  let best: string | undefined;
  // The directory's own pattern rules for objects (`$(obj)/sub/%.o: $(srctree)/other/%.c`).
  for (const r of rules(ev)) {
    if (r.pattern !== undefined || !r.prereq?.includes('%')) continue;
    for (const t of r.targets) {
      if (!t.endsWith('%.o')) continue;
      const stem = matchPattern(t, target);
      if (stem === undefined || (best !== undefined && stem.length >= best.length)) continue;
      const input = r.prereq.replace('%', stem);
      if (input === source || `${srctree}/${input}` === source) best = stem;
    }
  }
  return best;
}

/**
 * The command a directory's own rule makes `target` with (`$(call if_changed,objcopy)` and the
 * like): the rule's recipe names a `cmd_<name>`, which is expanded for the target, `$<` being
 * its first prerequisite.
 */
export function ruleCommand(ev: MakeEvaluator, target: string): string {
  for (const r of rules(ev)) {
    if (!r.targets.includes(target)) continue;
    const stem = r.pattern !== undefined ? (matchPattern(r.pattern, target) ?? '') : '';
    const prereqs = r.prereqs.map((p) => p.replace('%', stem));
    for (const line of r.recipe) {
      const m = /\$\(call (?:if_changed|if_changed_dep|if_changed_rule|cmd),\s*([\w-]+)\s*\)/.exec(line);
      if (!m) continue;
      // make's $^ names each prerequisite once (a directory's built-in.a may list an object twice); $+ keeps them all.
      const automatic = { '@': target, '<': prereqs[0] ?? '', '^': [...new Set(prereqs)].join(' '), '+': prereqs.join(' '), '*': stem };
      return ev.expandForTarget(target, `$(cmd_${m[1]})`, automatic, { file: r.file, line: r.line });
    }
    throw new Error(`${r.file}:${r.line}: the rule for ${target} runs no kbuild command (cmd_<name>)`);
  }
  throw new Error(`no rule of ${ev.get('obj')} makes ${target}`);
}

/**
 * gen_symversions' pipeline for an object (`$(CPP) -D__GENKSYMS__ $(c_flags) $< | genksyms ...`),
 * expanded as rule_cc_o_c expands it; run when the object exports symbols.
 */
export function genksymsCommand(ev: MakeEvaluator, target: string, source: string): string {
  const obj = ev.get('obj');
  const kind = source.endsWith('.S') ? 'S' : 'c';
  const stem = patternStem(ev, target, source) ?? target.slice(obj.length + 1, -2);
  return ev.expandForTarget(
    target,
    `$(call cmd_gensymtypes_${kind},$(KBUILD_SYMTYPES),$(@:.o=.symtypes))`,
    { '@': target, '<': source, '*': stem, '^': source, '+': source },
    { file: 'scripts/Makefile.build', line: 0 },
  );
}

/** A composite module's `ld -r` (Makefile.build's `$(multi-obj-m): %.o: %.mod` and its objtool). */
export function linkMultiCommand(ev: MakeEvaluator, target: string, modFile: string): string {
  return ev.expandForTarget(
    target,
    '$(cmd_ld_multi_m)',
    { '@': target, '<': modFile, '*': target.slice(0, -2), '^': modFile, '+': modFile },
    { file: 'scripts/Makefile.build', line: 0 },
  );
}

/** cmd_mod: writes `<module>.mod`, the module's object list (Makefile.build's `$(obj)/%.mod`). */
export function modCommand(ev: MakeEvaluator, modFile: string): string {
  const obj = ev.get('obj');
  return ev.expandForTarget(modFile, '$(cmd_mod)', { '@': modFile, '*': modFile.slice(obj.length + 1, -4), '<': '', '^': '', '+': '' }, { file: 'scripts/Makefile.build', line: 0 });
}
