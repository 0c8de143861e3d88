import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SourceError } from '@nx-kbuild/diagnostics';
import { collapseContinuations, findAssignment, parseMakefile, readMakefile, splitKeyword, topLevelIndex, type Statement } from './statements';
import { wildcard } from './wildcard';
import { exists, noteContent } from '../memo/observations';
import { isBlank, joinWords, matchPattern, patsubstWord, words } from './words';

export type Origin = 'default' | 'environment' | 'file' | 'command line' | 'override' | 'automatic';

export interface Variable {
  readonly flavor: 'recursive' | 'simple';
  readonly value: string;
  readonly origin: Origin;
  /** Where a recursive variable was last assigned: errors in its expansion are reported there. */
  readonly loc: Location | undefined;
  /** A recursive value without `$` (the environment kbuild exports, lists of objects): it expands to itself. */
  readonly literal: boolean;
}

/** Every variable is made here: one shape for all of them (the lookups that read them stay fast). */
export function variable(flavor: Variable['flavor'], value: string, origin: Origin, loc?: Location): Variable {
  return { flavor, value, origin, loc, literal: flavor === 'recursive' && !value.includes('$') };
}

/** A rule the evaluator read but does not run (kbuild Makefiles use them for generated files). */
export interface RuleRecord {
  file: string;
  line: number;
  text: string;
  /** Its recipe lines, unexpanded (without the leading tab). */
  recipe: string[];
}

/** A target-specific (or pattern-specific) variable: `targets: [private] name op value`. */
export interface TargetVariable {
  /** Targets or `%` patterns, expanded when the line was read (as make does). */
  targets: string[];
  name: string;
  op: '=' | ':=' | '+=' | '?=';
  /** Raw for `=`, `+=` and `?=`; already expanded for `:=`. */
  value: string;
  /** `private`: not inherited by the target's prerequisites. */
  private: boolean;
  loc: Location;
}

export interface Location {
  file: string;
  line: number;
}

export interface EvaluatorOptions {
  /** Directory make runs in: relative `include` and `$(wildcard)` paths resolve against it. */
  cwd: string;
  /** Variables given on the command line: they win over assignments in makefiles, as in make. */
  commandLine?: Record<string, string>;
  /** Whether `$(shell ...)` may run. When false it is an error at its file:line. */
  allowShell?: boolean;
  /**
   * Runs a `$(shell ...)` command (in `cwd`) and returns its output as make would see it
   * (trailing newlines dropped, inner ones turned into spaces). Defaults to /bin/sh each time;
   * callers evaluating thousands of Makefiles pass a cached runner.
   */
  shell?: (command: string) => string;
  /**
   * Makefiles already evaluated once for many evaluators (kbuild's include/config/auto.conf): an
   * `include` of one of `files` makes `vars` visible as a shared base scope instead of reading it.
   */
  preloaded?: { files: ReadonlySet<string>; vars: ReadonlyMap<string, Variable> };
  /** Variables every evaluation of a tree shares (read-only; assignments shadow them). */
  base?: ReadonlyMap<string, Variable>;
}

/** Variables of one evaluation over an optional shared, read-only base (never written through). */
class VariableScope {
  private readonly own = new Map<string, Variable>();
  private base: ReadonlyMap<string, Variable> | undefined;

  get(name: string): Variable | undefined {
    const v = this.own.get(name);
    return v !== undefined ? v : this.base?.get(name);
  }

  has(name: string): boolean {
    return this.own.has(name) || (this.base?.has(name) ?? false);
  }

  set(name: string, v: Variable): void {
    this.own.set(name, v);
  }

  delete(name: string): void {
    this.own.delete(name);
  }

  /** The variables set in this scope (not the base's). */
  ownVariables(): ReadonlyMap<string, Variable> {
    return new Map(this.own);
  }

  /** The base's assignments come after everything set so far, as an include's would. */
  attachBase(base: ReadonlyMap<string, Variable>): void {
    for (const name of [...this.own.keys()]) {
      if (base.has(name) && this.own.get(name)!.origin !== 'command line' && this.own.get(name)!.origin !== 'override') this.own.delete(name);
    }
    this.base = base;
  }
}

const NOTHING: ReadonlySet<string> = new Set();

/** Where a lookup made by the caller rather than a makefile is reported. */
const INTERNAL: Location = { file: '<internal>', line: 0 };

/** The GNU make whose behaviour is emulated (Debian 12's), and what it reports in .FEATURES. */
const MAKE_VERSION = '4.3';
const MAKE_FEATURES =
  'target-specific order-only second-expansion else-if shortest-stem undefine oneshell nocomment grouped-target extra-prereqs archives jobserver output-sync check-symlink load';
/** Functions of later GNU make versions: 4.3 treats `$(intcmp ...)` as a (never defined) variable. */
const LATER_FUNCTIONS = new Set(['intcmp', 'let']);

type Fn = (ev: MakeEvaluator, rawArgs: string[], loc: Location) => string;

/**
 * Evaluates GNU make syntax the way make's parse phase does: assignments, conditionals, define,
 * include, and the functions kbuild uses. It does not run recipes; rules are recorded, not executed.
 * Every construct it does not understand is an error at its file:line, never silently skipped.
 */
