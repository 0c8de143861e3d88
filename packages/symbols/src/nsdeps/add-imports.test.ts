import { describe, expect, it } from 'vitest';
import { addNamespaceImports, importedNamespaces } from './add-imports';

const SRC = `#include <linux/module.h>
/* MODULE_IMPORT_NS(X) is explained here */
MODULE_DESCRIPTION("demo");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(ZETA);
`;

describe('addNamespaceImports', () => {
  it('adds after MODULE_LICENSE and sorts the imports as nsdeps does; comments stay', () => {
    const out = addNamespaceImports(SRC, ['USB_STORAGE', 'ALPHA'], 'identifier');
    expect(out).toBe(`#include <linux/module.h>
/* MODULE_IMPORT_NS(X) is explained here */
MODULE_DESCRIPTION("demo");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(ALPHA);
MODULE_IMPORT_NS(USB_STORAGE);
MODULE_IMPORT_NS(ZETA);
`);
    expect(addNamespaceImports(out, ['USB_STORAGE', 'ALPHA'], 'identifier')).toBe(out);
    expect([...importedNamespaces(out)]).toEqual(['ALPHA', 'USB_STORAGE', 'ZETA']);
  });

  it('writes the syntax of the tree, sees imports in either syntax, and leaves files without MODULE_LICENSE alone', () => {
    expect(addNamespaceImports('MODULE_LICENSE("GPL");\n', ['CXL'], 'string')).toBe('MODULE_LICENSE("GPL");\nMODULE_IMPORT_NS("CXL");\n');
    expect(addNamespaceImports('MODULE_LICENSE("GPL");\nMODULE_IMPORT_NS("CXL");\n', ['CXL'], 'identifier')).toBe('MODULE_LICENSE("GPL");\nMODULE_IMPORT_NS("CXL");\n');
    expect(addNamespaceImports('int helper;\n', ['CXL'], 'identifier')).toBe('int helper;\n');
  });
});
