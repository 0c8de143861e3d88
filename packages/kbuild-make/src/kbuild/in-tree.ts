import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import { CachedShell } from '@nx-kbuild/kconfig';
import type { MakeEvaluator } from '../make/evaluator';
import { forgetDirectories } from '../make/wildcard';
import { CommandTemplates, decode, digest, environmentDigest, EvaluationMemo, type DirCommands } from '../memo/evaluation-memo';
import { forgetSignatures, mergeObservation, observing, type Observed } from '../memo/observations';
import { compileCommand, evaluateBuildDir, genksymsCommand, linkMultiCommand, modCommand, ruleCommand, type KbuildEnvironment } from './build-dir';
import { evaluateModuleTree, type KbuildDirectory, type ModuleTree, type ObjectInput } from './tree';

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

export interface KernelTree {
  tree: ModuleTree;
  objects: ObjectCommand[];
  /** With moduleSteps: the `ld -r` of every composite module. */
  moduleLinks: ModuleLink[];
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
   * Where to keep the evaluation between runs (in the build directory): directories nothing of
   * which changed are taken from it, so a run after one Makefile edit evaluates that directory.
   */
  memoFile?: string;
}

/** An object whose command is to be expanded: by its directory's compile rule or its own rule. */
interface ObjectJob extends Omit<ObjectCommand, 'command' | 'genksyms'> {
  /** compile: the directory's compile rule; rule: its own rule; module: a module's .mod and ld -r. */
  how: 'compile' | 'rule' | 'module';
  /** For `module` jobs: composite (linked with ld -r). */
  composite?: boolean;
  /** Also expand the genksyms pipeline (module objects, with moduleSteps). */
  genksyms?: boolean;
  /** Targets whose variables it inherits (for objects built as prerequisites of a blob). */
  via?: string[];
}

/** What a thread does: evaluate these directories (parents first), expand these objects' commands. */
export interface ThreadWork {
  env: KbuildEnvironment;
  /** Return each directory's record for the memo (a run without a memo does not). */
  keep: boolean;
  directories: { dir: string; parent?: string; builtin: boolean; modorder: boolean }[];
  jobs: { index: number; job: ObjectJob }[];
}

/**
 * The whole kernel as `make O=<objtree> all` builds it: every module and built-in object (from the
 * kbuild tree evaluation) and, for each object, the exact compile command, expanded from the
 * kernel's own scripts/Makefile.build and Makefile.lib evaluated per directory. Each directory
 * starts from the environment its parent exports (subdir-ccflags-y reaches children that way).
 * Directories are shared out between threads by subtree.
 */
export async function evaluateKernelTree(k: KernelTreeOptions): Promise<KernelTree> {
  forgetDirectories();
  forgetSignatures();
  const t0 = Date.now();
  const memo = k.memoFile ? EvaluationMemo.load(k.memoFile, { srctree: k.srctree, objtree: k.objtree, env: k.env, config: k.config }, k.objtree) : undefined;
  // Worker threads run the compiled worker; from TypeScript sources (tests) everything runs here.
  const threads = existsSync(WORKER) ? Math.max(1, k.threads ?? availableParallelism()) : 1;
  const env: KbuildEnvironment = { srctree: k.srctree, objtree: k.objtree, env: k.env };
  // When every directory will be evaluated, the other threads start now: their start (and reading
  // what every sub-make starts from) overlaps the structure pass.
  const pool = threads > 1 && (!memo || memo.empty) ? Array.from({ length: threads - 1 }, () => startWorker(env, k.shellCache)) : [];
  try {
    return await evaluateWith(k, memo, threads, env, pool, t0);
  } finally {
    for (const w of pool) w.stop();
  }
}

