/**
 * What a module imports: exactly, from the undefined symbols of its compiled objects when every
 * one of them is up to date (kbuild's rule, objects/up-to-date.ts); otherwise predicted from its
 * sources (predict.ts). modpost reads the same undefined symbols, so the exact answer is its.
 */
import { resolve } from 'node:path';
import { readObjectSymbols } from '../objects/object-symbols';
import { MtimeCache, objectUpToDate, type BuiltObject } from '../objects/up-to-date';
import type { ModuleSymbols } from '../scan/tree-scan';
import { predictDependencies, type ExportOwners, type HeaderReferences } from './predict';

export interface ModuleImports {
  /** Symbols the module uses from other code: all its undefined symbols if exact, else those another module exports. */
  symbols: string[];
  /** True when read from up-to-date objects. */
  exact: boolean;
  /** Exact only: the undefined symbols bound weak (modpost does not require them to resolve). */
  weak: string[];
}

/** The undefined symbols of a module's objects, less what another object of the same module defines. */
export function objectImports(objects: readonly string[]): { symbols: string[]; weak: string[] } {
  const read = objects.map((o) => readObjectSymbols(o));
  const defined = new Set(read.flatMap((s) => s.defined));
  const undef = new Set(read.flatMap((s) => s.undefined).filter((s) => !defined.has(s)));
  const weak = new Set(read.flatMap((s) => s.weakUndefined).filter((s) => undef.has(s)));
  return { symbols: [...undef].sort(), weak: [...weak].sort() };
}

export function moduleImports(
  m: ModuleSymbols,
  objects: readonly BuiltObject[],
  cwd: string,
  owners: ExportOwners,
  /** Asked for only when a prediction is made (building the header index takes seconds). */
  headers: () => HeaderReferences,
  /** null: the objects are known to be built from the current sources (see objectUpToDate). */
  mtimes: MtimeCache | null = new MtimeCache(),
  /** How to predict when the objects are not up to date (default: predictedImports; see kept-predictions.ts). */
  predict: (m: ModuleSymbols) => ModuleImports = (x) => predictedImports(x, owners, headers()),
): ModuleImports {
  if (objects.length > 0 && objects.every((o) => objectUpToDate(o, cwd, mtimes))) {
    return { ...objectImports(objects.map((o) => resolve(cwd, o.object))), exact: true };
  }
  return predict(m);
}

export function predictedImports(m: ModuleSymbols, owners: ExportOwners, headers: HeaderReferences): ModuleImports {
  return { symbols: [...predictDependencies(m, owners, headers).values()].flat().sort(), exact: false, weak: [] };
}
