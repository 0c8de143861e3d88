#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runCli, SourceError, writeFileAtomic as writeAtomic } from '@nx-kbuild/diagnostics';
import type { KconfigTree, Operation } from './conf';
import { kbuildEnvironment, readOptional } from './environment';
import { FileDigests } from './file-digests';
import { runPlan } from './plan/evaluate-plan';
import { loadPlanCached } from './plan/plan-cache';
import { readCachedResult, resultKey, writeCachedResult } from './result-cache';
import { CachedShell } from './parse/shell-cache';

// The parser, the object model and the tree's codec are loaded only when a run needs them: an
// evaluation from a kept plan (olddefconfig, syncconfig) or a cached result does not.
const treeModules = () => ({
  ...(require('./conf') as typeof import('./conf')),
  ...(require('./model-cache') as typeof import('./model-cache')),
  ...(require('./model/explain') as typeof import('./model/explain')),
});

const USAGE = `usage: nx-kconfig <operation> [--srctree DIR] [--objtree DIR] [Kconfig]
operations: --olddefconfig --syncconfig --defconfig=FILE --savedefconfig=FILE
            --allnoconfig --allyesconfig --allmodconfig --alldefconfig
options:    --why=SYMBOL   explain a symbol's value (repeatable)
            --dump=FILE    every symbol's value, type, visibility and what decided it (JSON)
            --merge=FILE   merge a config fragment over the input, later ones winning
                           (scripts/kconfig/merge_config.sh; repeatable)
Works like scripts/kconfig/conf run by kbuild in the build directory (objtree):
reads and writes .config there (KCONFIG_CONFIG), and include/config/auto.conf,
include/generated/autoconf.h. KCONFIG_ALLCONFIG is honoured for all*config.
Toolchain probes are cached in $NX_KCONFIG_CACHE (default ~/.cache/nx-kbuild/kconfig-shell.json).`;

