/**
 * The symbol scanner for one source file: a preprocessor that evaluates the file's own
 * conditionals (config values, the object's -D flags, its local #defines, the shared headers'
 * macros through the header index), follows the headers the index does not cover, expands only
 * the macros that can end in an export or a .modinfo entry, and reads what they produce:
 * `__EXPORT_SYMBOL(sym, license, ns)` and `__MODULE_INFO(tag, name, info)`, the two points
 * include/linux/export.h and include/linux/moduleparam.h reduce every variant to. Code in a branch
 * the scanner cannot decide is still read, and what it finds there is marked uncertain.
 */
import { readFileSync } from 'node:fs';
import { noteContent } from '@nx-kbuild/kbuild-make';
import { evaluateCondition, UNKNOWN, type ConditionContext, type Definedness, type Value } from './condition';
import { clauseTokens, isIndexed, macroOf, type Clause, type HeaderIndex } from './header-index';
import { noteDefinitions, noteFollowed, noteIncludedBy, noteReachedThrough, noteRelevant } from './index-facts';
import type { DefinedNames } from './defined-names';
import { fileSize, headerFile, namesDefinedIn, resolvedPath, resolveInclude, searchPathId, type HeaderFile } from './include-files';
import { isReferencePosition, Kind, lexInvocation, lexTokens, scanIdentifiers, SourceReader, type CodeSpan, type DirectiveLine, type DirectiveStop, type LexLine, type Token } from './lexer';
import { collectArguments, expand, MacroSyntaxError, parseDefine, stringValue, type ExpandToken, type Macro } from './macros';

/** What export.h and moduleparam.h reduce every export and .modinfo macro to. */
const EXPORT_PRIMITIVE = '__EXPORT_SYMBOL';
const MODINFO_PRIMITIVE = '__MODULE_INFO';
export const PRIMITIVES: ReadonlySet<string> = new Set([EXPORT_PRIMITIVE, MODINFO_PRIMITIVE]);
/** PRIMITIVES.has(name), for every identifier of the code: most are told apart by their length. */
const isPrimitive = (name: string): boolean => (name.length === 15 ? name === EXPORT_PRIMITIVE : name.length === 13 && name === MODINFO_PRIMITIVE);

/**
 * Headers larger than this are not followed: register maps of GPU drivers, hundreds of kilobytes to
 * megabytes of #defines, re-read by each of a driver's sources (amdgpu's 862 took 23 s with a 1 MB
 * limit, 12.6 s with this one). On 6.12 with Debian's config every export, .modinfo entry, error and
 * predicted import is the same with either limit; only the name sets of 27 modules lose the
 * register macros.
 */
const MAX_FOLLOWED_HEADER = 1 << 18;

export interface FoundExport {
  symbol: string;
  /** "GPL" for the _GPL variants, "" otherwise (the string export.h puts in .export_symbol). */
  license: string;
  namespace: string;
  file: string;
  line: number;
  /** False when the export sits in a branch the scanner could not decide. */
  certain: boolean;
}

export interface FoundModinfo {
  tag: string;
  value: string;
  file: string;
  line: number;
  certain: boolean;
}

export interface ScanDiagnostic {
  file: string;
  line: number;
  message: string;
}

export interface SourceScan {
  exports: FoundExport[];
  modinfo: FoundModinfo[];
  /** Identifiers used in code that is compiled (or may be), member names excluded. */
  identifiers: Set<string>;
  /** Names it declares as variables or parameters (a local `bt_info` is not the exported one). */
  declared: Set<string>;
  /** Macros it defines and inline functions of the local headers it reads, with what each refers to. */
  functions: Map<string, ReadonlySet<string>>;
  /** The shared (indexed) headers it includes directly. */
  sharedHeaders: Set<string>;
  /** Headers the scanner did not read (generated, or too large): their macros are unknown. */
  unfollowed: string[];
  errors: ScanDiagnostic[];
}

/** What is shared by every file of one tree and configuration. */
export interface ScanEnvironment {
  index: HeaderIndex;
  /** Macros every file starts with: autoconf.h's CONFIG_ values and the compiler's predefined ones. */
  predefined: ReadonlyMap<string, string>;
  /** Header-index macros whose expansion can reach a primitive (see relevantHeaderMacros). */
  relevant: ReadonlySet<string>;
}

/** One object's compile flags, as far as the preprocessor is concerned. */
export interface CompileFlags {
  /** -D (value, "1" when none) and -U (undefined) in command-line order. */
  defines: [string, string | undefined][];
  includeDirs: string[];
  quoteDirs: string[];
}

/** Parses the preprocessor flags of a gcc argument vector; relative dirs are resolved against cwd (objects repeat the same twenty -I). */
export function compileFlags(argv: readonly string[], cwd: string): CompileFlags {
  const defines: [string, string | undefined][] = [];
  const includeDirs: string[] = [];
  const quoteDirs: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    const value = (flag: string) => (a.length > flag.length ? a.slice(flag.length) : argv[++k] ?? '');
    if (a.startsWith('-D')) {
      const d = value('-D');
      const eq = d.indexOf('=');
      defines.push(eq < 0 ? [d, '1'] : [d.slice(0, eq), d.slice(eq + 1)]);
    } else if (a.startsWith('-U')) defines.push([value('-U'), undefined]);
    else if (a.startsWith('-iquote')) quoteDirs.push(resolvedPath(cwd, value('-iquote')));
    else if (a.startsWith('-I')) includeDirs.push(resolvedPath(cwd, value('-I')));
  }
  return { defines, includeDirs, quoteDirs };
}

