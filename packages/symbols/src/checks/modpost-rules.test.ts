import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FoundExport } from '../scan/source-scan';
import type { ModuleSymbols } from '../scan/tree-scan';
import { detectDialect, moduleListMatches, type Dialect } from './dialect';
import { moduleConfigSymbols, unreachableScopedExports } from './module-scope';
import { checkModule, exportTable, unresolvedImports } from './modpost-rules';

function mod(name: string, exports: Partial<FoundExport>[], modinfo: [string, string][] = [['license', 'GPL']]): ModuleSymbols {
  return {
    name,
    objects: [],
    exports: exports.map((e) => ({ symbol: '', license: '', namespace: '', file: `${name}.c`, line: 1, certain: true, ...e })),
    modinfo: modinfo.map(([tag, value]) => ({ tag, value, file: `${name}.c`, line: 9, certain: true })),
    identifiers: new Set(),
    functions: new Map(),
    declared: new Set(),
    sharedHeaders: new Set(),
  };
}

/** A tree whose export.h and modpost.c say which dialect it speaks. */
function treeWith(exportH: string, modpost: string): string {
  const root = mkdtempSync(join(tmpdir(), 'nx-kbuild-dialect-'));
  mkdirSync(join(root, 'include/linux'), { recursive: true });
  mkdirSync(join(root, 'scripts/mod'), { recursive: true });
  writeFileSync(join(root, 'include/linux/export.h'), exportH);
  writeFileSync(join(root, 'scripts/mod/modpost.c'), modpost);
  return root;
}

const EXPORT_612 = `#define EXPORT_SYMBOL_NS(sym, ns)\t__EXPORT_SYMBOL(sym, "", __stringify(ns))
#define EXPORT_SYMBOL_GPL_FOR_MODULES(sym, mods) __EXPORT_SYMBOL(sym, "GPL", "module:" mods)\n`;
const EXPORT_617 = `#define EXPORT_SYMBOL_NS(sym, ns)\t__EXPORT_SYMBOL(sym, "", ns)
#define EXPORT_SYMBOL_FOR_MODULES(sym, mods) __EXPORT_SYMBOL(sym, "GPL", "module:" mods)\n`;
const dialects: Record<string, Dialect> = {
  '6.12 (hybrid)': detectDialect(treeWith(EXPORT_612, 'static bool contains_namespace(...)')),
  'seed RFC': detectDialect(treeWith(EXPORT_612, 'if (strstarts(namespace, "MODULE_"))')),
  '6.17': detectDialect(treeWith(EXPORT_617, 'if (strstarts(namespace, "module:"))')),
};

describe('module-scoped export dialects', () => {
  it('are read from the tree and named', () => {
    expect(dialects['6.12 (hybrid)']).toMatchObject({ kind: 'ordinary', namespaceSyntax: 'identifier', forModulesMacro: 'EXPORT_SYMBOL_GPL_FOR_MODULES' });
    expect(dialects['6.12 (hybrid)'].description).toMatch(/not enforced/);
    expect(dialects['seed RFC']).toMatchObject({ kind: 'rfc-module-prefix' });
    expect(dialects['6.17']).toMatchObject({ kind: 'module-list', namespaceSyntax: 'string', forModulesMacro: 'EXPORT_SYMBOL_FOR_MODULES' });
  });

  it('match module lists as modpost does: exact names or tail globs, "-" kept', () => {
    expect(moduleListMatches('module:kvm,kvm-*', 'kvm')).toBe(true);
    expect(moduleListMatches('module:kvm,kvm-*', 'kvm-intel')).toBe(true);
    expect(moduleListMatches('module:kvm,kvm-*', 'kvm_intel')).toBe(false);
    expect(moduleListMatches('module:kvm', 'kvmgt')).toBe(false);
  });

  const kvm = mod('arch/x86/kvm/kvm', [{ symbol: 'anon_inode_getfd_secure_kvm', license: 'GPL', namespace: 'module:kvm,kvm-*' }, { symbol: 'rfc_only', license: 'GPL', namespace: 'MODULE_kvm_intel' }]);
  const users = [mod('arch/x86/kvm/kvm-intel', []), mod('drivers/gpu/drm/i915/kvmgt', [])];
  const run = (d: Dialect, m: ModuleSymbols, imports: string[]) => checkModule(m, imports, exportTable([kvm, ...users]).table, { dialect: d }).map((f) => f.message);

  it('6.12: "module:" is an ordinary namespace, every user must import it', () => {
    const d = dialects['6.12 (hybrid)'];
    expect(run(d, users[0], ['anon_inode_getfd_secure_kvm'])).toEqual(['module kvm-intel uses symbol anon_inode_getfd_secure_kvm from namespace module:kvm,kvm-*, but does not import it.']);
  });

  it('6.16+: a listed module uses it without importing, another one gets modpost\'s message, an explicit import is an error', () => {
    const d = dialects['6.17'];
    expect(run(d, users[0], ['anon_inode_getfd_secure_kvm'])).toEqual([]);
    expect(run(d, users[1], ['anon_inode_getfd_secure_kvm'])).toEqual(['module kvmgt uses symbol anon_inode_getfd_secure_kvm from namespace module:kvm,kvm-*, but does not import it.']);
    const importer = mod('drivers/x/sneaky', [], [['license', 'GPL'], ['import_ns', 'module:kvm,kvm-*']]);
    expect(run(d, importer, ['anon_inode_getfd_secure_kvm'])[0]).toMatch(/^module sneaky imports the module-scoped namespace module:kvm,kvm-\* explicitly/);
  });

  it('seed RFC: MODULE_<name> is imported implicitly by <name> only; importing MODULE_* is an error', () => {
    const d = dialects['seed RFC'];
    expect(run(d, users[0], ['rfc_only'])).toEqual([]);
    expect(run(d, users[1], ['rfc_only'])).toEqual(['module kvmgt uses symbol rfc_only from namespace MODULE_kvm_intel, but does not import it.']);
    const importer = mod('drivers/x/sneaky', [], [['license', 'GPL'], ['import_ns', 'MODULE_kvm_intel']]);
    expect(run(d, importer, [])[0]).toMatch(/imports the module-scoped namespace MODULE_kvm_intel explicitly/);
  });
});

