/**
 * A module's scan in the form a kept scan stores it: what every run needs (its exports, .modinfo,
 * objects) as data, and the large name sets (identifiers, local functions, declared names, shared
 * headers: only a prediction reads them) as the bytes of one JSON text, parsed the first time one
 * is used. Deserializing one byte array per module instead of millions of small strings is what
 * makes loading fast, and bytes rather than a string keep the 90 MB of a distribution kernel's
 * names out of V8's heap (a string is copied into it as it is deserialized).
 */
import type { ScanDiagnostic } from './source-scan';
import type { ModuleScan, ModuleSymbols } from './tree-scan';

export interface StoredModuleScan {
  name: string;
  objects: string[];
  exports: ModuleSymbols['exports'];
  modinfo: ModuleSymbols['modinfo'];
  /** UTF-8 JSON of NameSets. */
  names: Uint8Array;
  errors: ScanDiagnostic[];
  unreadable: string[];
}

interface NameSets {
  identifiers: string[];
  functions: [string, string[]][];
  declared: string[];
  sharedHeaders: string[];
}

export function storedScan(s: ModuleScan): StoredModuleScan {
  const m = s.symbols;
  const names: NameSets = {
    identifiers: [...m.identifiers],
    functions: [...m.functions].map(([k, v]) => [k, [...v]]),
    declared: [...m.declared],
    sharedHeaders: [...m.sharedHeaders],
  };
  return { name: m.name, objects: m.objects, exports: m.exports, modinfo: m.modinfo, names: Buffer.from(JSON.stringify(names)), errors: s.errors, unreadable: s.unreadable };
}

/** How storedScan's JSON introduces its last list (a quote inside a path is escaped: this is the key). */
const SHARED_HEADERS = ',"sharedHeaders":';

/** Up to this many names, mayMention searches the stored text rather than decoding it. */
const QUICK_SEARCHES = 64;

class StoredSymbols implements ModuleSymbols {
  private sets?: { identifiers: Set<string>; functions: Map<string, ReadonlySet<string>>; declared: Set<string>; sharedHeaders: Set<string> };

  /** The stored names' bytes, as a Buffer to search and decode them (a view, not a copy). */
  private readonly bytes: Buffer;

  constructor(private readonly stored: StoredModuleScan) {
    const b = stored.names;
    this.bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }

  get name(): string {
    return this.stored.name;
  }
  get objects(): string[] {
    return this.stored.objects;
  }
  get exports(): ModuleSymbols['exports'] {
    return this.stored.exports;
  }
  get modinfo(): ModuleSymbols['modinfo'] {
    return this.stored.modinfo;
  }
  get identifiers(): Set<string> {
    return this.parsed().identifiers;
  }
  get functions(): Map<string, ReadonlySet<string>> {
    return this.parsed().functions;
  }
  get declared(): Set<string> {
    return this.parsed().declared;
  }
  get sharedHeaders(): Set<string> {
    return this.parsed().sharedHeaders;
  }

  /**
   * Whether the module's identifiers or its own definitions' references include one of `names`
   * (mayReach's question), answered from the stored form: a few names are searched for in the
   * text (a hit is only a maybe: undefined), more are looked up in the decoded lists, which are
   * not kept as sets (a shared header's edit asks this of every kept module).
   */
  mayMention(names: ReadonlySet<string>): boolean | undefined {
    if (this.sets) return undefined;
    if (names.size <= QUICK_SEARCHES) {
      for (const n of names) if (this.bytes.includes(`"${n}"`)) return undefined;
      return false;
    }
    const n = this.decoded();
    for (const id of n.identifiers) if (names.has(id)) return true;
    for (const [, refs] of n.functions) for (const r of refs) if (names.has(r)) return true;
    return false;
  }

  /** The shared headers alone: the last list of the stored JSON (a header's #include edit asks every kept module). */
  sharedHeadersQuickly(): Iterable<string> {
    if (this.sets) return this.sets.sharedHeaders;
    const b = this.bytes;
    return JSON.parse(b.toString('utf8', b.lastIndexOf(SHARED_HEADERS) + SHARED_HEADERS.length, b.length - 1)) as string[];
  }

  private decoded(): NameSets {
    return JSON.parse(this.bytes.toString('utf8')) as NameSets;
  }

  private parsed() {
    if (!this.sets) {
      const n = this.decoded();
      this.sets = {
        identifiers: new Set(n.identifiers),
        functions: new Map(n.functions.map(([k, v]) => [k, new Set(v)])),
        declared: new Set(n.declared),
        sharedHeaders: new Set(n.sharedHeaders),
      };
    }
    return this.sets;
  }
}

export function fromStored(s: StoredModuleScan): ModuleScan {
  return { symbols: new StoredSymbols(s), errors: s.errors, unreadable: s.unreadable, stored: s };
}