function tokensOf(text: string): Token[] {
  return lexTokens(text, 0, text.length, 0);
}

/** Names in the header index whose definitions can expand, directly or not, to a primitive. */
export function relevantHeaderMacros(index: HeaderIndex): Set<string> {
  const usedBy = new Map<string, string[]>();
  for (const [name, defs] of index.definitions)
    for (const d of defs)
      scanIdentifiers(d.text, d.start, d.end, d.line, (id) => {
        if (id !== name && (PRIMITIVES.has(id) || index.definitions.has(id))) {
          let l = usedBy.get(id);
          if (!l) usedBy.set(id, (l = []));
          l.push(name);
        }
        return false;
      });
  const relevant = new Set<string>();
  const queue = [...PRIMITIVES];
  while (queue.length) {
    const n = queue.pop()!;
    for (const user of usedBy.get(n) ?? [])
      if (!relevant.has(user) && !PRIMITIVES.has(user)) {
        relevant.add(user);
        queue.push(user);
      }
  }
  return relevant;
}

/** Per environment and prefix, the header index's and the predefined macros' names that start with it. */
const sharedStarts = new WeakMap<ScanEnvironment, Map<string, string[]>>();

function sharedNamesStarting(env: ScanEnvironment, prefix: string): readonly string[] {
  let byPrefix = sharedStarts.get(env);
  if (!byPrefix) sharedStarts.set(env, (byPrefix = new Map()));
  let names = byPrefix.get(prefix);
  if (!names) {
    names = [];
    for (const n of env.index.definitions.keys()) if (n.startsWith(prefix)) names.push(n);
    for (const n of env.predefined.keys()) if (n.startsWith(prefix)) names.push(n);
    byPrefix.set(prefix, names);
  }
  return names;
}

/** A #define line parsed, with the names its body refers to (what the name stands for in a module). */
interface ParsedDefine {
  macro: Macro;
  refs: ReadonlySet<string>;
}

/** The references of every definition that refers to nothing (one set, never changed). */
const NO_REFS: ReadonlySet<string> = new Set();

/**
 * A #define line parsed, once per thread (kept on the line: a header's lines are kept by
 * include-files' cache and read again by every source that includes it, and a driver's local
 * headers hold thousands of definitions; parsed anew for each source, they were most of what a
 * scan allocated).
 */
function parsedDefine(d: DirectiveLine, file: string): ParsedDefine {
  // A line belongs to one file (kept per resolved path, or lexed anew for a source).
  let p = d.memo as ParsedDefine | undefined;
  if (p === undefined) {
    const m = parseDefine(d.tokens, file, d.line);
    // What the name stands for in this module (it hides a header macro of the same name).
    let refs: Set<string> | undefined;
    const body = m.body;
    for (let k = 0; k < body.length; k++) {
      const t = body[k];
      if (t.kind !== Kind.Identifier || (m.params !== undefined && m.params.includes(t.text))) continue;
      const prev = k > 0 ? body[k - 1].text : undefined;
      if (prev !== '.' && prev !== '->' && prev !== '#') (refs ??= new Set()).add(t.text);
    }
    d.memo = p = { macro: m, refs: refs ?? NO_REFS };
  }
  return p;
}

/** Whether a macro's body holds a name (one that does not cannot expand to anything but itself). */
function namesSomething(m: Macro): boolean {
  for (const t of m.body) if (t.kind === Kind.Identifier) return true;
  return false;
}

type Region = 'active' | 'inactive' | 'unknown';

interface CondFrame {
  /** State of the enclosing region. */
  parent: Region;
  region: Region;
  /** Whether an earlier branch of this chain was taken: yes, no, or maybe. */
  taken: Value;
  line: number;
  file: string;
  sawElse: boolean;
}

interface HeaderResult {
  state: Definedness;
  macro?: Macro;
}

/**
 * The names #defined in the headers a file includes but does not follow, kept as each header's
 * own set (a GPU driver's sources each skip register maps of tens of thousands of names: copying
 * them into one set per source cost more than the rest of its scan).
 */
class SkippedNames {
  private readonly sets: DefinedNames[] = [];
  add(names: DefinedNames): void {
    if (!this.sets.includes(names)) this.sets.push(names);
  }
  has(name: string): boolean {
    for (const s of this.sets) if (s.has(name)) return true;
    return false;
  }
}

/**
 * The macros at one point of a file: its own and the command line's, then the compiler's and the
 * configuration's, then the shared headers' (chosen by `headers`). Names defined or undefined in
 * a branch the scanner cannot decide are `maybe`.
 */
class MacroState implements ConditionContext {
  constructor(
    readonly local: Map<string, Macro>,
    readonly undefinedNames: Set<string>,
    readonly maybe: Set<string>,
    private readonly predefined: ReadonlyMap<string, string>,
    private readonly headers: (name: string) => HeaderResult,
    /** Names #defined in headers too large to follow: their state is unknown. */
    private readonly skippedNames: SkippedNames,
  ) {}

