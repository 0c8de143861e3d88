import { dotTarget, type Command, type CompileStep, type GenerateCommands } from './commands';
import type { ArchiveCommand, KernelTree, MadeFile, ObjectCommand } from './in-tree';
import { compileStep, generationFor } from './in-tree-modules';
import { shellWords, splitUnquoted } from './shell-words';

/** A directory's built-in.a or lib.a: `ar` run as an argument array, and the .cmd file kbuild writes for it. */
export interface ArchiveStep {
  archive: string;
  cmdFile: string;
  /** The archiver with its members (thin archives: `ar cDPrST`; a subdirectory's built-in.a brings its members). */
  ar: Command;
  members: string[];
  /** cmd_ar_builtin / cmd_ar as kbuild expands it: savedcmd_ of the .cmd file. */
  savedcmd: string;
}

/** What builds one kbuild directory's built-in code: its objects, then its archives. */
export interface BuiltinDirCommands {
  /** Relative to the source tree (`.` for its root). */
  dir: string;
  /** Files the directory's rules make before its objects compile (generated sources, headers). */
  generate?: GenerateCommands;
  objects: CompileStep[];
  archives: ArchiveStep[];
  /** Directories whose built-in.a its built-in.a takes in (they are archived first). */
  subdirs: string[];
}

/** A directory nx-kbuild cannot build the built-in code of yet, and why (reported, not dropped). */
export interface UnbuildableDirectory {
  dir: string;
  reason: string;
}

/**
 * The commands that build the built-in code of the directories `kt` was evaluated for with
 * builtinSteps: each object's compile, objtool and genksyms pipeline (Makefile.build) and the
 * directory's archives, in link order. Paths are relative to the build directory.
 */
export function inTreeBuiltinCommands(kt: KernelTree): { dirs: BuiltinDirCommands[]; unbuildable: UnbuildableDirectory[] } {
  const byDir = new Map<string, ArchiveCommand[]>();
  for (const a of kt.archives) (byDir.get(a.dir) ?? byDir.set(a.dir, []).get(a.dir)!).push(a);
  const dirs: BuiltinDirCommands[] = [];
  const unbuildable: UnbuildableDirectory[] = [];
  const root = kt.tree.root;
  const madeFor = new Map(kt.tree.builtin.flatMap((b) => (b.made ? [[b.object.slice(root.length + 1), b.made] as const] : [])));
  const madeIn = new Map<string, MadeFile[]>();
  for (const f of kt.madeFiles) if (!f.module) (madeIn.get(f.dir) ?? madeIn.set(f.dir, []).get(f.dir)!).push(f);
  // Each directory's built-in objects, grouped once (a whole kernel's 15,000 objects, 800 directories).
  const objectsOf = new Map<string, ObjectCommand[]>();
  for (const o of kt.objects) if (!o.module && !o.other) (objectsOf.get(o.dir) ?? objectsOf.set(o.dir, []).get(o.dir)!).push(o);
  for (const [dir, archives] of byDir) {
    const objects = objectsOf.get(dir) ?? [];
    const copied = objects.find((o) => o.inputOf);
    if (copied) {
      unbuildable.push({ dir, reason: `${copied.object} is made from another object by a directory rule (objcopy); not built by nx-kbuild yet` });
      continue;
    }
    // Files the directory's rules make first: generated sources, headers its objects include.
    const generated = objects.find((o) => o.generated);
    const needs = objects.find((o) => madeFor.has(o.object));
    const made = generationFor(generated ? `${generated.object} is compiled from ${generated.source}` : needs && `${needs.object} needs ${madeFor.get(needs.object)!.join(', ')}`, madeIn.get(dir) ?? []);
    if ('reason' in made) {
      unbuildable.push({ dir, reason: made.reason });
      continue;
    }
    const steps = archives.map((a) => archiveStep(a.archive, a.command));
    const own = new Set(objects.map((o) => o.object));
    const builtinA = steps.find((s) => s.archive.endsWith('/built-in.a'));
    const subdirs = (builtinA?.members ?? []).filter((m) => !own.has(m) && m.endsWith('/built-in.a')).map((m) => m.slice(m.startsWith('./') ? 2 : 0, -'/built-in.a'.length));
    dirs.push({ dir, ...made, objects: objects.map(compileStep), archives: steps, subdirs });
  }
  // A built-in.a takes its subdirectories' in: a directory is built only if they all are.
  for (let changed = true; changed; ) {
    changed = false;
    const built = new Set(dirs.map((d) => d.dir));
    for (const d of dirs) {
      const missing = d.subdirs.find((s) => !built.has(s));
      if (missing === undefined) continue;
      const why = unbuildable.find((u) => u.dir === missing);
      unbuildable.push({ dir: d.dir, reason: `its built-in.a takes in ${missing}/built-in.a, ${why ? 'which is not built by nx-kbuild yet' : 'which is not among the directories asked for'}` });
      dirs.splice(dirs.indexOf(d), 1);
      changed = true;
      break;
    }
  }
  return { dirs, unbuildable };
}

/**
 * cmd_ar_builtin (`rm -f $@; printf "$(obj)/%s " <names> | xargs $(AR) cDPrST $@`) or cmd_ar
 * (`rm -f $@; $(AR) cDPrsT $@ <members>`) as one argument array: what the shell would run.
 */
export function archiveStep(archive: string, text: string): ArchiveStep {
  const unsupported = () => new Error(`${archive}: unexpected archive command (not cmd_ar_builtin or cmd_ar): ${text}`);
  const [rm, rest, ...more] = splitUnquoted(text, ';');
  if (more.length || rest === undefined || shellWords(rm).join(' ') !== `rm -f ${archive}`) throw unsupported();
  const stages = splitUnquoted(rest, '|');
  let argv: string[];
  if (stages.length === 1) argv = shellWords(stages[0]);
  else if (stages.length === 2) {
    const [printf, format, ...names] = shellWords(stages[0]);
    const [xargs, ...ar] = shellWords(stages[1]);
    if (printf !== 'printf' || xargs !== 'xargs' || !format?.includes('%s')) throw unsupported();
    // printf repeats its format for each name; xargs appends what it printed, split at white space.
    argv = [...ar, ...names.flatMap((n) => format.replace('%s', n).split(/\s+/).filter((w) => w !== ''))];
  } else throw unsupported();
  const at = argv.indexOf(archive);
  if (at < 0) throw unsupported();
  return { archive, cmdFile: dotTarget(archive, '.cmd'), ar: { argv, text }, members: argv.slice(at + 1), savedcmd: text };
}
