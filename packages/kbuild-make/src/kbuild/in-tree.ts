import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CachedShell } from '@nx-kbuild/kconfig';
import { forgetDirectories } from '../make/wildcard';
import { decode, environmentDigest, EvaluationMemo } from '../memo/evaluation-memo';
import { forgetSignatures, mergeObservation, type Observed } from '../memo/observations';
import type { KbuildEnvironment } from './build-dir';
import { jobSignature, subMake, subMakeKey, SubMakes, type Directory, type DirRecord, type Exported, type JobResult, type NumberedJob, type ObjectJob } from './sub-makes';
import { evaluateModuleTree, type BuiltinObject, type DirectoryObjects, type KbuildDirectory, type ModuleSpec, type ModuleTree, type ObjectInput, type OtherObject, type TreeOptions } from './tree';
import { startWorker, UnitQueue, workerScript, type ThreadWorker } from './unit-queue';
import type { MadeFilesPlan } from './made-files';

/** One object kbuild compiles, with the command its `.cmd` file records. */
export interface ObjectCommand {
  /** The object, relative to the build directory (kbuild's spelling, `..` kept). */
  object: string;
  /** The source as make finds it: in the build directory when generated, else under $(srctree). */
  source: string;
  /** The kbuild directory whose Makefile names the object. */
  dir: string;
  /** `$(cmd_cc_o_c)` / `$(cmd_as_o_S)` expanded for this object: savedcmd_ of its `.cmd` file. */
  command: string;
  /** The module it is linked into, or undefined for built-in objects. */
  module?: string;
  /** Not linked itself: compiled to make this object from it (objcopy). */
  inputOf?: string;
  /** Its source is made by a rule of its directory (it is in the build directory). */
  generated?: true;
  /** Neither built in nor in a module: compiled for something else (vDSO, realmode, EFI stub). */
  other?: true;
  /** With moduleSteps, for module objects: `$(cmd_gensymtypes_c)` (cpp | genksyms) for this object. */
  genksyms?: string;
}

/** With moduleSteps: how a module's object list and module object are made. */
export interface ModuleLink {
  module: string;
  dir: string;
  /** cmd_mod: the `<module>.mod` object list (savedcmd_ of its .cmd file). */
  modCommand: string;
  /** cmd_ld_multi_m for a composite module (`ld -r`, objtool included); undefined otherwise. */
  command?: string;
}

/** A directory's archive of its built-in code, as kbuild makes it (with builtinSteps). */
export interface ArchiveCommand {
  dir: string;
  /** `<dir>/built-in.a` (its obj-y objects and its subdirectories' built-in.a) or `<dir>/lib.a` (lib-y). */
  archive: string;
  /** cmd_ar_builtin / cmd_ar expanded: savedcmd_ of the archive's .cmd file. */
  command: string;
}

/** A file a directory's rules make for its objects, and how (with the madeFiles option). */
export interface MadeFile {
  /** Relative to the build directory. */
  file: string;
  /** The kbuild directory whose rules make it. */
  dir: string;
  /** The module whose objects need it; undefined for built-in objects. */
  module?: string;
  plan: MadeFilesPlan;
}

export interface KernelTree {
  tree: ModuleTree;
  objects: ObjectCommand[];
  /** With builtinSteps: the archives of the directories asked for. */
  archives: ArchiveCommand[];
  /** With moduleSteps: the `ld -r` of every composite module. */
  moduleLinks: ModuleLink[];
  /** With madeFiles: every file the directories' rules make for the objects, with its plan. */
  madeFiles: MadeFile[];
  /**
   * With a memo: everything this result was evaluated from, as the memo's records observed it
   * (files read, directories listed, paths looked up; see memo/observations). While none of them
   * changed, and neither did the environment, the configuration or the evaluator, the result is
   * the same: a caller can keep what it derived from it on that condition.
   */
  observed?: () => Observed;
}