  /**
   * The local names whose macro, when it was set, named something or was a primitive, in the
   * order they were set (repeated when set again, kept when undefined): the only local names
   * relevant() can answer yes for.
   */
  readonly naming: string[] = [];

  set(name: string, macro: Macro): void {
    this.local.set(name, macro);
    if (isPrimitive(name) || namesSomething(macro)) this.naming.push(name);
  }

  lookup = (name: string): Macro | undefined => {
    const m = this.local.get(name);
    if (m) return m;
    if (this.undefinedNames.has(name)) return undefined;
    const pre = this.predefined.get(name);
    if (pre !== undefined) {
      const macro = { name, body: tokensOf(pre), file: '<predefined>', line: 0 };
      this.set(name, macro);
      return macro;
    }
    return this.headers(name).macro;
  };

  definedness(name: string): Definedness {
    if (this.maybe.has(name)) return 'unknown';
    if (this.local.has(name)) return 'defined';
    if (this.undefinedNames.has(name)) return 'undefined';
    if (this.predefined.has(name)) return 'defined';
    // autoconf.h holds every CONFIG_ symbol that is set; a CONFIG_ name it lacks is not defined.
    if (name.startsWith('CONFIG_')) return 'undefined';
    const h = this.headers(name).state;
    return h === 'undefined' && this.skippedNames.has(name) ? 'unknown' : h;
  }

  /** The state as it is now, no longer following later #defines and #undefs. */
  copy(): MacroState {
    return new MacroState(new Map(this.local), new Set(this.undefinedNames), new Set(this.maybe), this.predefined, this.headers, this.skippedNames);
  }
}

const NO_DEFINITION: HeaderResult = { state: 'undefined' };

/** The preprocessor state of one source file. */
class FileScope {
  private readonly headerMemo = new Map<string, HeaderResult>();
  private readonly inProgress = new Set<string>();
  private readonly relevantLocal = new Map<string, boolean>();
  private readonly onceFiles = new Set<string>();
  private readonly guarded = new Set<string>();
  private readonly includeStack = new Set<string>();
  /** Names #defined in headers too large to follow: their state is unknown. */
  private readonly skippedNames = new SkippedNames();
  private readonly macros: MacroState;
  private readonly lookup: (name: string) => Macro | undefined;
  readonly result: SourceScan;

  private readonly searchPath: { id: number; quoteDirs: readonly string[]; includeDirs: readonly string[] };

  constructor(
    private readonly env: ScanEnvironment,
    flags: CompileFlags,
    names: SourceNames,
  ) {
    const { identifiers, declared, functions, sharedHeaders } = names;
    this.result = { exports: [], modinfo: [], identifiers, declared, functions, sharedHeaders, unfollowed: [], errors: [] };
    this.searchPath = { id: searchPathId(flags.quoteDirs, flags.includeDirs), quoteDirs: flags.quoteDirs, includeDirs: flags.includeDirs };
    this.macros = new MacroState(new Map(), new Set(), new Set(), env.predefined, (name) => this.fromHeaders(name), this.skippedNames);
    this.headerView = this.macros;
    this.lookup = this.macros.lookup;
    noteRelevant(env);
    for (const [name, value] of flags.defines) {
      if (value === undefined) {
        this.macros.local.delete(name);
        this.macros.undefinedNames.add(name);
      } else this.macros.set(name, { name, body: tokensOf(value), file: '<command line>', line: 0 });
    }
  }

  /**
   * The headers' view of the file's macros: as they were when the first shared header was
   * included. Shared headers are read at the top of a file, so a macro the file defines later
   * does not change what they defined (6.12's export.h tests DEFAULT_SYMBOL_NAMESPACE when it is
   * included: a later #define of it has no effect, and kbuild's output shows that).
   */
  private headerView: MacroState;

  private takeHeaderSnapshot(): void {
    if (this.headerView !== this.macros) return;
    this.headerView = this.macros.copy();
    this.headerMemo.clear();
    this.reachMemo.clear();
    this.inertMemo.clear();
  }

  /** Chooses among the index's definitions of `name` by evaluating their conditions here. */
  private fromHeaders(name: string): HeaderResult {
    const memo = this.headerMemo.get(name);
    if (memo) return memo;
    noteDefinitions(this.env.index, name);
    const defs = this.env.index.definitions.get(name);
    if (!defs) {
      // Asked again and again (every #ifdef of a name no shared header defines): remembered too.
      this.headerMemo.set(name, NO_DEFINITION);
      return NO_DEFINITION;
    }
    if (this.inProgress.has(name)) return { state: 'unknown' };
    this.inProgress.add(name);
    let chosen: Macro | undefined;
    // A default (`#ifndef X / #define X … / #endif`) yields to a definition that is not one.
    let chosenIsDefault = false;
    let unknown = false;
    for (const d of defs) {
      const holds = this.holds(d.when, this.reached(d.file));
      if (holds === 1) {
        const isDefault = d.when.some((c) => c.guard);
        const m = macroOf(d);
        if (m && (!chosen || !isDefault || chosenIsDefault)) {
          chosen = m;
          chosenIsDefault = isDefault;
        }
      } else if (holds === UNKNOWN) unknown = true;
    }
    this.inProgress.delete(name);
    const result: HeaderResult = chosen ? { state: 'defined', macro: chosen } : { state: unknown ? 'unknown' : 'undefined' };
    this.headerMemo.set(name, result);
    return result;
  }

