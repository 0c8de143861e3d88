import { exprToString, Tri, TRI_TEXT, type Expr } from './expr';
import type { Kconfig } from './kconfig';
import type { KSymbol, SourceLoc } from './symbol';


export interface Decision {
  /** What set the value: the user's .config, a default, select, imply, the choice, a range, or nothing. */
  by: 'user' | 'default' | 'select' | 'imply' | 'choice' | 'range' | 'unset';
  detail: string;
  at?: SourceLoc;
}

export interface SymbolReport {
  name: string;
  type: string;
  value: string;
  /** Upper bound from the prompts' conditions (n: the user cannot change it). */
  visible: 'n' | 'm' | 'y';
  prompt?: string;
  definedAt: SourceLoc[];
  /** The value in the .config read, if any. */
  userValue?: string;
  dependsOn?: { expr: string; value: string };
  selectedBy: { expr: string; value: string }[];
  impliedBy: { expr: string; value: string }[];
  decision: Decision;
}

function orTerms(e: Expr | undefined): Expr[] {
  if (!e) return [];
  return e.kind === 'or' ? [...orTerms(e.l), ...orTerms(e.r)] : [e];
}

/** Why each symbol has its value, computed with the same rules that computed the value. */
export function explainSymbol(kc: Kconfig, sym: KSymbol): SymbolReport {
  kc.calcValue(sym);
  const boolish = sym.type === 'bool' || sym.type === 'tristate';
  const value = kc.stringValue(sym);
  const terms = (e: Expr | undefined) =>
    orTerms(e)
      .map((t) => ({ expr: exprToString(t), value: TRI_TEXT[kc.calcExpr(t)] as string }))
      .filter((t) => t.value !== 'n');
  const selectedBy = terms(sym.revDep.expr);
  const impliedBy = terms(sym.implied.expr);
  const prompt = sym.props.find((p) => p.text !== undefined);
  const userValue = sym.hasValue() ? (boolish ? TRI_TEXT[sym.user.tri] : sym.user.val) : undefined;
  const report: SymbolReport = {
    name: sym.name ?? '<choice>',
    type: sym.type,
    value,
    visible: TRI_TEXT[sym.visible],
    prompt: prompt?.text,
    definedAt: sym.menus.map((m) => ({ file: m.file, line: m.line })),
    userValue,
    dependsOn: sym.dirDep.expr ? { expr: exprToString(sym.dirDep.expr), value: TRI_TEXT[sym.dirDep.tri] } : undefined,
    selectedBy,
    impliedBy,
    decision: decide(kc, sym, value, selectedBy.length > 0),
  };
  return report;
}

function decide(kc: Kconfig, sym: KSymbol, value: string, selected: boolean): Decision {
  const boolish = sym.type === 'bool' || sym.type === 'tristate';
  const choice = kc.choiceMenuOf(sym);
  if (choice) {
    return { by: 'choice', detail: `member of the choice at ${choice.file}:${choice.line}: ${sym.curr.tri === Tri.Yes ? 'the selected member' : 'another member is selected'}` };
  }
  if (boolish) {
    if (selected && sym.revDep.tri === sym.curr.tri && !(sym.visible !== Tri.No && sym.hasValue() && sym.user.tri >= sym.revDep.tri)) {
      return { by: 'select', detail: `forced to at least ${TRI_TEXT[sym.revDep.tri]} by select` };
    }
    if (sym.visible !== Tri.No && sym.hasValue()) {
      const limited = sym.user.tri > sym.visible ? ` (limited to ${TRI_TEXT[sym.visible]} by its dependencies)` : '';
      return { by: 'user', detail: `set to ${TRI_TEXT[sym.user.tri]} in the configuration${limited}` };
    }
    if (sym.hasValue() && sym.visible === Tri.No) {
      // The .config value is ignored: the prompt is not visible.
      const p = kc.defaultProp(sym);
      return p
        ? { by: 'default', detail: `the .config value is ignored (not visible); default ${exprToString(p.expr)}${p.visible.expr ? ` if ${exprToString(p.visible.expr)}` : ''}`, at: { file: p.file, line: p.line } }
        : { by: 'unset', detail: 'the .config value is ignored: its dependencies are not met' };
    }
    if (sym.implied.tri !== Tri.No && sym.curr.tri !== Tri.No) return { by: 'imply', detail: `suggested by imply (${TRI_TEXT[sym.implied.tri]})` };
    const p = kc.defaultProp(sym);
    if (p) return { by: 'default', detail: `default ${exprToString(p.expr)}${p.visible.expr ? ` if ${exprToString(p.visible.expr)}` : ''}`, at: { file: p.file, line: p.line } };
    return { by: 'unset', detail: sym.visible === Tri.No ? 'not visible and no default applies' : 'no default applies' };
  }
  if (sym.visible !== Tri.No && sym.hasValue()) {
    return value === sym.user.val ? { by: 'user', detail: 'set in the configuration' } : { by: 'range', detail: `clamped to ${value} by its range` };
  }
  const p = kc.defaultProp(sym);
  if (p) return { by: 'default', detail: `default ${exprToString(p.expr)}`, at: { file: p.file, line: p.line } };
  return { by: 'unset', detail: 'no default applies' };
}

/** Every named symbol, in conf's order, for a machine-readable dump. */
export function explainAll(kc: Kconfig): SymbolReport[] {
  return kc
    .allSymbols()
    .filter((s) => s.name !== null && s.type !== 'unknown')
    .map((s) => explainSymbol(kc, s))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Human-readable form of a report (nx-kconfig --why). */
export function formatReport(r: SymbolReport): string {
  const lines = [`CONFIG_${r.name}=${r.value}  (${r.type}${r.prompt ? `, "${r.prompt}"` : ''})`];
  lines.push(`  decided by: ${r.decision.by}: ${r.decision.detail}${r.decision.at ? ` [${r.decision.at.file}:${r.decision.at.line}]` : ''}`);
  if (r.userValue !== undefined) lines.push(`  .config value: ${r.userValue}`);
  lines.push(`  visible: ${r.visible}`);
  if (r.dependsOn) lines.push(`  depends on [${r.dependsOn.value}]: ${r.dependsOn.expr}`);
  for (const s of r.selectedBy) lines.push(`  selected by [${s.value}]: ${s.expr}`);
  for (const s of r.impliedBy) lines.push(`  implied by [${s.value}]: ${s.expr}`);
  for (const d of r.definedAt) lines.push(`  defined at ${d.file}:${d.line}`);
  return lines.join('\n');
}
