import { SourceError } from '@nx-kbuild/diagnostics';
import type { ShellRunner } from './shell-cache';

export type Flavor = 'recursive' | 'simple' | 'append';

interface Variable {
  value: string;
  flavor: 'recursive' | 'simple';
  expanding: number;
}

export interface PreprocessHost {
  /** Current file and line, for errors and $(filename)/$(lineno). */
  where(): { file: string; line: number };
  info(text: string): void;
  warning(text: string): void;
}

const FUNCTION_MAX_ARGS = 16;

/**
 * The Kconfig preprocessor (scripts/kconfig/preprocess.c): variables, user macros with
 * arguments, environment variables (recorded, as conf records them for auto.conf.cmd), and the
 * built-in functions error-if, filename, info, lineno, shell, warning-if.
 */
export class Preprocessor {
  private readonly vars = new Map<string, Variable>();
  /** Environment variables Kconfig read, in first-use order, with their values. */
  readonly envUsed = new Map<string, string>();

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly shell: ShellRunner,
    private readonly host: PreprocessHost,
  ) {}

  private error(message: string): never {
    const w = this.host.where();
    throw new SourceError(w.file, w.line, message);
  }

  addVariable(name: string, value: string, flavor: Flavor): void {
    const v = this.vars.get(name);
    let f: 'recursive' | 'simple';
    let append = false;
    if (v) {
      if (flavor === 'append') {
        f = v.flavor;
        append = true;
      } else f = flavor;
    } else f = flavor === 'append' ? 'recursive' : flavor;
    const newValue = f === 'simple' ? this.expandString(value) : value;
    if (v) {
      v.flavor = f;
      v.value = append ? `${v.value} ${newValue}` : newValue;
    } else this.vars.set(name, { value: newValue, flavor: f, expanding: 0 });
  }

  private envExpand(name: string): string | undefined {
    if (name === '') return undefined;
    const seen = this.envUsed.get(name);
    if (seen !== undefined) return seen;
    const value = this.env[name];
    if (value === undefined) return undefined;
    this.envUsed.set(name, value);
    return value;
  }

  private variableExpand(name: string, args: string[]): string | undefined {
    const v = this.vars.get(name);
    if (!v) return undefined;
    if (args.length === 0 && v.expanding) this.error(`Recursive variable '${name}' references itself (eventually)`);
    if (v.expanding > 1000) this.error('Too deep recursive expansion');
    v.expanding++;
    try {
      return v.flavor === 'recursive' ? this.expandWithArgs(v.value, args) : v.value;
    } finally {
      v.expanding--;
    }
  }

  private functionExpand(name: string, args: string[]): string | undefined {
    const arity: Record<string, [number, number]> = {
      'error-if': [2, 2],
      filename: [0, 0],
      info: [1, 1],
      lineno: [0, 0],
      shell: [1, 1],
      'warning-if': [2, 2],
    };
    const a = arity[name];
    if (!a) return undefined;
    if (args.length < a[0]) this.error(`too few function arguments passed to '${name}'`);
    if (args.length > a[1]) this.error(`too many function arguments passed to '${name}'`);
    const w = this.host.where();
    switch (name) {
      case 'error-if':
        if (args[0] === 'y') this.error(args[1]);
        return '';
      case 'filename':
        return w.file;
      case 'info':
        this.host.info(args[0]);
        return '';
      case 'lineno':
        return String(w.line);
      case 'shell':
        return this.shell.run(args[0]);
      default:
        if (args[0] === 'y') this.host.warning(`${w.file}:${w.line}: ${args[1]}`);
        return '';
    }
  }

  private evalClause(text: string, args: string[]): string {
    const n = /^[0-9]+$/.test(text) ? Number(text) : 0;
    if (n > 0 && n <= args.length) return args[n - 1];
    const parts: string[] = [];
    let nest = 0;
    let prev = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (nest === 0 && c === ',') {
        if (parts.length >= FUNCTION_MAX_ARGS) this.error('too many function arguments');
        parts.push(text.slice(prev, i));
        prev = i + 1;
      } else if (c === '(') nest++;
      else if (c === ')') nest--;
    }
    if (parts.length >= FUNCTION_MAX_ARGS) this.error('too many function arguments');
    parts.push(text.slice(prev));
    const name = this.expandWithArgs(parts[0], args);
    const newArgs = parts.slice(1).map((p) => this.expandWithArgs(p, args));
    return (
      this.variableExpand(name, newArgs) ??
      this.functionExpand(name, newArgs) ??
      (newArgs.length === 0 ? this.envExpand(name) : undefined) ??
      ''
    );
  }

  /** Expands the reference starting after a `$` at `pos`; returns the text and the position after it. */
  expandDollar(s: string, pos: number, args: string[] = []): [string, number] {
    if (s[pos] !== '(') return ['$', pos];
    let q = pos + 1;
    let nest = 0;
    for (; q < s.length; q++) {
      if (s[q] === '(') nest++;
      else if (s[q] === ')') {
        if (nest-- === 0) break;
      }
    }
    if (q >= s.length) this.error(`unterminated reference to '${s.slice(pos + 1)}': missing ')'`);
    return [this.evalClause(s.slice(pos + 1, q), args), q + 1];
  }

  private expandUntil(s: string, pos: number, isEnd: (c: string | undefined) => boolean, args: string[]): [string, number] {
    let out = '';
    let i = pos;
    let start = pos;
    for (;;) {
      if (s[i] === '$') {
        out += s.slice(start, i);
        const [exp, next] = this.expandDollar(s, i + 1, args);
        out += exp;
        i = start = next;
        continue;
      }
      if (isEnd(s[i])) break;
      i++;
    }
    return [out + s.slice(start, i), i];
  }

  expandWithArgs(s: string, args: string[]): string {
    return this.expandUntil(s, 0, (c) => c === undefined, args)[0];
  }

  expandString(s: string): string {
    return this.expandWithArgs(s, []);
  }

  /** expand_one_token: expands from `pos` while the text is a token ([A-Za-z0-9_-] or a reference). */
  expandOneToken(s: string, pos: number): [string, number] {
    return this.expandUntil(s, pos, (c) => c === undefined || !/[A-Za-z0-9_-]/.test(c), []);
  }
}