  /** Whether a header's code invokes a macro that, as defined here, exports or adds .modinfo. */
  private invokesHere(h: HeaderFile): boolean {
    if (!h.codeIds) return false;
    for (const id of h.codeIds) if (this.relevant(id)) return true;
    return false;
  }

  /** `start` and every clause (once-guards aside), in three values, as the headers see the file. */
  private holds(clauses: readonly Clause[], start: Value): Value {
    let v = start;
    for (const c of clauses) {
      if (v === 0) break;
      if (c.guard) continue;
      let x: Value;
      try {
        x = evaluateCondition(clauseTokens(c), this.headerView, c.line);
      } catch {
        x = UNKNOWN;
      }
      if (x === UNKNOWN) v = UNKNOWN;
      else if ((x !== 0) !== c.want) v = 0;
    }
    return v;
  }

  private readonly reachMemo = new Map<string, Value>();
  /** The headers whose reach is being decided, each with its depth (an include cycle meets one again). */
  private readonly reachOpen = new Map<string, number>();
  /** The lowest depth of an open header the last reached() answer relied on (Infinity: none). */
  private reachLow = Infinity;

  /**
   * Whether a shared header is reached: included by no indexed header, or by one that is reached,
   * under conditions that hold. A header met again while its own reach is being decided (an
   * include cycle) counts as not reached there; an answer that relied on that for a header still
   * open further up is not remembered (it may be too low), so that every remembered answer is the
   * same whichever header was asked first. What is noted for the kept scan: the include that gave
   * a "reached" (another include added does not change it), or the whole list of includers.
   */
  private reached(file: string): Value {
    const memo = this.reachMemo.get(file);
    if (memo !== undefined) {
      this.reachLow = Infinity;
      return memo;
    }
    const open = this.reachOpen.get(file);
    if (open !== undefined) {
      this.reachLow = open;
      return 0;
    }
    const edges = this.env.index.includedBy.get(file);
    if (!edges) {
      noteIncludedBy(this.env.index, file);
      this.reachMemo.set(file, 1);
      this.reachLow = Infinity;
      return 1;
    }
    const depth = this.reachOpen.size;
    this.reachOpen.set(file, depth);
    let result: Value = 0;
    let low = Infinity;
    for (const e of edges) {
      const from = this.reached(e.from);
      if (this.reachLow < low) low = this.reachLow;
      const v = this.holds(e.when, from);
      if (v === 1) {
        result = 1;
        noteReachedThrough(file, e);
        break;
      }
      if (v === UNKNOWN) result = UNKNOWN;
    }
    this.reachOpen.delete(file);
    if (result !== 1) noteIncludedBy(this.env.index, file);
    // "Reached" is never too low; another answer is exact unless it relied on a header open above this one.
    const exact = result === 1 || low >= depth;
    if (exact) this.reachMemo.set(file, result);
    this.reachLow = exact ? Infinity : low;
    return result;
  }

  /** Whether expanding `name` here can produce an export or a .modinfo entry. */
  private relevant(name: string): boolean {
    // Asked for every identifier of the code: the common answer (no) in as few lookups as may be.
    const m = this.macros.local.get(name);
    if (!m) return (this.env.relevant.has(name) && !this.macros.undefinedNames.has(name)) || isPrimitive(name);
    if (isPrimitive(name)) return true;
    const known = this.relevantLocal.get(name);
    if (known !== undefined) return known;
    this.relevantLocal.set(name, false);
    let r = false;
    const body = m.body;
    for (let k = 0; k < body.length && !r; k++) {
      const t = body[k];
      if (t.kind !== Kind.Identifier || t.text === name) continue;
      // `__EXM_IF_##c` names whichever local macro starts so (the IS_ENABLED-style dispatch).
      r = this.relevant(t.text) || (body[k + 1]?.text === '##' && this.relevantStartingWith(t.text, name));
    }
    this.relevantLocal.set(name, r);
    return r;
  }

  private relevantStartingWith(prefix: string, except: string): boolean {
    // Kept with the names' answers (a key no name can be), until a #define or #undef: every source
    // of a driver asks it of its register macros, and the driver's headers define thousands.
    const key = `\0${prefix}\0${except}`;
    const known = this.relevantLocal.get(key);
    if (known !== undefined) return known;
    let r = false;
    const { local, naming } = this.macros;
    // Only the names in `naming` can be relevant: a macro whose body names nothing is not (and
    // register maps, most of a driver's macros, are such; a paste like `mm ## reg` starts thousands).
    for (const n of naming)
      if (n !== except && n.startsWith(prefix) && local.has(n) && this.relevant(n)) {
        r = true;
        break;
      }
    this.relevantLocal.set(key, r);
    return r;
  }

  private define(d: DirectiveLine, file: string, certain: boolean): void {
    const { macro: m, refs } = parsedDefine(d, file);
    const { undefinedNames, maybe } = this.macros;
    this.macros.set(m.name, m);
    this.result.functions.set(m.name, refs);
    // Most files #undef nothing and decide every branch: the sets stay empty (a driver's
    // sources each define the thousands of macros of its headers).
    if (undefinedNames.size !== 0) undefinedNames.delete(m.name);
    if (this.relevantLocal.size !== 0) this.relevantLocal.clear();
    if (this.inertMemo.size !== 0) this.inertMemo.clear();
    if (!certain) maybe.add(m.name);
    else if (maybe.size !== 0) maybe.delete(m.name);
  }

