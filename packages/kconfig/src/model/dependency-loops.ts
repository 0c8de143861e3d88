import { SourceError } from '@nx-kbuild/diagnostics';
import { exprSymbols } from './expr';
import type { Kconfig } from './kconfig';
import type { KSymbol } from './symbol';

/**
 * sym_check_deps, reduced to what decides validity: a symbol whose value depends on itself
 * through dependencies, defaults, selects, implies, prompts or ranges is an error, reported with
 * the cycle as conf reports it ("recursive dependency detected!").
 */
export function checkDependencyLoops(kc: Kconfig): void {
  const state = new Map<KSymbol, 1 | 2>(); // 1 visiting, 2 done
  const stack: KSymbol[] = [];
  const depsOf = (sym: KSymbol): KSymbol[] => {
    const out = [...exprSymbols(sym.revDep.expr), ...exprSymbols(sym.dirDep.expr), ...exprSymbols(sym.implied.expr)];
    for (const p of sym.props) {
      if (p.type === 'select' || p.type === 'imply') continue;
      exprSymbols(p.visible.expr, out);
      if (p.type === 'default' && !sym.isChoice()) exprSymbols(p.expr, out);
    }
    if (sym.choice?.sym) out.push(sym.choice.sym);
    return out;
  };
  const visit = (sym: KSymbol): void => {
    if (sym.isConst()) return;
    const s = state.get(sym);
    if (s === 2) return;
    if (s === 1) {
      const cycle = stack.slice(stack.indexOf(sym));
      const where = sym.menus[0] ?? sym.props[0];
      const lines = cycle.map((c, i) => {
        const at = c.menus[0] ?? c.props[0];
        return `${at ? `${at.file}:${at.line}:` : ''}\tsymbol ${c.displayName()} depends on ${cycle[(i + 1) % cycle.length].displayName()}`;
      });
      throw new SourceError(
        where?.file ?? 'Kconfig',
        where?.line ?? 0,
        `error: recursive dependency detected!\n${lines.join('\n')}\nFor a resolution refer to Documentation/kbuild/kconfig-language.rst\nsubsection "Kconfig recursive dependency limitations"`,
      );
    }
    state.set(sym, 1);
    stack.push(sym);
    for (const d of depsOf(sym)) visit(d);
    stack.pop();
    state.set(sym, 2);
  };
  for (const sym of kc.allSymbols()) visit(sym);
}