function main(argv: string[]): number {
  let op: Operation | undefined;
  let opFile: string | undefined;
  let srctree = process.env.srctree ?? '.';
  let objtree = '.';
  let kconfig = 'Kconfig';
  const why: string[] = [];
  const merge: string[] = [];
  let dump: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--why=')) {
      why.push(a.slice(6).replace(/^CONFIG_/, ''));
      continue;
    }
    if (a.startsWith('--merge=')) {
      merge.push(a.slice(8));
      continue;
    }
    if (a.startsWith('--dump=')) {
      dump = a.slice(7);
      continue;
    }
    const m = /^--(olddefconfig|syncconfig|allnoconfig|allyesconfig|allmodconfig|alldefconfig|defconfig|savedefconfig)(?:=(.*))?$/.exec(a);
    if (m) {
      op = m[1] as Operation;
      opFile = m[2];
    } else if (a === '--srctree') srctree = argv[++i];
    else if (a === '--objtree') objtree = argv[++i];
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    } else if (!a.startsWith('-')) kconfig = a;
    else {
      process.stderr.write(`nx-kconfig: unknown option ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  if (!op) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if ((op === 'defconfig' || op === 'savedefconfig') && !opFile) {
    process.stderr.write(`nx-kconfig: --${op} needs a file (--${op}=FILE)\n`);
    return 2;
  }
  srctree = resolve(srctree);
  objtree = resolve(objtree);
  const cacheFile = process.env.NX_KCONFIG_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nx-kbuild', 'kconfig-shell.json');
  const shell = new CachedShell(cacheFile, objtree, process.env);
  const env = kbuildEnvironment(srctree, process.env, shell);
  shell.env = env;

  const configName = process.env.KCONFIG_CONFIG ?? '.config';
  const configPath = resolve(objtree, configName);
  const inSrc = (f: string) => (existsSync(resolve(objtree, f)) ? resolve(objtree, f) : resolve(srctree, f));
  const allconfigEnv = process.env.KCONFIG_ALLCONFIG;
  let allconfig: { file: string; text: string } | undefined;
  if (allconfigEnv !== undefined && op.startsWith('all')) {
    const name = allconfigEnv !== '' && allconfigEnv !== '1' ? allconfigEnv : `${op.replace('config', '')}.config`;
    allconfig = readOptional(inSrc(name)) ?? readOptional(inSrc('all.config'));
    if (!allconfig) throw new SourceError(name, 0, `KCONFIG_ALLCONFIG set, but no "${name}" or "all.config" file found`);
  }
  const defconfig = op === 'defconfig' ? readOptional(inSrc(opFile!)) : undefined;
  if (op === 'defconfig' && !defconfig) throw new SourceError(opFile!, 0, `Can't find default configuration "${opFile}"`);
  const autoConfPath = join(objtree, 'include/config/auto.conf');
  // Like conf: syncconfig always writes auto.conf; other operations only create it when missing
  // (savedefconfig writes its defconfig only).
  const writesAutoConf = op !== 'savedefconfig' && (op === 'syncconfig' || !existsSync(autoConfPath));
  const input = {
    config: op === 'savedefconfig' || op === 'olddefconfig' || op === 'syncconfig' ? readOptional(configPath) : undefined,
    defconfig,
    allconfig,
    previousAutoConf: existsSync(autoConfPath) ? readFileSync(autoConfPath, 'utf8') : undefined,
    configOnly: !writesAutoConf,
    fragments: merge.map((f) => {
      const frag = readOptional(inSrc(f));
      if (!frag) throw new SourceError(f, 0, `config fragment ${f} not found`);
      return frag;
    }),
  };

  // Nothing that the last evaluation read has changed: write its outputs again.
  const resultFile = join(objtree, 'include/config/.nx-kconfig-result.json');
  const keyInputs = {
    srctree,
    argv: [op, opFile ?? '', kconfig, ...merge],
    env,
    inputs: [input.config?.text, input.defconfig?.text, input.allconfig?.text, input.previousAutoConf, ...input.fragments.map((f) => f.text)],
    probeKey: (c: string) => shell.key(c),
    digests: new FileDigests(join(objtree, 'include/config/.nx-kconfig-digests.json')),
  };
  const previous = why.length || dump ? undefined : readCachedResult(resultFile);
  // (A result of a run that wrote only .config does not serve one that writes auto.conf too.)
  const usable = previous && (!writesAutoConf || previous.output.autoConf !== undefined);
  let out = usable && resultKey(keyInputs, previous) === previous.key ? previous.output : undefined;
  let tree: KconfigTree | undefined;
  if (out) {
    for (const m of previous!.parseMessages ?? []) process.stderr.write(m + '\n');
  } else {
    const loadOptions = { srctree, kconfig, env, shell, digests: keyInputs.digests };
    const planFile = join(objtree, 'include/config/.nx-kconfig-plan.bin');
    // olddefconfig and syncconfig evaluate the kept plan when there is one; the rest need the tree.
    const plan = (op === 'olddefconfig' || op === 'syncconfig') && !why.length && !dump && !merge.length ? loadPlanCached(loadOptions, planFile) : undefined;
    let read: { files: string[]; envNames: string[]; shellCommands: string[]; parseMessages: string[] };
    if (plan) {
      for (const m of plan.meta.messages) process.stderr.write(m + '\n');
      out = runPlan(plan, input);
      read = { ...plan.meta, parseMessages: plan.meta.messages };
    } else {
      const { loadKconfigCached, runOperation } = treeModules();
      const loaded = loadKconfigCached(loadOptions, join(objtree, 'include/config/.nx-kconfig-model.bin'), planFile);
      tree = loaded.tree;
      for (const m of tree.messages) process.stderr.write(m + '\n');
      out = runOperation(tree, op, input);
      read = { files: tree.files, envNames: [...tree.env.keys()], shellCommands: loaded.shellCommands, parseMessages: tree.messages };
    }
    const entry = { key: '', files: read.files, envNames: read.envNames, shellCommands: [...new Set([...shell.used, ...read.shellCommands])], output: out, parseMessages: read.parseMessages };
    const key = resultKey(keyInputs, entry);
    if (key) writeCachedResult(resultFile, { ...entry, key });
  }
  keyInputs.digests.save();
  for (const m of out.messages) process.stderr.write(`${m.file}:${m.line}: warning: ${m.text}\n`);
  if (tree) explain(tree, why, dump && resolve(objtree, dump), kconfig);
  if (op === 'savedefconfig') {
    writeAtomic(resolve(objtree, opFile!), out.config);
    return 0;
  }
  if (!existsSync(configPath) || readFileSync(configPath, 'utf8') !== out.config) {
    if (existsSync(configPath)) renameSync(configPath, `${configPath}.old`);
    writeAtomic(configPath, out.config);
  }
  if (writesAutoConf) {
    writeAtomic(join(objtree, 'include/config/auto.conf.cmd'), out.autoConfCmd!);
    for (const sym of out.touched ?? []) {
      const f = join(objtree, 'include/config', sym);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, '');
    }
    writeAtomic(join(objtree, 'include/generated/autoconf.h'), out.autoconfH!);
    writeAtomic(join(objtree, 'include/generated/rustc_cfg'), out.rustcCfg!);
    writeAtomic(autoConfPath, out.autoConf!);
  }
  shell.save();
  return 0;
}

/** --why and --dump (a run asked for them evaluates the tree). */
function explain(tree: KconfigTree, why: string[], dump: string | undefined, kconfig: string): void {
  const { explainAll, explainSymbol, formatReport } = treeModules();
  for (const name of why) {
    const sym = tree.kc.find(name);
    if (!sym || sym.type === 'unknown') throw new SourceError(kconfig, 0, `no symbol ${name} in this Kconfig tree`);
    process.stdout.write(formatReport(explainSymbol(tree.kc, sym)) + '\n');
  }
  if (dump) writeAtomic(dump, JSON.stringify(explainAll(tree.kc), null, 1) + '\n');
}

runCli('nx-kconfig', () => main(process.argv.slice(2)));