  private undef(name: string, certain: boolean): void {
    const { local, undefinedNames, maybe } = this.macros;
    local.delete(name);
    undefinedNames.add(name);
    this.relevantLocal.clear();
    this.inertMemo.clear();
    if (certain) maybe.delete(name);
    else maybe.add(name);
  }

  // --- code: pending tokens, scanned for invocations of relevant macros -----------------------
  private pending: ExpandToken[] = [];
  private pendingCertain: boolean[] = [];
  /** Whether each pending token is a source's (its names are collected) or a header's. */
  private pendingCollect: boolean[] = [];
  private cursor = 0;
  private pendingFile = '';

  /**
   * Reads a span of compiled code: identifiers only, until a macro that can produce an export
   * or a .modinfo entry appears; from there on as tokens, until its invocation is read.
   */
  private code(text: string, span: CodeSpan, file: string, certain: boolean, collectIds: boolean): void {
    if (this.pendingFile !== file) {
      this.flushEnd();
      this.pendingFile = file;
    }
    if (this.cursor < this.pending.length) {
      this.feed(lexTokens(text, span.start, span.end, span.line), certain, collectIds);
      return;
    }
    const visit = this.visitor(collectIds);
    const declared = collectIds ? (name: string) => this.result.declared.add(name) : undefined;
    let pos = span.start;
    let line = span.line;
    while (pos < span.end) {
      const stop = scanIdentifiers(text, pos, span.end, line, visit, declared);
      if (stop >= span.end) return;
      // Only the invocation is read as tokens; the code after it is scanned lightly again.
      const call = lexInvocation(text, stop, span.end, this.stopLine);
      this.feed(call.tokens, certain, collectIds);
      if (this.cursor < this.pending.length) {
        // Still open at the end of the span: the rest waits for the next lines.
        this.feed(lexTokens(text, call.next, span.end, call.line), certain, collectIds);
        return;
      }
      pos = call.next;
      line = call.line;
    }
  }

  private readonly directiveStop: DirectiveStop = { lineStart: false, found: false, line: 0 };

  /** The line of the relevant name the last scan of code stopped at (see visitor). */
  private stopLine = 0;

  /**
   * What a scan of code does with each identifier: collects it (a source's, where it is a
   * reference), and stops at one whose expansion can export or add .modinfo.
   */
  private visitor(collectIds: boolean): (name: string, offset: number, line: number, reference: boolean) => boolean {
    const ids = this.result.identifiers;
    return (name, _offset, line, reference) => {
      if (reference && collectIds) ids.add(name);
      if (!this.relevant(name)) return false;
      this.stopLine = line;
      return true;
    };
  }

  /**
   * A source's code from where `reader` is to its next directive, read as code() reads a span
   * (compiled, or maybe: `certain`), in one pass with finding where it ends; returns that directive.
   */
  private sourceCode(reader: SourceReader, file: string, certain: boolean, collectIds: boolean): DirectiveLine | undefined {
    const text = reader.text;
    if (this.pendingFile !== file) {
      this.flushEnd();
      this.pendingFile = file;
    }
    if (this.cursor < this.pending.length) {
      // An invocation left open before the last directive goes on here: the code is read as tokens.
      const span = reader.spanFrom(reader.pos, reader.line);
      if (span) this.code(text, span, file, certain, collectIds);
      return reader.directive();
    }
    const visit = this.visitor(collectIds);
    const declared = collectIds ? (name: string) => this.result.declared.add(name) : undefined;
    const stop = this.directiveStop;
    stop.lineStart = reader.atLineStart;
    let pos = reader.pos;
    let line = reader.line;
    for (;;) {
      stop.found = false;
      const s = scanIdentifiers(text, pos, text.length, line, visit, declared, stop);
      if (stop.found) return reader.directiveAt(s, stop.line);
      if (s >= text.length) return undefined;
      // A relevant macro invoked at s: its invocation is read as tokens, up to the next directive at most.
      const call = lexInvocation(text, s, text.length, this.stopLine, true);
      this.feed(call.tokens, certain, collectIds);
      if (this.cursor < this.pending.length) {
        // Still open: the rest of the code before the directive goes to it as tokens.
        const span = reader.spanFrom(call.next, call.line);
        if (span) this.feed(lexTokens(text, call.next, span.end, call.line), certain, collectIds);
        return reader.directive();
      }
      pos = call.next;
      line = call.line;
      stop.lineStart = false;
    }
  }

  private feed(tokens: Token[], certain: boolean, collectIds: boolean): void {
    for (const t of tokens) {
      this.pending.push(t);
      this.pendingCertain.push(certain);
      this.pendingCollect.push(collectIds);
    }
    this.scanPending();
  }