async function evaluateWith(k: KernelTreeOptions, memo: EvaluationMemo | undefined, threads: number, env: KbuildEnvironment, pool: ThreadWorker[], t0: number): Promise<KernelTree> {
  const { tree, jobs } = plan(k, memo);
  const t1 = Date.now();
  const shell = new CachedShell(k.shellCache, k.objtree, { ...process.env, ...k.env });
  const commands: Text[] = new Array(jobs.length);
  const genksyms: (Text | undefined)[] = new Array(jobs.length);
  const dirs = tree.directories.map((d) => ({ dir: relativeTo(k.srctree)(d.dir), parent: d.parent === undefined ? undefined : relativeTo(k.srctree)(d.parent), builtin: d.builtin, modorder: d.modorder }));
  const jobsOf = memo && !memo.empty ? groupByDirectory(jobs.map((job, index) => ({ index, job, sig: jobSignature(job) }))) : undefined;
  if (memo && jobsOf && fewStale(dirs, jobsOf, memo, k.env)) {
    // A few directories changed since the memo was taken: those are evaluated here, in order.
    for (const [index, command, g] of runIncremental(dirs, jobsOf, memo, { ...env, shell: (c) => shell.run(c) })) {
      commands[index] = command;
      genksyms[index] = g;
    }
    shell.save();
    memo.save();
    if (process.env.NX_KBUILD_TIMING) process.stderr.write(`plan ${t1 - t0} ms, ${memo.evaluated} directories evaluated, ${memo.reused} from the memo, in ${Date.now() - t1} ms\n`);
    return { ...result(tree, jobs, commands, genksyms), observed: () => memo.observed() };
  }
  const parts = partition(tree, jobs, threads, k.srctree);
  const keep = memo !== undefined;
  const others = parts.slice(1).map((work, i) => (pool[i] ?? startWorker(env, k.shellCache)).run({ ...work, env, keep }));
  const records: DirRecord[] = [];
  // This thread takes the first share while the workers run theirs.
  let error: unknown;
  try {
    const mine = runWork({ ...parts[0], keep, env: { ...env, shell: (c) => shell.run(c) } });
    records.push(...mine.records);
    for (const [index, command, g] of mine.commands) {
      commands[index] = command;
      genksyms[index] = g;
    }
  } catch (e) {
    error = e;
  }
  const t2 = Date.now();
  const settled = await Promise.allSettled(others);
  if (process.env.NX_KBUILD_TIMING) process.stderr.write(`plan ${t1 - t0} ms, this thread ${t2 - t1} ms (${parts[0].jobs.length} objects), workers done at ${Date.now() - t1} ms (${parts.slice(1).map((p) => p.jobs.length)} objects)\n`);
  for (const r of settled) {
    if (r.status === 'rejected') error ??= r.reason;
    else {
      shell.absorb(r.value.fresh);
      records.push(...r.value.records);
      for (const [index, command, g] of r.value.commands) {
        commands[index] = command;
        genksyms[index] = g;
      }
    }
  }
  shell.save();
  if (error) throw error;
  if (memo) {
    for (const r of mergeRecords(records)) memo.keepCommands(r.dir, r.record, r.exported, true);
    memo.save();
    return { ...result(tree, jobs, commands, genksyms), observed: () => memo.observed() };
  }
  return result(tree, jobs, commands, genksyms);
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
  const objectJobs = jobs.map((job, i) => ({ job, i })).filter(({ job }) => job.how !== 'module');
  return {
    tree,
    moduleLinks: jobs.flatMap((job, i) => (job.how === 'module' ? [setText(setText({ module: job.module!, dir: job.dir } as ModuleLink, 'modCommand', commands[i]), 'command', genksyms[i])] : [])),
    objects: objectJobs.map(({ job, i }) => {
      const o = { object: job.object, source: job.source, dir: job.dir } as ObjectCommand;
      setText(o, 'command', commands[i]);
      if (job.module) o.module = job.module;
      if (job.inputOf) o.inputOf = job.inputOf;
      if (job.other) o.other = true;
      return setText(o, 'genksyms', genksyms[i]);
    }),
  };
}

