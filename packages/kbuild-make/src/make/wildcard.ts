import { readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { exists, noteContent } from '../memo/observations';

function globToRegExp(component: string): RegExp {
  let re = '^';
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = component.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + component.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/**
 * Directory listings, read once, as make's own directory cache does: kbuild asks $(wildcard) about
 * every target of every directory (15,000 for a distribution kernel). Entry points that evaluate
 * a tree call forgetDirectories() first, so a long-lived process sees later changes.
 */
const listings = new Map<string, Set<string> | null>();
/**
 * Directories asked about once so far, answered by testing the one path: most source directories
 * are asked one name (`$(wildcard $(src)/Kbuild)`), which a lookup answers for a quarter of what
 * listing the directory costs. The second name asked lists it.
 */
const askedOnce = new Set<string>();

export function forgetDirectories(): void {
  listings.clear();
  askedOnce.clear();
}

function entryExists(dir: string, name: string): boolean {
  if (name === '.' || name === '..' || name === '') return exists(join(dir, name));
  let entries = listings.get(dir);
  if (entries === undefined && !askedOnce.has(dir)) {
    askedOnce.add(dir);
    return exists(join(dir, name));
  }
  noteContent(dir);
  if (entries === undefined) {
    try {
      entries = new Set(readdirSync(dir));
    } catch {
      entries = null;
    }
    listings.set(dir, entries);
  }
  return entries !== null && entries.has(name);
}

/** `$(wildcard pattern)`: existing paths matching a shell glob, sorted per directory as make does. */
export function wildcard(pattern: string, cwd: string): string[] {
  const parts = pattern.split('/');
  let bases: string[] = [isAbsolute(pattern) ? '/' : ''];
  for (let k = isAbsolute(pattern) ? 1 : 0; k < parts.length; k++) {
    const part = parts[k];
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      const dir = isAbsolute(base) ? base : join(cwd, base || '.');
      if (!/[*?[]/.test(part)) {
        const candidate = base === '' ? part : base === '/' ? '/' + part : `${base}/${part}`;
        if (last) {
          if (entryExists(dir, part)) next.push(candidate);
        } else next.push(candidate);
        continue;
      }
      let entries: string[];
      noteContent(dir);
      try {
        entries = readdirSync(dir).sort();
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const e of entries) {
        if (e.startsWith('.') && !part.startsWith('.')) continue;
        if (re.test(e)) next.push(base === '' ? e : base === '/' ? '/' + e : `${base}/${e}`);
      }
    }
    bases = next;
  }
  return bases;
}
