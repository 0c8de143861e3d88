/**
 * The part of the shell kbuild's rules for generated files use, parsed so that a runner performs it
 * with argument arrays, never through a shell: lists (`a; b`, newlines), pipelines (`a | b`),
 * groups (`( … )`, `{ …; }`) with `<` and `>` redirections, simple commands with leading
 * assignments, and the builtins `echo` (as dash's where the two readings agree), `:` and
 * `set -e`/`set +e`. Expansions (`$`, backquotes), globs, `&&`, `||`, `&`, `>>`, descriptors
 * (`2>`), here-documents and the compound commands (`for`, `if`, …) are refused with the reason.
 */

export interface Redirections {
  stdin?: string;
  stdout?: string;
}

/** One command: a program (or builtin) with its arguments, or a group of lists. */
export type ShellCommand = ({ kind: 'simple'; argv: string[]; env?: Record<string, string> } | { kind: 'group'; subshell: boolean; body: ShellList }) & Redirections;

/** Commands whose output feeds the next one's input (`a | b`); its status is the last one's. */
export type Pipeline = ShellCommand[];

/** Pipelines run one after the other (`;` or a newline). */
export type ShellList = Pipeline[];

type Token = { op: ';' | '|' | '(' | ')' | '<' | '>' | '\n' } | { word: string; quoted: boolean };