export class MakeEvaluator {
  readonly vars = new VariableScope();
  readonly rules: RuleRecord[] = [];
  readonly targetVariables: TargetVariable[] = [];
  /** Variables a sub-make would get in its environment: imported ones and `export`ed ones. */
  readonly exported = new Set<string>();
  readonly included: string[] = [];
  readonly messages: { kind: 'info' | 'warning'; loc: Location; text: string }[] = [];
  private readonly expanding = new Set<string>();

  constructor(readonly options: EvaluatorOptions) {
    this.vars.set('MAKE_VERSION', variable('simple', MAKE_VERSION, 'default'));
    this.vars.set('.FEATURES', variable('simple', MAKE_FEATURES, 'default'));
    if (options.base) this.vars.attachBase(options.base);
    for (const [k, v] of Object.entries(options.commandLine ?? {})) {
      this.vars.set(k, variable('simple', v, 'command line'));
    }
  }

  /** Defines a variable as if by `name := value` in a makefile (command-line variables still win). */
  setSimple(name: string, value: string, origin: Origin = 'file'): void {
    this.forget();
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line' && origin !== 'override') return;
    this.vars.set(name, variable('simple', value, origin));
  }

  /** Imports a variable from the environment: recursive, expanded when referenced, as make does. */
  setEnvironment(name: string, value: string): void {
    this.forget();
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line') return;
    this.vars.set(name, variable('recursive', value, 'environment'));
    this.exported.add(name);
  }

