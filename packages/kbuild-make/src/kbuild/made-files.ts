import { isAbsolute, join, resolve } from 'node:path';
import type { MakeEvaluator } from '../make/evaluator';
import { exists } from '../memo/observations';
import { matchPattern } from '../make/words';
import { dirRules, type DirRule } from './goals';

/**
 * One file a rule of a kbuild directory makes for its objects (a generated source, a table a
 * source includes, the host program that writes it), as the directory's sub-make runs the rule.
 */
export interface MadeFileStep {
  /** The file, relative to the build directory (kbuild's `$@`). */
  target: string;
  /**
   * How the recipe runs `cmd_<name>`: `if_changed` also writes `$(dot-target).cmd` (savedcmd_),
   * `if_changed_dep` writes it through fixdep from the command's depfile, `cmd` writes none;
   * `filechk` runs `filechk_<name>` and writes its output to the target when it differs.
   */
  how: 'if_changed' | 'if_changed_dep' | 'cmd' | 'filechk' | 'recipe';
  /**
   * `$(cmd_<name>)` expanded for the target: the shell command kbuild runs (and saves); for
   * filechk, `$(filechk_<name>)`: the commands whose output is the file; for a recipe of the
   * rule's own shell lines, those lines joined.
   */
  command: string;
  /** A recipe of the rule's own shell lines: each line expanded as make passes it to the shell. */
  lines?: string[];
  /** Its prerequisites as make names them (`$^`: files of the source tree found through VPATH). */
  prereqs: string[];
  /** The other files the same run makes: a pattern rule's other targets (`%.asn1.c %.asn1.h: %.asn1`). */
  also: string[];
  /** The rule, for messages. */
  rule: { file: string; line: number };
}

/** The steps that make some files, prerequisites first, and the files they read that no step makes. */
export type MadeFilesPlan = { steps: MadeFileStep[]; inputs: string[] } | { unsupported: string };

/** The rule make uses for a file: its stem, its real prerequisites and those `$+` lists (FORCE too). */
interface Chosen {
  rule: DirRule;
  stem: string;
  prereqs: string[];
  listed: string[];
  /** A pattern rule's other targets: make runs its recipe once for all of them. */
  also: string[];
}

/** The recipe shapes whose command is one `cmd_<name>` (kbuild's if_changed family) or `filechk_<name>`. */
const RECIPE = /^\s*\$\(call (if_changed|if_changed_dep|cmd|filechk),\s*([^,]+?)\s*(,.*)?\)\s*$/;

/**
 * The steps the sub-make of directory `ev` (scripts/Makefile.build evaluated for it) runs to make
 * `targets` (relative to the build directory): each file's rule (explicit, static pattern or
 * pattern, as make chooses: a pattern rule applies when its prerequisites exist or can be made),
 * its prerequisites made first, each file once. A prerequisite no rule makes is an input: in the
 * build directory when it is there (the tools `make prepare` built), else in the source tree
 * (make's VPATH), under the name make substitutes. Headers a C step includes are not among them
 * (kbuild learns them from the step's depfile). A recipe is one if_changed, if_changed_dep or cmd
 * of a `cmd_<name>`, one filechk of a `filechk_<name>`, or the rule's own shell lines; one that
 * calls kbuild's other command macros (if_changed_rule) or make itself makes the plan unsupported,
 * with why. (Whether the runner can perform the shell text is for parseShellScript to say.)
 */
