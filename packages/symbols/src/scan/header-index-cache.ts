/**
 * What indexing each shared header gave, kept between runs by the header's signature (inode, size,
 * mtime): a run after an edit indexes the few headers that changed and decodes the others' (about
 * 6,000 for x86; indexing them all again took 1.5 s of each run that scans or predicts anything).
 * A header is kept as its text and flat arrays of numbers, decoded into the objects indexHeader
 * makes (the clauses a header's definitions share stay shared): a whole index is hundreds of
 * thousands of small objects, which V8 deserializes slowly one by one.
 */
import { readFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { writeFileAtomicAsync } from '@nx-kbuild/diagnostics';
import type { Clause, IncludeEdge, IndexedMacro } from './header-index';

/** One header's part of the index, as indexHeader adds it. */
export interface HeaderPart {
  text: string;
  guarded: boolean;
  /** Its code may export or add .modinfo (header-index's INVOKES). */
  invokes: boolean;
  definitions: Map<string, IndexedMacro[]>;
  includes: IncludeEdge[];
  functions: Map<string, { file: string; refs: ReadonlySet<string> }[]>;
}

interface StoredHeader {
  sig: string;
  text: string;
  guarded: boolean;
  invokes: boolean;
  /** Per clause: start, end, line, flags (1 ifdef, 2 want, 4 guard). */
  clauses: number[];
  /** Per definition, in order: its name; and start, end, line, first clause index in `when`, clause count. */
  names: string[];
  macros: number[];
  when: number[];
  /** Per #include: its name; and quoted (0/1), first index in `when`, count. */
  includeNames: string[];
  includes: number[];
  /** Per inline function: its name and its references (space-separated). */
  functionNames: string[];
  functionRefs: string[];
}

interface Stored {
  key: string;
  headers: [string, StoredHeader][];
}

function encode(sig: string, part: HeaderPart): StoredHeader {
  const clauseAt = new Map<Clause, number>();
  const clauses: number[] = [];
  const when: number[] = [];
  const clauseList = (list: readonly Clause[]): [number, number] => {
    const first = when.length;
    for (const c of list) {
      let i = clauseAt.get(c);
      if (i === undefined) {
        clauseAt.set(c, (i = clauseAt.size));
        clauses.push(c.start, c.end, c.line, (c.ifdef ? 1 : 0) | (c.want ? 2 : 0) | (c.guard ? 4 : 0));
      }
      when.push(i);
    }
    return [first, list.length];
  };
  const names: string[] = [];
  const macros: number[] = [];
  // In the order indexHeader met them (by name, each name's in file order: the same for one file).
  for (const [name, defs] of part.definitions) {
    for (const d of defs) {
      names.push(name);
      macros.push(d.start, d.end, d.line, ...clauseList(d.when));
    }
  }
  const includeNames: string[] = [];
  const includes: number[] = [];
  for (const e of part.includes) {
    includeNames.push(e.name);
    includes.push(e.quoted ? 1 : 0, ...clauseList(e.when));
  }
  const functionNames: string[] = [];
  const functionRefs: string[] = [];
  for (const [name, defs] of part.functions) {
    for (const f of defs) {
      functionNames.push(name);
      functionRefs.push([...f.refs].join(' '));
    }
  }
  return { sig, text: part.text, guarded: part.guarded, invokes: part.invokes, clauses, names, macros, when, includeNames, includes, functionNames, functionRefs };
}

function decode(file: string, h: StoredHeader): HeaderPart {
  const { text } = h;
  const clauses: Clause[] = [];
  for (let k = 0; k < h.clauses.length; k += 4) {
    const flags = h.clauses[k + 3];
    const c: Clause = { text, start: h.clauses[k], end: h.clauses[k + 1], line: h.clauses[k + 2], ifdef: (flags & 1) !== 0, want: (flags & 2) !== 0 };
    if (flags & 4) c.guard = true;
    clauses.push(c);
  }
  const whenOf = (first: number, count: number): Clause[] => {
    const out: Clause[] = [];
    for (let k = first; k < first + count; k++) out.push(clauses[h.when[k]]);
    return out;
  };
  const definitions = new Map<string, IndexedMacro[]>();
  for (let k = 0; k < h.names.length; k++) {
    const m = h.macros;
    const d: IndexedMacro = { file, text, start: m[5 * k], end: m[5 * k + 1], line: m[5 * k + 2], when: whenOf(m[5 * k + 3], m[5 * k + 4]) };
    const list = definitions.get(h.names[k]);
    if (list) list.push(d);
    else definitions.set(h.names[k], [d]);
  }
  const includes: IncludeEdge[] = h.includeNames.map((name, k) => ({ from: file, name, quoted: h.includes[3 * k] === 1, when: whenOf(h.includes[3 * k + 1], h.includes[3 * k + 2]) }));
  const functions = new Map<string, { file: string; refs: ReadonlySet<string> }[]>();
  for (let k = 0; k < h.functionNames.length; k++) {
    const refs = new Set(h.functionRefs[k] === '' ? [] : h.functionRefs[k].split(' '));
    const list = functions.get(h.functionNames[k]);
    if (list) list.push({ file, refs });
    else functions.set(h.functionNames[k], [{ file, refs }]);
  }
  return { text, guarded: h.guarded, invokes: h.invokes, definitions, includes, functions };
}

/** Where a HeaderIndexCache is kept, and its key (the indexer's code): what another thread needs to read it. */
export interface KeptIndexFile {
  file: string;
  key: string;
}

/** The headers kept in `file` (for the same `key`: the indexer's code), and what this run indexes. */
export class HeaderIndexCache {
  private readonly kept = new Map<string, StoredHeader>();
  private readonly now = new Map<string, StoredHeader>();
  private changed = false;
  /** How many headers came from the kept file. */
  decoded = 0;
  /** The write save() started, if any (it never rejects). */
  saved: Promise<void> = Promise.resolve();

  /** `readOnly`: save() writes nothing (another thread keeps the file). */
  constructor(
    private readonly file: string,
    private readonly key: string,
    private readonly readOnly = false,
  ) {
    try {
      const stored = deserialize(readFileSync(file)) as Stored;
      if (stored.key === key) for (const [path, h] of stored.headers) this.kept.set(path, h);
    } catch {
      // none yet, or unreadable: every header is indexed
    }
  }

  /** The part of `path` (whose signature is `sig` now), from the kept file or made by `index`. */
  part(path: string, sig: string, index: () => HeaderPart): HeaderPart {
    const kept = this.kept.get(path);
    if (kept && kept.sig === sig && sig !== '-') {
      this.now.set(path, kept);
      this.decoded++;
      return decode(path, kept);
    }
    const part = index();
    this.now.set(path, encode(sig, part));
    this.changed = true;
    return part;
  }

  /**
   * Writes the headers of this run when any was indexed or is gone (atomically, on libuv's
   * threads: the run goes on; a write that fails only means indexing them again next time).
   */
  save(): void {
    if (this.readOnly || (!this.changed && this.now.size === this.kept.size)) return;
    this.saved = writeFileAtomicAsync(this.file, serialize({ key: this.key, headers: [...this.now] } satisfies Stored)).catch(() => undefined);
  }
}
