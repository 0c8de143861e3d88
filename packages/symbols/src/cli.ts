#!/usr/bin/env node
/**
 * nx-symbols: what modules export and import, from a configured kernel tree's sources.
 * The objects and their commands come from the kbuild evaluator, the rest from the scanner.
 */
import { join, resolve } from 'node:path';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { runCli, SourceError, writeFileAtomic } from '@nx-kbuild/diagnostics';
import { readConfigFile } from '@nx-kbuild/kconfig';
import { cachedKbuildEnvironment, defaultShellCache, evaluateKernelTree, mergeObservation, noteContent, observing, type KernelTree } from '@nx-kbuild/kbuild-make';
import { detectDialect } from './checks/dialect';
import { checkTree } from './checks/check-tree';
import { exportOwners, HeaderReferences } from './imports/predict';
import { scanTreeKept } from './scan/kept-scan';
import { KeptPredictions } from './imports/kept-predictions';
import type { ModuleImports } from './imports/module-imports';
import { objectsFromKbuild, sharedHeaderRoots, type ModuleSymbols, type TreeScanOptions } from './scan/tree-scan';
import { answersOf, checkKey, keepCheck, lastCheck, resultOf, type KeptAnswers } from './checks/check-cache';
import { answerQuery, findModule, where, type Query } from './queries';
import { exportTable } from './checks/modpost-rules';
import { namespaceEdits, nsdepsMessages } from './nsdeps/namespace-edits';

const USAGE = `usage: nx-symbols --srctree DIR --objtree DIR COMMAND
The objtree is configured (make O=<objtree> olddefconfig done). Commands:
  exports MODULE     the symbols MODULE exports: license, namespace, where
  imports MODULE     the modules MODULE is predicted to depend on, with the symbols it uses
                     from each, and the namespaces it imports
  why MODULE OTHER   why MODULE depends on OTHER: the symbols, and where OTHER exports them
  check              modpost's checks over every module (exported twice, missing namespace
                     import, GPL-only symbol in a GPL-incompatible module, explicit import of a
                     module-scoped namespace) and module-scoped exports none of whose modules is
                     built as a module (with the Kconfig symbols that would build them); exit 1
                     on an error. The result is kept in <objtree>/.nx-kbuild/symbols-check.json
                     and printed again while no file the check read has changed
  nsdeps [MODULE]    kbuild's \`make nsdeps\`, before anything compiles: each namespace a module
                     (or every module) uses without importing it gets a MODULE_IMPORT_NS after
                     its main source's MODULE_LICENSE, in the syntax the tree uses
MODULE is a module's path (arch/x86/kvm/kvm-intel), its name (kvm-intel, kvm_intel) or vmlinux.
exports, imports and why answer from the last check's kept result while it holds, else from the
kept scan (the modules whose files changed scanned again).
Imports are predicted from the sources (what they name, through header macros and inline
functions); NX_KBUILD_THREADS sets the threads (default: one per core).`;

/** With NX_KBUILD_STATS set, a line of statistics on stderr. */
function stats(line: string): void {
  if (process.env.NX_KBUILD_STATS) process.stderr.write(`nx-symbols: ${line}\n`);
}

/** When a phase ended (seconds since the process started), as a line of statistics. */
const phase = (what: string) => stats(`${what} at ${(performance.now() / 1000).toFixed(2)} s`);

/**
 * `dir` made absolute with its symbolic links followed: kbuild names the source tree by the path
 * `make -C` ran in, its real one, in every command, and the scan must name files as they do.
 */
function realDirectory(dir: string, flag: string): string {
  try {
    return realpathSync(resolve(dir));
  } catch {
    throw new SourceError('<arguments>', 0, `${flag} ${dir}: no such directory`);
  }
}

