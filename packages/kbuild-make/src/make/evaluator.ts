import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SourceError } from '@nx-kbuild/diagnostics';
import { collapseContinuations, findAssignment, parseMakefile, readMakefile, splitKeyword, topLevelIndex, type Statement } from './statements';
import { wildcard } from './wildcard';
import { joinWords, matchPattern, patsubstWord, words } from './words';

export type Origin = 'default' | 'environment' | 'file' | 'command line' | 'override' | 'automatic';

export interface Variable {
  flavor: 'recursive' | 'simple';
  value: string;
  origin: Origin;
}

/** A rule the evaluator read but does not run (kbuild Makefiles use them for generated files). */
export interface RuleRecord {
  file: string;
  line: number;
  text: string;
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
    this.vars.set('MAKE_VERSION', { flavor: 'simple', value: MAKE_VERSION, origin: 'default' });
    this.vars.set('.FEATURES', { flavor: 'simple', value: MAKE_FEATURES, origin: 'default' });
    for (const [k, v] of Object.entries(options.commandLine ?? {})) {
      this.vars.set(k, { flavor: 'simple', value: v, origin: 'command line' });
    }
  }

  /** Defines a variable as if by `name := value` in a makefile (command-line variables still win). */
  setSimple(name: string, value: string, origin: Origin = 'file'): void {
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line' && origin !== 'override') return;
    this.vars.set(name, { flavor: 'simple', value, origin });
  }

  /** Imports a variable from the environment: recursive, expanded when referenced, as make does. */
  setEnvironment(name: string, value: string): void {
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line') return;
    this.vars.set(name, { flavor: 'recursive', value, origin: 'environment' });
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

  /** The expanded value of a variable (empty when undefined, as in make). */
  get(name: string, loc: Location = { file: '<internal>', line: 0 }): string {
    const v = this.vars.get(name);
    if (!v) return '';
    if (v.flavor === 'simple') return v.value;
    if (this.expanding.has(name)) {
      throw new SourceError(loc.file, loc.line, `recursive variable '${name}' references itself (eventually)`);
    }
    this.expanding.add(name);
    try {
      return this.expand(v.value, loc);
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
      if (st.tab && inRule) continue; // a recipe line of a recorded rule
      const loc: Location = { file, line: st.line };
      const startLine = st.line;
      switch (st.kind) {
        case 'conditional': {
          // Conditionals are processed even inside inactive branches (to keep nesting right).
          const parentActive = active();
          const value = parentActive ? this.evalCondition(st.keyword, st.rest, loc) : false;
          cond.push({ active: parentActive && value, seenTrue: value, parentActive, loc, sawElse: false });
          inRule = false;
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
              this.vars.attachBase(this.options.preloaded.vars);
              continue;
            }
            if (!existsSync(path)) {
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
        this.rules.push({ file, line: startLine, text: body });
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
  expandForTarget(target: string, text: string, automatic: Record<string, string>, loc: Location): string {
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
    const saved = new Map<string, Variable | undefined>();
    const set = (name: string, value: Variable) => {
      if (!saved.has(name)) saved.set(name, this.vars.get(name));
      this.vars.set(name, value);
    };
    try {
      for (const [k, v] of Object.entries(automatic)) set(k, { flavor: 'simple', value: v, origin: 'automatic' });
      for (const { v } of applicable) {
        const cur = this.vars.get(v.name);
        if (cur?.origin === 'command line') continue;
        switch (v.op) {
          case '=':
            set(v.name, { flavor: 'recursive', value: v.value, origin: 'file' });
            break;
          case ':=':
            set(v.name, { flavor: 'simple', value: v.value, origin: 'file' });
            break;
          case '?=':
            if (!cur) set(v.name, { flavor: 'recursive', value: v.value, origin: 'file' });
            break;
          case '+=':
            if (!cur) set(v.name, { flavor: 'recursive', value: v.value, origin: 'file' });
            else if (cur.flavor === 'simple') set(v.name, { ...cur, value: joinAppend(cur.value, this.expand(v.value, v.loc)) });
            else set(v.name, { ...cur, value: joinAppend(cur.value, v.value) });
            break;
        }
      }
      return this.expand(text, loc);
    } finally {
      for (const [k, v] of saved) {
        if (v) this.vars.set(k, v);
        else this.vars.delete(k);
      }
    }
  }

  private assign(name: string, op: string, value: string, origin: Origin, loc: Location, isDefine: boolean): void {
    const cur = this.vars.get(name);
    if (cur && cur.origin === 'command line' && origin !== 'override') return;
    switch (op) {
      case '=':
        this.vars.set(name, { flavor: 'recursive', value, origin });
        return;
      case ':=':
      case '::=':
        this.vars.set(name, { flavor: 'simple', value: this.expand(value, loc), origin });
        return;
      case ':::=':
        this.vars.set(name, { flavor: 'recursive', value: this.expand(value, loc).replace(/\$/g, '$$$$'), origin });
        return;
      case '?=':
        if (!cur) this.vars.set(name, { flavor: 'recursive', value, origin });
        return;
      case '+=': {
        if (!cur) {
          this.vars.set(name, { flavor: 'recursive', value, origin });
        } else if (cur.flavor === 'simple') {
          const add = this.expand(value, loc);
          this.vars.set(name, { ...cur, value: cur.value === '' ? add : add === '' && !isDefine ? cur.value + ' ' : `${cur.value} ${add}` });
        } else {
          this.vars.set(name, { ...cur, value: cur.value === '' ? value : `${cur.value} ${value}` });
        }
        return;
      }
      case '!=': {
        const out = this.runShell(this.expand(value, loc), loc);
        this.vars.set(name, { flavor: 'recursive', value: out.replace(/\$/g, '$$$$'), origin });
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
    let out = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c !== '$') {
        out += c;
        i++;
        continue;
      }
      const n = text[i + 1];
      if (n === undefined) {
        i++;
        continue;
      }
      if (n === '$') {
        out += '$';
        i += 2;
        continue;
      }
      if (n === '(' || n === '{') {
        const close = n === '(' ? ')' : '}';
        const end = findClose(text, i + 2, n, close);
        if (end < 0) throw new SourceError(loc.file, loc.line, `unterminated variable reference '${text.slice(i, i + 40)}'`);
        out += this.expandReference(text.slice(i + 2, end), loc);
        i = end + 1;
        continue;
      }
      out += this.get(n, loc);
      i += 2;
    }
    return out;
  }

  private expandReference(inner: string, loc: Location): string {
    const fm = /^([a-z-]+)[ \t]/.exec(inner);
    if (fm) {
      const fn = FUNCTIONS[fm[1]];
      // GNU make 4.3 (what we emulate) reads a later version's function as a variable name with a
      // space in it: empty. kbuild relies on that to probe for $(intcmp ...).
      if (!fn && LATER_FUNCTIONS.has(fm[1])) return this.get(inner, loc);
      if (!fn) throw new SourceError(loc.file, loc.line, `unknown function '${fm[1]}'`);
      const args = splitArgs(inner.slice(fm[0].length), fm[1]);
      return fn(this, args, loc);
    }
    if (FUNCTIONS[inner] !== undefined && !this.vars.has(inner)) {
      // `$(strip)` etc. with no arguments.
      return '';
    }
    // Substitution reference: $(var:a=b)
    const colon = topLevelIndex(inner, ':');
    if (colon >= 0) {
      const eq = inner.indexOf('=', colon);
      if (eq > colon) {
        const name = this.expand(inner.slice(0, colon), loc);
        let from = this.expand(inner.slice(colon + 1, eq), loc);
        let to = this.expand(inner.slice(eq + 1), loc);
        if (!from.includes('%')) {
          from = '%' + from;
          to = '%' + to;
        }
        return joinWords(words(this.get(name, loc)).map((w) => patsubstWord(from, to, w)));
      }
    }
    return this.get(this.expand(inner, loc), loc);
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

  /** Runs `body` with temporary simple variables (for foreach and call), restoring them afterwards. */
  withTemporaries<T>(temps: Record<string, string>, body: () => T): T {
    const saved = new Map<string, Variable | undefined>();
    for (const [k, v] of Object.entries(temps)) {
      saved.set(k, this.vars.get(k));
      this.vars.set(k, { flavor: 'simple', value: v, origin: 'automatic' });
    }
    try {
      return body();
    } finally {
      for (const [k, v] of saved) {
        if (v) this.vars.set(k, v);
        else this.vars.delete(k);
      }
    }
  }
}


/** `a += b`: a space between, none when the old value is empty. */
function joinAppend(a: string, b: string): string {
  return a === '' ? b : `${a} ${b}`;
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

const ex = (ev: MakeEvaluator, a: string | undefined, loc: Location) => ev.expand(a ?? '', loc);

const FUNCTIONS: Record<string, Fn> = {
  subst: (ev, a, l) => ex(ev, a[2], l).split(ex(ev, a[0], l)).join(ex(ev, a[1], l)),
  patsubst: (ev, a, l) => {
    const p = ex(ev, a[0], l);
    const r = ex(ev, a[1], l);
    return joinWords(words(ex(ev, a[2], l)).map((w) => patsubstWord(p, r, w)));
  },
  strip: (ev, a, l) => joinWords(words(ex(ev, a[0], l))),
  findstring: (ev, a, l) => {
    const f = ex(ev, a[0], l);
    return ex(ev, a[1], l).includes(f) ? f : '';
  },
  filter: (ev, a, l) => {
    const pats = words(ex(ev, a[0], l));
    return joinWords(words(ex(ev, a[1], l)).filter((w) => pats.some((p) => matchPattern(p, w) !== undefined)));
  },
  'filter-out': (ev, a, l) => {
    const pats = words(ex(ev, a[0], l));
    return joinWords(words(ex(ev, a[1], l)).filter((w) => !pats.some((p) => matchPattern(p, w) !== undefined)));
  },
  sort: (ev, a, l) => joinWords([...new Set(words(ex(ev, a[0], l)))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))),
  word: (ev, a, l) => {
    const n = Number(ex(ev, a[0], l).trim());
    if (!Number.isInteger(n) || n < 1) throw new SourceError(l.file, l.line, "first argument to 'word' must be a positive number");
    return words(ex(ev, a[1], l))[n - 1] ?? '';
  },
  words: (ev, a, l) => String(words(ex(ev, a[0], l)).length),
  wordlist: (ev, a, l) => {
    const s = Number(ex(ev, a[0], l).trim());
    const e = Number(ex(ev, a[1], l).trim());
    return joinWords(words(ex(ev, a[2], l)).slice(s - 1, e));
  },
  firstword: (ev, a, l) => words(ex(ev, a[0], l))[0] ?? '',
  lastword: (ev, a, l) => words(ex(ev, a[0], l)).at(-1) ?? '',
  dir: (ev, a, l) => joinWords(words(ex(ev, a[0], l)).map((w) => (w.includes('/') ? w.slice(0, w.lastIndexOf('/') + 1) : './'))),
  notdir: (ev, a, l) => joinWords(words(ex(ev, a[0], l)).map((w) => w.slice(w.lastIndexOf('/') + 1))),
  suffix: (ev, a, l) =>
    joinWords(
      words(ex(ev, a[0], l)).flatMap((w) => {
        const base = w.slice(w.lastIndexOf('/') + 1);
        const dot = base.lastIndexOf('.');
        return dot >= 0 ? [base.slice(dot)] : [];
      }),
    ),
  basename: (ev, a, l) =>
    joinWords(
      words(ex(ev, a[0], l)).map((w) => {
        const slash = w.lastIndexOf('/');
        const dot = w.lastIndexOf('.');
        return dot > slash ? w.slice(0, dot) : w;
      }),
    ),
  addsuffix: (ev, a, l) => {
    const s = ex(ev, a[0], l);
    return joinWords(words(ex(ev, a[1], l)).map((w) => w + s));
  },
  addprefix: (ev, a, l) => {
    const p = ex(ev, a[0], l);
    return joinWords(words(ex(ev, a[1], l)).map((w) => p + w));
  },
  join: (ev, a, l) => {
    const x = words(ex(ev, a[0], l));
    const y = words(ex(ev, a[1], l));
    const n = Math.max(x.length, y.length);
    return joinWords(Array.from({ length: n }, (_, k) => (x[k] ?? '') + (y[k] ?? '')));
  },
  wildcard: (ev, a, l) => joinWords(words(ex(ev, a[0], l)).flatMap((p) => wildcard(p, ev.options.cwd))),
  realpath: (ev, a, l) => joinWords(words(ex(ev, a[0], l)).filter((p) => existsSync(isAbsolute(p) ? p : join(ev.options.cwd, p)))),
  abspath: (ev, a, l) => joinWords(words(ex(ev, a[0], l)).map((p) => (isAbsolute(p) ? p : join(ev.options.cwd, p)))),
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
      words(ex(ev, a[1], l)).map((w) => ev.withTemporaries({ [name]: w }, () => ex(ev, a[2], l))).filter((s) => s !== ''),
    );
  },
  call: (ev, a, l) => {
    const name = ex(ev, a[0], l).trim();
    const temps: Record<string, string> = { '0': name };
    a.slice(1).forEach((x, k) => (temps[String(k + 1)] = ex(ev, x, l)));
    // Unset higher-numbered arguments of an outer call, as make does.
    for (let k = a.length; k < 10; k++) temps[String(k)] = '';
    const fn = ev.vars.get(name);
    if (!fn) {
      if (FUNCTIONS[name]) return FUNCTIONS[name](ev, a.slice(1).map((x) => x), l);
      return '';
    }
    return ev.withTemporaries(temps, () => (fn.flavor === 'simple' ? fn.value : ev.expand(fn.value, l)));
  },
  value: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.value ?? '',
  origin: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.origin ?? 'undefined',
  flavor: (ev, a, l) => ev.vars.get(ex(ev, a[0], l).trim())?.flavor ?? 'undefined',
  eval: (ev, a, l) => {
    ev.evalText(l.file, ex(ev, a[0], l));
    return '';
  },
  error: (ev, a, l) => {
    throw new SourceError(l.file, l.line, ex(ev, a[0], l).trim());
  },
  warning: (ev, a, l) => {
    ev.messages.push({ kind: 'warning', loc: l, text: ex(ev, a[0], l) });
    return '';
  },
  info: (ev, a, l) => {
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
    if (!existsSync(path)) return '';
    return readFileSync(path, 'utf8').replace(/\n$/, '');
  },
};