  private scanPending(): void {
    const p = this.pending;
    while (this.cursor < p.length) {
      const t = p[this.cursor];
      if (t.kind !== Kind.Identifier) {
        this.cursor++;
        continue;
      }
      if (this.pendingCollect[this.cursor] && isReferencePosition(p[this.cursor - 1]?.text, p[this.cursor - 2]?.text)) this.result.identifiers.add(t.text);
      if (!this.relevant(t.text)) {
        this.cursor++;
        continue;
      }
      const m = PRIMITIVES.has(t.text) ? undefined : this.lookup(t.text);
      let end = this.cursor;
      if (PRIMITIVES.has(t.text) || m?.params) {
        if (this.cursor + 1 >= p.length) return; // wait: "(" may come with the next line
        if (p[this.cursor + 1].text !== '(') {
          this.cursor++;
          continue;
        }
        const call = collectArguments(p, this.cursor + 1);
        if (!call) return; // arguments go on in the next lines
        end = call.close;
      }
      const certain = this.pendingCertain.slice(this.cursor, end + 1).every(Boolean);
      this.invocation(p.slice(this.cursor, end + 1), certain);
      this.cursor = end + 1;
    }
    // Keep memory flat: drop what was read.
    if (this.cursor > 4096) {
      this.pending = p.slice(this.cursor);
      this.pendingCertain = this.pendingCertain.slice(this.cursor);
      this.pendingCollect = this.pendingCollect.slice(this.cursor);
      this.cursor = 0;
    }
  }

  /** At the end of a file's code: an invocation still open is unterminated. */
  private flushEnd(): void {
    if (this.cursor < this.pending.length) {
      const t = this.pending[this.cursor];
      if (t.kind === Kind.Identifier && this.relevant(t.text))
        this.error(this.pendingFile, t.line, `unterminated argument list invoking macro "${t.text}"`);
    }
    this.pending = [];
    this.pendingCertain = [];
    this.pendingCollect = [];
    this.cursor = 0;
  }

  /** Macros whose expansion cannot export or add .modinfo (see Expander.opaque). */
  private readonly opaque = (name: string): boolean => this.inert(name);

  /** Per name, inert()'s answer until the next #define or #undef (or the headers' snapshot). */
  private readonly inertMemo = new Map<string, boolean>();

  /**
   * Whether expanding `name` as defined here (with arguments that are inert themselves) cannot
   * produce a primitive: no primitive in its definition, nor in that of any macro its definition
   * names, looked up as the expansion would look them up, and no paste that can make a name that
   * is not inert. Not relevant()'s question, which follows header macros through header macros
   * only and guesses what a local paste makes: this answer is what leaves a macro unexpanded, so
   * it must not be wrong. A macro met again inside its own definitions is not inert. A paste whose
   * first operand is a parameter can make any name; one whose first operand is a name as written
   * (`__param_str_##name`) makes a name with that start, inert when every macro defined here with
   * that start is; one that starts with punctuation or a number makes no name.
   */
  private inert(name: string): boolean {
    if (PRIMITIVES.has(name)) return false;
    const known = this.inertMemo.get(name);
    if (known !== undefined) return known;
    const m = this.lookup(name);
    if (m === undefined) return true;
    this.inertMemo.set(name, false);
    const body = m.body;
    let r = true;
    for (let k = 0; k < body.length && r; k++) {
      const t = body[k];
      if (t.text === '##') {
        let first = k - 1;
        while (first >= 2 && body[first - 1].text === '##') first -= 2;
        const start = body[first];
        // `, ##__VA_ARGS__` makes no name.
        if (start === undefined || m.params?.includes(start.text)) r = false;
        else if (start.kind === Kind.Identifier) r = this.inertStart(start.text);
      } else if (t.kind === Kind.Identifier && !m.params?.includes(t.text)) r = this.inert(t.text);
    }
    this.inertMemo.set(name, r);
    return r;
  }

  /** Whether every name a paste starting with `prefix` can make is inert here. */
  private inertStart(prefix: string): boolean {
    const key = `\0${prefix}`;
    const known = this.inertMemo.get(key);
    if (known !== undefined) return known;
    this.inertMemo.set(key, false);
    let r = !EXPORT_PRIMITIVE.startsWith(prefix) && !MODINFO_PRIMITIVE.startsWith(prefix);
    if (r)
      for (const n of this.macros.local.keys())
        if (n.startsWith(prefix) && !this.inert(n)) {
          r = false;
          break;
        }
    if (r) r = sharedNamesStarting(this.env, prefix).every((n) => this.inert(n));
    this.inertMemo.set(key, r);
    return r;
  }

  private invocation(tokens: ExpandToken[], certain: boolean): void {
    let out: ExpandToken[];
    try {
      out = PRIMITIVES.has(tokens[0].text) ? tokens : expand(tokens, { lookup: this.lookup, stop: PRIMITIVES, opaque: this.opaque });
    } catch (e) {
      if (e instanceof MacroSyntaxError) {
        this.error(this.pendingFile, e.line, e.message);
        return;
      }
      throw e;
    }
    for (let k = 0; k < out.length; k++) {
      const t = out[k];
      if (!PRIMITIVES.has(t.text) || out[k + 1]?.text !== '(') continue;
      const call = collectArguments(out, k + 1);
      if (!call) {
        this.error(this.pendingFile, t.line, `unterminated argument list invoking macro "${t.text}"`);
        return;
      }
      this.primitive(t.text, call.args.map((a) => expand(a, { lookup: this.lookup, stop: PRIMITIVES })), tokens[0].line, certain);
      k = call.close;
    }
  }

