/**
 * The symbol scanner over a whole tree: every object the configuration compiles (from the kbuild
 * evaluator), scanned as its own command compiles it, gathered per module. Modules are named as
 * Module.symvers names them: the module's path without .ko, or "vmlinux" for built-in code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { noteContent, observing, shellWords, type Observed } from '@nx-kbuild/kbuild-make';
import type { StoredModuleScan } from './kept-module';
import { buildHeaderIndex, type HeaderIndex } from './header-index';
import type { HeaderIndexCache } from './header-index-cache';
import { compileFlags, relevantHeaderMacros, scanSource, type FoundExport, type FoundModinfo, type ScanDiagnostic, type ScanEnvironment } from './source-scan';

/** One compiled object, as the kbuild evaluator lists it. */
export interface TreeObject {
  object: string;
  source: string;
  /** The compile command (argument vector, after shell unquoting). */
  readonly argv: readonly string[];
  /** The command as kbuild writes it, when known: what identifies the object's compilation for a kept result. */
  readonly command?: string;
  /** Module path (e.g. fs/ext4/ext4) or undefined for built-in code. */
  module?: string;
  /** Compiled for something that is neither vmlinux nor a module (vDSO, EFI stub): not scanned. */
  other?: boolean;
}

export interface ModuleSymbols {
  /** "vmlinux" or the module's path without .ko: Module.symvers' module column. */
  name: string;
  objects: string[];
  exports: FoundExport[];
  modinfo: FoundModinfo[];
  /** Identifiers its compiled code mentions (a superset of the symbols it imports). */
  identifiers: Set<string>;
  /** Macros its sources define and inline functions of the local headers they read, with what each refers to. */
  functions: Map<string, ReadonlySet<string>>;
  /** Names its sources declare as variables or parameters. */
  declared: Set<string>;
  /** Shared headers its sources include directly. */
  sharedHeaders: Set<string>;
  /**
   * Whether its identifiers or what its own functions refer to include one of `names`, answered
   * without building its name sets where it can (a kept scan's module); undefined when it cannot
   * tell that way.
   */
  mayMention?(names: ReadonlySet<string>): boolean | undefined;
  /** sharedHeaders, read without building the module's name sets where it can (a kept scan's module). */
  sharedHeadersQuickly?(): Iterable<string>;
}

export interface TreeScan {
  modules: Map<string, ModuleSymbols>;
  errors: ScanDiagnostic[];
  /** Sources that could not be read (generated ones before a build). */
  unreadable: string[];
  headers: { files: number; bytes: number };
  /** The shared-header index the scan used (macros and inline functions, for import prediction). */
  index: HeaderIndex;
}

export interface TreeScanOptions {
  srctree: string;
  objtree: string;
  /** Architecture directory under arch/ (x86 for x86_64). */
  srcarch: string;
  /** include/config/auto.conf values: CONFIG_FOO → y, m, a number or a quoted string. */
  config: ReadonlyMap<string, string>;
  objects: readonly TreeObject[];
}

/**
 * The objects of the kbuild evaluator (nx-kbuild-make --commands), as the scanner takes them: the
 * compiler's argument vector is the first command of cmd_cc_o_c / cmd_as_o_S; objects made from
 * other objects or for neither vmlinux nor a module are not scanned.
 */
export function objectsFromKbuild(objects: readonly { object: string; source: string; command: string; module?: string; other?: boolean; inputOf?: string }[]): TreeObject[] {
  return objects.map((o) => new KbuildObject(o.object, o.source, o.command, o.module, o.other ?? o.inputOf !== undefined));
}

/** An object whose argument vector is parsed from its command when first asked for (a kept scan reads few). */
class KbuildObject implements TreeObject {
  private words?: readonly string[];
  constructor(
    readonly object: string,
    readonly source: string,
    readonly command: string,
    readonly module: string | undefined,
    readonly other: boolean,
  ) {}
  get argv(): readonly string[] {
    return (this.words ??= shellWords(this.command.split(' ; ')[0]));
  }
}

/**
 * A TreeObject as plain data (what crosses to a worker thread: getters do not). An object with a
 * command crosses as that one string (its argument vector is a hundred: cloning every object's
 * was most of a worker's input); plainToObject parses it again there.
 */
export type PlainObject = Omit<TreeObject, 'argv'> & { argv?: readonly string[] };

export function plainObject(o: TreeObject): PlainObject {
  const base = { object: o.object, source: o.source, module: o.module, other: o.other };
  return o.command !== undefined ? { ...base, command: o.command } : { ...base, argv: o.argv };
}

export function plainToObject(o: PlainObject): TreeObject {
  return o.argv ? (o as TreeObject) : new KbuildObject(o.object, o.source, o.command!, o.module, o.other ?? false);
}

/** autoconf.h's view of auto.conf: y → NAME 1, m → NAME_MODULE 1, other values as written. */
export function configMacros(config: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of config) {
    if (value === 'y') out.set(name, '1');
    else if (value === 'm') out.set(name + '_MODULE', '1');
    else out.set(name, value);
  }
  return out;
}

