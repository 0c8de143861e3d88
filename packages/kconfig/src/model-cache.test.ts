import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runOperation } from './conf';
import { loadKconfigCached } from './model-cache';
import { CachedShell } from './parse/shell-cache';

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

const KCONFIG = `
mainmenu "Test $(ARCH)"
config MODULES
	bool "modules"
	modules
	default y
source "sub/Kconfig"
choice
	prompt "pick"
config P1
	bool "p1"
config P2
	bool "p2"
endchoice
`;
const SUB = (dflt: string) => `
config A
	tristate "a"
	default ${dflt}
config PROBED
	def_bool $(shell,echo y)
	depends on A
`;

function load(snapshot: string) {
  const env = { ARCH: 'x86' };
  return loadKconfigCached({ srctree: dir!, env, shell: new CachedShell(undefined, dir!, env) }, snapshot);
}

describe('parsed tree kept between runs', () => {
  it('a second run evaluates the kept tree to the same outputs, and an edited Kconfig file is read again', () => {
    dir = mkdtempSync(join(tmpdir(), 'kconfig-model-'));
    writeFileSync(join(dir, 'Kconfig'), KCONFIG);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    writeFileSync(join(sub, 'Kconfig'), SUB('m'));
    const snapshot = join(dir, 'model.bin');
    const input = { config: { file: '.config', text: 'CONFIG_P2=y\n' } };

    const first = load(snapshot);
    expect(first.shellCommands).toEqual(['echo y']);
    expect(existsSync(snapshot)).toBe(false); // parsed once: only its key is left
    const fresh = runOperation(first.tree, 'olddefconfig', input);
    expect(runOperation(load(snapshot).tree, 'olddefconfig', input)).toEqual(fresh);
    expect(existsSync(snapshot)).toBe(true); // parsed twice alike: kept
    const second = load(snapshot);
    // From the snapshot: no probe ran, yet the probes the tree depends on are known.
    expect(second.shellCommands).toEqual(['echo y']);
    expect(second.tree).not.toBe(first.tree);
    expect(runOperation(second.tree, 'olddefconfig', input)).toEqual(fresh);
    expect(fresh.config).toContain('CONFIG_A=m\nCONFIG_PROBED=y\n');
    expect(fresh.config).toContain('CONFIG_P2=y\n');

    writeFileSync(join(sub, 'Kconfig'), SUB('n'));
    const edited = load(snapshot);
    expect(edited.tree.files).toEqual(['Kconfig', 'sub/Kconfig']);
    expect(runOperation(edited.tree, 'olddefconfig', input).config).toContain('# CONFIG_A is not set\n');
  });
});
