/**
 * A module's scan in the form a kept scan stores it: what every run needs (its exports, .modinfo,
 * objects) as data, and the large name sets (identifiers, local functions, declared names, shared
 * headers: only a prediction reads them) as one JSON string, parsed the first time one is used.
 * Deserializing one string per module instead of millions of small ones is what makes loading fast.
 */
import type { ScanDiagnostic } from './source-scan';
import type { ModuleScan, ModuleSymbols } from './tree-scan';

export interface StoredModuleScan {
  name: string;
  objects: string[];
  exports: ModuleSymbols['exports'];
  modinfo: ModuleSymbols['modinfo'];
  /** JSON of NameSets. */
  names: string;
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
  return { name: m.name, objects: m.objects, exports: m.exports, modinfo: m.modinfo, names: JSON.stringify(names), errors: s.errors, unreadable: s.unreadable };
}

/** How storedScan's JSON introduces its last list (a quote inside a path is escaped: this is the key). */
const SHARED_HEADERS = ',"sharedHeaders":';

/** Up to this many names, mayMention searches the stored text rather than decoding it. */
const QUICK_SEARCHES = 64;

class StoredSymbols implements ModuleSymbols {
  private sets?: { identifiers: Set<string>; functions: Map<string, ReadonlySet<string>>; declared: Set<string>; sharedHeaders: Set<string> };

  constructor(private readonly stored: StoredModuleScan) {}

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
      for (const n of names) if (this.stored.names.includes(`"${n}"`)) return undefined;
      return false;
    }
    const n = JSON.parse(this.stored.names) as NameSets;
    for (const id of n.identifiers) if (names.has(id)) return true;
    for (const [, refs] of n.functions) for (const r of refs) if (names.has(r)) return true;
    return false;
  }

  /** The shared headers alone: the last list of the stored JSON (a header's #include edit asks every kept module). */
  sharedHeadersQuickly(): Iterable<string> {
    if (this.sets) return this.sets.sharedHeaders;
    const text = this.stored.names;
    return JSON.parse(text.slice(text.lastIndexOf(SHARED_HEADERS) + SHARED_HEADERS.length, -1)) as string[];
  }

  private parsed() {
    if (!this.sets) {
      const n = JSON.parse(this.stored.names) as NameSets;
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
