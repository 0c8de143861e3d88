import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { codeDigest, writeFileAtomic } from '@nx-kbuild/diagnostics';
import type { OperationOutput } from './conf';
import { FileDigests } from './file-digests';

/**
 * The last evaluation of a build directory, keyed by the content hash of everything it read:
 * each Kconfig file, every input file, the environment values and $(shell) probes it used (with
 * the identity of the tools they run), and nx-kbuild's own code. When nothing changed, the
 * outputs are written again without parsing or evaluating anything.
 */
export interface CachedResult {
  key: string;
  /** Kconfig files read (relative to srctree), environment names used, probe commands run. */
  files: string[];
  envNames: string[];
  shellCommands: string[];
  output: OperationOutput;
  /** Warnings the parse printed, printed again on a hit. */
  parseMessages?: string[];
}

export interface KeyInputs {
  srctree: string;
  argv: string[];
  env: Record<string, string | undefined>;
  inputs: (string | undefined)[];
  /** Returns the cache key of a probe command (its text and the identity of what it runs). */
  probeKey: (command: string) => string;
  /** File digests, shared by the model's key and the result's (they cover the same files). */
  digests: FileDigests;
}

/** The key of an evaluation, given what the previous one read (undefined if a file is gone). */
export function resultKey(k: KeyInputs, previous: Pick<CachedResult, 'files' | 'envNames' | 'shellCommands'>): string | undefined {
  const h = createHash('sha256');
  h.update(`v2\0${codeDigest(__dirname)}\0${k.srctree}\0${k.argv.join('\0')}\0`);
  for (const name of previous.envNames) h.update(`${name}=${k.env[name] ?? '\u0000unset'}\0`);
  for (const name of Object.keys(k.env).filter((n) => n.startsWith('KCONFIG_')).sort()) h.update(`${name}=${k.env[name]}\0`);
  for (const c of previous.shellCommands) h.update(`${k.probeKey(c)}\0`);
  for (const input of k.inputs) h.update(input === undefined ? '\u0000none' : input).update('\0');
  const files = k.digests.combined(k.srctree, previous.files);
  if (files === undefined) return undefined;
  return h.update(files).digest('hex');
}

/** What a parsed tree was read from, stored with it to check it is still current. */
export type ModelInputs = Pick<CachedResult, 'files' | 'envNames' | 'shellCommands'> & { key: string };

export interface ModelKeyOptions {
  srctree: string;
  /** The top Kconfig file (default Kconfig). */
  kconfig?: string;
  env: Record<string, string | undefined>;
  shell: { key(command: string): string };
  /** File digests shared with the caller's own keys (default: within this run only). */
  digests?: FileDigests;
}

/** The key of a parsed tree (kept tree, evaluation plan): the result key of a 'model' operation. */
export function modelKey(options: ModelKeyOptions, inputs: Omit<ModelInputs, 'key'>): string | undefined {
  return resultKey({ srctree: options.srctree, argv: ['model', options.kconfig ?? 'Kconfig'], env: options.env, inputs: [], probeKey: (c) => options.shell.key(c), digests: options.digests ?? new FileDigests() }, inputs);
}

export function readCachedResult(file: string): CachedResult | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CachedResult;
  } catch {
    return undefined;
  }
}

export function writeCachedResult(file: string, entry: CachedResult): void {
  writeFileAtomic(file, JSON.stringify(entry));
}
