#!/usr/bin/env node
import { archive, compile, compileFinal, generate, genksyms, link, modpost, treeLink } from './steps';
import { existsSync, readFileSync } from 'node:fs';
import { SPEC_ENV, SPEC_FILE_ENV, type StepSpec } from './spec';
import { removeAll, StepFailed } from './process';

/** A file the graph computation wrote for the tasks (see specFile in targets.ts). */
function readSpecFile(file: string): string {
  if (!existsSync(file)) throw new StepFailed(`${file} is missing: compute the project graph again (nx reset) so nx-kbuild writes it`, 2);
  return readFileSync(file, 'utf8');
}

/** Entry point of every nx-kbuild task: runs the pass its spec describes. */
async function main(): Promise<void> {
  const file = process.env[SPEC_FILE_ENV];
  let raw = process.env[SPEC_ENV];
  if (!raw && file) raw = readSpecFile(file);
  if (!raw) throw new StepFailed(`${SPEC_ENV} is not set: this command is run by nx-kbuild's Nx targets`, 2);
  const identity = process.env.NX_KBUILD_IDENTITY_VAR;
  if (!identity || !process.env[identity]) {
    // Without it the task's cache key would not cover the kernel and toolchain: refuse to run.
    throw new StepFailed(`${identity ?? 'the kernel identity'} is not set: run this target through Nx (the plugin computes it before tasks run)`, 2);
  }
  const spec = JSON.parse(raw) as StepSpec;
  // Every tool runs with the environment kbuild gives it (its file is named relative to the workspace).
  const env = 'envFile' in spec ? (JSON.parse(readSpecFile(spec.envFile)) as Record<string, string>) : undefined;
  // In-tree specs name files relative to the build directory, as kbuild does.
  if ('cwd' in spec) process.chdir(spec.cwd);
  if ('envFile' in spec) {
    Object.assign(process.env, env);
    removeAll(spec.downstream);
  }
  switch (spec.step) {
    case 'generate':
      return generate(spec);
    case 'compile':
      return compile(spec);
    case 'archive':
      return archive(spec);
    case 'genksyms':
      return genksyms(spec);
    case 'modpost':
      return modpost(spec);
    case 'compile-final':
      return compileFinal(spec);
    case 'link':
      return link(spec);
    case 'tree-link':
      return treeLink(spec);
    case 'symbols-check':
      // Loaded only here: the symbol engine and the tree evaluation are heavy for the other passes.
      return (await import('./symbols-check')).symbolsCheck(spec);
  }
}

main().catch((e: unknown) => {
  const code = e instanceof StepFailed ? e.exitCode : 1;
  process.stderr.write(`nx-kbuild: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(code || 1);
});
