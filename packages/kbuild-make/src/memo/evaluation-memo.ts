import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { codeDigest } from '@nx-kbuild/diagnostics';
import type { DirStructure, StructureMemo } from '../kbuild/tree';
import { fewChanges, readLayers, writeChanges, writeWhole, type Layer } from './layered-file';
import { keptObservations, mergeObservation, ObservationTable, settleDirectories, type Observations, type Observed } from './observations';

/**
 * One directory's sub-make, as the command pass used it: what its subdirectories inherit and each
 * object's commands. Commands are kept as templates (see CommandTemplates): the objects of a
 * directory mostly share one.
 */
export interface DirCommands {
  /** The directory, its needs and the digest of the environment its parent exported. */
  key: string;
  /** Digest of the environment it exports to its subdirectories (in the memo's environment table). */
  exported: string;
  templates: string[];
  /**
   * Job signature → template indices of its command and second command (genksyms pipeline, ld -r).
   * A Map: as objects with a key per signature, deserializing the memo's (and a worker's) records
   * took 50 ms, a Map's 7.
   */
  jobs: Map<string, number[]>;
  observed: Observations;
}

/** The names of one object that its commands spell, in the order they are replaced by placeholders. */
export interface ObjectNames {
  object: string;
  source: string;
}

/**
 * A directory's commands as templates: the object's source, dependency file, object and
 * KBUILD_BASENAME replaced by placeholder characters no command contains (checked; a command
 * containing one is kept as it is under its own template). Decoding replaces them back in
 * reverse order, so the round trip is exact.
 */
export class CommandTemplates {
  readonly templates: string[] = [];
  private readonly index = new Map<string, number>();

  add(command: string, names: ObjectNames): number {
    const t = encode(command, names);
    let i = this.index.get(t);
    if (i === undefined) {
      this.index.set(t, (i = this.templates.length));
      this.templates.push(t);
    }
    return i;
  }
}

const RAW = '\u0005';

function parts(n: ObjectNames): [string, string][] {
  const slash = n.object.lastIndexOf('/');
  const dir = n.object.slice(0, slash + 1);
  const file = n.object.slice(slash + 1);
  const stem = file.replace(/\.o$/, '');
  return [
    ['\u0001', n.source],
    ['\u0002', `${dir}.${file}.d`],
    ['\u0003', n.object],
    ['\u0004', `"${stem}"`],
  ];
}

function encode(command: string, n: ObjectNames): string {
  if (/[\u0001-\u0005]/.test(command)) return RAW + command;
  let t = command;
  for (const [mark, text] of parts(n)) if (text !== '' && text !== '""') t = t.replaceAll(text, mark);
  return t;
}

export function decode(template: string, n: ObjectNames): string {
  if (template.startsWith(RAW)) return template.slice(1);
  let c = template;
  for (const [mark, text] of parts(n).reverse()) if (c.includes(mark)) c = c.split(mark).join(text);
  return c;
}

/**
 * A directory's commands as the memo file holds them: its templates (most of the memo's bytes) as
 * one serialized blob, decoded when a command is first read. A run that writes no commands
 * (modules.order only) never decodes them.
 */
type StoredCommands = Omit<DirCommands, 'templates'> & { templates: Uint8Array };

/** Blobs of records read from the memo and not decoded since: written back as they were. */
const packed = new WeakMap<DirCommands, Uint8Array>();

function unpack(r: StoredCommands): DirCommands {
  const blob = r.templates;
  let templates: string[] | undefined;
  // Fields in a fresh record's order (the memo compares records by their JSON).
  const out = { key: r.key, exported: r.exported } as DirCommands;
  Object.defineProperty(out, 'templates', { get: () => (templates ??= deserialize(blob) as string[]), enumerable: true });
  Object.assign(out, { jobs: r.jobs, observed: r.observed });
  packed.set(out, blob);
  return out;
}

const pack = (r: DirCommands, observed: number[]): StoredCommands => ({
  key: r.key,
  exported: r.exported,
  jobs: r.jobs,
  observed,
  templates: packed.get(r) ?? serialize(r.templates),
});

/** A whole memo, or the changes since one (memo/layered-file). */
interface StoredMemo extends Layer {
  format: 4;
  key: string;
  /** (path, signature) pairs records' `observed` index into. */
  entries: [string, string][];
  structure: [string, DirStructure][];
  commands: [string, StoredCommands][];
  environments: [string, Record<string, string>][];
}