async function main(argv: string[]): Promise<number> {
  let srctree: string | undefined;
  let objtree: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--srctree') srctree = argv[++i];
    else if (a === '--objtree') objtree = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else rest.push(a);
  }
  const [command, ...args] = rest;
  const arity: Record<string, number[]> = { exports: [1], imports: [1], why: [2], check: [0], nsdeps: [0, 1] };
  if (!srctree || !objtree || !command || !arity[command]?.includes(args.length)) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const given = srctree;
  srctree = realDirectory(srctree, '--srctree');
  objtree = realDirectory(objtree, '--objtree');
  if (!existsSync(join(srctree, 'arch'))) throw new SourceError('<arguments>', 0, `--srctree ${given}: not a kernel source tree (no arch/ directory)`);
  const config = readConfigFile(resolve(objtree, 'include/config/auto.conf'), 'auto.conf').values;
  const env = cachedKbuildEnvironment(srctree, objtree);
  const threads = process.env.NX_KBUILD_THREADS ? Number(process.env.NX_KBUILD_THREADS) : undefined;
  const memoFile = join(objtree, '.nx-kbuild', 'evaluation.memo');
  // A check whose result is kept and still holds is printed without evaluating anything; the
  // queries answer from what it found while it holds.
  const key = command === 'nsdeps' ? undefined : checkKey({ srctree, objtree, config, env });
  const last = key ? lastCheck(keptCheckFile(objtree), key) : {};
  if (command === 'check' && last.holds) {
    const kept = resultOf(last.holds);
    process.stderr.write(kept.stderr);
    process.stdout.write(kept.stdout);
    return kept.status;
  }
  const answers = command !== 'check' && last.holds ? answersOf(keptCheckFile(objtree), last.holds) : undefined;
  if (answers) {
    stats("answered from the last check's kept answers");
    const out = answerQuery(command as Query, args, { modules: answers.modules, imports: (m) => m.imports }, srctree);
    process.stderr.write(answers.stderr);
    process.stdout.write(out.map((l) => l + '\n').join(''));
    return answers.stderr ? 1 : 0;
  }
  const tree = await evaluateKernelTree({ srctree: env.srctree ?? srctree, objtree, env, shellCache: defaultShellCache(), config: Object.fromEntries(config), threads, memoFile });
  phase('kbuild evaluation done');
  const srcarch = env.SRCARCH ?? 'x86';
  // A file the last check read has changed, or its key: the scan will likely find modules to scan
  // again, unless that file is a shared header, whose index this thread then builds anyway.
  const early = last.changed !== undefined && !sharedHeader(last.changed, srctree, srcarch);
  if (command === 'check') return check({ srctree, objtree, srcarch, config }, tree, threads, key!, early);
  if (command === 'nsdeps') return nsdeps({ srctree, objtree, srcarch, config }, tree, threads, args[0]);
  // Otherwise a query reuses the kept scan (what changed since is scanned again, and kept) and the
  // kept predictions (the module asked about predicted again if what it sees changed). It writes
  // no predictions: only a run that predicts every module (check, nsdeps) does, since one
  // module's would replace them all.
  const { scan, predictions, saved } = await keptSymbols({ srctree, objtree, srcarch, config }, tree, threads, false, early);
  // The answer stands if the scan cannot be kept (a full disk, a read-only build directory).
  const notKept = saved.then(
    () => undefined,
    (e: Error) => e,
  );
  for (const e of scan.errors) process.stderr.write(`${e.file}:${e.line}: error: ${e.message}\n`);
  const out = answerQuery(command as Query, args, { modules: [...scan.modules.values()], imports: (m) => predictions.imports(m).symbols }, srctree);
  process.stdout.write(out.map((l) => l + '\n').join(''));
  const failed = await notKept;
  if (failed) process.stderr.write(`nx-symbols: warning: the scan was not kept: ${failed.message}\n`);
  return scan.errors.length > 0 ? 1 : 0;
}

/** Whether `path` lies under the shared header index's directories. */
const sharedHeader = (path: string, srctree: string, srcarch: string) => sharedHeaderRoots({ srctree, srcarch }).some((root) => path.startsWith(root + '/'));

/** The whole tree's scan and predicted imports, each module's kept while nothing it read changed. */
async function keptSymbols(trees: Omit<TreeScanOptions, 'objects'>, tree: KernelTree, threads: number | undefined, every: boolean, early = false) {
  const o: TreeScanOptions = { ...trees, objects: objectsFromKbuild(tree.objects) };
  const { scan, observed, scanned, index, predictor, saved } = await scanTreeKept(o, join(trees.objtree, '.nx-kbuild', 'symbols-scan.v8'), threads, every, early);
  phase('scan done');
  stats(`${scanned.size} of ${scan.modules.size} modules scanned, the others kept`);
  let headers: HeaderReferences | undefined;
  const predictions = new KeptPredictions(join(trees.objtree, '.nx-kbuild', 'symbols-imports.v8'), index, exportOwners(scan.modules.values()), () => (headers ??= new HeaderReferences(scan.index)), (name) => !scanned.has(name));
  // Every module's imports will be asked for: the threads that scanned predict theirs meanwhile.
  if (predictor) {
    try {
      // What this thread would read of the index now, read by the threads that scanned (the index is the same).
      const tables = predictions.wantsIndexTables(scan.modules.values(), predictor) ? predictor.tables() : undefined;
      if (tables) {
        predictions.takeIndexTables(tables);
        phase("the scan threads' index tables taken");
      }
      await predictions.prefetch(scan.modules.values(), predictor);
    } finally {
      predictor.close();
    }
    phase('imports predicted');
  }
  return { o, scan, observed, predictions, saved };
}

