import { SourceError } from '@nx-kbuild/diagnostics';
import type { Expr } from './expr';
import type { Kconfig } from './kconfig';
import type { KSymbol } from './symbol';

const VISITING = 1;
const DONE = 2;

/**
 * sym_check_deps, reduced to what decides validity: a symbol whose value depends on itself
 * through dependencies, defaults, selects, implies, prompts or ranges is an error, reported with
 * the cycle as conf reports it ("recursive dependency detected!").
 *
 * Menu dependencies are shared subtrees (a child's `depends on` is its parent's and its own), so
 * an expression already walked to the end is not walked again: all its symbols are done.
 */
export function checkDependencyLoops(kc: Kconfig): void {
  const state = new Uint8Array(kc.symbolCount);
  const walked = new Set<Expr>();
  const stack: KSymbol[] = [];

  const walk = (e: Expr | undefined): void => {
    if (!e) return;
    // A symbol needs no entry in `walked`: once visited it is DONE, and visit returns at once.
    if (e.kind === 'sym') return visit(e.sym);
    if (walked.has(e)) return;
    switch (e.kind) {
      case 'not':
        walk(e.e);
        break;
      case 'and':
      case 'or':
        walk(e.l);
        walk(e.r);
        break;
      case 'cmp':
      case 'range':
        visit(e.l);
        visit(e.r);
        break;
    }
    walked.add(e);
  };

  const visit = (sym: KSymbol): void => {
    if (sym.isConst()) return;
    const s = state[sym.seq];
    if (s === DONE) return;
    if (s === VISITING) throw cycleError(stack.slice(stack.indexOf(sym)));
    state[sym.seq] = VISITING;
    stack.push(sym);
    // The order conf follows, so the same cycle is reported first.
    walk(sym.revDep.expr);
    walk(sym.dirDep.expr);
    walk(sym.implied.expr);
    for (const p of sym.props) {
      if (p.type === 'select' || p.type === 'imply') continue;
      walk(p.visible.expr);
      if (p.type === 'default' && !sym.isChoice()) walk(p.expr);
    }
    if (sym.choice?.sym) visit(sym.choice.sym);
    stack.pop();
    state[sym.seq] = DONE;
  };

  for (const sym of kc.allSymbols()) visit(sym);
}

function cycleError(cycle: KSymbol[]): SourceError {
  const first = cycle[0];
  const where = first.menus[0] ?? first.props[0];
  const lines = cycle.map((c, i) => {
    const at = c.menus[0] ?? c.props[0];
    return `${at ? `${at.file}:${at.line}:` : ''}\tsymbol ${c.displayName()} depends on ${cycle[(i + 1) % cycle.length].displayName()}`;
  });
  return new SourceError(
    where?.file ?? 'Kconfig',
    where?.line ?? 0,
    `error: recursive dependency detected!\n${lines.join('\n')}\nFor a resolution refer to Documentation/kbuild/kconfig-language.rst\nsubsection "Kconfig recursive dependency limitations"`,
  );
}
