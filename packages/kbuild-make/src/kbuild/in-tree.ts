import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SourceError } from '@nx-kbuild/diagnostics';
import { CachedShell } from '@nx-kbuild/kconfig';
import type { MakeEvaluator } from '../make/evaluator';
import { forgetDirectories } from '../make/wildcard';
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
  const t0 = Date.now();
  const { tree, jobs } = plan(k);
  const t1 = Date.now();
  const shell = new CachedShell(k.shellCache, k.objtree, { ...process.env, ...k.env });
  const env: KbuildEnvironment = { srctree: k.srctree, objtree: k.objtree, env: k.env };
  // Worker threads run the compiled worker; from TypeScript sources (tests) everything runs here.
  const threads = existsSync(WORKER) ? Math.max(1, k.threads ?? availableParallelism()) : 1;
  const parts = partition(tree, jobs, threads, k.srctree);
  const commands: string[] = new Array(jobs.length);
  const genksyms: (string | undefined)[] = new Array(jobs.length);
  const others = parts.slice(1).map((work) => runInWorker({ ...work, env }, k.shellCache));
  // This thread takes the first share while the workers run theirs.
  let error: unknown;
  try {
    for (const [index, command, g] of runWork({ ...parts[0], env: { ...env, shell: (c) => shell.run(c) } })) {
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
      for (const [index, command, g] of r.value.commands) {
        commands[index] = command;
        genksyms[index] = g;
      }
    }
  }
  shell.save();
  if (error) throw error;
  const objectJobs = jobs.map((job, i) => ({ job, i })).filter(({ job }) => job.how !== 'module');
  return {
    tree,
    moduleLinks: jobs.flatMap((job, i) => (job.how === 'module' ? [{ module: job.module!, dir: job.dir, modCommand: commands[i], ...(genksyms[i] !== undefined ? { command: genksyms[i] } : {}) }] : [])),
    objects: objectJobs.map(({ job, i }) => ({
      object: job.object,
      source: job.source,
      dir: job.dir,
      command: commands[i],
      ...(job.module ? { module: job.module } : {}),
      ...(job.inputOf ? { inputOf: job.inputOf } : {}),
      ...(job.other ? { other: true as const } : {}),
      ...(genksyms[i] !== undefined ? { genksyms: genksyms[i] } : {}),
    })),
  };
}

/** The structure pass: modules, built-in objects and the directories kbuild visits. */
function plan(k: KernelTreeOptions): { tree: ModuleTree; jobs: ObjectJob[] } {
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
  const tree = evaluateModuleTree({ root: src, kernelDir: src, variables, kbuildCflags: '', sources: 'any' });
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
function partition(tree: ModuleTree, jobs: ObjectJob[], threads: number, src: string): Omit<ThreadWork, 'env'>[] {
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

/** Evaluates the directories of one share in order and expands its objects' commands. */
export function runWork(work: ThreadWork): [number, string, string?][] {
  const evaluated = new Map<string, MakeEvaluator>();
  for (const d of work.directories) {
    const parent = d.parent === undefined ? undefined : evaluated.get(d.parent);
    const env = parent ? parent.exportedEnvironment() : work.env.env;
    evaluated.set(d.dir, evaluateBuildDir({ ...work.env, env }, d.dir, { builtin: d.builtin, modorder: d.modorder }));
  }
  return work.jobs.map(({ index, job }) => {
    const ev = evaluated.get(job.dir);
    if (!ev) throw new Error(`${job.object}: its directory ${job.dir} was not evaluated`);
    if (job.how === 'rule') return [index, ruleCommand(ev, job.object)];
    if (job.how === 'module') return [index, modCommand(ev, job.source), job.composite ? linkMultiCommand(ev, job.object, job.source) : undefined];
    const command = compileCommand(ev, job.object, job.source, job.via);
    return job.genksyms ? [index, command, genksymsCommand(ev, job.object, job.source)] : [index, command];
  });
}

interface WorkerResult {
  commands: [number, string, string?][];
  fresh: Record<string, string>;
}

function runInWorker(work: ThreadWork, shellCache: string | undefined): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { work, shellCache } });
    worker.once('message', (m: WorkerResult | { error: { file: string; line: number; detail: string } | string }) => {
      if ('error' in m) reject(typeof m.error === 'string' ? new Error(m.error) : new SourceError(m.error.file, m.error.line, m.error.detail));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}