export const digest = (text: string): string => createHash('sha256').update(text).digest('base64');

/** The digest of an exported environment, independent of the order variables were exported in. */
export const environmentDigest = (env: Record<string, string>): string => digest(JSON.stringify(Object.entries(env).sort((a, b) => (a[0] < b[0] ? -1 : 1))));

/**
 * The directories of a whole-tree evaluation, kept in the build directory between runs. A
 * directory's structure (its modules, objects and subdirectories) and its sub-make (the commands
 * of its objects, the environment it exports) are reused when the arguments it was evaluated
 * with are the same and nothing it looked at in the file system has changed (memo/observations);
 * everything else is evaluated again. The whole memo is dropped when the kbuild environment, the
 * configuration or the evaluator itself changed.
 */
export class EvaluationMemo implements StructureMemo {
  private readonly old: { entries: [string, string][]; structure: Map<string, DirStructure>; commands: Map<string, DirCommands>; environments: Map<string, Record<string, string>> };
  private readonly next = { structure: new Map<string, DirStructure>(), commands: new Map<string, DirCommands>(), environments: new Map<string, Record<string, string>>() };
  /** Whether each directory's old sub-make covers its jobs and still holds, once checked (the jobs are the same within a run). */
  private readonly served = new Map<string, boolean>();
  /** Whether a list of old entries still holds (each entry checked once). */
  private readonly stillHold: (indices: readonly number[]) => boolean;
  /** Sub-makes evaluated in this run, and taken from the memo. */
  evaluated = 0;
  reused = 0;
  private changed = false;
  private refreshed = 0;

  /** The whole memo the old records come from (changes since it are written apart). */
  private readonly base: { id: string; structure: Map<string, DirStructure>; commands: Map<string, DirCommands> } | undefined;

  private constructor(
    private readonly file: string,
    private readonly key: string,
    /** The build directory, whose directories kbuild's sub-makes create (see settleDirectories). */
    private readonly objtree: string | undefined,
    whole: StoredMemo | undefined,
    changes: StoredMemo | undefined,
  ) {
    this.old = {
      entries: whole?.entries ?? [],
      structure: new Map(whole?.structure),
      commands: new Map(whole?.commands.map(([k, r]) => [k, unpack(r)])),
      environments: new Map(whole?.environments),
    };
    this.stillHold = keptObservations(this.old.entries);
    this.base = whole?.id ? { id: whole.id, structure: new Map(this.old.structure), commands: new Map(this.old.commands) } : undefined;
    if (!changes) return;
    // Records of the changes index their own table: appended after the whole memo's.
    const offset = this.old.entries.length;
    this.old.entries.push(...changes.entries);
    const shift = <T extends { observed: Observations }>(r: T): T => ({ ...r, observed: (r.observed as readonly number[]).map((i) => i + offset) });
    for (const [k, r] of changes.structure) this.old.structure.set(k, shift(r));
    for (const [k, r] of changes.commands) this.old.commands.set(k, unpack(shift(r)));
    for (const [k, e] of changes.environments) this.old.environments.set(k, e);
  }

  /** The memo in `file` if it was made for the same inputs (`identity`: environment, config, trees), else an empty one. */
  static load(file: string, identity: unknown, objtree?: string): EvaluationMemo {
    const key = digest(`${codeDigest(join(__dirname, '..'))}\0${JSON.stringify(identity)}`);
    const read = (f: string): StoredMemo | undefined => {
      try {
        const m = deserialize(readFileSync(f)) as StoredMemo;
        return m.format === 4 && m.key === key ? m : undefined;
      } catch {
        return undefined; // none yet, or unreadable: everything is evaluated
      }
    };
    const { whole, changes } = readLayers(file, read);
    return new EvaluationMemo(file, key, objtree, whole, changes);
  }

  /** No sub-make was kept (a first run, or the inputs changed): every directory will be evaluated. */
  get empty(): boolean {
    return this.old.commands.size === 0;
  }

  /** Whether everything an old record observed still has the signature it had. */
  private unchanged(observed: Observations): boolean {
    if (!Array.isArray(observed)) return true; // recorded in this run
    return this.stillHold(observed as readonly number[]);
  }

  lookup(key: string): DirStructure | undefined {
    const r = this.next.structure.get(key) ?? this.old.structure.get(key);
    return r && this.unchanged(r.observed) ? r : undefined;
  }

