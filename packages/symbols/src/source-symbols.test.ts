import { describe, expect, it } from 'vitest';
import { scanSourceSymbols } from './source-symbols';

describe('scanSourceSymbols', () => {
  it('finds every export macro and ignores comments, strings and directives', () => {
    const s = scanSourceSymbols(`
#include <linux/module.h>
/* EXPORT_SYMBOL(in_comment); */
int a(void) { return b(); }
EXPORT_SYMBOL(a);
EXPORT_SYMBOL_GPL(c);
EXPORT_SYMBOL_NS_GPL(d, NS);
EXPORT_SYMBOL_GPL_FOR_MODULES(e, "kvm,kvm-*");
const char *s = "EXPORT_SYMBOL(in_string)";
#if IS_ENABLED(CONFIG_FOO)
EXPORT_SYMBOL(f);
#endif
`);
    expect(s.exports.map((e) => [e.symbol, e.macro, e.line])).toEqual([
      ['a', 'EXPORT_SYMBOL', 5],
      ['c', 'EXPORT_SYMBOL_GPL', 6],
      ['d', 'EXPORT_SYMBOL_NS_GPL', 7],
      ['e', 'EXPORT_SYMBOL_GPL_FOR_MODULES', 8],
      ['f', 'EXPORT_SYMBOL', 11],
    ]);
    expect(s.identifiers.has('b')).toBe(true);
    expect(s.identifiers.has('in_comment')).toBe(false);
    expect(s.identifiers.has('in_string')).toBe(false);
    expect(s.identifiers.has('CONFIG_FOO')).toBe(false);
  });
});
