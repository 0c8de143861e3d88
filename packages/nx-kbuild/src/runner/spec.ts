import type { ArchiveStep, Command, CompileStep, CompositeLink, GenerateStep } from '@nx-kbuild/kbuild-make';
import type { KbuildPluginOptions } from '../model/options';

/** The environment kbuild exports to its commands (SRCARCH, KBUILD_*, ...). */
export interface StepEnv {
  /**
   * A JSON file of the variables, under the workspace, named by its content's hash: every task of a
   * tree shares one (a kernel's is 8 KiB; inline, it made a whole-tree graph 135 MB larger), and
   * its name, in the options, keeps the cache key covering every value.
   */
  envFile: string;
  /**
   * Outputs of later passes of the same module, removed before this pass runs: when it fails,
   * no .ko from an earlier build is left looking as if it came from these sources.
   */
  downstream: string[];
}

/**
 * What one Nx task runs, carried in the target's options (and so in its cache key) and handed to
 * the runner through the NX_KBUILD_SPEC environment variable. Commands are argument arrays.
 */
export interface CompileSpec extends StepEnv {
  step: 'compile';
  cwd: string;
  objects: Pick<CompileStep, 'object' | 'source' | 'depfile' | 'cc' | 'objtool'>[];
  /** A module's object list (`<module>.mod`); none for a directory's built-in code. */
  modFile?: string;
  modContent?: string;
  /** kbuild's savedcmd for the .mod file (in-tree builds write `.<mod>.mod.cmd`). */
  modCmd?: string;
  composite?: Pick<CompositeLink, 'object' | 'cmdFile' | 'ld' | 'objtool' | 'savedcmd'> & { objtoolPath: string };
}

/** Files a module's directory rules make before its objects compile (generated sources, headers, host programs). */
export interface GenerateSpec extends StepEnv {
  step: 'generate';
  cwd: string;
  fixdep: string;
  /** Prerequisites first. */
  steps: GenerateStep[];
}

export interface GenksymsSpec extends StepEnv {
  step: 'genksyms';
  cwd: string;
  fixdep: string;
  nm: string;
  objtoolPath?: string;
  objects: (Pick<CompileStep, 'object' | 'depfile' | 'cmdFile' | 'savedcmd' | 'cpp' | 'genksyms'> & { objtool: boolean })[];
}

export interface ModpostSpec extends StepEnv {
  step: 'modpost';
  cwd: string;
  moduleObject: string;
  order: string;
  modpost: Command;
  outputs: string[];
}

export interface FinalCompileSpec extends StepEnv {
  step: 'compile-final';
  cwd: string;
  fixdep: string;
  compile: Pick<CompileStep, 'object' | 'depfile' | 'cmdFile' | 'cc' | 'savedcmd'>;
}

export interface LinkSpec extends StepEnv {
  step: 'link';
  cwd: string;
  fixdep: string;
  modO: Pick<CompileStep, 'object' | 'depfile' | 'cmdFile' | 'cc' | 'savedcmd'>;
  ko: string;
  koCmdFile: string;
  ld: Command;
  btf: Command[];
}

/** A kbuild directory's built-in.a and lib.a (thin archives of its objects and its subdirectories'). */
export interface ArchiveSpec extends StepEnv {
  step: 'archive';
  cwd: string;
  archives: Pick<ArchiveStep, 'archive' | 'cmdFile' | 'ar' | 'savedcmd'>[];
}

export interface TreeLinkSpec {
  step: 'tree-link';
  /** Module paths (without .o) in modules.order order. */
  modules: string[];
  symvers: string;
  /** modules.order of every directory kbuild visits: the modules at or below it, in order. */
  orders: { file: string; modules: string[] }[];
}

export interface SymbolsCheckSpec {
  step: 'symbols-check';
  workspaceRoot: string;
  /** The plugin's options: the task evaluates the tree as the graph did, now that the objects exist. */
  options: KbuildPluginOptions;
  /** The PATH the graph was evaluated with (Nx adds to it for tasks): the same tools, and so the same cached kbuild probe. */
  path: string;
  report: string;
}

export type StepSpec = ArchiveSpec | GenerateSpec | CompileSpec | GenksymsSpec | ModpostSpec | FinalCompileSpec | LinkSpec | TreeLinkSpec | SymbolsCheckSpec;

export const SPEC_ENV = 'NX_KBUILD_SPEC';
/**
 * A spec too large for one environment variable (Linux caps each at 128 KiB; xfs's compile spec
 * is 400 KiB) is written to a file named by its hash, under the workspace; the variable names it.
 */
export const SPEC_FILE_ENV = 'NX_KBUILD_SPEC_FILE';
export const SPEC_INLINE_LIMIT = 64 * 1024;
