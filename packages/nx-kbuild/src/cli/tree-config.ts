#!/usr/bin/env node
import { resolve } from 'node:path';
import { runCli } from '@nx-kbuild/diagnostics';
import { resolveTreeConfig } from '../model/tree-config';

const USAGE = `usage: nx-kbuild-config <tree> [--kernel DIR] [--config FILE]
Prints the module tree's resolved configuration (CONFIG_X=value, one per line), as the plugin
evaluates it: the tree's Kconfig, its config file, and the kernel's values. Pass the lines to
make for a reference build: make -C <kernel> M=<tree> $(nx-kbuild-config <tree>) modules`;

function main(argv: string[]): number {
  let tree: string | undefined;
  let kernel = '/usr/src/linux-headers-6.12.117+deb12-amd64';
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--kernel') kernel = argv[++i];
    else if (argv[i] === '--config') config = argv[++i];
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else tree = argv[i];
  }
  if (!tree) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const root = resolve(tree);
  const result = resolveTreeConfig(root, resolve(root, config ?? 'config'), kernel, resolve(root, '.nx-kbuild'));
  for (const w of result.warnings) process.stderr.write(`${w}\n`);
  const own = new Set(result.ownSymbols);
  for (const [k, v] of result.values) if (own.has(k)) process.stdout.write(`${k}=${v}\n`);
  return 0;
}

runCli('nx-kbuild-config', () => main(process.argv.slice(2)));