/** The structure pass: modules, built-in objects and the directories kbuild visits. */
function plan(k: KernelTreeOptions, memo?: EvaluationMemo): { tree: ModuleTree; jobs: ObjectJob[] } {
  const src = k.srctree;
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
  const tree = evaluateModuleTree({ root: src, kernelDir: src, variables, kbuildCflags: '', sources: 'any', memo });
  const rel = relativeTo(src);
  const jobs: ObjectJob[] = [];
  const add = (object: string, source: string, generated: boolean | undefined, dir: string, module?: string, input?: ObjectInput, other?: { via: string[] }) => {
    const base = { dir, ...(module ? { module } : {}), ...(other ? { other: true as const, via: other.via } : {}) };
    if (input) {
      // Made from another object by a rule of the directory: that object is compiled first.
      const from = rel(input.object);
      jobs.push({ ...base, object: from, source: input.generated ? rel(input.source) : input.source, inputOf: object, how: 'compile' });
      jobs.push({ ...base, object, source: from, how: 'rule' });
      return;
    }
    jobs.push({ ...base, object, source: generated ? rel(source) : source, how: 'compile' });
  };
  for (const m of tree.modules) {
    const first = jobs.length;
    const dir = rel(dirname(m.definedIn.file));
    for (const o of m.members) add(rel(o.object), o.source, o.generated, dir, rel(m.path), o.input);
    if (!k.moduleSteps || (typeof k.moduleSteps === 'function' && !k.moduleSteps(rel(m.path)))) continue;
    for (const job of jobs.slice(first)) if (job.how === 'compile' && !job.inputOf) job.genksyms = true;
    jobs.push({ object: `${rel(m.path)}.o`, source: `${rel(m.path)}.mod`, dir, module: rel(m.path), how: 'module', composite: m.composite });
  }
  for (const b of tree.builtin) add(rel(b.object), b.source, b.generated, rel(b.dir), undefined, b.input);
  for (const o of tree.others) add(rel(o.object), o.source, o.generated, rel(o.dir), undefined, o.input, { via: o.via.map(rel) });
  return { tree, jobs };
}

const WORKER = join(__dirname, 'in-tree-worker.js');

const relativeTo = (src: string) => (p: string) => (p === src ? '.' : p.slice(src.length + 1));

/**
 * Shares the directories out by subtree (the root's grandchildren and their descendants, largest
 * first, each to the least loaded thread). A thread also evaluates the ancestors of its subtrees:
 * a directory's environment comes from its parent.
 */
function partition(tree: ModuleTree, jobs: ObjectJob[], threads: number, src: string): Omit<ThreadWork, 'env' | 'keep'>[] {
  const rel = relativeTo(src);
  const dirs = tree.directories.map((d: KbuildDirectory) => ({ dir: rel(d.dir), parent: d.parent === undefined ? undefined : rel(d.parent), builtin: d.builtin, modorder: d.modorder }));
  const parentOf = new Map(dirs.map((d) => [d.dir, d.parent]));
  const depth = new Map<string, number>();
  const unit = new Map<string, string>();
  for (const d of dirs) {
    const dd = d.parent === undefined ? 0 : depth.get(d.parent)! + 1;
    depth.set(d.dir, dd);
    unit.set(d.dir, dd <= 2 ? d.dir : unit.get(d.parent!)!);
  }
  const weight = new Map<string, number>();
  // Every directory is evaluated, also those with no object of their own (their sub-make runs too).
  for (const d of dirs) if (!weight.has(unit.get(d.dir)!)) weight.set(unit.get(d.dir)!, 0);
  for (const j of jobs) weight.set(unit.get(j.dir) ?? '.', (weight.get(unit.get(j.dir) ?? '.') ?? 0) + 1);
  const bins = Array.from({ length: Math.min(threads, Math.max(1, weight.size)) }, () => ({ units: new Set<string>(), load: 0 }));
  for (const [u, w] of [...weight].sort((a, b) => b[1] - a[1])) {
    const bin = bins.reduce((a, b) => (b.load < a.load ? b : a));
    bin.units.add(u);
    bin.load += w;
  }
  return bins.map((bin) => {
    const needed = new Set<string>();
    for (const d of dirs) if (bin.units.has(unit.get(d.dir)!)) needed.add(d.dir);
    // Ancestors of every directory taken (they give it its environment).
    for (const d of dirs) {
      if (!needed.has(d.dir)) continue;
      for (let p = d.parent; p !== undefined && !needed.has(p); p = parentOf.get(p)) needed.add(p);
    }
    return {
      directories: dirs.filter((d) => needed.has(d.dir)),
      jobs: jobs.flatMap((job, index) => (bin.units.has(unit.get(job.dir) ?? '.') ? [{ index, job }] : [])),
    };
  });
}

