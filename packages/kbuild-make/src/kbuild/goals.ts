import { matchPattern, words } from '../make/words';
import type { MakeEvaluator } from '../make/evaluator';

/** A rule of a directory's Makefile, expanded. */
export interface DirRule {
  targets: string[];
  /** For a static pattern rule (`targets: %.c: %.map`), the target pattern. */
  pattern?: string;
  /** Real prerequisites (FORCE dropped), in order. */
  prereqs: string[];
  /** First real prerequisite (the `$<` of its recipe). */
  prereq?: string;
  /** Its normal prerequisites as make lists them in `$+` (FORCE kept, order-only ones after `|` not). */
  listed: string[];
  recipe: string[];
  /** Where the rule is written. */
  file: string;
  line: number;
}

/** The rules an evaluation read, expanded; with `dir`, names inside it are made relative to it. */
export function dirRules(ev: MakeEvaluator, dir?: string): DirRule[] {
  const local = (t: string) => (dir !== undefined && t.startsWith(dir + '/') ? t.slice(dir.length + 1) : t);
  return ev.rules.flatMap((r) => {
    let text: string;
    try {
      text = ev.expand(r.text, r);
    } catch {
      return []; // targets that need a recipe-time variable: it makes no listed file
    }
    const parts = text.split(/:(?!=)/);
    if (parts.length < 2) return [];
    const targets = words(parts[0]).map(local);
    const pattern = parts.length >= 3 ? words(parts[1]).map(local)[0] : undefined;
    const all = words(parts[parts.length - 1]);
    const prereqs = all.filter((w) => w !== 'FORCE' && w !== '|').map(local);
    const bar = all.indexOf('|');
    const listed = (bar < 0 ? all : all.slice(0, bar)).map(local);
    return [{ targets, pattern, prereqs, prereq: prereqs[0], listed, recipe: r.recipe, file: r.file, line: r.line }];
  });
}

/** An object compiled in a directory that is neither linked into vmlinux nor part of a module. */
export interface GoalObject {
  /** Name relative to the directory. */
  name: string;
  /** Targets whose prerequisite chain leads to it, outermost first (their variables are inherited). */
  via: string[];
}

/** A sub-make a rule's recipe starts (`$(Q)$(MAKE) $(build)=$(obj)/rm $@`). */
export interface SubMake {
  dir: string;
  goal: string;
}

/**
 * Walks the directory's goals as make would (depth first, prerequisites in order, each file once)
 * through the directory's rules, and returns the objects it reaches that are not already known:
 * vDSO, realmode and boot-stub objects, made to build a blob a built-in object embeds. Only files
 * of this directory are followed. Recipes that start a sub-make for another directory are
 * reported with their goal.
 */
export function reachableObjects(
  rules: DirRule[],
  dir: string,
  goals: string[],
  known: ReadonlySet<string>,
  /** Prerequisites kbuild's own pattern rules add (an object's generated source). */
  implicit: (name: string) => string[],
): { objects: GoalObject[]; subMakes: SubMake[] } {
  const objects: GoalObject[] = [];
  const subMakes: SubMake[] = [];
  const seen = new Set<string>();
  const visit = (name: string, via: string[]): void => {
    if (seen.has(name)) return;
    seen.add(name);
    if (name.endsWith('.o') && !known.has(name)) objects.push({ name, via });
    for (const p of implicit(name)) visit(p, [...via, name]);
    for (const r of rules) {
      let stem: string | undefined;
      if (r.pattern !== undefined) {
        if (!r.targets.includes(name)) continue;
        stem = matchPattern(r.pattern, name);
        if (stem === undefined) continue;
      } else {
        for (const t of r.targets) {
          const s = t.includes('%') ? matchPattern(t, name) : t === name ? '' : undefined;
          if (s !== undefined) {
            stem = s;
            break;
          }
        }
        if (stem === undefined) continue;
      }
      for (const line of r.recipe) {
        const m = /\$\(MAKE\)\s+\$\(build\)=(\S+)\s+(\S+)/.exec(line);
        if (m) subMakes.push({ dir: m[1].replace('$(obj)', dir), goal: m[2].replace('$@', `${dir}/${name}`) });
      }
      for (const p of r.prereqs) {
        const prereq = p.replace('%', stem);
        if (prereq.startsWith('/') || prereq.includes('$')) continue; // outside this directory
        visit(prereq, [...via, name]);
      }
    }
  };
  for (const g of goals) visit(g, []);
  return { objects, subMakes };
}