  /** The environment a sub-make started from here gets: every exported variable, expanded. */
  exportedEnvironment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of this.exported) {
      const v = this.vars.get(name);
      if (v && v.origin !== 'command line') env[name] = this.get(name);
    }
    return env;
  }

  /**
   * Expansions reused across the targets of one directory. While a recipe is expanded for a
   * target, a `$(...)` whose expansion read nothing target-dependent (automatic variables, the
   * target's own variables, call arguments, foreach variables) has the same value for every
   * target: it is remembered by its text until a variable changes. One that read target-dependent
   * variables but no binding is remembered for the rest of this target's expansion
   * (`$(target-stem)`, `$(modname)`: asked several times per command).
   */
  private readonly memo = new Map<string, string>();
  private readonly targetMemo = new Map<string, string>();
  private memoActive = false;
  private targetScoped: ReadonlySet<string> = NOTHING;
  private scoped: { key: string; names: ReadonlySet<string> } | undefined;
  private tainted = false;
  /** The current expansion had an effect or changed a variable: remembered by nothing. */
  private effect = false;
  /**
   * The outermost binding ($(call) arguments, $(foreach) variables) the current expansion read,
   * by nesting depth (Infinity: none). A $(call) body that read only its own arguments is
   * remembered by them; text that read any binding is not remembered by its text.
   */
  private minBinding = Infinity;
  private bindingDepth = 0;
  private readonly loopDepth = new Map<string, number>();
  private readonly callMemo = new Map<string, string>();
  private readonly targetCallMemo = new Map<string, string>();

  /** A function with an effect ($(info), $(eval)): its expansion must happen every time. */
  markSideEffect(): void {
    this.tainted = true;
    this.effect = true;
  }

  /** A variable changed for good ($(eval) while expanding, for one): remembered expansions are stale. */
  private forget(): void {
    if (this.memo.size) this.memo.clear();
    if (this.callMemo.size) this.callMemo.clear();
    this.forgetTarget();
    this.tainted = true;
    this.effect = true;
  }

  private forgetTarget(): void {
    if (this.targetMemo.size) this.targetMemo.clear();
    if (this.targetCallMemo.size) this.targetCallMemo.clear();
  }

  /** A remembered expansion: one remembered for this target makes what encloses it target-dependent too. */
  private recall(shared: ReadonlyMap<string, string>, forTarget: ReadonlyMap<string, string>, key: string): string | undefined {
    const hit = shared.get(key);
    if (hit !== undefined) return hit;
    const mine = forTarget.get(key);
    if (mine !== undefined) this.tainted = true;
    return mine;
  }

  /** Arguments of the `$(call ...)`s being expanded, innermost last: $(0) to $(9). */
  private readonly callFrames: { args: string[]; depth: number }[] = [];

  /**
   * Expands `body` with $(0)..$(9) bound to `args` (as make binds a call's arguments). While a
   * recipe is expanded, a body that read nothing target-dependent is remembered by its arguments.
   */
  withCallArguments(args: string[], body: () => string): string {
    const key = this.memoActive ? args.join('\0') : undefined;
    if (key !== undefined) {
      const hit = this.recall(this.callMemo, this.targetCallMemo, key);
      if (hit !== undefined) return hit;
    }
    const outer = this.startTracking();
    const depth = ++this.bindingDepth;
    this.callFrames.push({ args, depth });
    try {
      const value = body();
      if (key !== undefined && !this.effect && this.minBinding >= depth) (this.tainted ? this.targetCallMemo : this.callMemo).set(key, value);
      return value;
    } finally {
      this.callFrames.pop();
      this.bindingDepth--;
      this.endTracking(outer, depth);
    }
  }

  /** Starts recording what an expansion reads; returns what the enclosing one had read so far. */
  private startTracking(): { tainted: boolean; effect: boolean; minBinding: number } {
    const outer = { tainted: this.tainted, effect: this.effect, minBinding: this.minBinding };
    this.tainted = false;
    this.effect = false;
    this.minBinding = Infinity;
    return outer;
  }

  /**
   * Back to the enclosing expansion: what this one read counts for it too, except reads of
   * bindings at `depth` or deeper (the arguments of a call, or a foreach variable, just left).
   */
  private endTracking(outer: { tainted: boolean; effect: boolean; minBinding: number }, depth = Infinity): void {
    this.tainted ||= outer.tainted;
    this.effect ||= outer.effect;
    this.minBinding = Math.min(outer.minBinding, this.minBinding < depth ? this.minBinding : Infinity);
  }

  /** The expanded value of a variable (empty when undefined, as in make). */
  get(name: string, loc: Location = INTERNAL): string {
    if (this.callFrames.length > 0 && name.length === 1 && name >= '0' && name <= '9') {
      const frame = this.callFrames[this.callFrames.length - 1];
      this.minBinding = Math.min(this.minBinding, frame.depth);
      return frame.args[name.charCodeAt(0) - 48] ?? '';
    }
    if (this.memoActive && this.targetScoped.has(name)) this.tainted = true;
    const v = this.vars.get(name);
    if (!v) return '';
    const loop = v.origin === 'automatic' ? this.loopDepth.get(name) : undefined;
    if (loop !== undefined) this.minBinding = Math.min(this.minBinding, loop);
    else if (v.origin === 'automatic') this.tainted = true;
    if (v.flavor === 'simple' || v.literal) return v.value;
    if (this.expanding.has(name)) {
      throw new SourceError(loc.file, loc.line, `recursive variable '${name}' references itself (eventually)`);
    }
    this.expanding.add(name);
    try {
      return this.expand(v.value, v.loc ?? loc);
    } finally {
      this.expanding.delete(name);
    }
  }

  evalFile(file: string): void {
    const statements = readMakefile(file);
    this.included.push(file);
    this.run(file, statements);
  }

  evalText(file: string, text: string): void {
    this.run(file, parseMakefile(file, text));
  }

  private run(file: string, statements: Statement[]): void {
    const cond: { active: boolean; seenTrue: boolean; parentActive: boolean; loc: Location; sawElse: boolean }[] = [];
    const active = () => cond.length === 0 || cond[cond.length - 1].active;
    let inRule = false;
    for (const st of statements) {
      if (st.recipe !== undefined && inRule) {
        this.rules[this.rules.length - 1].recipe.push(st.recipe);
        continue;
      }
      const loc: Location = { file, line: st.line };
      const startLine = st.line;
      switch (st.kind) {
        case 'conditional': {
          // Conditionals are processed even inside inactive branches (to keep nesting right).
          const parentActive = active();
          const value = parentActive ? this.evalCondition(st.keyword, st.rest, loc) : false;
          // A conditional does not end a rule: recipe lines may follow it (Makefile.modfinal's btf_ko).
          cond.push({ active: parentActive && value, seenTrue: value, parentActive, loc, sawElse: false });
          continue;
        }
        case 'else': {
          const top = cond[cond.length - 1];
          if (!top) throw new SourceError(file, startLine, "extraneous 'else'");
          if (top.sawElse && st.rest === '') throw new SourceError(file, startLine, "only one 'else' per conditional");
          const [k2, r2] = splitKeyword(st.rest);
          if (st.rest === '') {
            top.sawElse = true;
            top.active = top.parentActive && !top.seenTrue;
          } else if (k2 === 'ifeq' || k2 === 'ifneq' || k2 === 'ifdef' || k2 === 'ifndef') {
            const value = top.parentActive && !top.seenTrue ? this.evalCondition(k2, r2, loc) : false;
            top.active = top.parentActive && !top.seenTrue && value;
            top.seenTrue = top.seenTrue || value;
          } else {
            throw new SourceError(file, startLine, `extraneous text after 'else': '${st.rest}'`);
          }
          continue;
        }
        case 'endif':
          if (!cond.pop()) throw new SourceError(file, startLine, "extraneous 'endif'");
          continue;
        case 'define': {
          if (!st.terminated) throw new SourceError(file, startLine, "missing 'endef', unterminated 'define'");
          if (!active()) continue;
          let header = st.header;
          let op = '=';
          const m = /^(.*?)\s*(::=|:=|\+=|\?=|=)$/.exec(header);
          if (m) {
            header = m[1];
            op = m[2];
          }
          const name = this.expand(header, loc).trim();
          this.assign(name, op, st.body, 'file', loc, true);
          continue;
        }
      }
      if (!active()) continue;
      switch (st.kind) {
        case 'include':
          inRule = false;
          for (const f of words(this.expand(st.rest, loc))) {
            const path = isAbsolute(f) ? f : join(this.options.cwd, f);
            if (this.options.preloaded?.files.has(path)) {
              for (const p of this.options.preloaded.files) noteContent(p);
              this.vars.attachBase(this.options.preloaded.vars);
              continue;
            }
            if (!exists(path)) {
              if (st.keyword === 'include') throw new SourceError(file, startLine, `${f}: No such file or directory`);
              continue;
            }
            this.evalFile(path);
          }
          continue;
        case 'vpath':
          continue;
        case 'unexport':
          for (const n of words(this.expand(st.rest, loc))) this.exported.delete(n);
          continue;
      }
      if (st.kind !== 'other') continue;
      const a = st.assignment;
      if (a) {
        inRule = false;
        const name = this.expand(a.name, loc).trim();
        if (name === '') throw new SourceError(file, startLine, 'empty variable name');
        this.assign(name, a.op, a.value, st.override ? 'override' : 'file', loc, false);
        if (st.exportIt) this.exported.add(name);
        continue;
      }
      if (st.exportIt) {
        // `export NAME...`: names only.
        for (const n of words(this.expand(st.body, loc))) this.exported.add(n);
        continue;
      }
      const body = st.body.trimEnd();
      if (topLevelIndex(body, ':') >= 0) {
        if (this.targetVariable(body, loc)) {
          inRule = false;
          continue;
        }
        // A rule. Recorded for the caller; recipes follow on tab lines.
        this.rules.push({ file, line: startLine, text: body, recipe: [] });
        inRule = true;
        continue;
      }
      // A line that is only a function call ($(info ...), $(eval ...), $(error ...)) is valid make.
      if (/^\$[({]/.test(body)) {
        const result = this.expand(body, loc).trim();
        if (result !== '') throw new SourceError(file, startLine, `missing separator (the line expands to '${result}')`);
        continue;
      }
      throw new SourceError(file, startLine, `missing separator: '${body}' is neither an assignment, a rule nor a directive`);
    }
    if (cond.length > 0) {
      const top = cond[cond.length - 1];
      throw new SourceError(top.loc.file, top.loc.line, "missing 'endif', unterminated conditional");
    }
  }

  /** Records `targets: [private|override|export] name op value`; false when the line is a rule. */
  private targetVariable(body: string, loc: Location): boolean {
    const colon = topLevelIndex(body, ':');
    if (body[colon + 1] === ':') return false; // double-colon rule
    let rest = body.slice(colon + 1).replace(/^[ \t]+/, '');
    let isPrivate = false;
    for (;;) {
      const [k, r] = splitKeyword(rest);
      if (k !== 'private' && k !== 'override' && k !== 'export') break;
      if (k === 'private') isPrivate = true;
      rest = r.replace(/^[ \t]+/, '');
    }
    const assignment = findAssignment(rest);
    if (!assignment) return false;
    const op = assignment.op === '::=' ? ':=' : assignment.op;
    if (op !== '=' && op !== ':=' && op !== '+=' && op !== '?=') {
      throw new SourceError(loc.file, loc.line, `target-specific '${assignment.op}' is not supported`);
    }
    const name = this.expand(rest.slice(0, assignment.index), loc).trim();
    const raw = collapseContinuations(rest.slice(assignment.index + assignment.op.length)).replace(/^[ \t]+/, '');
    this.targetVariables.push({
      targets: words(this.expand(body.slice(0, colon), loc)),
      name,
      op,
      value: op === ':=' ? this.expand(raw, loc) : raw,
      private: isPrivate,
      loc,
    });
    return true;
  }

  /**
   * Expands `text` as a recipe of `target` sees it: with the automatic variables given, and the
   * target- and pattern-specific variables that apply to it (patterns with longer stems first,
   * then the target's own, in the order they were read), as make does when it runs a recipe.
   */
  expandForTarget(target: string, text: string, automatic: Record<string, string>, loc: Location, inheritFrom: string[] = []): string {
    // Variables of the targets that needed this one (outermost first; `private` ones stay with
    // their target), then the target's own.
    const applicable = [...inheritFrom.flatMap((t) => this.variablesOf(t).filter((v) => !v.private)), ...this.variablesOf(target)];
    const saved = new Map<string, Variable | undefined>();
    const set = (name: string, value: Variable) => {
      if (!saved.has(name)) saved.set(name, this.vars.get(name));
      this.vars.set(name, value);
    };
    try {
      for (const [k, v] of Object.entries(automatic)) {
        set(k, variable('simple', v, 'automatic'));
        // $(@D) and $(@F): the directory and file parts of each word.
        if (k.length === 1) {
          const ws = words(v);
          set(`${k}D`, variable('simple', joinWords(ws.map((w) => (w.includes('/') ? w.slice(0, w.lastIndexOf('/')) || '/' : '.'))), 'automatic'));
          set(`${k}F`, variable('simple', joinWords(ws.map((w) => w.slice(w.lastIndexOf('/') + 1))), 'automatic'));
        }
      }
      for (const v of applicable) {
        const cur = this.vars.get(v.name);
        if (cur?.origin === 'command line') continue;
        switch (v.op) {
          case '=':
            set(v.name, variable('recursive', v.value, 'file'));
            break;
          case ':=':
            set(v.name, variable('simple', v.value, 'file'));
            break;
          case '?=':
            if (!cur) set(v.name, variable('recursive', v.value, 'file'));
            break;
          case '+=':
            if (!cur) set(v.name, variable('recursive', v.value, 'file'));
            else if (cur.flavor === 'simple') set(v.name, variable(cur.flavor, joinAppend(cur.value, this.expand(v.value, v.loc)), cur.origin, cur.loc));
            else set(v.name, variable(cur.flavor, joinAppend(cur.value, v.value), cur.origin, cur.loc));
            break;
        }
      }
      // Any name some target may rebind is target-dependent for every target (a remembered
      // expansion must not have read it in another target's context).
      // (The same for every target given the same automatic variables: made once.)
      const scopeKey = `${this.targetVariables.length}\0${Object.keys(automatic).join(' ')}`;
      if (this.scoped?.key !== scopeKey) this.scoped = { key: scopeKey, names: new Set([...saved.keys(), ...this.targetVariables.map((v) => v.name)]) };
      this.targetScoped = this.scoped.names;
      this.memoActive = true;
      return this.expand(text, loc);
    } finally {
      this.memoActive = false;
      this.forgetTarget();
      this.targetScoped = NOTHING;
      for (const [k, v] of saved) {
        if (v) this.vars.set(k, v);
        else this.vars.delete(k);
      }
    }
  }

  /** The target- and pattern-specific variables of `target`, in the order make applies them. */
  private variablesOf(target: string): TargetVariable[] {
    const applicable: { v: TargetVariable; stem: number }[] = [];
    for (const v of this.targetVariables) {
      let best = -1;
      for (const t of v.targets) {
        const stem = t.includes('%') ? matchPattern(t, target) : t === target ? '' : undefined;
        if (stem !== undefined) best = t.includes('%') ? Math.max(best, stem.length) : Infinity;
      }
      if (best >= 0) applicable.push({ v, stem: best });
    }
    // Exact targets (stem Infinity) last; among patterns, shorter stems (more specific) win.
    applicable.sort((a, b) => (a.stem === b.stem ? 0 : a.stem === Infinity ? 1 : b.stem === Infinity ? -1 : b.stem - a.stem));
    return applicable.map((a) => a.v);
  }

  private assign(name: string, op: string, value: string, origin: Origin, loc: Location, isDefine: boolean): void {
    this.forget();
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line' && origin !== 'override') return;
    switch (op) {
      case '=':
        this.vars.set(name, variable('recursive', value, origin, loc));
        return;
      case ':=':
      case '::=':
        this.vars.set(name, variable('simple', this.expand(value, loc), origin));
        return;
      case ':::=':
        this.vars.set(name, variable('recursive', this.expand(value, loc).replace(/\$/g, '$$$$'), origin));
        return;
      case '?=':
        if (!cur) this.vars.set(name, variable('recursive', value, origin, loc));
        return;
      case '+=': {
        if (!cur) {
          this.vars.set(name, variable('recursive', value, origin, loc));
        } else if (cur.flavor === 'simple') {
          const add = this.expand(value, loc);
          this.vars.set(name, variable(cur.flavor, cur.value === '' ? add : add === '' && !isDefine ? cur.value + ' ' : `${cur.value} ${add}`, cur.origin, cur.loc));
        } else {
          this.vars.set(name, variable(cur.flavor, cur.value === '' ? value : `${cur.value} ${value}`, cur.origin, loc));
        }
        return;
      }
      case '!=': {
        const out = this.runShell(this.expand(value, loc), loc);
        this.vars.set(name, variable('recursive', out.replace(/\$/g, '$$$$'), origin));
        return;
      }
    }
    throw new SourceError(loc.file, loc.line, `unknown assignment operator '${op}'`);
  }

  private evalCondition(keyword: string, rest: string, loc: Location): boolean {
    if (keyword === 'ifdef' || keyword === 'ifndef') {
      const name = this.expand(rest, loc).trim();
      const v = this.vars.get(name);
      // make: ifdef is true when the variable has a non-empty value (not expanded further).
      const defined = v !== undefined && v.value !== '';
      return keyword === 'ifdef' ? defined : !defined;
    }
    const [a, b] = parseEqArgs(rest, loc);
    const equal = this.expand(a, loc) === this.expand(b, loc);
    return keyword === 'ifeq' ? equal : !equal;
  }

  /** Expands `$(...)`, `${...}`, `$x` and `$$` in text. */
  expand(text: string, loc: Location): string {
    if (!text.includes('$')) return text;
    let pieces = COMPILED.get(text);
    if (!pieces) {
      pieces = compileText(text, loc);
      if (COMPILED.size >= 200_000) COMPILED.clear();
      COMPILED.set(text, pieces);
    }
    let out = '';
    for (const p of pieces) {
      if (typeof p === 'string') out += p;
      else if (p.name !== undefined) out += this.get(p.name, loc);
      else out += this.expandReference(p.inner!, loc);
    }
    return out;
  }

  private expandReference(inner: string, loc: Location): string {
    if (!this.memoActive) return this.expandReferenceNow(inner, loc);
    const hit = this.recall(this.memo, this.targetMemo, inner);
    if (hit !== undefined) return hit;
    const outer = this.startTracking();
    const value = this.expandReferenceNow(inner, loc);
    if (!this.effect && this.minBinding === Infinity) (this.tainted ? this.targetMemo : this.memo).set(inner, value);
    this.endTracking(outer);
    return value;
  }

  private expandReferenceNow(inner: string, loc: Location): string {
    let r = REFERENCES.get(inner);
    if (!r) {
      r = parseReference(inner);
      if (REFERENCES.size >= 200_000) REFERENCES.clear();
      REFERENCES.set(inner, r);
    }
    switch (r.kind) {
      case 'function': {
        const fn = FUNCTIONS[r.name];
        // GNU make 4.3 (what we emulate) reads a later version's function as a variable name with a
        // space in it: empty. kbuild relies on that to probe for $(intcmp ...).
        if (!fn && LATER_FUNCTIONS.has(r.name)) return this.get(inner, loc);
        if (!fn) throw new SourceError(loc.file, loc.line, `unknown function '${r.name}'`);
        return fn(this, r.args, loc);
      }
      case 'substitution': {
        const name = this.expand(r.name, loc);
        let from = this.expand(r.from, loc);
        let to = this.expand(r.to, loc);
        if (!from.includes('%')) {
          from = '%' + from;
          to = '%' + to;
        }
        return joinWords(words(this.get(name, loc)).map((w) => patsubstWord(from, to, w)));
      }
      default:
        // `$(strip)` etc. with no arguments are empty, unless such a variable exists.
        if (FUNCTIONS[inner] !== undefined && !this.vars.has(inner)) return '';
        return this.get(this.expand(inner, loc), loc);
    }
  }

  runShell(command: string, loc: Location): string {
    if (!this.options.allowShell) {
      throw new SourceError(loc.file, loc.line, `$(shell ${command}) is not allowed here`);
    }
    if (this.options.shell) return this.options.shell(command);
    try {
      const out = execFileSync('/bin/sh', ['-c', command], { cwd: this.options.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      return out.replace(/\n+$/, '').replace(/\n/g, ' ');
    } catch {
      return '';
    }
  }

  /** $(foreach): `body` expanded once per value of the simple variable `name`, restored afterwards. */
  withTemporary(name: string, values: readonly string[], body: () => string): string[] {
    const saved = this.vars.get(name);
    const savedLoop = this.loopDepth.get(name);
    const outer = this.startTracking();
    const depth = ++this.bindingDepth;
    this.loopDepth.set(name, depth);
    const out: string[] = [];
    try {
      for (const value of values) {
        this.vars.set(name, variable('simple', value, 'automatic'));
        out.push(body());
      }
    } finally {
      if (saved) this.vars.set(name, saved);
      else this.vars.delete(name);
      if (savedLoop !== undefined) this.loopDepth.set(name, savedLoop);
      else this.loopDepth.delete(name);
      this.bindingDepth--;
      this.endTracking(outer, depth);
    }
    return out;
  }
}

/** `a += b`: a space between, none when the old value is empty. */
function joinAppend(a: string, b: string): string {
  return a === '' ? b : `${a} ${b}`;
}

/** Expansion text split once into literal runs and references (by text, shared by all evaluators). */
type Piece = string | { name?: string; inner?: string };
const COMPILED = new Map<string, Piece[]>();

function compileText(text: string, loc: Location): Piece[] {
  const pieces: Piece[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      lit += text.slice(i);
      break;
    }
    lit += text.slice(i, dollar);
    i = dollar;
    const n = text[i + 1];
    if (n === undefined) {
      i++;
      continue;
    }
    if (n === '$') {
      lit += '$';
      i += 2;
      continue;
    }
    if (lit) pieces.push(lit);
    lit = '';
    if (n === '(' || n === '{') {
      const close = n === '(' ? ')' : '}';
      const end = findClose(text, i + 2, n, close);
      if (end < 0) throw new SourceError(loc.file, loc.line, `unterminated variable reference '${text.slice(i, i + 40)}'`);
      pieces.push({ inner: text.slice(i + 2, end) });
      i = end + 1;
      continue;
    }
    pieces.push({ name: n });
    i += 2;
  }
  if (lit) pieces.push(lit);
  return pieces;
}

/** What `$(inner)` is: a function call, a substitution reference or a (computed) variable name. */
type Reference =
  | { kind: 'function'; name: string; args: string[] }
  | { kind: 'substitution'; name: string; from: string; to: string }
  | { kind: 'variable' };
const REFERENCES = new Map<string, Reference>();

function parseReference(inner: string): Reference {
  const fm = /^([a-z-]+)[ \t]/.exec(inner);
  if (fm) return { kind: 'function', name: fm[1], args: splitArgs(inner.slice(fm[0].length), fm[1]) };
  const colon = topLevelIndex(inner, ':');
  if (colon >= 0) {
    const eq = inner.indexOf('=', colon);
    if (eq > colon) return { kind: 'substitution', name: inner.slice(0, colon), from: inner.slice(colon + 1, eq), to: inner.slice(eq + 1) };
  }
  return { kind: 'variable' };
}

function findClose(text: string, from: number, open: string, close: string): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j;
  }
  return -1;
}