/** A directory's sub-make as one thread evaluated it, for the memo. */
export interface DirRecord {
  dir: string;
  exported: Record<string, string>;
  record: DirCommands;
}

type Directory = ThreadWork['directories'][number];

/** What a job's commands depend on besides its directory's sub-make. */
const jobSignature = (job: ObjectJob): string =>
  JSON.stringify([job.how, job.object, job.source, job.via ?? [], job.genksyms ? 1 : 0, job.composite ? 1 : 0, job.inputOf ?? '']);

/** A directory's sub-make is the same when evaluated with the same needs and the same environment. */
const subMakeKey = (d: Directory, parentDigest: string): string => digest(JSON.stringify([d.dir, d.builtin, d.modorder, parentDigest]));

/** What the environment a directory exports is known by (the memo's keys of its children). */
interface Exported {
  env: Record<string, string>;
  digest: string;
}

/**
 * One directory's sub-make, evaluated with the environment its parent exports; its jobs expanded.
 * With `keep`, also its record for the memo (its commands as templates, what it looked at).
 */
function subMake(
  env: KbuildEnvironment,
  d: Directory,
  parent: Exported,
  jobs: readonly { index: number; job: ObjectJob; sig: string }[],
  keep: boolean,
): { commands: [number, string, string?][]; exported: Exported; record?: DirRecord } {
  if (!keep) {
    const ev = evaluateBuildDir({ ...env, env: parent.env }, d.dir, { builtin: d.builtin, modorder: d.modorder });
    return { commands: jobs.map(({ index, job }) => [index, ...expandJob(ev, job)]), exported: { env: ev.exportedEnvironment(), digest: '' } };
  }
  const observed: Observed = new Map();
  const templates = new CommandTemplates();
  const jobsDone: DirCommands['jobs'] = {};
  return observing(observed, () => {
    const ev = evaluateBuildDir({ ...env, env: parent.env }, d.dir, { builtin: d.builtin, modorder: d.modorder });
    const exported = ev.exportedEnvironment();
    const commands = jobs.map(({ index, job, sig }): [number, string, string?] => {
      const out = expandJob(ev, job);
      jobsDone[sig] = out.map((c) => templates.add(c!, job));
      return [index, ...out];
    });
    // Most directories export exactly what they were given: the parent's digest then stands.
    const exportedDigest = sameEnvironment(exported, parent.env) ? parent.digest : environmentDigest(exported);
    const record: DirCommands = { key: subMakeKey(d, parent.digest), exported: exportedDigest, templates: templates.templates, jobs: jobsDone, observed };
    return { commands, exported: { env: exported, digest: exportedDigest }, record: { dir: d.dir, exported, record } };
  });
}

function sameEnvironment(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k] || !(k in b)) return false;
  return true;
}

function expandJob(ev: MakeEvaluator, job: ObjectJob): [string, string?] {
  if (job.how === 'rule') return [ruleCommand(ev, job.object)];
  if (job.how === 'module') return job.composite ? [modCommand(ev, job.source), linkMultiCommand(ev, job.object, job.source)] : [modCommand(ev, job.source)];
  const command = compileCommand(ev, job.object, job.source, job.via);
  return job.genksyms ? [command, genksymsCommand(ev, job.object, job.source)] : [command];
}

