/**
 * The symbol scanner over a whole tree: every object the configuration compiles (from the kbuild
 * evaluator), scanned as its own command compiles it, gathered per module. Modules are named as
 * Module.symvers names them: the module's path without .ko, or "vmlinux" for built-in code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noteContent, shellWords } from '@nx-kbuild/kbuild-make';
import { buildHeaderIndex, type HeaderIndex } from './header-index';
import { compileFlags, relevantHeaderMacros, scanSource, type FoundExport, type FoundModinfo, type ScanDiagnostic, type ScanEnvironment } from './source-scan';

/** One compiled object, as the kbuild evaluator lists it. */
export interface TreeObject {
  object: string;
  source: string;
  /** The compile command (argument vector, after shell unquoting). */
  argv: readonly string[];
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
  return objects.map((o) => ({ object: o.object, source: o.source, module: o.module, other: o.other ?? o.inputOf !== undefined, argv: shellWords(o.command.split(' ; ')[0]) }));
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

export function scanEnvironment(o: Pick<TreeScanOptions, 'srctree' | 'srcarch' | 'config'>, compiler: ReadonlyMap<string, string>, index?: HeaderIndex): ScanEnvironment {
  const idx = index ?? buildHeaderIndex([join(o.srctree, 'arch', o.srcarch, 'include'), join(o.srctree, 'include')]);
  const predefined = new Map([...compiler, ...configMacros(o.config)]);
  return { index: idx, predefined, relevant: relevantHeaderMacros(idx) };
}

/** Scans `objects` into `into` (modules by name); returns errors and unreadable sources. */
export function scanObjects(objects: readonly TreeObject[], objtree: string, env: ScanEnvironment, into: Map<string, ModuleSymbols>): { errors: ScanDiagnostic[]; unreadable: string[] } {
  const errors: ScanDiagnostic[] = [];
  const unreadable: string[] = [];
  for (const obj of objects) {
    if (obj.other) continue;
    const name = obj.module ?? 'vmlinux';
    let m = into.get(name);
    if (!m) into.set(name, (m = { name, objects: [], exports: [], modinfo: [], identifiers: new Set(), functions: new Map(), declared: new Set(), sharedHeaders: new Set() }));
    m.objects.push(obj.object);
    let text: string;
    noteContent(obj.source);
    try {
      text = readFileSync(obj.source, 'latin1');
    } catch {
      unreadable.push(obj.source);
      continue;
    }
    const flags = compileFlags(obj.argv, objtree);
    if (obj.source.endsWith('.S')) flags.defines.unshift(['__ASSEMBLER__', '1']);
    const s = scanSource(obj.source, text, flags, env);
    m.exports.push(...s.exports);
    m.modinfo.push(...s.modinfo);
    for (const id of s.identifiers) m.identifiers.add(id);
    for (const [f, refs] of s.functions) m.functions.set(f, refs);
    for (const d of s.declared) m.declared.add(d);
    for (const h of s.sharedHeaders) m.sharedHeaders.add(h);
    errors.push(...s.errors);
  }
  return { errors, unreadable };
}

/** One thread: scans whatever objects it is given. */
export function scanTree(o: TreeScanOptions, env?: ScanEnvironment): TreeScan {
  const first = o.objects.find((x) => x.source.endsWith('.c'));
  const environment = env ?? scanEnvironment(o, first ? compilerMacros(first.argv) : new Map());
  const modules = new Map<string, ModuleSymbols>();
  const { errors, unreadable } = scanObjects(o.objects, o.objtree, environment, modules);
  return { modules, errors, unreadable, headers: { files: environment.index.files, bytes: environment.index.bytes }, index: environment.index };
}
