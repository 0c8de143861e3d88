import type { MakeEvaluator } from '../make/evaluator';
import { CommandTemplates, digest, environmentDigest, type DirCommands } from '../memo/evaluation-memo';
import { observing, type Observed } from '../memo/observations';
import { madeFilesPlan } from './made-files';
import { compileCommand, evaluateBuildDir, genksymsCommand, linkMultiCommand, modCommand, ruleCommand, type KbuildEnvironment } from './build-dir';
import type { ObjectCommand } from './in-tree';

/** A kbuild directory as its sub-make is started: by its parent, with its parent's needs. */
export interface Directory {
  dir: string;
  parent?: string;
  builtin: boolean;
  modorder: boolean;
}

/** An object whose command is to be expanded: by its directory's compile rule or its own rule. */
export interface ObjectJob extends Omit<ObjectCommand, 'command' | 'genksyms'> {
  /**
   * compile: the directory's compile rule; rule: its own rule; module: a module's .mod and ld -r;
   * archive: its built-in.a or lib.a (Makefile.build's rules); made: a file the directory's rules
   * make for its objects (a generated source, a header they include), with the steps that make it.
   */
  how: 'compile' | 'rule' | 'module' | 'archive' | 'made';
  /** For `module` jobs: composite (linked with ld -r). */
  composite?: boolean;
  /** Also expand the genksyms pipeline (module objects, with moduleSteps). */
  genksyms?: boolean;
  /** Targets whose variables it inherits (for objects built as prerequisites of a blob). */
  via?: string[];
}

/** What a job's commands depend on besides its directory's sub-make (its key in the memo's record). */
export const jobSignature = (job: ObjectJob): string =>
  JSON.stringify([job.how, job.object, job.source, job.via ?? [], job.genksyms ? 1 : 0, job.composite ? 1 : 0, job.inputOf ?? '']);

/** A job with its number in this evaluation (results name their jobs by it). */
export interface NumberedJob {
  id: number;
  job: ObjectJob;
}

/**
 * One directory's share of the work: its objects' commands. Evaluating it needs its sub-make, which
 * starts from what its parent exports: `chain` is the directory and its ancestors, root first.
 */
export interface Unit {
  chain: Directory[];
  jobs: NumberedJob[];
}

/** A job's commands: its command, and the second one (genksyms pipeline, ld -r) where it has one. */
export type JobResult = [id: number, command: string, second?: string];

/** A directory's sub-make as one thread evaluated it, for the memo. */
export interface DirRecord {
  dir: string;
  exported: Record<string, string>;
  record: DirCommands;
}

/** What the environment a directory exports is known by (the memo's keys of its children). */
export interface Exported {
  env: Record<string, string>;
  digest: string;
}

/** A directory's sub-make is the same when evaluated with the same needs and the same environment. */
export const subMakeKey = (d: Directory, parentDigest: string): string => digest(JSON.stringify([d.dir, d.builtin, d.modorder, parentDigest]));

/** One evaluated sub-make: its evaluator while its jobs may still come, and (with `keep`) its record. */
interface OpenDir {
  d: Directory;
  ev?: MakeEvaluator;
  exported: Exported;
  parentDigest: string;
  observed: Observed;
  templates: CommandTemplates;
  jobs: DirCommands['jobs'];
}

const inside = <T>(keep: boolean, into: Observed, fn: () => T): T => (keep ? observing(into, fn) : fn());

function openDir(env: KbuildEnvironment, d: Directory, parent: Exported, keep: boolean): OpenDir {
  const observed: Observed = new Map();
  const ev = inside(keep, observed, () => evaluateBuildDir({ ...env, env: parent.env }, d.dir, { builtin: d.builtin, modorder: d.modorder }));
  const exported = ev.exportedEnvironment();
  // Most directories export exactly what they were given: the parent's digest then stands.
  const exportedDigest = !keep ? '' : sameEnvironment(exported, parent.env) ? parent.digest : environmentDigest(exported);
  return { d, ev, exported: { env: exported, digest: exportedDigest }, parentDigest: parent.digest, observed, templates: new CommandTemplates(), jobs: new Map() };
}

