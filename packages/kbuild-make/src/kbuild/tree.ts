import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { SourceError } from '@nx-kbuild/diagnostics';
import { MakeEvaluator, variable, type Variable } from '../make/evaluator';
import { forgetDirectories } from '../make/wildcard';
import { dirRules, reachableObjects, type DirRule } from './goals';
import { matchPattern, words } from '../make/words';
import { exists, existsInSourceTree, observing, type Observations, type Observed } from '../memo/observations';

/** Flags a kbuild directory Makefile contributes to the objects it builds. */
export interface DirFlags {
  /** KBUILD_CFLAGS as this directory sees it: the global value plus every parent's subdir-ccflags-y. */
  kbuildCflags: string;
  ccflags: string;
  ccflagsRemove: string;
  /** CFLAGS_<stem>.o and CFLAGS_REMOVE_<stem>.o by stem (path relative to the directory, no suffix). */
  perObject: Record<string, { add: string; remove: string }>;
  ldflags: string;
  /** OBJECT_FILES_NON_STANDARD for the directory and per object stem. */
  objtoolSkipDir: string;
  objtoolSkip: Record<string, string>;
}

export interface ObjectSpec {
  /** Absolute path of the .o file. */
  object: string;
  /** Absolute path of the source file. */
  source: string;
  /** Path of the object relative to its directory, without suffix (kbuild's target-stem). */
  stem: string;
  /** The source is made by a rule of the directory's Makefile (it need not exist yet). */
  generated?: boolean;
  /** Made by a rule of the directory from another object (objcopy), which is compiled first. */
  input?: ObjectInput;
  /** Whole-tree mode: files a rule of the directory makes that the object also depends on (see BuiltinObject.made). */
  made?: string[];
}

/** An object compiled only to make another one from it (`$(obj)/x_objcopy.o: $(obj)/x.o`). */
export interface ObjectInput {
  object: string;
  source: string;
  generated?: boolean;
}

export interface ModuleSpec {
  /** Module name as modpost and modinfo name it: the basename of the module's .o. */
  name: string;
  /** Absolute path of the module without suffix (kbuild's modules.order entry minus `.o`). */
  path: string;
  dir: string;
  /** True when built from several objects (`foo-y := a.o b.o`): linked with `ld -r`. */
  composite: boolean;
  members: ObjectSpec[];
  flags: DirFlags;
  /** The Makefile that names the module, and the line. */
  definedIn: { file: string; line: number };
}

export interface TreeDiagnostic {
  file: string;
  line: number;
  severity: 'warning' | 'error';
  message: string;
}

export interface BuiltinObject {
  /** Absolute path of the object. */
  object: string;
  /** The composite built-in object it is linked into (foo.o for foo-y), if any. */
  composite?: string;
  /** `lib` objects go into the directory's lib.a (lib-y); the others into built-in.a. */
  kind: 'built-in' | 'lib';
  /** The kbuild directory whose Makefile lists it (its built-in.a or lib.a holds it). */
  dir: string;
  /** Whole-tree mode: its source, and whether a rule of the directory generates it. */
  source: string;
  generated?: boolean;
  input?: ObjectInput;
  /**
   * Files a rule of the directory makes that the object also depends on (`$(obj)/crc32.o:
   * $(obj)/crc32table.h`), relative to the directory: compiling it needs them made first.
   */
  made?: string[];
}

export interface KbuildDirectory {
  dir: string;
  /** The directory whose Makefile names this one (undefined for the root). */
  parent?: string;
  /** Named in the parent's obj-y: its built-in.a is linked (need-builtin=1). */
  builtin: boolean;
  /** Its modules go into modules.order (need-modorder=1): named in the parent's obj-y or obj-m. */
  modorder: boolean;
}

/**
 * An object kbuild compiles that is neither linked into vmlinux nor part of a module: the vDSO's,
 * the realmode trampoline's, the EFI stub's (objects of subdir-y directories), built to make a blob.
 */
export interface OtherObject {
  object: string;
  source: string;
  generated?: boolean;
  input?: ObjectInput;
  /** The kbuild directory that builds it. */
  dir: string;
  /** Targets whose prerequisites lead to it, outermost first: make passes their variables on. */
  via: string[];
}

