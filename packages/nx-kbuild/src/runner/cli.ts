#!/usr/bin/env node
import { compile, compileFinal, genksyms, link, modpost, treeLink } from './steps';
import { existsSync, readFileSync } from 'node:fs';
import { SPEC_ENV, SPEC_FILE_ENV, type StepSpec } from './spec';
import { removeAll, StepFailed } from './process';

/** Entry point of every nx-kbuild task: runs the pass its spec describes. */
async function main(): Promise<void> {
  const file = process.env[SPEC_FILE_ENV];
  let raw = process.env[SPEC_ENV];
  if (!raw && file) {
    if (!existsSync(file)) throw new StepFailed(`${file} is missing: compute the project graph again (nx reset) so nx-kbuild writes it`, 2);
    raw = readFileSync(file, 'utf8');
  }
  if (!raw) throw new StepFailed(`${SPEC_ENV} is not set: this command is run by nx-kbuild's Nx targets`, 2);
  const identity = process.env.NX_KBUILD_IDENTITY_VAR;
  if (!identity || !process.env[identity]) {
    // Without it the task's cache key would not cover the kernel and toolchain: refuse to run.
    throw new StepFailed(`${identity ?? 'the kernel identity'} is not set: run this target through Nx (the plugin computes it before tasks run)`, 2);
  }
  const spec = JSON.parse(raw) as StepSpec;
  // In-tree specs name files relative to the build directory, as kbuild does.
  if ('cwd' in spec) process.chdir(spec.cwd);
  // Every tool runs with the environment kbuild gives it.
  if ('env' in spec) {
    Object.assign(process.env, spec.env);
    removeAll(spec.downstream);
  }
  switch (spec.step) {
    case 'compile':
      return compile(spec);
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
