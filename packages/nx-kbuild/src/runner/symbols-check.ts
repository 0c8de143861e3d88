/**
 * The symbols-check task: evaluates the tree as the graph does (the objects are built now, so
 * imports are exact), runs the engine's checks, prints each finding as
 * `file:line: error|warning: <modpost's wording>`, writes them to the report (atomically; a
 * failed run leaves none) and fails on an error.
 */
import { relative } from 'node:path';
import { loadInTreeModel } from '../model/in-tree-model';
import { loadTreeModel } from '../model/tree-model';
import { checkTreeModel } from '../check/tree-findings';
import { writeFileAtomic } from '@nx-kbuild/diagnostics';
import { removeAll, StepFailed } from './process';
import type { SymbolsCheckSpec } from './spec';

export async function symbolsCheck(spec: SymbolsCheckSpec): Promise<void> {
  removeAll([spec.report]);
  process.env.PATH = spec.path;
  const { workspaceRoot, options } = spec;
  // This task runs after every module's compile and genksyms, which Nx keys by content: the
  // objects are those of the current sources even where a rewritten source is newer than them.
  const model = options.objtree !== undefined ? await loadInTreeModel(workspaceRoot, options, true, true) : loadTreeModel(workspaceRoot, options, true);
  const check = checkTreeModel(model, options);
  const at = (file: string) => (file.startsWith(workspaceRoot + '/') ? relative(workspaceRoot, file) : file);
  const lines = check.findings.map((f) => `${at(f.file)}:${f.line}: ${f.severity}: ${f.message}`);
  const errors = check.findings.filter((f) => f.severity === 'error').length;
  const summary =
    `symbols-check: ${check.modules} modules (imports exact from objects for ${check.exact}, predicted for ${check.modules - check.exact}; ${check.dialect.description}): ` +
    `${errors} errors, ${check.findings.length - errors} warnings`;
  const text = [...lines, summary].join('\n') + '\n';
  writeFileAtomic(spec.report, text);
  process.stdout.write(text);
  if (errors > 0) throw new StepFailed(`symbols-check found ${errors} error(s); see ${at(spec.report)}`, 1);
}
