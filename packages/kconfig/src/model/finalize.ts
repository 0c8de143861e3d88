import { exprAnd, exprOr, exprSym, type Expr } from './expr';
import type { Kconfig } from './kconfig';
import type { Menu, Property } from './symbol';

/** rewrite_m: `m` becomes `m && MODULES`, so it is n when modules are off. */
function rewriteM(kc: Kconfig, e: Expr | undefined): Expr | undefined {
  if (!e) return e;
  switch (e.kind) {
    case 'not':
      return { kind: 'not', e: rewriteM(kc, e.e)! };
    case 'and':
    case 'or':
      return { kind: e.kind, l: rewriteM(kc, e.l)!, r: rewriteM(kc, e.r)! };
    case 'sym':
      return e.sym === kc.mod ? { kind: 'and', l: e, r: exprSym(kc.modulesSym) } : e;
    default:
      return e;
  }
}

/**
 * menu_finalize (scripts/kconfig/menu.c): propagates every menu's dependencies to its children
 * and their properties, turns select/imply into reverse dependencies, records each symbol's
 * direct dependencies, and flattens `if` blocks.
 *
 * conf also simplifies the expressions and nests symbols under the symbol they depend on
 * ("automatic submenus"). Neither changes a value or the depth-first order of the menu tree,
 * which is all .config and auto.conf depend on, so both are left out.
 */
export function finalizeMenus(kc: Kconfig): void {
  finalize(kc, kc.rootmenu, false);
}

function finalize(kc: Kconfig, parent: Menu, insideChoice: boolean): void {
  const sym = parent.sym;
  if (parent.list) {
    for (let menu: Menu | undefined = parent.list; menu; menu = menu.next) {
      const basedep = exprAnd(parent.dep, rewriteM(kc, menu.dep));
      menu.dep = basedep;
      const props: Property[] = menu.sym ? menu.sym.props : menu.prompt ? [menu.prompt] : [];
      for (const prop of props) {
        if (prop.menu !== menu) continue;
        const dep = exprAnd(basedep, rewriteM(kc, prop.visible.expr));
        prop.visible.expr = dep;
        if ((prop.type === 'select' || prop.type === 'imply') && prop.expr?.kind === 'sym' && menu.sym) {
          const target = prop.expr.sym;
          const term = exprAnd(exprSym(menu.sym), dep);
          if (prop.type === 'select') target.revDep.expr = exprOr(target.revDep.expr, term);
          else target.implied.expr = exprOr(target.implied.expr, term);
        }
      }
    }
    const choice = sym?.isChoice() ?? false;
    for (let menu: Menu | undefined = parent.list; menu; menu = menu.next) finalize(kc, menu, choice);
  } else if (!insideChoice && sym) {
    sym.dirDep.expr = exprOr(sym.dirDep.expr, parent.dep);
  }
  // Flatten `if` blocks (menu nodes without a prompt text): their children follow them instead.
  for (let menu: Menu | undefined = parent.list; menu; menu = menu.next) {
    if (menu.list && (!menu.prompt || menu.prompt.text === undefined)) {
      let last = menu.list;
      for (;;) {
        last.parent = parent;
        if (!last.next) break;
        last = last.next;
      }
      last.next = menu.next;
      menu.next = menu.list;
      menu.list = undefined;
    }
  }
}
