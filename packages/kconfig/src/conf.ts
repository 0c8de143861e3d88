import { SourceError } from '@nx-kbuild/diagnostics';
import {
  calcAll,
  changedSymbols,
  readConfig,
  setAllNewSymbols,
  throwConfigErrors,
  writeAutoconf,
  writeAutoconfCmd,
  writeConfig,
  writeDefconfig,
  type AllMode,
  type ConfigMessage,
} from './model/confdata';
import { checkDependencyLoops } from './model/dependency-loops';
import { finalizeMenus } from './model/finalize';
import { Kconfig } from './model/kconfig';
import { Flag } from './model/symbol';
import { KconfigParser } from './parse/parser';
import type { ShellRunner } from './parse/shell-cache';

export { kbuildEnvironment, kernelVersion, readOptional } from './environment';

export interface KconfigTree {
  kc: Kconfig;
  /** Kconfig files read, as auto.conf.cmd lists them. */
  files: string[];
  env: Map<string, string>;
  messages: string[];
}

export interface LoadOptions {
  srctree: string;
  /** The top Kconfig file, relative to srctree (KBUILD_KCONFIG). */
  kconfig?: string;
  env: Record<string, string | undefined>;
  shell: ShellRunner;
  /** Kconfig files given in memory (generated ones), by the name `source` uses. */
  files?: Record<string, string>;
}

/** conf_parse: reads the whole Kconfig tree and finalizes it. */
export function loadKconfig(options: LoadOptions): KconfigTree {
  const kc = new Kconfig();
  const messages: string[] = [];
  const parser = new KconfigParser(kc, {
    srctree: options.srctree,
    env: options.env,
    shell: options.shell,
    files: options.files,
    onMessage: (t) => messages.push(t),
  });
  const result = parser.parse(options.kconfig ?? 'Kconfig');
  if (!kc.rootmenu.prompt) {
    kc.rootmenu.prompt = { type: 'menu', text: 'Main menu', visible: { tri: 0 }, menu: kc.rootmenu, file: '', line: 0 };
  }
  finalizeMenus(kc);
  checkDependencyLoops(kc);
  return { kc, files: result.files, env: result.env, messages };
}

export type Operation = 'olddefconfig' | 'syncconfig' | 'defconfig' | 'savedefconfig' | 'allnoconfig' | 'allyesconfig' | 'allmodconfig' | 'alldefconfig';

export interface OperationInput {
  /** The current .config (olddefconfig, syncconfig, savedefconfig). */
  config?: { file: string; text: string };
  /** The defconfig file for `defconfig`. */
  defconfig?: { file: string; text: string };
  /** KCONFIG_ALLCONFIG for all*config: a fragment whose values are kept. */
  allconfig?: { file: string; text: string };
  /** Fragments merged over the input config, in order (scripts/kconfig/merge_config.sh). */
  fragments?: { file: string; text: string }[];
  /** The previous include/config/auto.conf, to know which include/config/<SYM> files to touch. */
  previousAutoConf?: string;
  /**
   * Only .config is wanted: conf writes auto.conf, autoconf.h and the include/config files for
   * syncconfig, or when auto.conf is missing, so other runs skip computing them.
   */
  configOnly?: boolean;
}

export interface OperationOutput {
  /** The new .config (or, for savedefconfig, the minimal defconfig). */
  config: string;
  autoConf?: string;
  autoconfH?: string;
  rustcCfg?: string;
  autoConfCmd?: string;
  /** include/config/<SYMBOL> files to touch. */
  touched?: string[];
  messages: ConfigMessage[];
}

const ALL_MODES: Partial<Record<Operation, AllMode>> = {
  allnoconfig: 'no',
  allyesconfig: 'yes',
  allmodconfig: 'mod',
  alldefconfig: 'default',
  defconfig: 'default',
};

/** What `conf --<operation>` computes, without touching the disk. */
export function runOperation(tree: KconfigTree, op: Operation, input: OperationInput): OperationOutput {
  const { kc } = tree;
  const messages: ConfigMessage[] = [];
  switch (op) {
    case 'defconfig':
      if (!input.defconfig) throw new SourceError('defconfig', 0, "Can't find default configuration");
      messages.push(...readConfig(kc, input.defconfig.file, input.defconfig.text, 'user', true));
      break;
    case 'allnoconfig':
    case 'allyesconfig':
    case 'allmodconfig':
    case 'alldefconfig':
      if (input.allconfig) messages.push(...readConfig(kc, input.allconfig.file, input.allconfig.text, 'user', true));
      break;
    default:
      if (input.config) messages.push(...readConfig(kc, input.config.file, input.config.text, 'user', true));
  }
  for (const f of input.fragments ?? []) messages.push(...readConfig(kc, f.file, f.text, 'user', true, true));
  throwConfigErrors(messages);
  calcAll(kc);
  const mode = ALL_MODES[op];
  if (mode) setAllNewSymbols(kc, mode);
  if (op === 'savedefconfig') return { config: writeDefconfig(kc), messages };
  if (input.fragments?.length) messages.push(...unmetRequests(kc, input.fragments));
  // Values are valid here (calcAll, or setAllNewSymbols' recalculation): conf_write reuses them.
  const config = writeConfig(kc);
  if (input.configOnly) return { config, messages };
  const touched = changedSymbols(kc, input.previousAutoConf);
  const auto = writeAutoconf(kc);
  return {
    config,
    autoConf: auto.autoConf,
    autoconfH: auto.autoconfH,
    rustcCfg: auto.rustcCfg,
    autoConfCmd: writeAutoconfCmd(tree.files, tree.env),
    touched,
    messages,
  };
}

/** merge_config.sh's check: values a fragment asked for that the final configuration does not have. */
function unmetRequests(kc: Kconfig, fragments: { file: string; text: string }[]): ConfigMessage[] {
  const wanted = new Map<string, { file: string; line: number; value: string }>();
  for (const f of fragments) {
    f.text.split('\n').forEach((l, i) => {
      const m = /^CONFIG_(\w+)=(.*)$/.exec(l) ?? /^# CONFIG_(\w+) is not set$/.exec(l);
      if (m) wanted.set(m[1], { file: f.file, line: i + 1, value: m[2] ?? 'n' });
    });
  }
  const out: ConfigMessage[] = [];
  for (const [name, w] of wanted) {
    const sym = kc.find(name);
    if (!sym || sym.type === 'unknown') continue;
    kc.calcValue(sym);
    const actual = sym.type === 'string' ? `"${kc.stringValue(sym)}"` : kc.stringValue(sym);
    const written = sym.flags & Flag.Write ? actual : 'n';
    if (written !== w.value && !(w.value === 'n' && written === 'n')) {
      out.push({ file: w.file, line: w.line, severity: 'warning', text: `value requested for CONFIG_${name} not in final .config: requested ${w.value}, actual ${written}` });
    }
  }
  return out;
}

