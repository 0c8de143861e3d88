#!/usr/bin/env node
import { compile, compileFinal, genksyms, link, modpost, treeLink } from './steps';
import { SPEC_ENV, type StepSpec } from './spec';
import { removeAll, StepFailed } from './process';

/** Entry point of every nx-kbuild task: runs the pass its spec describes. */
async function main(): Promise<void> {
  const raw = process.env[SPEC_ENV];
  if (!raw) throw new StepFailed(`${SPEC_ENV} is not set: this command is run by nx-kbuild's Nx targets`, 2);
  const identity = process.env.NX_KBUILD_IDENTITY_VAR;
  if (!identity || !process.env[identity]) {
    // Without it the task's cache key would not cover the kernel and toolchain: refuse to run.
    throw new StepFailed(`${identity ?? 'the kernel identity'} is not set: run this target through Nx (the plugin computes it before tasks run)`, 2);
  }
  const spec = JSON.parse(raw) as StepSpec;
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
  }
}

main().catch((e: unknown) => {
  const code = e instanceof StepFailed ? e.exitCode : 1;
  process.stderr.write(`nx-kbuild: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(code || 1);
});