describe("modpost's other rules", () => {
  const d = dialects['6.12 (hybrid)'];
  it('GPL-only symbols from a GPL-incompatible module, missing imports as warnings with -N', () => {
    const core = mod('drivers/usb/storage/usb-storage', [{ symbol: 'usb_stor_probe1', license: 'GPL', namespace: 'USB_STORAGE' }, { symbol: 'plain', license: '' }]);
    const user = mod('drivers/usb/storage/ums-x', [], [['license', 'Proprietary']]);
    const { table } = exportTable([core, user]);
    expect(checkModule(user, ['usb_stor_probe1', 'plain'], table, { dialect: d, allowMissingNamespaceImports: true }).map((f) => `${f.severity}: ${f.message}`)).toEqual([
      'warning: module ums-x uses symbol usb_stor_probe1 from namespace USB_STORAGE, but does not import it.',
      "error: GPL-incompatible module ums-x.ko uses GPL-only symbol 'usb_stor_probe1'",
    ]);
    const importing = mod('drivers/usb/storage/ums-y', [], [['license', 'Dual BSD/GPL'], ['import_ns', 'USB_STORAGE']]);
    expect(checkModule(importing, ['usb_stor_probe1'], table, { dialect: d })).toEqual([]);
  });

  it('unresolved symbols of exact imports, unless weak or resolved by the .mod.c; -w makes them warnings', () => {
    const lib = mod('lib/lib', [{ symbol: 'lib_call' }]);
    const user = mod('drivers/u/u', []);
    const { table } = exportTable([lib, user]);
    const undef = ['__this_module', 'lib_call', 'maybe_there', 'nobody'];
    expect(unresolvedImports(user, undef, new Set(['maybe_there']), table, 'drivers/u/u').map((f) => `${f.severity}: ${f.message}`)).toEqual(['error: "nobody" [drivers/u/u.ko] undefined!']);
    expect(unresolvedImports(user, ['nobody'], new Set(), table, 'drivers/u/u', true).map((f) => f.severity)).toEqual(['warning']);
  });

  it('a symbol exported twice, unless one export is in an undecided branch', () => {
    const a = mod('vmlinux', [{ symbol: 'dup', file: 'lib/a.c', line: 3 }]);
    const b = mod('drivers/b/b', [{ symbol: 'dup', file: 'drivers/b/b.c', line: 7 }, { symbol: 'maybe', certain: false }]);
    const c = mod('drivers/c/c', [{ symbol: 'maybe' }]);
    expect(exportTable([a, b, c]).findings.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual(["drivers/b/b.c:7: drivers/b/b: 'dup' exported twice. Previous export was in vmlinux"]);
  });
});

describe('module-scoped exports no module of this configuration can use', () => {
  const root = mkdtempSync(join(tmpdir(), 'nx-kbuild-scope-'));
  mkdirSync(join(root, 'arch/x86/kvm'), { recursive: true });
  writeFileSync(join(root, 'arch/x86/kvm/Makefile'), 'obj-$(CONFIG_KVM) += kvm.o\nobj-$(CONFIG_KVM_INTEL) += kvm-intel.o \\\n\tother.o\n');
  const configOf = moduleConfigSymbols([join(root, 'arch/x86/kvm/Makefile')]);
  const fs = mod('vmlinux', [{ symbol: 'anon_inode_getfd_secure', license: 'GPL', namespace: 'module:kvm', file: 'fs/anon_inodes.c', line: 140 }]);
  const d = dialects['6.12 (hybrid)'];

  it('reads which Kconfig symbols build each module', () => {
    expect(Object.fromEntries(configOf)).toEqual({ kvm: ['CONFIG_KVM'], 'kvm-intel': ['CONFIG_KVM_INTEL'], other: ['CONFIG_KVM_INTEL'] });
  });

  it('warns when no target is built as a module, naming the symbols that would build them', () => {
    const found = unreachableScopedExports([fs], d, new Map([['CONFIG_KVM', 'y']]), () => configOf);
    expect(found.map((f) => `${f.file}:${f.line}: ${f.severity}: ${f.message}`)).toEqual([
      `fs/anon_inodes.c:140: warning: anon_inode_getfd_secure is exported only to kvm, and this configuration builds none of them as a module, so the export is dead (or, built in, never checked); set one of them to m (kvm: CONFIG_KVM=y) or gate the export on it [${d.description}]`,
    ]);
    expect(unreachableScopedExports([fs, mod('arch/x86/kvm/kvm', [])], d, new Map([['CONFIG_KVM', 'm']]), () => configOf)).toEqual([]);
  });
});