function parseEqArgs(rest: string, loc: Location): [string, string] {
  const r = rest.trim();
  if (r.startsWith('(')) {
    const end = findClose(r, 1, '(', ')');
    if (end < 0) throw new SourceError(loc.file, loc.line, 'unterminated conditional arguments');
    const inner = r.slice(1, end);
    const comma = topLevelIndex(inner, ',');
    if (comma < 0) throw new SourceError(loc.file, loc.line, `invalid conditional, expected (a,b): '${r}'`);
    return [inner.slice(0, comma).trim(), inner.slice(comma + 1).trim()];
  }
  const m = /^(["'])(.*?)\1[ \t]+(["'])(.*?)\3$/.exec(r);
  if (!m) throw new SourceError(loc.file, loc.line, `invalid conditional: '${r}'`);
  return [m[2], m[4]];
}

function splitArgs(text: string, fn: string): string[] {
  // `$(if ...)` etc. split on every top-level comma; text functions keep commas of the last argument.
  const maxArgs = ARG_COUNTS[fn] ?? Infinity;
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let j = 0; j < text.length; j++) {
    const c = text[j];
    if (c === '(' || c === '{') depth++;
    else if ((c === ')' || c === '}') && depth > 0) depth--;
    else if (c === ',' && depth === 0 && args.length < maxArgs - 1) {
      args.push(text.slice(start, j));
      start = j + 1;
    }
  }
  args.push(text.slice(start));
  return args;
}

const ARG_COUNTS: Record<string, number> = {
  subst: 3, patsubst: 3, strip: 1, findstring: 2, filter: 2, 'filter-out': 2, sort: 1, word: 2, words: 1,
  wordlist: 3, firstword: 1, lastword: 1, dir: 1, notdir: 1, suffix: 1, basename: 1, addsuffix: 2,
  addprefix: 2, join: 2, wildcard: 1, realpath: 1, abspath: 1, error: 1, warning: 1, info: 1, shell: 1,
  origin: 1, flavor: 1, foreach: 3, value: 1, eval: 1, if: 3, file: 2,
};

/** joinWords(words(text)), without splitting when the text already is single-spaced words. */
function singleSpaced(text: string): string {
  let prevSpace = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x09 || c === 0x0a) return joinWords(words(text));
    const space = c === 0x20;
    if (space && prevSpace) return joinWords(words(text));
    prevSpace = space;
  }
  return prevSpace && text.length > 0 ? joinWords(words(text)) : text;
}

