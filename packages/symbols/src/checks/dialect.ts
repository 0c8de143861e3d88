/**
 * Which semantics a tree gives module-scoped exports, read from the tree itself (its export.h
 * and modpost.c), since kernels of one version number differ (6.12.117 has the macro of 6.16
 * without its enforcement). See KNOWLEDGE §2: the seed RFC's `MODULE_<name>` namespaces, the
 * upstream `module:` lists (6.16: EXPORT_SYMBOL_GPL_FOR_MODULES; 6.17: EXPORT_SYMBOL_FOR_MODULES).
 */
import { readFileSync } from 'node:fs';
import { noteContent } from '@nx-kbuild/kbuild-make';
import { join } from 'node:path';

export type DialectKind = 'ordinary' | 'rfc-module-prefix' | 'module-list';

export interface Dialect {
  kind: DialectKind;
  /** Said in every report that applies it. */
  description: string;
  /** Namespace syntax of EXPORT_SYMBOL_NS / MODULE_IMPORT_NS in this tree. */
  namespaceSyntax: 'identifier' | 'string';
  /** The export macro for module-scoped exports, if the tree has one. */
  forModulesMacro?: string;
}

function read(file: string): string {
  noteContent(file);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function detectDialect(srctree: string): Dialect {
  const exportH = read(join(srctree, 'include/linux/export.h'));
  const modpost = read(join(srctree, 'scripts/mod/modpost.c'));
  const namespaceSyntax = /define\s+EXPORT_SYMBOL_NS\(sym,\s*ns\)\s+__EXPORT_SYMBOL\(sym,\s*"",\s*__stringify\(ns\)\)/.test(exportH) ? 'identifier' : 'string';
  const forModulesMacro = /define\s+(EXPORT_SYMBOL_FOR_MODULES)\b/.exec(exportH)?.[1] ?? /define\s+(EXPORT_SYMBOL_GPL_FOR_MODULES)\b/.exec(exportH)?.[1];
  if (modpost.includes('"module:"'))
    return {
      kind: 'module-list',
      description: `module-scoped exports enforced ("module:" namespaces: comma list, exact names or tail globs; ${forModulesMacro ?? 'no export macro'})`,
      namespaceSyntax,
      forModulesMacro,
    };
  if (/"MODULE_"/.test(modpost))
    return { kind: 'rfc-module-prefix', description: 'module-scoped exports enforced (MODULE_<name> namespaces, implicitly imported by <name>)', namespaceSyntax, forModulesMacro };
  return {
    kind: 'ordinary',
    description: forModulesMacro
      ? `module-scoped exports not enforced: ${forModulesMacro} exists but this modpost treats "module:..." as an ordinary namespace`
      : 'no module-scoped exports: every namespace is ordinary',
    namespaceSyntax,
    forModulesMacro,
  };
}

/**
 * The upstream semantics (Linux 6.16 and later: "module:" namespaces enforced), for checking a
 * tree against a newer kernel than the one it builds for; a tree that enforces some already keeps its own.
 */
export function enforcedDialect(d: Dialect): Dialect {
  if (d.kind !== 'ordinary') return d;
  return {
    kind: 'module-list',
    description: `module-scoped exports checked as Linux 6.16 enforces them ("module:" namespaces, imported implicitly by the modules they name); this kernel does not enforce them`,
    namespaceSyntax: d.namespaceSyntax,
    forModulesMacro: d.forModulesMacro,
  };
}

/** Whether one item of a "module:" list (an exact name, or a prefix ending in "*") names `module`. */
export function listItemMatches(item: string, module: string): boolean {
  return item.endsWith('*') ? module.startsWith(item.slice(0, -1)) : module === item;
}

/** Whether `module` (its file basename, "-" kept, as modpost sees it) is in a "module:" list. */
export function moduleListMatches(namespace: string, module: string): boolean {
  return namespace.slice('module:'.length).split(',').some((item) => listItemMatches(item, module));
}

/** The modules a module-scoped namespace names by its syntax ("module:" lists; MODULE_<name> in the RFC dialect). */
export function scopeTargets(namespace: string, d: Dialect): string[] | undefined {
  if (namespace.startsWith('module:')) return namespace.slice('module:'.length).split(',');
  if (d.kind === 'rfc-module-prefix' && namespace.startsWith('MODULE_')) return [namespace.slice('MODULE_'.length)];
  return undefined;
}

/** Whether `module` is one of the modules a module-scoped namespace names. */
export function inScope(namespace: string, module: string, d: Dialect): boolean {
  if (namespace.startsWith('module:')) return moduleListMatches(namespace, module);
  if (d.kind === 'rfc-module-prefix' && namespace.startsWith('MODULE_')) return namespace === 'MODULE_' + module.replace(/-/g, '_');
  return false;
}

/** Whether an export in `namespace` is meant only for certain modules, under `d`. */
export function isModuleScoped(namespace: string, d: Dialect): boolean {
  if (d.kind === 'module-list') return namespace.startsWith('module:');
  if (d.kind === 'rfc-module-prefix') return namespace.startsWith('MODULE_');
  return false;
}

/** Whether `module` may use an export in `namespace` without importing it (its own scope, where enforced). */
export function implicitlyImported(namespace: string, module: string, d: Dialect): boolean {
  return namespace === '' || (isModuleScoped(namespace, d) && inScope(namespace, module, d));
}
