/**
 * What a module's scan read of the shared header index, kept with its scan as observations (facts,
 * not files): the definitions of each name it looked up (found or not), for each header whose
 * reach it asked the include that made it reached or else all the indexed headers that include
 * it, whether each shared header it includes is read into
 * (no include guard, or code that exports), and the macros that can reach an export (asked for
 * every identifier of every file). After a shared header changes, a kept module is scanned again
 * only when one of these differs in the new index: an edit of include/linux/netdevice.h rescans
 * the modules that looked up a macro it defines, not all 4,231.
 */
import { createHash } from 'node:crypto';
import { isObserving, noteFact } from '@nx-kbuild/kbuild-make';
import type { Clause, HeaderIndex, IndexedMacro } from './header-index';
import type { ScanEnvironment } from './source-scan';

const DEFINITIONS = '\0def:';
const INCLUDED_BY = '\0incl:';
const RELEVANT = '\0relevant';
const FOLLOWED = '\0followed:';
const REACHED_THROUGH = '\0through:';

/** Per index (each thread builds its own), each fact's key and signature, computed once. */
const definitionFacts = new WeakMap<HeaderIndex, Map<string, [key: string, sig: string]>>();
const includedByFacts = new WeakMap<HeaderIndex, Map<string, [key: string, sig: string]>>();
const relevantFacts = new WeakMap<ScanEnvironment, string>();

const clauseText = (c: Clause): string => `${c.text.slice(c.start, c.end)}\0${c.line}\0${c.ifdef ? 1 : 0}${c.want ? 1 : 0}${c.guard ? 1 : 0}\n`;

function definitionsSig(defs: readonly IndexedMacro[] | undefined): string {
  if (!defs) return '-';
  const h = createHash('sha1');
  for (const d of defs) {
    h.update(`${d.file}\0${d.line}\0${d.text.slice(d.start, d.end)}\0`);
    for (const c of d.when) h.update(clauseText(c));
    h.update('\n');
  }
  return h.digest('base64');
}

type IncludedBy = { from: string; when: Clause[] };

/** An include edge as a fact names it: the including header and the conditions around the #include. */
const edgeText = (e: IncludedBy): string => `${e.from}\0${e.when.map(clauseText).join('')}`;

function includedBySig(edges: readonly IncludedBy[] | undefined): string {
  if (!edges) return '-';
  const h = createHash('sha1');
  for (const e of edges) h.update(`${edgeText(e)}\n`);
  return h.digest('base64');
}

/** Per index edge, its fact's key (computed once). */
const throughFacts = new WeakMap<IncludedBy, string>();

function relevantSig(env: ScanEnvironment): string {
  return createHash('sha1').update([...env.relevant].sort().join('\0')).digest('base64');
}

const followedSig = (index: HeaderIndex, file: string): string => `${index.unguarded.has(file) ? 'u' : ''}${index.invoking.has(file) ? 'i' : ''}`;

function memo<K extends object>(cache: WeakMap<K, Map<string, [string, string]>>, owner: K, name: string, prefix: string, sig: () => string): [string, string] {
  let facts = cache.get(owner);
  if (!facts) cache.set(owner, (facts = new Map()));
  let f = facts.get(name);
  if (!f) facts.set(name, (f = [prefix + name, sig()]));
  return f;
}

/** The scan looked up `name` among the index's definitions. */
export function noteDefinitions(index: HeaderIndex, name: string): void {
  if (!isObserving()) return;
  const [key, sig] = memo(definitionFacts, index, name, DEFINITIONS, () => definitionsSig(index.definitions.get(name)));
  noteFact(key, sig);
}

/** The scan asked whether indexed header `file` is reached (which indexed headers include it, when). */
export function noteIncludedBy(index: HeaderIndex, file: string): void {
  if (!isObserving()) return;
  const [key, sig] = memo(includedByFacts, index, file, INCLUDED_BY, () => includedBySig(index.includedBy.get(file)));
  noteFact(key, sig);
}

/**
 * The scan found indexed header `file` reached through the include `e` (which holds wherever the
 * including header is reached). It stays reached while the index has that include: the fact
 * holds ("1") while `e` is among the header's includers, whatever others are added.
 */
export function noteReachedThrough(file: string, e: IncludedBy): void {
  if (!isObserving()) return;
  let key = throughFacts.get(e);
  if (key === undefined) throughFacts.set(e, (key = `${REACHED_THROUGH}${file}\0${edgeText(e)}`));
  noteFact(key, '1');
}

/** The scan asks which macros can reach an export (for every identifier of every file). */
export function noteRelevant(env: ScanEnvironment): void {
  if (!isObserving()) return;
  noteFact(RELEVANT, indexFactNow(env, RELEVANT));
}

/** The scan asked whether shared header `file` is read into (unguarded, or invoking an export). */
export function noteFollowed(index: HeaderIndex, file: string): void {
  if (!isObserving()) return;
  noteFact(FOLLOWED + file, followedSig(index, file));
}

/** What a fact kept by one of the functions above is in `env` now. */
export function indexFactNow(env: ScanEnvironment, key: string): string {
  if (key === RELEVANT) {
    let sig = relevantFacts.get(env);
    if (sig === undefined) relevantFacts.set(env, (sig = relevantSig(env)));
    return sig;
  }
  if (key.startsWith(FOLLOWED)) return followedSig(env.index, key.slice(FOLLOWED.length));
  if (key.startsWith(DEFINITIONS)) return definitionsSig(env.index.definitions.get(key.slice(DEFINITIONS.length)));
  if (key.startsWith(INCLUDED_BY)) return includedBySig(env.index.includedBy.get(key.slice(INCLUDED_BY.length)));
  if (key.startsWith(REACHED_THROUGH)) {
    const rest = key.slice(REACHED_THROUGH.length);
    const cut = rest.indexOf('\0');
    const edge = rest.slice(cut + 1);
    return (env.index.includedBy.get(rest.slice(0, cut)) ?? []).some((e) => edgeText(e) === edge) ? '1' : '0';
  }
  return '?'; // not a fact of the index: it does not hold
}