export interface ModuleTree {
  root: string;
  /** Modules in kbuild's modules.order order. */
  modules: ModuleSpec[];
  /** Whole-tree mode: objects linked into vmlinux, in link order (built-in.a, then lib.a, per directory). */
  builtin: BuiltinObject[];
  /** Every Makefile/Kbuild file read. */
  makefiles: string[];
  /** Every kbuild directory visited, parents before children (each one is a sub-make of kbuild). */
  directories: KbuildDirectory[];
  /** Whole-tree mode: objects compiled but neither built in nor in a module. */
  others: OtherObject[];
  diagnostics: TreeDiagnostic[];
}

export interface TreeOptions {
  /** Absolute path of the external module tree (kbuild's M=). */
  root: string;
  /** Directory make runs in (the kernel build directory). */
  kernelDir: string;
  /** Variables every Kbuild file sees: kernel config (auto.conf), tree config, exported kbuild variables. */
  variables: Record<string, string>;
  /** KBUILD_CFLAGS from the probe. */
  kbuildCflags: string;
  /**
   * 'c': every object must have a C source (what the build passes support today).
   * 'any': also assembler sources, and sources a rule of the directory generates (the structure of
   * a whole kernel tree; the commands for those come later).
   */
  sources?: 'c' | 'any';
  /** Directories evaluated by an earlier run, reused when nothing they looked at changed. */
  memo?: StructureMemo;
  /**
   * Whole-tree mode: told of each directory as soon as what it builds itself is known (after its
   * subdirectories named in obj-y/obj-m), with its ancestors (`chain`, root first, ending with it),
   * so its commands can be expanded while the pass goes on.
   */
  onDirectory?: (chain: readonly KbuildDirectory[], own: DirectoryObjects) => void;
}

/** The objects one directory's Makefile builds itself (its subdirectories' not included). */
export interface DirectoryObjects {
  modules: ModuleSpec[];
  /** Its built-in.a and lib.a objects (if they are linked: see ModuleTree.builtin). */
  builtin: BuiltinObject[];
  others: OtherObject[];
}

/** How a directory is reached: the arguments of its evaluation. */
export interface VisitArgs {
  dir: string;
  /** KBUILD_CFLAGS with every ancestor's subdir-ccflags-y. */
  inheritedCflags: string;
  parent?: string;
  /** Named in the parent's obj-y. */
  inBuiltin: boolean;
  role: 'linked' | 'other';
  /** What a sub-make started by a recipe is asked for. */
  goals: string[];
}

/** What one directory's Makefile contributes to the tree, replayable without evaluating it. */
export interface DirStructure {
  file: string;
  entry: KbuildDirectory;
  diagnostics: TreeDiagnostic[];
  builtin: { own: BuiltinObject[]; order: string[] };
  /** Its modules and the subdirectories it names, in make's order. */
  steps: ({ visit: VisitArgs } | { module: ModuleSpec })[];
  /**
   * Whole-tree mode: objects its rules build for something else, and the directories they make
   * in, found from the objects known under it (`known`: their names, its own and its subdirectories').
   */
  post?: { known: string; others: OtherObject[]; visits: VisitArgs[] };
  /** What its evaluation looked at (see memo/observations). */
  observed: Observations;
}

/** Directory evaluations kept between runs; `lookup` answers only when nothing they looked at changed. */
export interface StructureMemo {
  lookup(key: string): DirStructure | undefined;
  /** `fresh`: evaluated in this run (not as the memo had it). */
  keep(key: string, record: DirStructure, fresh: boolean): void;
}

export const visitKey = (a: VisitArgs): string => JSON.stringify([a.dir, a.inheritedCflags, a.parent ?? null, a.inBuiltin, a.role, a.goals]);

const SOURCE_SUFFIXES = ['.c', '.S', '.rs'];