/** The compiler's predefined macros for the flags that change them (-m, -f, -O, -std). */
export function compilerMacros(argv: readonly string[]): Map<string, string> {
  const flags = argv.slice(1).filter((a) => /^-(?:m|f|O|std=)/.test(a) && !a.startsWith('-fplugin') && !a.startsWith('-fmacro-prefix-map'));
  const text = execFileSync(argv[0], [...flags, '-dM', '-E', '-x', 'c', '/dev/null'], { encoding: 'utf8' });
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^#define (\w+)(?:\(.*?\))? ?(.*)$/.exec(line);
    if (m && !line.slice(8 + m[1].length).startsWith('(')) out.set(m[1], m[2]);
  }
  return out;
}

/** The first C object's compiler, asked for its predefined macros. */
export function treeCompilerMacros(objects: readonly TreeObject[]): Map<string, string> {
  const first = objects.find((x) => x.source.endsWith('.c'));
  return first ? compilerMacros(first.argv) : new Map<string, string>();
}

/** The directories of the shared header index, in its search order: arch/<srcarch>/include/, then include/. */
export const sharedHeaderRoots = (o: Pick<TreeScanOptions, 'srctree' | 'srcarch'>): string[] => [join(o.srctree, 'arch', o.srcarch, 'include'), join(o.srctree, 'include')];

export function scanEnvironment(o: Pick<TreeScanOptions, 'srctree' | 'srcarch' | 'config'>, compiler: ReadonlyMap<string, string>, index?: HeaderIndex, cache?: HeaderIndexCache): ScanEnvironment {
  const idx = index ?? buildHeaderIndex(sharedHeaderRoots(o), cache);
  const predefined = new Map([...compiler, ...configMacros(o.config)]);
  return { index: idx, predefined, relevant: relevantHeaderMacros(idx) };
}

/** One module's scan: what its objects' sources hold, and (when asked) every file it read or looked up. */
export interface ModuleScan {
  symbols: ModuleSymbols;
  errors: ScanDiagnostic[];
  unreadable: string[];
  observed?: Observed;
  /** The kept form: made as it was scanned (every thread makes it), or the form it came in (a kept file). */
  stored?: StoredModuleScan;
}

/** `objects` by module ("vmlinux" for built-in code), modules in the order they first appear. */
export function objectsByModule(objects: readonly TreeObject[]): Map<string, TreeObject[]> {
  const out = new Map<string, TreeObject[]>();
  for (const o of objects) {
    if (o.other) continue;
    const k = o.module ?? 'vmlinux';
    const l = out.get(k);
    if (l) l.push(o);
    else out.set(k, [o]);
  }
  return out;
}

/** Scans one module's objects; with `observe`, records what it reads (for keeping the result per module). */
export function scanModule(name: string, objects: readonly TreeObject[], objtree: string, env: ScanEnvironment, observe = false): ModuleScan {
  const run = (): ModuleScan => {
    const m: ModuleSymbols = { name, objects: [], exports: [], modinfo: [], identifiers: new Set(), functions: new Map(), declared: new Set(), sharedHeaders: new Set() };
    const errors: ScanDiagnostic[] = [];
    const unreadable: string[] = [];
    for (const obj of objects) {
      m.objects.push(obj.object);
      let text: string;
      // Generated sources are named relative to the build directory (kbuild runs there).
      const source = resolve(objtree, obj.source);
      noteContent(source);
      try {
        text = readFileSync(source, 'latin1');
      } catch {
        unreadable.push(obj.source);
        continue;
      }
      const flags = compileFlags(obj.argv, objtree);
      if (obj.source.endsWith('.S')) flags.defines.unshift(['__ASSEMBLER__', '1']);
      const s = scanSource(source, text, flags, env, m);
      m.exports.push(...s.exports);
      m.modinfo.push(...s.modinfo);
      errors.push(...s.errors);
    }
    return { symbols: m, errors, unreadable };
  };
  if (!observe) return run();
  const observed: Observed = new Map();
  return { ...observing(observed, run), observed };
}

/** Scans `objects` into `into` (modules by name); returns errors and unreadable sources. */
export function scanObjects(objects: readonly TreeObject[], objtree: string, env: ScanEnvironment, into: Map<string, ModuleSymbols>): { errors: ScanDiagnostic[]; unreadable: string[] } {
  const errors: ScanDiagnostic[] = [];
  const unreadable: string[] = [];
  for (const [name, list] of objectsByModule(objects)) {
    const s = scanModule(name, list, objtree, env);
    into.set(name, s.symbols);
    errors.push(...s.errors);
    unreadable.push(...s.unreadable);
  }
  return { errors, unreadable };
}

/** One thread: scans whatever objects it is given. */
export function scanTree(o: TreeScanOptions, env?: ScanEnvironment): TreeScan {
  const environment = env ?? scanEnvironment(o, treeCompilerMacros(o.objects));
  const modules = new Map<string, ModuleSymbols>();
  const { errors, unreadable } = scanObjects(o.objects, o.objtree, environment, modules);
  return { modules, errors, unreadable, headers: { files: environment.index.files, bytes: environment.index.bytes }, index: environment.index };
}