const splitMemo = new Map<string, readonly string[]>();

/**
 * words() for function arguments. kbuild expands the same long lists (real-obj-m, KBUILD_CFLAGS)
 * once per object; a long text that was split before is not split again. Read-only result.
 */
function argWords(text: string): readonly string[] {
  if (text.length < 256) return words(text);
  let w = splitMemo.get(text);
  if (!w) {
    if (splitMemo.size >= 512) splitMemo.clear();
    w = words(text);
    splitMemo.set(text, w);
  }
  return w;
}

/**
 * $(filter) for a few plain words (`$(filter $(basename $@).o, $(real-obj-m))`, asked once or more
 * per object of a directory): the words are found in the text where they stand as whole words,
 * without splitting a list of hundreds of words into strings each time. Undefined when a pattern
 * has a `%` or there are many (the caller splits).
 */
function findWords(patterns: readonly string[], text: string): string | undefined {
  if (patterns.length > 4 || patterns.some((p) => p.includes('%'))) return undefined;
  const found: { at: number; word: string }[] = [];
  for (const word of new Set(patterns)) {
    for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
      const end = at + word.length;
      if ((at === 0 || isBlank(text.charCodeAt(at - 1))) && (end === text.length || isBlank(text.charCodeAt(end)))) found.push({ at, word });
    }
  }
  if (patterns.length > 1) found.sort((x, y) => x.at - y.at);
  return joinWords(found.map((f) => f.word));
}