/**
 * kbuild's nsdeps for the modules of an in-tree kernel (or one of them): the namespaces each uses
 * without importing them are added to its main source (written whole: temp file and rename).
 */
async function nsdeps(trees: Omit<TreeScanOptions, 'objects'>, tree: KernelTree, threads: number | undefined, only: string | undefined): Promise<number> {
  const { o, scan, predictions, saved } = await keptSymbols(trees, tree, threads, only === undefined);
  for (const e of scan.errors) process.stderr.write(`${e.file}:${e.line}: error: ${e.message}\n`);
  const sourcesOf = new Map<string, string[]>();
  for (const x of o.objects) {
    if (!x.module) continue;
    const list = sourcesOf.get(x.module) ?? sourcesOf.set(x.module, []).get(x.module)!;
    list.push(resolve(o.objtree, x.source));
  }
  const modules = only ? [findModule(scan.modules.values(), only)] : [...scan.modules.values()];
  // Only the tree's own sources are edited (a generated one is rewritten by the next build).
  const read = (path: string) => (path.startsWith(o.srctree + '/') && existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  const edits = namespaceEdits(
    modules.map((m) => ({ symbols: m, sources: sourcesOf.get(m.name) ?? [], imports: predictions.imports(m).symbols })),
    exportTable(scan.modules.values()).table,
    detectDialect(o.srctree),
    read,
  );
  // One module's predictions would replace every module's kept ones.
  if (!only) predictions.save();
  await saved;
  for (const e of edits) {
    process.stdout.write(nsdepsMessages(e).map((l) => l + '\n').join(''));
    for (const f of e.files) writeFileAtomic(f.path, f.text);
  }
  if (edits.length === 0) process.stdout.write('nsdeps: every module imports the namespaces it uses\n');
  return scan.errors.length > 0 ? 1 : 0;
}

const keptCheckFile = (objtree: string) => join(objtree, '.nx-kbuild', 'symbols-check.json');

/**
 * modpost's checks over every module. The result is kept in <objtree>/.nx-kbuild/symbols-check.json
 * with every file the kbuild evaluation, the scan and the checks read (see checkKey).
 */
async function check(trees: Omit<TreeScanOptions, 'objects'>, tree: KernelTree, threads: number | undefined, key: string, early: boolean): Promise<number> {
  const { o, scan, observed, predictions, saved } = await keptSymbols(trees, tree, threads, true, early);
  const importsSeen = new Map<string, ModuleImports>();
  const importsOf = (m: ModuleSymbols): ModuleImports => {
    const imports = predictions.imports(m);
    importsSeen.set(m.name, imports);
    return imports;
  };
  const stderr = scan.errors.map((e) => `${e.file}:${e.line}: error: ${e.message}\n`).join('');
  const { dialect, all, answers } = observing(observed, () => {
    const dialect = detectDialect(o.srctree);
    const all = checkTree(scan, dialect, o.config, o.srctree, { imports: importsOf });
    // What the queries read of each module, kept with the result (checkTree asked for every module's imports).
    const answers: KeptAnswers = [...scan.modules.values()].map((m) => ({
      name: m.name,
      exports: m.exports,
      modinfo: m.modinfo.filter((x) => x.tag === 'import_ns'),
      imports: (importsSeen.get(m.name) ?? importsOf(m)).symbols,
    }));
    return { dialect, all, answers };
  });
  phase('checks done');
  predictions.save();
  await saved; // the result is kept only with the scan it came from
  phase('scan and predictions kept');
  stats(predictions.summary());
  const out = all.map((f) => `${f.file ? where(f, o.srctree) + ': ' : ''}${f.severity}: ${f.message}`);
  const errors = all.filter((f) => f.severity === 'error').length;
  out.push(`${scan.modules.size} modules checked (${dialect.description}): ${errors} errors, ${all.length - errors} warnings`);
  const result = { stdout: out.join('\n') + '\n', stderr, status: errors > 0 || scan.errors.length > 0 ? 1 : 0 };
  if (tree.observed) {
    for (const [path, sig] of tree.observed()) mergeObservation(observed, path, sig);
    observing(observed, () => noteContent(join(trees.objtree, '.nx-kbuild-env.json'))); // rewritten when a tool changes
    keepCheck(keptCheckFile(trees.objtree), key, observed, result, answers);
  }
  process.stderr.write(result.stderr);
  process.stdout.write(result.stdout);
  return result.status;
}

runCli('nx-symbols', () => main(process.argv.slice(2)));