export interface KernelTreeOptions extends Omit<KbuildEnvironment, 'shell'> {
  /** include/config/auto.conf values (CONFIG_*), for the structure pass. */
  config: Record<string, string>;
  /** Where `$(shell ...)` results of the Makefiles are cached (cc-option probes and the like). */
  shellCache?: string;
  /** Threads to evaluate directories on (default: the machine's cores). */
  threads?: number;
  /**
   * Also expand what building modules needs beyond compiling: each module object's genksyms
   * pipeline and each composite module's `ld -r` (for the Nx build of an in-tree kernel).
   */
  moduleSteps?: boolean | ((modulePath: string) => boolean);
  /**
   * Also expand what building a directory's built-in code needs (for the Nx build of an in-tree
   * kernel): its objects' genksyms pipelines and its built-in.a and lib.a (`dir` relative to the
   * source tree, `.` for its root).
   */
  builtinSteps?: (dir: string) => boolean;
  /**
   * Also plan the files directories' rules make for their objects (generated sources, headers
   * their objects depend on, the host programs that write them): KernelTree.madeFiles.
   */
  madeFiles?: boolean;
  /**
   * Where to keep the evaluation between runs (in the build directory): directories nothing of
   * which changed are taken from it, so a run after one Makefile edit evaluates that directory.
   */
  memoFile?: string;
}

/**
 * The whole kernel as `make O=<objtree> all` builds it: every module and built-in object (from the
 * kbuild tree evaluation) and, for each object, the exact compile command, expanded from the
 * kernel's own scripts/Makefile.build and Makefile.lib evaluated per directory. Each directory
 * starts from the environment its parent exports (subdir-ccflags-y reaches children that way).
 * Directories are shared out between threads one by one (see UnitQueue); when every directory is
 * evaluated, the other threads start on each as soon as the structure pass has found its objects.
 */
export async function evaluateKernelTree(k: KernelTreeOptions): Promise<KernelTree> {
  forgetDirectories();
  forgetSignatures();
  const t0 = Date.now();
  const memo = k.memoFile ? EvaluationMemo.load(k.memoFile, { srctree: k.srctree, objtree: k.objtree, env: k.env, config: k.config }, k.objtree) : undefined;
  // Worker threads run the compiled worker; from TypeScript sources (tests) everything runs here.
  const threads = existsSync(workerScript) ? Math.max(1, k.threads ?? availableParallelism()) : 1;
  const env: KbuildEnvironment = { srctree: k.srctree, objtree: k.objtree, env: k.env };
  // When every directory will be evaluated, the other threads start now and take each directory
  // as the structure pass finds it.
  const pool = threads > 1 && (!memo || memo.empty) ? Array.from({ length: threads - 1 }, () => startWorker(env, k.shellCache)) : [];
  try {
    return await evaluateWith(k, memo, threads, env, pool, t0);
  } finally {
    for (const w of pool) w.stop();
  }
}

