import { existsSync, readFileSync } from 'node:fs';
import { modelKey, type ModelKeyOptions } from '../result-cache';
import type { EvalPlan } from './eval-plan';
import { decodePlan, planMeta } from './plan-codec';

/**
 * The evaluation plan kept with the parsed tree (model-cache.ts writes both), if it is still
 * current: what olddefconfig and syncconfig evaluate without loading the parser or the tree.
 */
export function loadPlanCached(options: ModelKeyOptions, planFile: string): EvalPlan | undefined {
  if (!existsSync(planFile)) return undefined;
  const buf = readFileSync(planFile);
  const meta = planMeta(buf);
  return meta && modelKey(options, meta) === meta.key ? decodePlan(buf) : undefined;
}