/** Evaluates the directories of one share in order (parents first) and expands its objects' commands. */
export function runWork(work: ThreadWork): { commands: [number, string, string?][]; records: DirRecord[] } {
  // Signatures key the memo's records: a run without a memo does not compute them.
  const jobsOf = groupByDirectory(work.jobs.map((j) => ({ ...j, sig: work.keep ? jobSignature(j.job) : '' })));
  const exportedOf = new Map<string, Exported>();
  const root = { env: work.env.env, digest: work.keep ? environmentDigest(work.env.env) : '' };
  const commands: [number, string, string?][] = [];
  const records: DirRecord[] = [];
  for (const d of work.directories) {
    const parent = d.parent === undefined ? root : exportedOf.get(d.parent);
    if (!parent) throw new Error(`${d.dir}: its parent ${d.parent} was not evaluated first`);
    const r = subMake(work.env, d, parent, jobsOf.get(d.dir) ?? [], work.keep);
    commands.push(...r.commands);
    if (r.record) records.push(r.record);
    exportedOf.set(d.dir, r.exported);
  }
  allExpanded(work.jobs, commands);
  return { commands, records };
}

/** Every job of a share belongs to one of its directories: none is left without a command. */
function allExpanded(jobs: readonly { index: number; job: ObjectJob }[], commands: readonly [number, ...unknown[]][]): void {
  if (commands.length === jobs.length) return;
  const done = new Set(commands.map(([i]) => i));
  const missed = jobs.find(({ index }) => !done.has(index))!.job;
  throw new Error(`${missed.object}: its directory ${missed.dir} was not evaluated`);
}

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
    for (const [sig, ts] of Object.entries(from.jobs)) {
      into.jobs[sig] = ts.map((t) => {
        const at = into.templates.indexOf(from.templates[t]);
        return at >= 0 ? at : into.templates.push(from.templates[t]) - 1;
      });
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
      for (const { index, job, sig } of mine) commands.push([index, ...(hit.record.jobs[sig].map((t) => () => decode(hit.record.templates[t], job)) as [Text, Text?])]);
      exportedOf.set(d.dir, { env: hit.exported, digest: hit.record.exported });
      memo.keepCommands(d.dir, hit.record, hit.exported, false);
      continue;
    }
    const r = subMake(env, d, parent, mine, true);
    commands.push(...r.commands);
    exportedOf.set(d.dir, r.exported);
    memo.keepCommands(d.dir, r.record!.record, r.exported.env, true);
  }
  allExpanded([...jobsOf.values()].flat(), commands);
  return commands;
}

interface WorkerResult {
  commands: [number, string, string?][];
  records: DirRecord[];
  fresh: Record<string, string>;
}

interface ThreadWorker {
  /** Gives the thread its share; resolves with its commands. */
  run(work: ThreadWork): Promise<WorkerResult>;
  /** Ends the thread (a share it finished, or one it was never given). */
  stop(): void;
}

function startWorker(env: KbuildEnvironment, shellCache: string | undefined): ThreadWorker {
  const worker = new Worker(WORKER, { workerData: { env: { srctree: env.srctree, objtree: env.objtree, env: env.env }, shellCache } });
  // An idle thread does not keep the process alive; one with a share does until it answers.
  worker.unref();
  const answer = new Promise<WorkerResult>((resolve, reject) => {
    worker.once('message', (m: WorkerResult | { error: { file: string; line: number; detail: string } | string }) => {
      if ('error' in m) reject(typeof m.error === 'string' ? new Error(m.error) : new SourceError(m.error.file, m.error.line, m.error.detail));
      else resolve(m);
    });
    worker.once('error', reject);
  });
  answer.catch(() => undefined); // a thread that fails before it is given work is reported by run()
  return {
    run: (work) => {
      worker.ref();
      worker.postMessage(work);
      return answer;
    },
    stop: () => void worker.terminate(),
  };
}