async function evaluateWith(k: KernelTreeOptions, memo: EvaluationMemo | undefined, threads: number, env: KbuildEnvironment, pool: ThreadWorker[], t0: number): Promise<KernelTree> {
  const keep = memo !== undefined;
  // The structure pass reads the tree by its absolute path; commands name sources as kbuild spells
  // $(srctree) (`..` for a build directory directly inside the tree).
  const abs = absoluteSource(k);
  const rel = relativeTo(abs);
  const spell = abs === k.srctree ? (p: string) => p : (p: string) => k.srctree + p.slice(abs.length);
  const made = new JobMaker(rel, spell, k.moduleSteps, k.builtinSteps, k.madeFiles ?? false);
  const streamed = pool.length > 0 ? new UnitQueue(pool, keep) : undefined;
  const onDirectory = streamed
    ? (chain: readonly KbuildDirectory[], own: DirectoryObjects) => {
        const jobs = [
          ...own.modules.flatMap((m) => made.module(m)),
          ...own.builtin.flatMap((b) => made.builtin(b)),
          ...own.others.flatMap((o) => made.other(o)),
          ...made.archives(chain[chain.length - 1], own.builtin.some((b) => b.kind === 'lib')),
        ];
        streamed.add({ chain: chain.map((d) => directory(d, rel)), jobs });
      }
    : undefined;
  const tree = plan(k, memo, onDirectory);
  const streamedJobs = made.count;
  const libDirs = new Set(tree.builtin.flatMap((b) => (b.kind === 'lib' ? [b.dir] : [])));
  const all = [
    ...tree.modules.flatMap((m) => made.module(m)),
    ...tree.builtin.flatMap((b) => made.builtin(b)),
    ...tree.others.flatMap((o) => made.other(o)),
    ...tree.directories.flatMap((d) => made.archives(d, libDirs.has(d.dir))),
  ];
  const jobs = all.map((j) => j.job);
  const t1 = Date.now();
  const shell = new CachedShell(k.shellCache, k.objtree, { ...process.env, ...k.env });
  const commands: Text[] = new Array(jobs.length);
  const genksyms: (Text | undefined)[] = new Array(jobs.length);
  const dirs = tree.directories.map((d) => directory(d, rel));
  if (memo && !memo.empty) {
    const jobsOf = groupByDirectory(jobs.map((job, index) => ({ job, index, sig: jobSignature(job) })));
    if (fewStale(dirs, jobsOf, memo, k.env)) {
      // A few directories changed since the memo was taken: those are evaluated here, in order.
      for (const [index, command, g] of runIncremental(dirs, jobsOf, memo, { ...env, shell: (c) => shell.run(c) })) {
        commands[index] = command;
        genksyms[index] = g;
      }
      all.forEach(({ job }, i) => expanded(job, commands[i]));
      shell.save();
      memo.save();
      if (process.env.NX_KBUILD_TIMING) process.stderr.write(`plan ${t1 - t0} ms, ${memo.evaluated} directories evaluated, ${memo.reused} from the memo, in ${Date.now() - t1} ms\n`);
      return { ...result(tree, jobs, commands, genksyms), observed: () => memo.observed() };
    }
  }
  // Every directory evaluated: those the structure pass streamed, then units for whatever is left.
  // (Workers started now are stopped with the pool.)
  if (!streamed) for (let i = 1; i < threads; i++) pool.push(startWorker(env, k.shellCache));
  const queue = streamed ?? new UnitQueue(pool, keep);
  const chainOf = chains(dirs);
  // Jobs numbered after the structure pass were not in a streamed unit (none, or all without streaming).
  const left = groupByDirectory(all.filter((j) => !streamed || j.id >= streamedJobs));
  for (const d of dirs) if (!streamed || left.has(d.dir)) queue.add({ chain: chainOf(d.dir), jobs: left.get(d.dir) ?? [] });
  const mine = new SubMakes({ ...env, shell: (c) => shell.run(c) }, keep);
  const done = await queue.finish(mine);
  if (process.env.NX_KBUILD_TIMING) {
    process.stderr.write(`plan ${t1 - t0} ms (${streamed ? `${streamed.size} units streamed` : 'nothing streamed'}), done at ${Date.now() - t0} ms; units: this thread ${done.mine}, workers ${done.theirs.map((w) => w.units)}\n`);
  }
  const byId: JobResult[] = new Array(made.count);
  for (const r of done.results) byId[r[0]] = r;
  const records = mine.records();
  for (const w of done.theirs) {
    shell.absorb(w.fresh);
    for (const r of w.results) byId[r[0]] = r;
    for (const r of w.records) records.push(r);
  }
  shell.save();
  all.forEach(({ id, job }, i) => {
    const r = byId[id];
    commands[i] = expanded(job, r?.[1]);
    genksyms[i] = r?.[2];
  });
  if (memo) {
    for (const r of mergeRecords(records)) memo.keepCommands(r.dir, r.record, r.exported, true);
    memo.save();
    return { ...result(tree, jobs, commands, genksyms), observed: () => memo.observed() };
  }
  return result(tree, jobs, commands, genksyms);
}

/** Every job gets its command: one whose directory no thread evaluated is a bug, not a silent gap. */
function expanded(job: ObjectJob, command: Text | undefined): Text {
  if (command === undefined) throw new Error(`${job.object}: its directory ${job.dir} was not evaluated`);
  return command;
}

const directory = (d: KbuildDirectory, rel: (p: string) => string): Directory => ({
  dir: rel(d.dir),
  parent: d.parent === undefined ? undefined : rel(d.parent),
  builtin: d.builtin,
  modorder: d.modorder,
});

