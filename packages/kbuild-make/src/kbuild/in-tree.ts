import { dirname } from 'node:path';
import type { MakeEvaluator } from '../make/evaluator';
import { compileCommand, evaluateBuildDir, ruleCommand, type KbuildEnvironment } from './build-dir';
import { evaluateModuleTree, type ModuleTree, type ObjectInput } from './tree';

/** One object kbuild compiles, with the command its `.cmd` file records. */
export interface ObjectCommand {
  /** The object, relative to the build directory (kbuild's spelling, `..` kept). */
  object: string;
  /** The source as make finds it: in the build directory when generated, else under $(srctree). */
  source: string;
  /** The kbuild directory whose Makefile names the object. */
  dir: string;
  /** `$(cmd_cc_o_c)` / `$(cmd_as_o_S)` expanded for this object: savedcmd_ of its `.cmd` file. */
  command: string;
  /** The module it is linked into, or undefined for built-in objects. */
  module?: string;
  /** Not linked itself: compiled to make this object from it (objcopy). */
  inputOf?: string;
}

export interface KernelTree {
  tree: ModuleTree;
  objects: ObjectCommand[];
  /** Every kbuild directory's evaluation (scripts/Makefile.build with obj=<dir>), by directory. */
  directories: Map<string, MakeEvaluator>;
}

export interface KernelTreeOptions extends KbuildEnvironment {
  /** include/config/auto.conf values (CONFIG_*), for the structure pass. */
  config: Record<string, string>;
}

/**
 * The whole kernel as `make O=<objtree> all` builds it: every module and built-in object (from the
 * kbuild tree evaluation) and, for each object, the exact compile command, expanded from the
 * kernel's own scripts/Makefile.build and Makefile.lib evaluated per directory. Each directory
 * starts from the environment its parent exports (subdir-ccflags-y reaches children that way).
 */
export function evaluateKernelTree(k: KernelTreeOptions): KernelTree {
  const src = k.srctree;
  const variables = {
    ...k.config,
    srctree: src,
    objtree: '.',
    SRCARCH: k.env.SRCARCH ?? '',
    ARCH: k.env.ARCH ?? '',
    ARCH_LIB: k.env.ARCH_LIB ?? '',
    ARCH_CORE: k.env.ARCH_CORE ?? '',
    ARCH_DRIVERS: k.env.ARCH_DRIVERS ?? '',
    BITS: k.env.BITS ?? '',
  };
  const tree = evaluateModuleTree({ root: src, kernelDir: src, variables, kbuildCflags: '', sources: 'any' });
  const rel = (p: string) => (p === src ? '.' : p.slice(src.length + 1));

  const directories = new Map<string, MakeEvaluator>();
  for (const d of tree.directories) {
    const parent = d.parent === undefined ? undefined : directories.get(rel(d.parent));
    const env = parent ? parent.exportedEnvironment() : k.env;
    directories.set(rel(d.dir), evaluateBuildDir({ ...k, env }, rel(d.dir), { builtin: d.builtin, modorder: true }));
  }

  const objects: ObjectCommand[] = [];
  const add = (object: string, source: string, generated: boolean | undefined, dir: string, module?: string, input?: ObjectInput) => {
    const ev = directories.get(dir);
    if (!ev) throw new Error(`${object}: its directory ${dir} was not evaluated`);
    if (input) {
      // Made from another object by a rule of the directory: that object is compiled first.
      const from = rel(input.object);
      const spelledInput = input.generated ? rel(input.source) : input.source;
      objects.push({ object: from, source: spelledInput, dir, command: compileCommand(ev, from, spelledInput), ...(module ? { module } : {}), inputOf: object });
      objects.push({ object, source: from, dir, command: ruleCommand(ev, object), ...(module ? { module } : {}) });
      return;
    }
    const spelled = generated ? rel(source) : source;
    objects.push({ object, source: spelled, dir, command: compileCommand(ev, object, spelled), ...(module ? { module } : {}) });
  };
  for (const m of tree.modules) {
    for (const o of m.members) add(rel(o.object), o.source, o.generated, rel(dirname(m.definedIn.file)), rel(m.path), o.input);
  }
  for (const b of tree.builtin) add(rel(b.object), b.source, b.generated, rel(b.dir), undefined, b.input);
  return { tree, objects, directories };
}