  private primitive(name: string, args: ExpandToken[][], line: number, certain: boolean): void {
    const file = this.pendingFile;
    if (name === EXPORT_PRIMITIVE) {
      // export.h defines the primitive empty for code that is not the kernel's (EFI stub, boot).
      if (this.macros.definedness('__DISABLE_EXPORTS') === 'defined') return;
      const [sym, license, ns] = args;
      if (args.length !== 3 || sym.length !== 1 || sym[0].kind !== Kind.Identifier) {
        this.error(file, line, `malformed export: expected a symbol name, got "${(sym ?? []).map((t) => t.text).join(' ')}"`);
        return;
      }
      const lic = stringValue(license);
      const namespace = ns.length === 0 ? '' : stringValue(ns);
      if (lic === undefined || namespace === undefined) {
        this.error(file, line, `malformed namespace for ${sym[0].text}: "${ns.map((t) => t.text).join(' ')}" is not a string`);
        return;
      }
      if (namespace.length > 1 && namespace.startsWith('"') && namespace.endsWith('"')) {
        this.error(file, line, `namespace of ${sym[0].text} is a string literal (${namespace}): this tree's export.h stringifies it, so write it as a bare identifier (string literals are Linux 6.13's syntax)`);
        return;
      }
      this.result.exports.push({ symbol: sym[0].text, license: lic, namespace, file, line, certain });
      return;
    }
    const [tag, , info] = args;
    const value = info && stringValue(info);
    if (tag?.length === 1 && value !== undefined) this.result.modinfo.push({ tag: tag[0].text, value, file, line, certain });
  }

  private error(file: string, line: number, message: string): void {
    this.result.errors.push({ file, line, message });
  }

  // --- files and directives -----------------------------------------------------------------
  /** Reads a file's lines; `text` is undefined for a header, whose code is not read. */
  processFile(
    file: string,
    text: string | undefined,
    lines: readonly LexLine[] | SourceReader,
    base: Region,
    depth: number,
    isHeader = false,
    functionsAt?: ReadonlyMap<CodeSpan, [string, ReadonlySet<string>][]>,
  ): void {
    const frames: CondFrame[] = [];
    let region: Region = base;
    const enter = (parent: Region, v: Value): Region => (parent === 'inactive' || v === 0 ? 'inactive' : v === UNKNOWN || parent === 'unknown' ? 'unknown' : 'active');
    const evaluate = (tokens: Token[], line: number): Value => {
      try {
        return evaluateCondition(tokens, this.macros, line);
      } catch (e) {
        if (e instanceof MacroSyntaxError) {
          this.error(file, line, e.message);
          return UNKNOWN;
        }
        throw e;
      }
    };
    // A source's code is read as its directives are found (SourceReader); a header's is lexed.
    let k = 0;
    const nextLine =
      lines instanceof SourceReader
        ? (): LexLine | undefined => (region === 'inactive' ? lines.skip() : this.sourceCode(lines, file, region === 'active', !isHeader))
        : (): LexLine | undefined => lines[k++];
    for (let l = nextLine(); l !== undefined; l = nextLine()) {
      if (l.directive === undefined) {
        // A local header's inline function is the module's own only where it is compiled
        // (`#if IS_ENABLED(CONFIG_BT_BCM) int btbcm_setup(...); #else static inline ... #endif`).
        if (region === 'active') for (const [name, refs] of functionsAt?.get(l) ?? []) this.result.functions.set(name, refs);
        if (region !== 'inactive' && text !== undefined) this.code(text, l, file, region === 'active', !isHeader);
        continue;
      }
      switch (l.directive) {
        case 'if':
        case 'ifdef':
        case 'ifndef': {
          let v: Value = 0;
          if (region !== 'inactive') {
            if (l.directive === 'if') v = evaluate(l.tokens, l.line);
            else {
              const name = l.tokens[0];
              if (!name || name.kind !== Kind.Identifier) {
                this.error(file, l.line, `no macro name given in #${l.directive} directive`);
                v = UNKNOWN;
              } else {
                const d = this.macros.definedness(name.text);
                v = d === 'unknown' ? UNKNOWN : Number((d === 'defined') === (l.directive === 'ifdef'));
              }
            }
          }
          frames.push({ parent: region, region: enter(region, v), taken: v, line: l.line, file, sawElse: false });
          region = frames[frames.length - 1].region;
          break;
        }
        case 'elif':
        case 'else': {
          const f = frames[frames.length - 1];
          if (!f) {
            this.error(file, l.line, `#${l.directive} without #if`);
            break;
          }
          if (f.sawElse) this.error(file, l.line, `#${l.directive} after #else`);
          if (l.directive === 'else') f.sawElse = true;
          if (f.parent === 'inactive' || (f.taken !== UNKNOWN && f.taken !== 0)) f.region = 'inactive';
          else {
            // Taken so far: no (0) or maybe (UNKNOWN); a definite earlier branch was handled above.
            const v = l.directive === 'else' ? 1 : evaluate(l.tokens, l.line);
            const branch: Value = f.taken === UNKNOWN && v !== 0 ? UNKNOWN : v;
            f.region = enter(f.parent, branch);
            f.taken = v !== 0 && v !== UNKNOWN ? 1 : f.taken === UNKNOWN || v === UNKNOWN ? UNKNOWN : 0;
          }
          region = f.region;
          break;
        }
        case 'endif':
          if (!frames.pop()) this.error(file, l.line, '#endif without #if');
          region = frames.length ? frames[frames.length - 1].region : base;
          break;
        case 'define':
          if (region !== 'inactive') {
            try {
              this.define(l, file, region === 'active');
            } catch (e) {
              if (e instanceof MacroSyntaxError) this.error(file, l.line, e.message);
              else throw e;
            }
          }
          break;
        case 'undef':
          if (region !== 'inactive' && l.tokens[0]) this.undef(l.tokens[0].text, region === 'active');
          break;
        case 'include':
        case 'include_next':
          if (region !== 'inactive') this.include(l.tokens, file, l.line, region, depth, l.directive === 'include_next');
          break;
        case 'pragma':
          if (l.tokens[0]?.text === 'once') this.onceFiles.add(file);
          break;
      }
    }
    for (const f of frames) this.error(f.file, f.line, 'unterminated conditional directive');
  }