/** Each directory's chain: it and its ancestors, root first. */
function chains(dirs: readonly Directory[]): (dir: string) => Directory[] {
  const byName = new Map(dirs.map((d) => [d.dir, d]));
  return (dir) => {
    const chain: Directory[] = [];
    for (let d = byName.get(dir); d; d = d.parent === undefined ? undefined : byName.get(d.parent)) chain.unshift(d);
    return chain;
  };
}

/** A command, or how to decode it from the memo when it is first read (most runs read few). */
type Text = string | (() => string);

/** `target[key] = value`, as a property decoded on first read when `value` is a function. */
function setText<T extends object>(target: T, key: string, value: Text | undefined): T {
  if (typeof value === 'function') {
    let text: string | undefined;
    Object.defineProperty(target, key, { get: () => (text ??= value()), enumerable: true, configurable: true });
  } else if (value !== undefined) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

function result(tree: ModuleTree, jobs: ObjectJob[], commands: Text[], genksyms: (Text | undefined)[]): KernelTree {
  const objectJobs = jobs.map((job, i) => ({ job, i })).filter(({ job }) => job.how !== 'module' && job.how !== 'archive' && job.how !== 'made');
  return {
    tree,
    archives: jobs.flatMap((job, i) => (job.how === 'archive' ? [setText({ dir: job.dir, archive: job.object } as ArchiveCommand, 'command', commands[i])] : [])),
    madeFiles: jobs.flatMap((job, i) => (job.how === 'made' ? [madeFile(job, commands[i])] : [])),
    moduleLinks: jobs.flatMap((job, i) => (job.how === 'module' ? [setText(setText({ module: job.module!, dir: job.dir } as ModuleLink, 'modCommand', commands[i]), 'command', genksyms[i])] : [])),
    objects: objectJobs.map(({ job, i }) => {
      const o = { object: job.object, source: job.source, dir: job.dir } as ObjectCommand;
      setText(o, 'command', commands[i]);
      if (job.module) o.module = job.module;
      if (job.inputOf) o.inputOf = job.inputOf;
      if (job.generated) o.generated = true;
      if (job.other) o.other = true;
      return setText(o, 'genksyms', genksyms[i]);
    }),
  };
}

function madeFile(job: ObjectJob, plan: Text): MadeFile {
  const m: MadeFile = { file: job.object, dir: job.dir, ...(job.module ? { module: job.module } : {}) } as MadeFile;
  let decoded: MadeFilesPlan | undefined;
  Object.defineProperty(m, 'plan', { get: () => (decoded ??= JSON.parse(typeof plan === 'function' ? plan() : plan) as MadeFilesPlan), enumerable: true });
  return m;
}

/** The structure pass: modules, built-in objects and the directories kbuild visits. */
function plan(k: KernelTreeOptions, memo?: EvaluationMemo, onDirectory?: TreeOptions['onDirectory']): ModuleTree {
  const src = absoluteSource(k);
  const variables = {
    ...k.config,
    srctree: src,
    objtree: '.',
    SRCARCH: k.env.SRCARCH ?? '',
    ARCH: k.env.ARCH ?? '',
    ARCH_LIB: k.env.ARCH_LIB ?? '',
    ARCH_CORE: k.env.ARCH_CORE ?? '',
    ARCH_DRIVERS: k.env.ARCH_DRIVERS ?? '',
    BITS: k.env.BITS ?? '',
  };
  return evaluateModuleTree({ root: src, kernelDir: src, variables, kbuildCflags: '', sources: 'any', memo, onDirectory });
}

/**
 * Each object's jobs, made once and numbered: a unit streamed during the structure pass and the
 * final list (modules in modules.order order, built-in objects in link order, then the others)
 * share them, and the threads' results name them by number.
 */
class JobMaker {
  private readonly made = new WeakMap<object, NumberedJob[]>();
  count = 0;

  constructor(
    /** A path of the source tree relative to it (objects, directories). */
    readonly rel: (p: string) => string,
    /** A source's path as kbuild names it: under $(srctree) as spelled. */
    readonly spell: (p: string) => string,
    private readonly moduleSteps: KernelTreeOptions['moduleSteps'],
    private readonly builtinSteps: KernelTreeOptions['builtinSteps'],
    private readonly madeFiles: boolean,
  ) {}

  /** Made files already given a job, per module or built-in code (several of its objects may need one). */
  private readonly planned = new Set<string>();

  /** With madeFiles: a job per file the directory's rules make for these objects (once per module, or per directory's built-in code). */
  private madeJobs(dir: string, objects: readonly { source: string; generated?: boolean; made?: string[]; input?: ObjectInput }[], module?: string): ObjectJob[] {
    if (!this.madeFiles) return [];
    const files = new Set<string>();
    for (const o of objects) {
      if (o.generated) files.add(this.rel(o.source));
      if (o.input?.generated) files.add(this.rel(o.input.source));
      for (const f of o.made ?? []) files.add(`${dir}/${f}`);
    }
    const once = (f: string) => !this.planned.has(`${module ?? ''}\0${f}`) && this.planned.add(`${module ?? ''}\0${f}`);
    return [...files].filter(once).map((file): ObjectJob => ({ object: file, source: '', dir, ...(module ? { module } : {}), how: 'made' }));
  }

  /** A module's member objects and, with moduleSteps, their genksyms pipelines and the module's .mod and ld -r. */
  module(m: ModuleSpec): NumberedJob[] {
    return this.once(m, () => {
      const { rel, moduleSteps } = this;
      const dir = rel(dirname(m.definedIn.file));
      const module = rel(m.path);
      const jobs = [...this.madeJobs(dir, m.members, module), ...m.members.flatMap((o) => objectJobs(this, o, dir, module))];
      if (!moduleSteps || (typeof moduleSteps === 'function' && !moduleSteps(module))) return jobs;
      for (const job of jobs) if (job.how === 'compile' && !job.inputOf) job.genksyms = true;
      jobs.push({ object: `${module}.o`, source: `${module}.mod`, dir, module, how: 'module', composite: m.composite });
      return jobs;
    });
  }

  builtin(b: BuiltinObject): NumberedJob[] {
    return this.once(b, () => {
      const dir = this.rel(b.dir);
      const jobs = [...this.madeJobs(dir, [b]), ...objectJobs(this, b, dir)];
      if (this.builtinSteps?.(dir)) for (const job of jobs) if (job.how === 'compile' && !job.inputOf) job.genksyms = true;
      return jobs;
    });
  }

  /**
   * With builtinSteps: a directory's built-in.a, made where its sub-make has need-builtin (named in
   * its parent's obj-y: Makefile.build's targets-for-builtin), and its lib.a where it has lib-y objects.
   */
  archives(d: KbuildDirectory, hasLib: boolean): NumberedJob[] {
    return this.once(d, () => {
      const dir = this.rel(d.dir);
      if (!d.builtin || !this.builtinSteps?.(dir)) return [];
      return ['built-in.a', ...(hasLib ? ['lib.a'] : [])].map((name): ObjectJob => ({ object: `${dir}/${name}`, source: '', dir, how: 'archive' }));
    });
  }

  other(o: OtherObject): NumberedJob[] {
    return this.once(o, () => objectJobs(this, o, this.rel(o.dir), undefined, o.via.map(this.rel)));
  }

  private once(spec: object, make: () => ObjectJob[]): NumberedJob[] {
    let jobs = this.made.get(spec);
    if (!jobs) this.made.set(spec, (jobs = make().map((job) => ({ id: this.count++, job }))));
    return jobs;
  }
}

/** One object's compile job; for an object made from another one by a rule (objcopy), that one's compile and the rule. */
function objectJobs(
  { rel, spell }: { rel: (p: string) => string; spell: (p: string) => string },
  o: { object: string; source: string; generated?: boolean; input?: ObjectInput },
  dir: string,
  module?: string,
  via?: string[],
): ObjectJob[] {
  const object = rel(o.object);
  const base = { dir, ...(module ? { module } : {}), ...(via ? { other: true as const, via } : {}) };
  // A generated source is found in the build directory, the others under $(srctree).
  const source = (s: { source: string; generated?: boolean }) => (s.generated ? { source: rel(s.source), generated: true as const } : { source: spell(s.source) });
  if (o.input) {
    // Made from another object by a rule of the directory: that object is compiled first.
    const from = rel(o.input.object);
    return [
      { ...base, object: from, ...source(o.input), inputOf: object, how: 'compile' },
      { ...base, object, source: from, how: 'rule' },
    ];
  }
  return [{ ...base, object, ...source(o), how: 'compile' }];
}

/** The source tree's absolute path (kbuild spells it `..` for a build directory directly inside it). */
export const absoluteSource = (k: { srctree: string; objtree: string }): string => resolve(k.objtree, k.srctree);

const relativeTo = (src: string) => (p: string) => (p === src ? '.' : p.slice(src.length + 1));

function groupByDirectory<T extends { job: ObjectJob }>(jobs: readonly T[]): Map<string, T[]> {
  const byDir = new Map<string, T[]>();
  for (const j of jobs) {
    const l = byDir.get(j.job.dir);
    if (l) l.push(j);
    else byDir.set(j.job.dir, [j]);
  }
  return byDir;
}

/** Records of one directory from several threads (ancestors are evaluated by each): their jobs together. */
function mergeRecords(records: DirRecord[]): DirRecord[] {
  const byDir = new Map<string, DirRecord>();
  for (const r of records) {
    const had = byDir.get(r.dir);
    if (!had) {
      byDir.set(r.dir, r);
      continue;
    }
    const into = had.record;
    const from = r.record;
    for (const [sig, ts] of from.jobs) {
      into.jobs.set(
        sig,
        ts.map((t) => {
          const at = into.templates.indexOf(from.templates[t]);
          return at >= 0 ? at : into.templates.push(from.templates[t]) - 1;
        }),
      );
    }
    const seen = into.observed as Observed;
    for (const [p, sig] of from.observed as Observed) mergeObservation(seen, p, sig);
  }
  return [...byDir.values()];
}

/**
 * Whether the memo serves most directories as they are: then the few that changed (and the
 * subdirectories of those whose environment changes with them) are evaluated in this thread, not
 * the whole tree on every core. An estimate: a changed directory is taken to export what it did.
 */
function fewStale(dirs: Directory[], jobsOf: Map<string, { sig: string }[]>, memo: EvaluationMemo, rootEnv: Record<string, string>): boolean {
  const digestOf = new Map<string, string | undefined>();
  let stale = 0;
  for (const d of dirs) {
    const parentDigest = d.parent === undefined ? environmentDigest(rootEnv) : digestOf.get(d.parent);
    const hit = parentDigest === undefined ? undefined : memo.commands(d.dir, subMakeKey(d, parentDigest), (jobsOf.get(d.dir) ?? []).map((j) => j.sig));
    // A directory evaluated again most likely exports what it did (subdir-ccflags-y rarely changes).
    digestOf.set(d.dir, hit?.record.exported ?? memo.exportedBefore(d.dir));
    if (!hit) stale++;
  }
  return stale <= dirs.length / 4;
}

/** The sub-makes in order: from the memo where it serves them, evaluated here where not. */
function runIncremental(dirs: Directory[], jobsOf: Map<string, { index: number; job: ObjectJob; sig: string }[]>, memo: EvaluationMemo, env: KbuildEnvironment): [number, Text, Text?][] {
  const exportedOf = new Map<string, Exported>();
  const root = { env: env.env, digest: environmentDigest(env.env) };
  const commands: [number, Text, Text?][] = [];
  for (const d of dirs) {
    const parent = d.parent === undefined ? root : exportedOf.get(d.parent)!;
    const mine = jobsOf.get(d.dir) ?? [];
    const hit = memo.commands(d.dir, subMakeKey(d, parent.digest), mine.map((j) => j.sig));
    if (hit) {
      for (const { index, job, sig } of mine) commands.push([index, ...(hit.record.jobs.get(sig)!.map((t) => () => decode(hit.record.templates[t], job)) as [Text, Text?])]);
      exportedOf.set(d.dir, { env: hit.exported, digest: hit.record.exported });
      memo.keepCommands(d.dir, hit.record, hit.exported, false);
      continue;
    }
    const r = subMake(env, d, parent, mine);
    r.commands.forEach((c, i) => commands.push([mine[i].index, ...c]));
    exportedOf.set(d.dir, r.exported);
    memo.keepCommands(d.dir, r.record.record, r.exported.env, true);
  }
  return commands;
}
