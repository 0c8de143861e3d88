/**
 * Whether a compiled object is up to date by kbuild's own rule (scripts/Kbuild.include,
 * if_changed_dep): it exists, it is not older than its source nor than any prerequisite fixdep
 * recorded in its `.<obj>.cmd` file (the `source_` and `deps_` lines), and it was built with the
 * command that would build it now. Only then do its symbols say what the module imports; a stale
 * or half-built object says what the code used to import.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export interface BuiltObject {
  object: string;
  source: string;
  /** The `.<obj>.cmd` file fixdep writes. */
  cmdFile: string;
  /** The command kbuild would record now (savedcmd_); omitted: the command is not compared. */
  savedcmd?: string;
}

/** mtimes in ms, or null for a missing file; one lookup per path (the headers are shared). */
export class MtimeCache {
  private readonly times = new Map<string, number | null>();

  get(path: string): number | null {
    let t = this.times.get(path);
    if (t === undefined) {
      // Before a build no object exists: no error thrown per missing one.
      try {
        t = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null;
      } catch {
        t = null;
      }
      this.times.set(path, t);
    }
    return t;
  }
}

interface CmdFile {
  savedcmd?: string;
  /** Prerequisites that must exist (source_ and plain deps_ entries). */
  required: string[];
  /** `$(wildcard …)` entries: prerequisites only when they exist. */
  optional: string[];
}

/** The savedcmd_, source_ and deps_ variables of a fixdep .cmd file (make syntax, one level of continuation lines). */
export function parseCmdFile(text: string): CmdFile {
  const joined = text.replace(/\\\n/g, ' ');
  const out: CmdFile = { required: [], optional: [] };
  for (const line of joined.split('\n')) {
    const m = /^(savedcmd|source|deps)_\S+\s*:=\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'savedcmd') {
      out.savedcmd = m[2];
      continue;
    }
    for (const w of m[2].matchAll(/\$\(wildcard\s+([^)]+)\)|(\S+)/g)) {
      if (w[1] !== undefined) out.optional.push(...w[1].trim().split(/\s+/));
      else out.required.push(w[2]);
    }
  }
  return out;
}

/** kbuild's cmd-check: the two commands have the same words (make's filter-out, both ways), after fixdep's escaping is undone. */
function sameCommand(saved: string, now: string): boolean {
  const words = (s: string) => new Set(s.replace(/\$\$/g, '$').replace(/\\#/g, '#').split(/\s+/).filter((w) => w !== ''));
  const a = words(saved);
  const b = words(now);
  return a.size === b.size && [...a].every((w) => b.has(w));
}

/**
 * `cwd` is where the compile ran: relative paths in the .cmd file are relative to it. `mtimes`
 * null: the caller knows the object was built from the sources' current content (a build keyed by
 * content, such as an Nx task this one depends on, which may leave an older object in place when a
 * source is rewritten with the same content): only the object, its .cmd and its command are checked.
 */
export function objectUpToDate(o: BuiltObject, cwd: string, mtimes: MtimeCache | null = new MtimeCache()): boolean {
  const at = (p: string) => resolve(cwd, p);
  const built = (mtimes ?? new MtimeCache()).get(at(o.object));
  if (built === null) return false;
  let cmd: CmdFile;
  try {
    cmd = parseCmdFile(readFileSync(at(o.cmdFile), 'utf8'));
  } catch {
    return false; // kbuild rebuilds an object without its .cmd file
  }
  if (o.savedcmd !== undefined && (cmd.savedcmd === undefined || !sameCommand(cmd.savedcmd, o.savedcmd))) return false;
  if (mtimes === null) return true;
  const notNewer = (p: string, required: boolean) => {
    const t = mtimes.get(at(p));
    return t === null ? !required : t <= built;
  };
  return notNewer(o.source, true) && cmd.required.every((p) => notNewer(p, true)) && cmd.optional.every((p) => notNewer(p, false));
}