/** kbuild's generic generated sources (scripts/Makefile.lib): object stem suffix -> the input it is made from. */
const GENERIC_GENERATORS: [stemSuffix: string, source: string, input: string][] = [
  ['.asn1', '.asn1.c', '.asn1'],
  ['.tab', '.tab.c', '.y'],
  ['.lex', '.lex.c', '.l'],
  ['.dtb', '.dtb.S', '.dts'],
  ['.dtbo', '.dtbo.S', '.dtso'],
];

function kbuildFile(dir: string): string | undefined {
  for (const name of ['Kbuild', 'Makefile']) {
    const f = join(dir, name);
    if (existsInSourceTree(f)) return f;
  }
  return undefined;
}

/**
 * The existing input a rule of the directory makes `name` from (`$(obj)/%.S: $(src)/%.pl`,
 * `$(obj)/sub/%.o: $(srctree)/other/%.c`): the first prerequisite with the stem filled in. make
 * applies a pattern rule only when that input exists.
 */
function ruleInput(rules: DirRule[], dir: string, name: string): string | undefined {
  for (const { targets, prereq } of rules) {
    if (!prereq) continue;
    for (const t of targets) {
      const stemOf = matchPattern(t, name);
      if (stemOf === undefined) continue;
      const input = prereq.replace('%', stemOf);
      const abs = input.startsWith('/') ? input : join(dir, input);
      if (exists(abs)) return abs;
    }
  }
  return undefined;
}

const makefileTexts = new Map<string, string>();

/** The object a rule of the directory makes `name` from (`$(obj)/a_objcopy.o: $(obj)/a.o`). */
function objectRuleInput(rules: DirRule[], dir: string, name: string): string | undefined {
  for (const { targets, prereq } of rules) {
    if (!prereq?.endsWith('.o') || !targets.includes(name)) continue;
    return prereq.startsWith('/') ? prereq : join(dir, prereq);
  }
  return undefined;
}

/**
 * Best-effort line of the first mention of `word` in a Makefile (for diagnostics, and each
 * module's definedIn): a word preceded by the line's start, white space, '=' or '/' and followed by
 * white space or the end. A search of the text (4,000 modules ask, each Makefile read once).
 */
function lineOf(file: string, word: string): number {
  let text = makefileTexts.get(file);
  if (text === undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return 1;
    }
    makefileTexts.set(file, text);
  }
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
    const before = at === 0 ? ' ' : text[at - 1];
    const end = at + word.length;
    if ((before === '=' || before === '/' || SPACE.test(before)) && (end === text.length || SPACE.test(text[end]))) return lineAt(text, at);
  }
  return 1;
}

const SPACE = /\s/;

function lineAt(text: string, at: number): number {
  let line = 1;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) line++;
  return line;
}

/**
 * Evaluates an external module tree as kbuild does for `make M=<root>`: reads each directory's
 * Kbuild (or Makefile), follows obj-y/obj-m directory entries, resolves composite objects, and
 * lists modules in modules.order order. Objects with no source and duplicate module names are
 * errors with the Makefile's file:line.
 */