export function madeFilesPlan(ev: MakeEvaluator, targets: readonly string[]): MadeFilesPlan {
  // Not the rules of the `.cmd` files a built directory includes (fixdep's header dependencies of
  // earlier builds): the plan is the same before and after a build.
  const rules = dirRules(ev).filter((r) => !r.file.endsWith('.cmd'));
  const objtree = ev.options.cwd;
  const srctree = ev.get('srctree');
  const steps: MadeFileStep[] = [];
  const inputs: string[] = [];
  const done = new Map<string, string>();
  const visiting = new Set<string>();

  /** The name make uses for an existing file no rule makes (VPATH), or undefined (recorded for the memo). */
  const found = (name: string): string | undefined => {
    if (exists(isAbsolute(name) ? name : join(objtree, name))) return name;
    if (!isAbsolute(name) && exists(resolve(objtree, srctree, name))) return `${srctree}/${name}`;
    return undefined;
  };

  const inDirectory = (name: string) => name.startsWith(ev.get('obj') + '/');
  /** A build-directory file of another directory (scripts/asn1_compiler, built by `make prepare`). */
  const madeElsewhere = (name: string) => !inDirectory(name) && !isAbsolute(name) && !name.startsWith(srctree + '/');
  /**
   * Whether make can have `name` for a pattern rule's input: it exists, a rule names it, it is
   * made outside this directory (scripts/ by `make prepare`), or a chain of pattern rules makes it.
   */
  const canHave = (name: string, depth: number): boolean =>
    found(name) !== undefined || madeElsewhere(name) || rules.some((o) => o.targets.includes(name)) || (depth < 4 && patternRule(name, [], depth + 1) !== undefined);

  /** The pattern rule make chooses for `target`: the shortest stem (GNU make 4.3) among those whose inputs it can have. */
  const patternRule = (target: string, extra: string[], depth: number): Chosen | undefined => {
    let best: Chosen | undefined;
    for (const r of rules) {
      if (r.pattern !== undefined || r.recipe.length === 0) continue;
      for (const t of r.targets) {
        if (!t.includes('%')) continue;
        const stem = matchPattern(t, target);
        if (stem === undefined || (best && stem.length >= best.stem.length)) continue;
        const prereqs = r.prereqs.map((p) => p.replace('%', stem));
        const also = r.targets.filter((o) => o !== t).map((o) => o.replace('%', stem));
        if (prereqs.every((p) => canHave(p, depth))) best = { rule: r, stem, prereqs: [...prereqs, ...extra], listed: [...r.listed.map((p) => p.replace('%', stem)), ...extra], also };
      }
    }
    return best;
  };

  /** The rule that makes `target`, with its stem and prerequisites; undefined when none applies. */
  const ruleFor = (target: string): Chosen | undefined => {
    const extra: string[] = [];
    let chosen: Chosen | undefined;
    for (const r of rules) {
      if (!r.targets.includes(target)) continue;
      const stem = r.pattern !== undefined ? (matchPattern(r.pattern, target) ?? '') : '';
      const prereqs = r.prereqs.map((p) => p.replace('%', stem));
      if (r.recipe.length > 0 && !chosen) chosen = { rule: r, stem, prereqs, listed: r.listed.map((p) => p.replace('%', stem)), also: [] };
      else extra.push(...prereqs);
    }
    if (chosen) return { ...chosen, prereqs: [...chosen.prereqs, ...extra], listed: [...chosen.listed, ...extra] };
    return patternRule(target, extra, 0);
  };

  /** Plans `name`; returns the name its dependents see (`$<`), or a reason it cannot be made. */
  const visit = (name: string): string | { unsupported: string } => {
    const had = done.get(name);
    if (had !== undefined) return had;
    const r = ruleFor(name);
    if (!r) {
      const f = found(name);
      if (f === undefined) {
        // Made elsewhere (scripts/ by `make prepare`): an input the build directory must have.
        if (madeElsewhere(name)) {
          inputs.push(name);
          done.set(name, name);
          return name;
        }
        return { unsupported: `no rule of ${ev.get('obj')} makes ${name}, and it does not exist` };
      }
      inputs.push(f);
      done.set(name, f);
      return f;
    }
    if (visiting.has(name)) return { unsupported: `${r.rule.file}:${r.rule.line}: ${name} depends on itself` };
    const lines = r.rule.recipe.filter((l) => l.trim() !== '');
    const m = lines.length === 1 ? RECIPE.exec(lines[0]) : null;
    // Otherwise the rule's own shell lines (cfg80211's shipped-certs.c), unless they call kbuild's
    // command macros or make itself, which a plan of shell lines cannot follow.
    if (!m && lines.some((l) => /\$\((?:call |MAKE\)|build\))/.test(l))) {
      return { unsupported: `${r.rule.file}:${r.rule.line}: the recipe for ${name} is not one $(call if_changed|if_changed_dep|cmd|filechk,<name>) nor shell lines of its own (${lines.join('; ').trim().slice(0, 80)})` };
    }
    visiting.add(name);
    const names: string[] = [];
    const nameOf = new Map<string, string>();
    for (const p of r.prereqs) {
      const v = visit(p);
      if (typeof v !== 'string') return v;
      names.push(v);
      nameOf.set(p, v);
    }
    // $^ and $+ list FORCE as make does; files under the names make found them by.
    const listed = r.listed.map((p) => nameOf.get(p) ?? p);
    visiting.delete(name);
    const automatic = { '@': name, '<': names[0] ?? '', '^': [...new Set(listed)].join(' '), '+': listed.join(' '), '*': r.stem };
    const at = { file: r.rule.file, line: r.rule.line };
    const rest = { prereqs: names, also: r.also, rule: at };
    if (m) {
      // `$(call cmd,<name>,args...)` expands cmd_<name> with $(1) the name and $(2)... the arguments;
      // `$(call filechk,<name>,args...)` expands filechk_<name> so.
      const cmd = ev.expandForTarget(name, m[2], automatic, at).trim();
      const command = ev.expandForTarget(name, `$(call ${m[1] === 'filechk' ? 'filechk' : 'cmd'}_${cmd},${cmd}${m[3] ?? ''})`, automatic, at);
      steps.push({ target: name, how: m[1] as MadeFileStep['how'], command, ...rest });
    } else {
      const shell: string[] = [];
      for (const l of lines) {
        // The line as make passes it to the shell, without its @ + - prefixes.
        const expanded = ev.expandForTarget(name, l, automatic, at);
        const prefix = /^[\s@+-]*/.exec(expanded)![0];
        if (prefix.includes('-')) return { unsupported: `${r.rule.file}:${r.rule.line}: the recipe for ${name} ignores a line's errors ('-')` };
        if (expanded.length > prefix.length) shell.push(expanded.slice(prefix.length));
      }
      steps.push({ target: name, how: 'recipe', command: shell.join('\n'), lines: shell, ...rest });
    }
    for (const f of [name, ...r.also]) done.set(f, f);
    return name;
  };

  for (const t of targets) {
    const v = visit(t);
    if (typeof v !== 'string') return v;
  }
  return { steps, inputs };
}
