/**
 * What kbuild's `make nsdeps` does to one source file (scripts/nsdeps with
 * scripts/coccinelle/misc/add_namespace.cocci), without spatch: for each namespace the file does
 * not import yet, `MODULE_IMPORT_NS(ns);` right after its MODULE_LICENSE(...) statement (only the
 * main source has one); then the file's MODULE_IMPORT_NS lines are gathered where the first one is,
 * sorted (C locale) and made unique. Unlike nsdeps' grep, only statement lines move, never a
 * comment that mentions MODULE_IMPORT_NS.
 */
export type NamespaceSyntax = 'identifier' | 'string';

const IMPORT = /^\s*MODULE_IMPORT_NS\s*\(\s*"?([^")]*?)"?\s*\)\s*;\s*$/;
const LICENSE = /^\s*MODULE_LICENSE\s*\(.*\)\s*;\s*$/;

export function importStatement(ns: string, syntax: NamespaceSyntax): string {
  return syntax === 'string' ? `MODULE_IMPORT_NS("${ns}");` : `MODULE_IMPORT_NS(${ns});`;
}

/** The namespaces a source imports with MODULE_IMPORT_NS statements (either syntax). */
export function importedNamespaces(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = IMPORT.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

/** The file with the imports added (the same string when nothing changes). */
export function addNamespaceImports(text: string, namespaces: readonly string[], syntax: NamespaceSyntax): string {
  let lines = text.split('\n');
  for (const ns of namespaces) {
    if (lines.some((l) => IMPORT.exec(l)?.[1] === ns)) continue;
    const license = lines.findIndex((l) => LICENSE.test(l));
    if (license < 0) continue; // not the module's main source
    lines.splice(license + 1, 0, importStatement(ns, syntax));
    const first = lines.findIndex((l) => IMPORT.test(l));
    const imports = [...new Set(lines.filter((l) => IMPORT.test(l)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    lines = [...lines.slice(0, first), ...imports, ...lines.slice(first).filter((l) => !IMPORT.test(l))];
  }
  return lines.join('\n');
}