export function evaluateModuleTree(options: TreeOptions): ModuleTree {
  const modules: ModuleSpec[] = [];
  const builtin: BuiltinObject[] = [];
  const makefiles: string[] = [];
  const diagnostics: TreeDiagnostic[] = [];

  const directories: KbuildDirectory[] = [];
  const others: OtherObject[] = [];
  // The config and kbuild's variables, shared by every directory's evaluation (7,000 for a distro config).
  const shared = new Map<string, Variable>(Object.entries(options.variables).map(([k, v]) => [k, variable('simple', v, 'environment')]));
  const builtinByDir = new Map<string, { own: BuiltinObject[]; order: string[] }>();
  /**
   * One kbuild directory. `linked`: reached through obj-y/obj-m, its modules and built-in objects
   * count; `other`: a subdir-y directory or a sub-make a recipe starts, whose objects are built
   * for something else (`goals`: what that sub-make is asked for).
   */
  /**
   * One kbuild directory's Makefile, evaluated: what it contributes, as steps to replay (its own
   * modules and the subdirectories it names, in make's order), and the objects its rules build
   * for something else, which depend on the objects known under it (`post`).
   */
  const evaluateDirectory = (a: VisitArgs): { record: DirStructure; post: (known: ReadonlySet<string>) => DirStructure['post'] } => {
    const { dir, inheritedCflags, parent, inBuiltin, role, goals } = a;
    const observed: Observed = new Map();
    return observing(observed, () => {
      const file = kbuildFile(dir);
      if (!file) throw new SourceError(dir, 0, 'no Kbuild or Makefile in this directory (named as a subdirectory)');
      const ownDiagnostics: TreeDiagnostic[] = [];
      const ev = new MakeEvaluator({ cwd: options.kernelDir, commandLine: {}, allowShell: true, base: shared });
      ev.setSimple('KBUILD_CFLAGS', inheritedCflags, 'environment');
      ev.setSimple('obj', dir, 'file');
      ev.setSimple('src', dir, 'file');
      ev.setSimple('KBUILD_EXTMOD', options.root, 'command line');
      ev.setSimple('M', options.root, 'command line');
      ev.evalFile(file);
      for (const m of ev.messages) {
        if (m.kind === 'warning') ownDiagnostics.push({ file: m.loc.file, line: m.loc.line, severity: 'warning', message: m.text });
      }

      const get = (name: string) => ev.get(name);
      const objY = words(get('obj-y'));
      const objM = words(get('obj-m')).filter((o) => !objY.includes(o));
      const subdirCflags = get('subdir-ccflags-y');
      const dirCflags = subdirCflags.trim() === '' ? inheritedCflags : `${inheritedCflags} ${subdirCflags}`;

      for (const o of options.sources === 'any' ? [] : objY) {
        if (!o.endsWith('/')) {
          ownDiagnostics.push({
            file,
            line: lineOf(file, o),
            severity: 'warning',
            message: `${o} is in obj-y: built-in objects are not built for external modules (M=); it is ignored, as kbuild does`,
          });
        }
      }
      // subdir-y/m-only directories: visited in whole-tree mode (their objects are 'other'), ignored for M=.
      const subdirOnly = words(get('subdir-y') + ' ' + get('subdir-m')).filter((d) => !objY.includes(d + '/') && !words(get('obj-m')).includes(d + '/'));
      for (const d of options.sources === 'any' ? [] : subdirOnly) {
        ownDiagnostics.push({
          file,
          line: lineOf(file, d),
          severity: 'warning',
          message: `${d} is in subdir-y/m only: kbuild does not put its modules into modules.order; it is ignored`,
        });
      }

      const flags: DirFlags = {
        kbuildCflags: dirCflags,
        ccflags: `${get('ccflags-y')} ${get('EXTRA_CFLAGS')}`.trim(),
        ccflagsRemove: get('ccflags-remove-y'),
        perObject: {},
        ldflags: `${get('ldflags-y')} ${get('EXTRA_LDFLAGS')}`.trim(),
        objtoolSkipDir: get('OBJECT_FILES_NON_STANDARD'),
        objtoolSkip: {},
      };

      // Whole-tree mode: files a rule of this directory makes, named in `targets` or by a rule's targets.
      const rules = options.sources === 'any' ? dirRules(ev, dir) : [];
      const declared = new Set(words(get('targets')));
      // (Makefile.lib's `$(obj)/%: $(src)/%_shipped` makes any file that has a _shipped copy.)
      const madeHere = (name: string) =>
        declared.has(name) || rules.some((r) => r.targets.includes(name)) || ruleInput(rules, dir, name) !== undefined || (options.sources === 'any' && existsInSourceTree(join(dir, `${name}_shipped`)));
      // Prerequisites a rule of the directory gives an object besides its source, made by the directory's
      // rules (whole-tree mode only: otherwise there are no rules).
      const madeInputs = (name: string): { made?: string[] } => {
        const made = rules
          .filter((r) => r.targets.includes(name))
          .flatMap((r) => r.prereqs)
          .filter((p) => !p.startsWith('/') && !p.endsWith('.o') && !existsInSourceTree(join(dir, p)) && madeHere(p));
        return made.length ? { made: [...new Set(made)] } : {};
      };

      // An object's source: <stem>.c/.S/.rs in the directory, a rule's input, or a generated file.
      // Paths are spelled as kbuild spells them ($(obj)/name, `..` kept): the same file on disk.
      type Found = { source: string; generated?: boolean; input?: ObjectInput };
      // Asked for each object, then again while following the directory's goals: found once.
      const sources = new Map<string, Found | undefined>();
      const sourceOf = (m: string): Found | undefined => {
        if (sources.has(m)) return sources.get(m);
        const found = findSource(m);
        sources.set(m, found);
        return found;
      };
      const findSource = (m: string): Found | undefined => {
        const stem = m.slice(0, -2);
        const plain = SOURCE_SUFFIXES.map((x) => `${dir}/${stem}${x}`).find((p) => existsInSourceTree(p));
        if (plain) return { source: plain };
        if (options.sources !== 'any') return undefined;
        const fromObject = objectRuleInput(rules, dir, m);
        if (fromObject?.startsWith(dir + '/')) {
          const compiled = sourceOf(fromObject.slice(dir.length + 1));
          if (compiled && !compiled.input) return { source: fromObject, generated: true, input: { object: fromObject, ...compiled } };
        }
        const input = ruleInput(rules, dir, m);
        if (input) return { source: input };
        // A source made by a rule here ($(obj)/foo.c: ...), as kbuild's generated sources are.
        const made = SOURCE_SUFFIXES.map((x) => `${stem}${x}`).find((name) => madeHere(name));
        if (made) return { source: `${dir}/${made}`, generated: true };
        // Makefile.lib's `$(obj)/%: $(src)/%_shipped`: the shipped copy is copied into the build dir.
        const shipped = SOURCE_SUFFIXES.map((x) => `${stem}${x}`).find((name) => existsInSourceTree(`${dir}/${name}_shipped`));
        if (shipped) return { source: `${dir}/${shipped}`, generated: true };
        const generic = GENERIC_GENERATORS.find(([suffix, , input]) => stem.endsWith(suffix) && existsInSourceTree(join(dir, stem.slice(0, -suffix.length) + input)));
        if (generic) return { source: `${dir}/${stem.slice(0, -generic[0].length)}${generic[1]}`, generated: true };
        return undefined;
      };
      const builtinSource = (m: string): Found => {
        const found = sourceOf(m);
        if (!found) throw new SourceError(file, lineOf(file, m), `no source for ${m}: ${join(dir, m.slice(0, -2))}.c does not exist`);
        return found;
      };

      // Whole-tree mode: the built-in objects, in link order (obj-y, composites expanded, then lib-y).
      const builtinHere: BuiltinObject[] = [];
      if (options.sources === 'any' && role === 'linked') {
        for (const o of new Set(objY)) {
          if (o.endsWith('/')) continue;
          const base = o.slice(0, -2);
          const parts = [...new Set(['-objs', '-y'].flatMap((suffix) => words(get(base + suffix))))];
          if (parts.length) for (const p of parts) builtinHere.push({ object: `${dir}/${p}`, composite: `${dir}/${o}`, kind: 'built-in', dir, ...builtinSource(p), ...madeInputs(p) });
          else builtinHere.push({ object: `${dir}/${o}`, kind: 'built-in', dir, ...builtinSource(o), ...madeInputs(o) });
        }
        const libY = [...new Set(words(`${get('lib-y')} ${get('lib-m')}`))].filter((o) => !objY.includes(o)).sort();
        for (const o of libY) builtinHere.push({ object: `${dir}/${o}`, kind: 'lib', dir, ...builtinSource(o), ...madeInputs(o) });
      }

      // modules.order: modules of obj-y subdirectories first, then obj-m in order (kbuild's rule).
      // make's $^ lists a prerequisite once: an object named twice in obj-m is one module, first place.
      const ordered = [...new Set([...objY.filter((o) => o.endsWith('/')), ...objM])];
      const steps: DirStructure['steps'] = [];
      for (const entry of ordered) {
        if (entry.endsWith('/')) {
          steps.push({ visit: { dir: join(dir, entry.slice(0, -1)), inheritedCflags: dirCflags, parent: dir, inBuiltin: objY.includes(entry), role, goals: [] } });
          continue;
        }
        if (role === 'other') continue; // kbuild does not build modules of a subdir-y directory into modules.order
        if (!entry.endsWith('.o')) {
          throw new SourceError(file, lineOf(file, entry), `'${entry}' in obj-m is neither an object (.o) nor a directory (/)`);
        }
        const base = entry.slice(0, -2);
        const suffixVars = ['-objs', '-y', '-m'].map((s) => words(get(base + s)));
        const composite = suffixVars.some((w) => w.length > 0) || get(base + '-') !== '';
        const memberNames = composite ? [...new Set(suffixVars.flat())] : [entry];
        const members: ObjectSpec[] = [];
        for (const m of memberNames) {
          if (!m.endsWith('.o')) {
            throw new SourceError(file, lineOf(file, m), `'${m}' in ${base}-y/-objs is not an object (.o)`);
          }
          const stem = m.slice(0, -2);
          const found = sourceOf(m);
          if (!found) {
            throw new SourceError(file, lineOf(file, m), `no source for ${m}: ${join(dir, stem)}.c does not exist`);
          }
          const { source, generated, input } = found;
          if (!source.endsWith('.c') && options.sources !== 'any') {
            throw new SourceError(file, lineOf(file, m), `${relative(dir, source)}: only C sources are supported so far`);
          }
          members.push({ object: `${dir}/${m}`, source, stem, ...(generated ? { generated } : {}), ...(input ? { input } : {}), ...madeInputs(m) });
          flags.perObject[stem] = { add: get(`CFLAGS_${stem}.o`), remove: get(`CFLAGS_REMOVE_${stem}.o`) };
          flags.objtoolSkip[stem] = get(`OBJECT_FILES_NON_STANDARD_${stem}.o`);
        }
        // Spelled as kbuild spells it (`..` kept): modules.order and the .mod file use this path.
        const modPath = `${dir}/${base}`;
        steps.push({
          module: {
            name: base.slice(base.lastIndexOf('/') + 1),
            path: modPath,
            dir: dirname(modPath),
            composite,
            members,
            flags,
            definedIn: { file, line: lineOf(file, entry) },
          },
        });
      }
      const record: DirStructure = {
        file,
        entry: { dir, parent, builtin: role === 'linked' && inBuiltin, modorder: role === 'linked' },
        diagnostics: ownDiagnostics,
        builtin: { own: builtinHere, order: role === 'linked' ? objY : [] },
        steps,
        observed,
      };

      // What this directory's sub-make builds besides modules and built-in objects, in make's order:
      // extra-y, lib.a, built-in.a, modules, always-y (and a recipe's goal for a sub-make).
      const post = (known: ReadonlySet<string>): DirStructure['post'] =>
        observing(observed, () => {
          const here = (o: string) => `${dir}/${o}`;
          const libY = role === 'other' ? words(`${get('lib-y')} ${get('lib-m')}`) : [];
          const goalNames = [
            ...words(get('extra-y')),
            ...libY,
            ...[...known],
            ...words(`${get('always-y')} ${get('always-m')}`),
            ...goals.map((g) => (g.startsWith(dir + '/') ? g.slice(dir.length + 1) : g)),
          ];
          const generatedSource = (name: string): string[] => {
            if (!name.endsWith('.o')) return [];
            const found = sourceOf(name);
            return found?.generated && !found.input && found.source.startsWith(dir + '/') ? [found.source.slice(dir.length + 1)] : [];
          };
          const reach = reachableObjects(rules, dir, goalNames, known, generatedSource);
          const othersHere: OtherObject[] = [];
          for (const { name, via } of reach.objects) {
            const found = sourceOf(name);
            if (!found) continue; // made by a rule from something else (a linked blob, a host tool's output)
            othersHere.push({ object: here(name), dir, via: via.map(here), ...found });
          }
          const visits: VisitArgs[] = [
            ...subdirOnly.map((d) => ({ dir: join(dir, d), inheritedCflags: dirCflags, parent: dir, inBuiltin: false, role: 'other' as const, goals: [] })),
            ...reach.subMakes.map((sub) => ({ dir: sub.dir, inheritedCflags: dirCflags, parent: dir, inBuiltin: false, role: 'other' as const, goals: [sub.goal] })),
          ];
          return { known: [...known].join('\n'), others: othersHere, visits };
        });
      return { record, post };
    });
  };

  /**
   * One kbuild directory. `linked`: reached through obj-y/obj-m, its modules and built-in objects
   * count; `other`: a subdir-y directory or a sub-make a recipe starts, whose objects are built
   * for something else (`goals`: what that sub-make is asked for). Taken from the memo when
   * nothing its evaluation looked at has changed.
   */
  const visited = new Set<string>();
  /** The directories being visited, root first (their entries): the chain onDirectory is told. */
  const chain: KbuildDirectory[] = [];
  const visit = (a: VisitArgs): void => {
    if (visited.has(a.dir)) return;
    const key = visitKey(a);
    const live = options.memo?.lookup(key) ? undefined : evaluateDirectory(a);
    const record = live?.record ?? options.memo!.lookup(key)!;
    makefiles.push(record.file);
    directories.push(record.entry);
    visited.add(a.dir);
    chain.push(record.entry);
    try {
      walk(a, key, live, record);
    } finally {
      chain.pop();
    }
  };
  /** A visited directory's record replayed: its modules and subdirectories in order, then what its rules build for something else. */
  const walk = (a: VisitArgs, key: string, live: ReturnType<typeof evaluateDirectory> | undefined, record: DirStructure): void => {
    diagnostics.push(...record.diagnostics);
    builtinByDir.set(a.dir, record.builtin);
    const modulesBefore = modules.length;
    for (const step of record.steps) {
      if ('visit' in step) visit(step.visit);
      else modules.push(step.module);
    }
    if (options.sources !== 'any') return options.memo?.keep(key, record, live !== undefined);
    const known = new Set<string>();
    for (const b of record.builtin.own) known.add(b.object.slice(a.dir.length + 1));
    for (const m of modules.slice(modulesBefore)) for (const o of m.members) if (o.object.startsWith(a.dir + '/')) known.add(o.object.slice(a.dir.length + 1));
    if (record.post?.known !== [...known].join('\n')) {
      // Objects under it changed since the memo was taken: its rules are walked again.
      live ??= evaluateDirectory(a);
      record = { ...record, observed: live.record.observed, post: live.post(known) };
    }
    options.memo?.keep(key, record, live !== undefined);
    others.push(...record.post!.others);
    options.onDirectory?.(chain, {
      modules: record.steps.flatMap((s) => ('module' in s ? [s.module] : [])),
      builtin: record.builtin.own,
      others: record.post!.others,
    });
    for (const v of record.post!.visits) visit(v);
  };

  makefileTexts.clear();
  forgetDirectories();
  visit({ dir: options.root, inheritedCflags: options.kbuildCflags, inBuiltin: true, role: 'linked', goals: [] });
  // Link order: each directory's obj-y entries in order, a subdirectory's objects where it is named.
  const link = (dir: string): void => {
    const entry = builtinByDir.get(dir);
    if (!entry) return;
    const own = entry.own.filter((b) => b.kind === 'built-in');
    for (const o of new Set(entry.order)) {
      if (o.endsWith('/')) link(join(dir, o.slice(0, -1)));
      else builtin.push(...own.filter((b) => (b.composite ?? b.object) === `${dir}/${o}`));
    }
    builtin.push(...entry.own.filter((b) => b.kind === 'lib'));
  };
  if (options.sources === 'any') link(options.root);

  // scripts/modules-check.sh: two modules with one basename would collide at load time.
  const seen = new Map<string, ModuleSpec>();
  for (const m of modules) {
    const prev = seen.get(m.name);
    if (prev) {
      throw new SourceError(
        m.definedIn.file,
        m.definedIn.line,
        `module name conflict: ${m.name}.ko is built here and at ${prev.definedIn.file}:${prev.definedIn.line} (kbuild's modules-check rejects it)`,
      );
    }
    seen.set(m.name, m);
  }
  makefileTexts.clear();
  return { root: options.root, modules, builtin, makefiles, directories, others, diagnostics };
}