  keep(key: string, record: DirStructure, fresh: boolean): void {
    this.next.structure.set(key, record);
    if (fresh) this.note(this.old.structure.get(key), record);
  }

  /**
   * A directory evaluated again: a change to keep, unless it gave what the memo had (only what it
   * looked at was touched, as kbuild's own outputs touch the build directory's listings). A few of
   * those are not worth rewriting the memo for; they are evaluated again next time.
   */
  private note<T extends { observed: Observations }>(before: T | undefined, after: T): void {
    const output = (r: T) => JSON.stringify({ ...r, observed: undefined }, (_k, v: unknown) => (v instanceof Map ? [...v] : v));
    if (before && output(before) === output(after)) this.refreshed++;
    else this.changed = true;
  }

  /** A directory's sub-make from the memo, if it was made with `key` and covers every job signature in `jobs`. */
  commands(dir: string, key: string, jobs: readonly string[]): { record: DirCommands; exported: Record<string, string> } | undefined {
    const r = this.old.commands.get(dir);
    if (!r || r.key !== key) return undefined;
    let ok = this.served.get(dir);
    if (ok === undefined) this.served.set(dir, (ok = jobs.every((j) => r.jobs.has(j)) && this.unchanged(r.observed)));
    const exported = ok ? this.old.environments.get(r.exported) : undefined;
    return exported ? { record: r, exported } : undefined;
  }

  /** The digest of the environment a directory exported when the memo was taken (whether or not it still holds). */
  exportedBefore(dir: string): string | undefined {
    return this.old.commands.get(dir)?.exported;
  }

  keepCommands(dir: string, record: DirCommands, exported: Record<string, string>, fresh: boolean): void {
    this.next.commands.set(dir, record);
    this.next.environments.set(record.exported, exported);
    if (fresh) {
      this.evaluated++;
      this.note(this.old.commands.get(dir), record);
    } else this.reused++;
  }

  /** Everything the records this run used observed: what its result was evaluated from. */
  observed(): Observed {
    const out: Observed = new Map();
    const add = (path: string, sig: string) => mergeObservation(out, path, sig);
    for (const r of [...this.next.structure.values(), ...this.next.commands.values()]) {
      if (Array.isArray(r.observed)) for (const i of r.observed as readonly number[]) add(...this.old.entries[i]);
      else for (const [path, sig] of r.observed as Observed) add(path, sig);
    }
    return out;
  }

  /** Writes what this run used (atomically), unless it was all taken from the memo as it is. */
  save(): void {
    mkdirSync(dirname(this.file), { recursive: true }); // before the build directory is settled: it may be the memo's first
    if (this.objtree) for (const r of [...this.next.structure.values(), ...this.next.commands.values()]) if (!Array.isArray(r.observed)) settleDirectories(r.observed as Observed, this.objtree);
    if (!this.changed && this.refreshed <= 8 && this.next.commands.size === this.old.commands.size && this.next.structure.size === this.old.structure.size) return;
    // Few records differ from the whole memo: only they are written, next to it.
    if (this.base && this.next.structure.size === this.base.structure.size && this.next.commands.size === this.base.commands.size) {
      const structure = [...this.next.structure].filter(([k, r]) => this.base!.structure.get(k) !== r);
      const commands = [...this.next.commands].filter(([k, r]) => this.base!.commands.get(k) !== r);
      if (fewChanges(structure.length + commands.length, this.next.structure.size + this.next.commands.size)) {
        writeChanges(this.file, this.base.id, (layer) => serialize(this.stored(structure, commands, layer)));
        return;
      }
    }
    writeWhole(this.file, (layer) => serialize(this.stored([...this.next.structure], [...this.next.commands], layer)));
  }

  private stored(structureRecords: [string, DirStructure][], commandRecords: [string, DirCommands][], ids: Layer): StoredMemo {
    const table = new ObservationTable();
    const renumber = (observed: Observations): number[] => {
      const pairs = Array.isArray(observed) ? (observed as readonly number[]).map((i) => this.old.entries[i]) : [...(observed as Map<string, string>)];
      return pairs.map(([path, sig]) => table.index(path, sig));
    };
    return {
      format: 4,
      key: this.key,
      ...ids,
      entries: table.entries,
      structure: structureRecords.map(([k, r]) => [k, { ...r, observed: renumber(r.observed) }]),
      commands: commandRecords.map(([k, r]) => [k, pack(r, renumber(r.observed))]),
      environments: [...this.next.environments],
    };
  }
}