const COMPOUND = new Set(['for', 'if', 'then', 'else', 'elif', 'fi', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', '!']);

/** The shell's own commands besides echo, `:` and set, which no program of that name does the same as. */
const SHELL_ONLY = new Set(['cd', 'exit', 'export', 'exec', 'eval', 'source', '.', 'return', 'shift', 'trap', 'unset', 'read', 'wait', 'alias', 'umask', 'ulimit', 'local', 'readonly', 'getopts', 'command', 'type', 'hash', 'times', 'break', 'continue']);

/** Splits shell text into words and operators, removing quotes; what it cannot run is refused. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  const refuse = (what: string): never => {
    throw new Error(`${what} is not supported in: ${text.trim()}`);
  };
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '#') {
      // A comment runs to the end of the line (a backslash-newline does not end it: kbuild's
      // recipes have them, and make has already joined the line).
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '\n' || c === ';' || c === '(' || c === ')') {
      if (c === ';' && text[i + 1] === ';') refuse("';;'");
      out.push({ op: c });
      i++;
      continue;
    }
    if (c === '|') {
      if (text[i + 1] === '|') refuse("'||'");
      out.push({ op: '|' });
      i++;
      continue;
    }
    if (c === '&') refuse(text[i + 1] === '&' ? "'&&'" : "'&'");
    if (c === '<' || c === '>') {
      if (text[i + 1] === c || text[i + 1] === '&' || text[i + 1] === '|' || text[i + 1] === '(') refuse(`'${c}${text[i + 1]}'`);
      out.push({ op: c });
      i++;
      continue;
    }
    // A word: runs of ordinary characters and quoted parts.
    let word = '';
    let quoted = false;
    const start = i;
    for (; i < n; i++) {
      const d = text[i];
      if (' \t\n;|&()<>'.includes(d)) break;
      if (d === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) refuse("an unterminated '");
        word += text.slice(i + 1, end);
        quoted = true;
        i = end;
      } else if (d === '"') {
        let j = i + 1;
        for (; j < n && text[j] !== '"'; j++) {
          if (text[j] === '\\' && text[j + 1] === '\n') j++;
          else if (text[j] === '\\' && '"\\$`'.includes(text[j + 1] ?? '')) word += text[++j];
          else if (text[j] === '$' || text[j] === '`') refuse('shell expansion');
          else word += text[j];
        }
        if (j >= n) refuse('an unterminated "');
        quoted = true;
        i = j;
      } else if (d === '\\') {
        if (text[i + 1] === '\n') i++;
        else word += text[++i] ?? '';
        quoted = true;
      } else if (d === '$' || d === '`') refuse('shell expansion');
      else if (d === '*' || d === '?' || d === '[') refuse(`a glob ('${d}')`);
      else if (d === '~' && i === start) refuse("'~'");
      else word += d;
    }
    // `2>` and the like: a descriptor before a redirection.
    if (!quoted && /^[0-9]+$/.test(word) && (text[i] === '<' || text[i] === '>')) refuse(`'${word}${text[i]}'`);
    out.push({ word, quoted });
  }
  return out;
}

const isWord = (t: Token | undefined): t is { word: string; quoted: boolean } => t !== undefined && 'word' in t;
const isOp = (t: Token | undefined, op: string): boolean => t !== undefined && 'op' in t && t.op === op;
/** `{` and `}` are reserved words only unquoted and in a command's first place. */
const isReserved = (t: Token | undefined, w: string): boolean => isWord(t) && !t.quoted && t.word === w;

/** Parses shell text (a kbuild recipe line or command, make's expansion done) into lists of simple commands. */
export function parseShellScript(text: string): ShellList {
  const toks = tokens(text);
  let k = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} in: ${text.trim()}`);
  };

  const redirections = (into: Redirections): void => {
    while (isOp(toks[k], '<') || isOp(toks[k], '>')) {
      const op = (toks[k] as { op: string }).op;
      const file = toks[k + 1];
      if (!isWord(file)) fail(`a redirection '${op}' without a file`);
      if (op === '<') into.stdin = (file as { word: string }).word;
      else into.stdout = (file as { word: string }).word;
      k += 2;
    }
  };

  const command = (): ShellCommand => {
    const t = toks[k];
    if (isOp(t, '(') || isReserved(t, '{')) {
      const subshell = isOp(t, '(');
      k++;
      const body = list(subshell ? ')' : '}');
      if (subshell ? !isOp(toks[k], ')') : !isReserved(toks[k], '}')) fail(`an unclosed '${subshell ? '(' : '{'}'`);
      k++;
      const g: ShellCommand = { kind: 'group', subshell, body };
      redirections(g);
      if (g.stdin !== undefined) fail("a group reading a file ('<')");
      return g;
    }
    const c: ShellCommand & { kind: 'simple' } = { kind: 'simple', argv: [] };
    for (;;) {
      redirections(c);
      const w = toks[k];
      if (!isWord(w) || (c.argv.length === 0 && isReserved(w, '}'))) break;
      if (c.argv.length === 0 && !w.quoted && COMPOUND.has(w.word)) fail(`the shell's '${w.word}'`);
      const assignment = c.argv.length === 0 && !w.quoted ? /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.word) : null;
      if (assignment) (c.env ??= {})[assignment[1]] = assignment[2];
      else c.argv.push(w.word);
      k++;
    }
    if (c.argv.length === 0) fail(c.env ? 'an assignment without a command' : 'a missing command');
    if (SHELL_ONLY.has(c.argv[0])) fail(`the shell's '${c.argv[0]}'`);
    if (c.argv[0] === 'echo' && c.argv.slice(1).some((a) => a.includes('\\') || /^-[neE]+$/.test(a))) fail("echo with backslashes or options (dash's echo reads them)");
    if ((c.argv[0] === 'echo' || c.argv[0] === ':' || c.argv[0] === 'set') && c.stdin !== undefined) fail(`'${c.argv[0]}' reading a file`);
    if (c.argv[0] === 'set' && !(c.argv.length === 2 && (c.argv[1] === '-e' || c.argv[1] === '+e'))) fail(`'${c.argv.join(' ')}' (only set -e and set +e are)`);
    return c;
  };

  const pipeline = (): Pipeline => {
    const p: Pipeline = [command()];
    while (isOp(toks[k], '|')) {
      k++;
      while (isOp(toks[k], '\n')) k++;
      p.push(command());
    }
    if (p.length > 1 && p.some((c) => c.kind === 'group')) fail('a group in a pipeline');
    return p;
  };

  /** Pipelines up to `close` (a group's end) or the end of the text. */
  const list = (close?: ')' | '}'): ShellList => {
    const l: ShellList = [];
    for (;;) {
      while (isOp(toks[k], ';') || isOp(toks[k], '\n')) k++;
      const t = toks[k];
      if (t === undefined || (close === ')' && isOp(t, ')')) || (close === '}' && isReserved(t, '}'))) return l;
      l.push(pipeline());
      const after = toks[k];
      if (after !== undefined && !isOp(after, ';') && !isOp(after, '\n') && !(close === ')' && isOp(after, ')')) && !(close === '}' && isReserved(after, '}'))) {
        fail(`unexpected '${isWord(after) ? after.word : (after as { op: string }).op}'`);
      }
    }
  };

  const l = list();
  if (k < toks.length) fail(`unexpected '${isWord(toks[k]) ? (toks[k] as { word: string }).word : (toks[k] as { op: string }).op}'`);
  return l;
}

/** The files a script's `>` redirections write, groups' and their commands' alike. */
export function redirectedOutputs(list: ShellList): string[] {
  const out: string[] = [];
  for (const p of list)
    for (const c of p) {
      if (c.stdout !== undefined) out.push(c.stdout);
      if (c.kind === 'group') out.push(...redirectedOutputs(c.body));
    }
  return out;
}