function expandJobs(o: OpenDir, jobs: readonly { job: ObjectJob; sig?: string }[], keep: boolean): [string, string?][] {
  return inside(keep, o.observed, () =>
    jobs.map(({ job, sig }) => {
      const out = expandJob(o.ev!, job);
      if (keep) o.jobs.set(sig ?? jobSignature(job), out.map((c) => o.templates.add(c!, job)));
      return out;
    }),
  );
}

const recordOf = (o: OpenDir): DirRecord => ({
  dir: o.d.dir,
  exported: o.exported.env,
  record: { key: subMakeKey(o.d, o.parentDigest), exported: o.exported.digest, templates: o.templates.templates, jobs: o.jobs, observed: o.observed },
});

function sameEnvironment(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k] || !(k in b)) return false;
  return true;
}

function expandJob(ev: MakeEvaluator, job: ObjectJob): [string, string?] {
  if (job.how === 'rule' || job.how === 'archive') return [ruleCommand(ev, job.object)];
  // A plan, not one command: carried as JSON like the commands (and kept by the memo with them).
  if (job.how === 'made') return [JSON.stringify(madeFilesPlan(ev, [job.object]))];
  if (job.how === 'module') return job.composite ? [modCommand(ev, job.source), linkMultiCommand(ev, job.object, job.source)] : [modCommand(ev, job.source)];
  const command = compileCommand(ev, job.object, job.source, job.via);
  return job.genksyms ? [command, genksymsCommand(ev, job.object, job.source)] : [command];
}

/** One directory's sub-make, evaluated with the environment its parent exports; its jobs expanded. */
export function subMake(
  env: KbuildEnvironment,
  d: Directory,
  parent: Exported,
  jobs: readonly { job: ObjectJob; sig: string }[],
): { commands: [string, string?][]; exported: Exported; record: DirRecord } {
  const o = openDir(env, d, parent, true);
  return { commands: expandJobs(o, jobs, true), exported: o.exported, record: recordOf(o) };
}

/**
 * The sub-makes one thread evaluates, for units given in any order: a unit's ancestors are
 * evaluated first where this thread has not yet (their evaluators kept until their own units
 * come), so each directory is evaluated once per thread that needs it.
 */
export class SubMakes {
  private readonly open = new Map<string, OpenDir>();
  /** Directories evaluated again after their evaluator was let go (a second unit of theirs). */
  private readonly closed: OpenDir[] = [];
  private readonly root: Exported;

  constructor(
    private readonly env: KbuildEnvironment,
    private readonly keep: boolean,
  ) {
    this.root = { env: env.env, digest: keep ? environmentDigest(env.env) : '' };
  }

  run(unit: Unit): JobResult[] {
    let parent = this.root;
    let o: OpenDir | undefined;
    unit.chain.forEach((d, i) => {
      o = this.open.get(d.dir);
      // The unit's own directory needs its evaluator: one whose jobs were done before is evaluated again.
      const again = o !== undefined && o.ev === undefined && i === unit.chain.length - 1;
      if (!o || again) {
        if (o) this.closed.push(o);
        o = openDir(this.env, d, parent, this.keep);
        this.open.set(d.dir, o);
      }
      parent = o.exported;
    });
    const out = expandJobs(o!, unit.jobs, this.keep);
    // Its jobs are done: the directory is needed now only for what its subdirectories start from.
    o!.ev = undefined;
    return out.map((c, i) => [unit.jobs[i].id, ...c]);
  }

  /** With `keep`: every directory this thread evaluated, for the memo. */
  records(): DirRecord[] {
    return this.keep ? [...this.closed, ...this.open.values()].map(recordOf) : [];
  }
}
