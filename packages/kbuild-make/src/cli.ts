#!/usr/bin/env node
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonArrayChunks, runCli, writeChunksAtomic, writeFileAtomic as writeAtomic } from '@nx-kbuild/diagnostics';
import { evaluateKernelTree, type KernelTree } from './kbuild/in-tree';
import { cachedKbuildEnvironment, defaultShellCache } from './kbuild/environment-cache';
import { MakeEvaluator } from './make/evaluator';
import { setFlagsFromString } from 'node:v8';

// A run is a few seconds of two threads evaluating 1,500 directories on (typically) two cores;
// V8's optimizing compiler, on its own helper threads, competes with them for the cores (about a
// quarter of the CPU time by default). Functions are optimized later, so fewer of the briefly hot
// ones are (worker threads share the setting). Measured on the whole tree: ~15 % less CPU.
setFlagsFromString('--interrupt-budget=524288');

const USAGE = `usage: nx-kbuild-make --srctree DIR --objtree DIR [outputs]
Evaluates a configured kernel tree (make O=<objtree> olddefconfig done) as \`make all\` would:
every module, every built-in object in link order, and each object's exact compile command.
outputs (paths relative to objtree):
  --modules-order=FILE     modules.order (default: none)
  --compile-commands=FILE  compile_commands.json for clangd
  --commands=FILE          JSON: object, source, directory, owner (module, built-in or other)
                           and savedcmd of every object
  --archives=FILE          JSON: every directory's built-in.a and lib.a and its savedcmd
  --made-files=FILE        JSON: every file a directory's rules make for its objects (generated
                           sources, headers, host programs) with the steps and commands that make it
  --no-memo                evaluate every directory; neither read nor write the memo
$(shell) probes of the Makefiles are cached in $NX_KBUILD_SHELL_CACHE
(default ~/.cache/nx-kbuild/kbuild-shell.json); directories are evaluated on
$NX_KBUILD_THREADS threads (default: one per core); NX_KBUILD_TIMING=1 prints how long the
structure pass and each thread took. The evaluation is kept in <objtree>/.nx-kbuild/evaluation.memo:
a directory nothing of which changed since the last run is not evaluated again.`;

/**
 * compile_commands.json as scripts/clang-tools/gen_compile_commands.py writes it from the .cmd files:
 * each C/assembler object's command up to its source (objtool's part dropped), the build directory,
 * the source's real path; sorted by file, two-space indented, keys sorted.
 */
export function compileCommands(k: KernelTree, objtree: string): string {
  const line = /^(?<prefix>.* )(?<file>[^ ]*\.[cS]) *(;|$)/;
  const directory = realpathSync(objtree);
  const entries: { command: string; directory: string; file: string }[] = [];
  for (const o of k.objects) {
    const m = line.exec(o.command);
    if (!m?.groups) continue; // made by objcopy from another object: not a compilation
    const file = resolve(directory, m.groups.file);
    entries.push({ command: m.groups.prefix + m.groups.file, directory, file: existsSync(file) ? realpathSync(file) : file });
  }
  entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return JSON.stringify(entries, null, 2);
}

async function main(argv: string[]): Promise<number> {
  let srctree: string | undefined;
  let objtree: string | undefined;
  const outputs: Record<string, string> = {};
  let memo = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(modules-order|compile-commands|commands|archives|made-files)=(.+)$/.exec(a);
    if (m) outputs[m[1]] = m[2];
    else if (a === '--no-memo') memo = false;
    else if (a === '--srctree') srctree = argv[++i];
    else if (a === '--objtree') objtree = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else {
      process.stderr.write(`nx-kbuild-make: unknown argument ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  if (!srctree || !objtree) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  srctree = resolve(srctree);
  objtree = resolve(objtree);
  const cacheFile = defaultShellCache();
  const env = cachedKbuildEnvironment(srctree, objtree);
  const conf = new MakeEvaluator({ cwd: objtree });
  conf.evalFile(join(objtree, 'include/config/auto.conf'));
  const config: Record<string, string> = {};
  for (const [name] of conf.vars.ownVariables()) if (name.startsWith('CONFIG_')) config[name] = conf.get(name);

  const t0 = process.hrtime.bigint();
  const threads = process.env.NX_KBUILD_THREADS ? Number(process.env.NX_KBUILD_THREADS) : undefined;
  const memoFile = memo ? join(objtree, '.nx-kbuild/evaluation.memo') : undefined;
  const builtinSteps = outputs.archives ? () => true : undefined;
  const madeFiles = outputs['made-files'] !== undefined;
  const k = await evaluateKernelTree({ srctree: env.srctree ?? srctree, objtree, env, shellCache: cacheFile, config, threads, memoFile, builtinSteps, madeFiles });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rel = (p: string) => p.slice(srctree!.length + 1);
  if (outputs['modules-order']) writeAtomic(resolve(objtree, outputs['modules-order']), k.tree.modules.map((m) => `${rel(m.path)}.o\n`).join(''));
  if (outputs['compile-commands']) writeAtomic(resolve(objtree, outputs['compile-commands']), compileCommands(k, objtree));
  if (outputs.commands) {
    const objects = k.objects;
    writeChunksAtomic(
      resolve(objtree, outputs.commands),
      (function* () {
        yield* jsonArrayChunks(objects);
        yield '\n';
      })(),
    );
  }
  if (outputs['made-files']) writeAtomic(resolve(objtree, outputs['made-files']), JSON.stringify(k.madeFiles) + '\n');
  if (outputs.archives) writeAtomic(resolve(objtree, outputs.archives), JSON.stringify(k.archives) + '\n');
  for (const d of k.tree.diagnostics) process.stderr.write(`${d.file}:${d.line}: ${d.severity}: ${d.message}\n`);
  const modObjects = k.objects.filter((o) => o.module && !o.inputOf).length;
  const otherObjects = k.objects.filter((o) => o.other || o.inputOf).length;
  process.stdout.write(
    `${k.tree.makefiles.length} kbuild directories, ${k.tree.modules.length} modules, ${k.objects.length} objects ` +
      `(${modObjects} in modules, ${k.objects.length - modObjects - otherObjects} built in, ${otherObjects} other), evaluated in ${(ms / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

runCli('nx-kbuild-make', () => main(process.argv.slice(2)));