/** Whether a word matches any of `patterns` (filter/filter-out): plain words by set lookup. */
function patternMatcher(patterns: readonly string[]): (w: string) => boolean {
  const plain = new Set<string>();
  const withPercent: string[] = [];
  for (const p of patterns) {
    if (p.includes('%')) withPercent.push(p);
    else plain.add(p);
  }
  if (withPercent.length === 0) return (w) => plain.has(w);
  return (w) => plain.has(w) || withPercent.some((p) => matchPattern(p, w) !== undefined);
}

const ex = (ev: MakeEvaluator, a: string | undefined, loc: Location) => ev.expand(a ?? '', loc);

const FUNCTIONS: Record<string, Fn> = {
  subst: (ev, a, l) => ex(ev, a[2], l).split(ex(ev, a[0], l)).join(ex(ev, a[1], l)),
  patsubst: (ev, a, l) => {
    const p = ex(ev, a[0], l);
    const r = ex(ev, a[1], l);
    return joinWords(argWords(ex(ev, a[2], l)).map((w) => patsubstWord(p, r, w)));
  },
  strip: (ev, a, l) => singleSpaced(ex(ev, a[0], l)),
  findstring: (ev, a, l) => {
    const f = ex(ev, a[0], l);
    return ex(ev, a[1], l).includes(f) ? f : '';
  },
  filter: (ev, a, l) => {
    const patterns = argWords(ex(ev, a[0], l));
    const text = ex(ev, a[1], l);
    return findWords(patterns, text) ?? joinWords(argWords(text).filter(patternMatcher(patterns)));
  },
  'filter-out': (ev, a, l) => {
    const patterns = argWords(ex(ev, a[0], l));
    // Nothing to remove (CFLAGS_REMOVE_<obj> is usually empty): the words, single-spaced.
    if (patterns.length === 0) return singleSpaced(ex(ev, a[1], l));
    const matches = patternMatcher(patterns);
    return joinWords(argWords(ex(ev, a[1], l)).filter((w) => !matches(w)));
  },
  sort: (ev, a, l) => joinWords([...new Set(argWords(ex(ev, a[0], l)))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))),
  word: (ev, a, l) => {
    const n = Number(ex(ev, a[0], l).trim());
    if (!Number.isInteger(n) || n < 1) throw new SourceError(l.file, l.line, "first argument to 'word' must be a positive number");
    return argWords(ex(ev, a[1], l))[n - 1] ?? '';
  },
  words: (ev, a, l) => String(argWords(ex(ev, a[0], l)).length),
  wordlist: (ev, a, l) => {
    const s = Number(ex(ev, a[0], l).trim());
    const e = Number(ex(ev, a[1], l).trim());
    return joinWords(argWords(ex(ev, a[2], l)).slice(s - 1, e));
  },
  firstword: (ev, a, l) => argWords(ex(ev, a[0], l))[0] ?? '',
  lastword: (ev, a, l) => argWords(ex(ev, a[0], l)).at(-1) ?? '',
  dir: (ev, a, l) => joinWords(argWords(ex(ev, a[0], l)).map((w) => (w.includes('/') ? w.slice(0, w.lastIndexOf('/') + 1) : './'))),
  notdir: (ev, a, l) => joinWords(argWords(ex(ev, a[0], l)).map((w) => w.slice(w.lastIndexOf('/') + 1))),
  suffix: (ev, a, l) =>
    joinWords(
      argWords(ex(ev, a[0], l)).flatMap((w) => {
        const base = w.slice(w.lastIndexOf('/') + 1);
        const dot = base.lastIndexOf('.');
        return dot >= 0 ? [base.slice(dot)] : [];
      }),
    ),
  basename: (ev, a, l) =>
    joinWords(
      argWords(ex(ev, a[0], l)).map((w) => {
        const slash = w.lastIndexOf('/');
        const dot = w.lastIndexOf('.');
        return dot > slash ? w.slice(0, dot) : w;
      }),
    ),
  addsuffix: (ev, a, l) => {
    const s = ex(ev, a[0], l);
    return joinWords(argWords(ex(ev, a[1], l)).map((w) => w + s));
  },
  addprefix: (ev, a, l) => {
    const p = ex(ev, a[0], l);
    return joinWords(argWords(ex(ev, a[1], l)).map((w) => p + w));
  },
  join: (ev, a, l) => {
    const x = argWords(ex(ev, a[0], l));
    const y = argWords(ex(ev, a[1], l));
    const n = Math.max(x.length, y.length);
    return joinWords(Array.from({ length: n }, (_, k) => (x[k] ?? '') + (y[k] ?? '')));
  },
  wildcard: (ev, a, l) => joinWords(argWords(ex(ev, a[0], l)).flatMap((p) => wildcard(p, ev.options.cwd))),
  realpath: (ev, a, l) => joinWords(argWords(ex(ev, a[0], l)).filter((p) => exists(isAbsolute(p) ? p : join(ev.options.cwd, p)))),
  abspath: (ev, a, l) => joinWords(argWords(ex(ev, a[0], l)).map((p) => (isAbsolute(p) ? p : join(ev.options.cwd, p)))),
  if: (ev, a, l) => (ex(ev, a[0], l).trim() !== '' ? ex(ev, a[1], l) : ex(ev, a[2], l)),
  or: (ev, a, l) => {
    for (const x of a) {
      const v = ex(ev, x, l).trim();
      if (v !== '') return v;
    }
    return '';
  },
  and: (ev, a, l) => {
    let last = '';
    for (const x of a) {
      last = ex(ev, x, l).trim();
      if (last === '') return '';
    }
    return last;
  },
  foreach: (ev, a, l) => {
    const name = ex(ev, a[0], l).trim();
    return joinWords(
      ev.withTemporary(name, argWords(ex(ev, a[1], l)), () => ex(ev, a[2], l)).filter((s) => s !== ''),
    );
  },
  call: (ev, a, l) => {
    const name = ex(ev, a[0], l).trim();
    // $(0) is the name; arguments beyond those given are empty (an outer call's do not show).
    const args = [name];
    for (let k = 1; k < a.length; k++) args.push(ex(ev, a[k], l));
    const fn = ev.vars.get(name);
    if (!fn) {
      if (FUNCTIONS[name]) return FUNCTIONS[name](ev, a.slice(1).map((x) => x), l);
      return '';
    }
    return ev.withCallArguments(args, () => (fn.flavor === 'simple' ? fn.value : ev.expand(fn.value, l)));
  },
  value: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.value ?? '',
  origin: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.origin ?? 'undefined',
  flavor: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.flavor ?? 'undefined',
  eval: (ev, a, l) => {
    ev.markSideEffect();
    ev.evalText(l.file, ex(ev, a[0], l));
    return '';
  },
  error: (ev, a, l) => {
    throw new SourceError(l.file, l.line, ex(ev, a[0], l).trim());
  },
  warning: (ev, a, l) => {
    ev.markSideEffect();
    ev.messages.push({ kind: 'warning', loc: l, text: ex(ev, a[0], l) });
    return '';
  },
  info: (ev, a, l) => {
    ev.markSideEffect();
    ev.messages.push({ kind: 'info', loc: l, text: ex(ev, a[0], l) });
    return '';
  },
  shell: (ev, a, l) => ev.runShell(ex(ev, a[0], l), l),
  file: (ev, a, l) => {
    // Only reading (`$(file < name)`): a Makefile evaluation never writes files.
    const op = ex(ev, a[0], l).trim();
    const m = /^<\s*(\S+)$/.exec(op);
    if (!m) throw new SourceError(l.file, l.line, `$(file ${op}): only reading a file is supported`);
    const path = isAbsolute(m[1]) ? m[1] : join(ev.options.cwd, m[1]);
    if (!exists(path)) return '';
    noteContent(path);
    return readFileSync(path, 'utf8').replace(/\n$/, '');
  },
};