  private include(tokens: Token[], from: string, line: number, region: Region, depth: number, next: boolean): void {
    let toks: ExpandToken[] = tokens;
    if (toks[0]?.kind === Kind.Identifier) {
      try {
        toks = expand(toks, { lookup: this.lookup });
      } catch {
        toks = [];
      }
    }
    let name: string | undefined;
    let quoted = false;
    if (toks[0]?.kind === Kind.String) {
      name = toks[0].text.slice(1, -1);
      quoted = true;
    } else if (toks[0]?.text === '<') {
      const close = toks.findIndex((t) => t.text === '>');
      if (close > 0) name = toks.slice(1, close).map((t) => t.text).join('');
    }
    if (!name) {
      this.result.unfollowed.push(`${from}:${line}`);
      return;
    }
    const found = resolveInclude(name, quoted, from, next, this.searchPath);
    if (!found) {
      // Generated headers (asm/ wrappers of asm-generic/, generated/) exist only after
      // `make prepare`; they are taken to be shared headers.
      this.result.unfollowed.push(name);
      // asm/X.h is generated as a wrapper of asm-generic/X.h for most X.
      const generic = name.startsWith('asm/') ? resolveInclude('asm-generic/' + name.slice(4), false, from, false, this.searchPath) : undefined;
      if (generic) this.result.sharedHeaders.add(generic);
      this.takeHeaderSnapshot();
      return;
    }
    const indexed = isIndexed(this.env.index, found);
    if (!indexed && fileSize(found) > MAX_FOLLOWED_HEADER) {
      this.result.unfollowed.push(found);
      this.skippedNames.add(namesDefinedIn(found));
      return;
    }
    // A .c file included by another is compiled code and is read whole.
    const source = !found.endsWith('.h') && !indexed;
    if (indexed) {
      this.result.sharedHeaders.add(found);
      noteFollowed(this.env.index, found);
    }
    if (indexed && !this.env.index.unguarded.has(found) && !this.env.index.invoking.has(found)) {
      this.takeHeaderSnapshot();
      return;
    }
    const h: HeaderFile = source ? { lines: [], functionsAt: new Map() } : headerFile(found, this.env.relevant);
    const invokes = this.invokesHere(h);
    if (indexed && !invokes) {
      this.takeHeaderSnapshot();
      return;
    }
    if (this.onceFiles.has(found) || this.includeStack.has(found)) return;
    if (depth > 40) {
      this.error(from, line, '#include nested too deeply');
      return;
    }
    // A guarded header is read once, even when its guard was defined in an undecided branch.
    if (h.guard) {
      if (this.guarded.has(found)) return;
      this.guarded.add(found);
      // The index knows a shared header's guard as defined (by the header itself): here the
      // header is being read for the first time.
      const guard = h.guard.macro;
      if (indexed && guard && !this.macros.local.has(guard)) this.macros.undefinedNames.add(guard);
    }
    this.flushEnd();
    if (source) noteContent(found);
    const text = source ? readFileSync(found, 'latin1') : invokes ? h.text : undefined;
    this.includeStack.add(found);
    this.processFile(found, text, source ? new SourceReader(text!) : h.lines, region, depth + 1, !source, indexed ? undefined : h.functionsAt);
    this.includeStack.delete(found);
    this.flushEnd();
    this.pendingFile = from;
  }

  finish(): SourceScan {
    this.flushEnd();
    return this.result;
  }
}

/** The name sets of a scan (SourceScan's), which a module's sources may share. */
export type SourceNames = Pick<SourceScan, 'identifiers' | 'declared' | 'functions' | 'sharedHeaders'>;

const newNames = (): SourceNames => ({ identifiers: new Set(), declared: new Set(), functions: new Map(), sharedHeaders: new Set() });

/**
 * Scans one source file as compiled with `flags` (relative -I paths already resolved). `names`:
 * the sets its names go to (a module's, shared by its sources: what each later source defines
 * wins, as in a union of their scans taken in order; a driver's sources each define the
 * thousands of macros of its local headers, and sets of their own were most of a scan's garbage).
 */
export function scanSource(file: string, text: string, flags: CompileFlags, env: ScanEnvironment, names: SourceNames = newNames()): SourceScan {
  const scope = new FileScope(env, flags, names);
  scope.processFile(file, text, new SourceReader(text), 'active', 0);
  return scope.finish();
}
