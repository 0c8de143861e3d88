import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildHeaderIndex } from './header-index';
import { compileFlags, relevantHeaderMacros, scanSource, type ScanEnvironment } from './source-scan';
import { configMacros } from './tree-scan';

/** A miniature of the kernel's export.h and moduleparam.h, in 6.12's shape. */
const EXPORT_H = `#ifndef _LINUX_EXPORT_H
#define _LINUX_EXPORT_H
#if defined(__DISABLE_EXPORTS)
#define __EXPORT_SYMBOL(sym, license, ns)
#else
#define __EXPORT_SYMBOL(sym, license, ns) extern typeof(sym) sym; asm(ns)
#endif
#ifdef DEFAULT_SYMBOL_NAMESPACE
#define _EXPORT_SYMBOL(sym, license)	__EXPORT_SYMBOL(sym, license, DEFAULT_SYMBOL_NAMESPACE)
#else
#define _EXPORT_SYMBOL(sym, license)	__EXPORT_SYMBOL(sym, license, "")
#endif
#define __stringify_1(x...)	#x
#define __stringify(x...)	__stringify_1(x)
#define EXPORT_SYMBOL(sym)		_EXPORT_SYMBOL(sym, "")
#define EXPORT_SYMBOL_GPL(sym)		_EXPORT_SYMBOL(sym, "GPL")
#define EXPORT_SYMBOL_NS(sym, ns)	__EXPORT_SYMBOL(sym, "", __stringify(ns))
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	__EXPORT_SYMBOL(sym, "GPL", __stringify(ns))
#define EXPORT_SYMBOL_GPL_FOR_MODULES(sym, mods) __EXPORT_SYMBOL(sym, "GPL", "module:" mods)
#define __MODULE_INFO(tag, name, info) static const char name[] = #tag "=" info
#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_IMPORT_NS(ns) MODULE_INFO(import_ns, __stringify(ns))
#endif
`;

const TRACEPOINT_H = `#ifndef _LINUX_TRACEPOINT_H
#define _LINUX_TRACEPOINT_H
#endif
#ifndef DECLARE_TRACE
#define DECLARE_TRACE(name)
#ifdef CONFIG_TRACEPOINTS
#define EXPORT_TRACEPOINT_SYMBOL_GPL(name) EXPORT_SYMBOL_GPL(__tracepoint_##name)
#else
#define EXPORT_TRACEPOINT_SYMBOL_GPL(name)
#endif
#endif
`;

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nx-kbuild-symbols-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function scan(files: Record<string, string>, source: string, config: Record<string, string> = {}, argv: string[] = []) {
  const root = tree({ 'include/linux/export.h': EXPORT_H, 'include/linux/tracepoint.h': TRACEPOINT_H, ...files });
  const index = buildHeaderIndex([join(root, 'include')]);
  const env: ScanEnvironment = { index, predefined: configMacros(new Map(Object.entries(config))), relevant: relevantHeaderMacros(index) };
  const file = join(root, source);
  return scanSource(file, readFileSync(file, 'latin1'), compileFlags(['gcc', `-I${join(root, 'include')}`, ...argv], root), env);
}

const brief = (r: ReturnType<typeof scan>) => r.exports.map((e) => [e.symbol, e.license, e.namespace, e.line, e.certain]);

describe('scanSource', () => {
  it('reads every export variant through export.h, with license and namespace', () => {
    const r = scan(
      {
        'drv/a.c': `#include <linux/export.h>
int a, b, c, d, e;
EXPORT_SYMBOL(a);
EXPORT_SYMBOL_GPL(b);
EXPORT_SYMBOL_NS(c, USB_STORAGE);
EXPORT_SYMBOL_NS_GPL(d, USB_STORAGE);
EXPORT_SYMBOL_GPL_FOR_MODULES(e, "kvm,kvm-*");
/* EXPORT_SYMBOL(in_comment); */
const char *s = "EXPORT_SYMBOL(in_string)";
MODULE_IMPORT_NS(CRYPTO_INTERNAL);
MODULE_LICENSE("GPL v2");
`,
      },
      'drv/a.c',
    );
    expect(brief(r)).toEqual([
      ['a', '', '', 3, true],
      ['b', 'GPL', '', 4, true],
      ['c', '', 'USB_STORAGE', 5, true],
      ['d', 'GPL', 'USB_STORAGE', 6, true],
      ['e', 'GPL', 'module:kvm,kvm-*', 7, true],
    ]);
    expect(r.modinfo.map((m) => [m.tag, m.value])).toEqual([
      ['import_ns', 'CRYPTO_INTERNAL'],
      ['license', 'GPL v2'],
    ]);
    expect(r.errors).toEqual([]);
  });

  it('takes DEFAULT_SYMBOL_NAMESPACE from -D, or from a #define made before export.h is read', () => {
    const files = {
      'drv/early.c': `#define DEFAULT_SYMBOL_NAMESPACE "PWM"\n#include <linux/export.h>\nEXPORT_SYMBOL_GPL(x);\n`,
      // 6.12's export.h tests the macro when it is included: a later #define does nothing.
      'drv/late.c': `#include <linux/export.h>\n#define DEFAULT_SYMBOL_NAMESPACE "PWM_LPSS"\nEXPORT_SYMBOL_GPL(y);\n`,
      'drv/flag.c': `#include <linux/export.h>\nEXPORT_SYMBOL(z);\n`,
    };
    expect(brief(scan(files, 'drv/early.c'))).toEqual([['x', 'GPL', 'PWM', 3, true]]);
    expect(brief(scan(files, 'drv/late.c'))).toEqual([['y', 'GPL', '', 3, true]]);
    expect(brief(scan(files, 'drv/flag.c', {}, ['-DDEFAULT_SYMBOL_NAMESPACE="IDXD"']))).toEqual([['z', '', 'IDXD', 2, true]]);
  });

  it('evaluates #if on config symbols, -D flags and local macros; undecidable branches are marked', () => {
    const src = `#include <linux/export.h>
#if IS_ENABLED(CONFIG_ON)
EXPORT_SYMBOL(on);
#endif
#ifdef CONFIG_OFF
EXPORT_SYMBOL(off);
#elif IS_MODULE(CONFIG_MOD) && defined(MODULE)
EXPORT_SYMBOL(mod_in_module);
#else
EXPORT_SYMBOL(fallback);
#endif
#if IS_REACHABLE(CONFIG_MOD)
EXPORT_SYMBOL(reachable);
#endif
#define LOCAL 2
#if LOCAL > 1 && !IS_BUILTIN(CONFIG_MOD)
EXPORT_SYMBOL(local);
#endif
#if HEADER_FLAG
EXPORT_SYMBOL(maybe);
#endif
`;
    const files = { 'drv/c.c': src, 'include/linux/flags.h': '#ifdef CONFIG_SOMETIMES\n#define HEADER_FLAG 1\n#endif\n#if __has_include(<linux/other.h>)\n#define HEADER_FLAG 1\n#endif\n' };
    expect(brief(scan(files, 'drv/c.c', { CONFIG_ON: 'y', CONFIG_MOD: 'm' }, ['-DMODULE']))).toEqual([
      ['on', '', '', 3, true],
      ['mod_in_module', '', '', 8, true],
      ['reachable', '', '', 13, true],
      ['local', '', '', 17, true],
      ['maybe', '', '', 20, false],
    ]);
    // Built in (no -DMODULE): the module-only branch is out, IS_REACHABLE of a module is false.
    expect(brief(scan(files, 'drv/c.c', { CONFIG_ON: 'y', CONFIG_MOD: 'm', CONFIG_SOMETIMES: 'y' }))).toEqual([
      ['on', '', '', 3, true],
      ['fallback', '', '', 10, true],
      ['local', '', '', 17, true],
      ['maybe', '', '', 20, true],
    ]);
  });

  it('expands wrappers from headers and the file, with token pasting', () => {
    const files = {
      'drv/iwl-drv.h': '#ifndef IWL_DRV_H\n#define IWL_DRV_H\n#define IWL_EXPORT_SYMBOL(sym) EXPORT_SYMBOL_NS_GPL(sym, IWLWIFI)\n#endif\n',
      'drv/w.c': `#include <linux/export.h>
#include <linux/tracepoint.h>
#include "iwl-drv.h"
#define EXPORT_BOTH(x) EXPORT_SYMBOL(x##_get); EXPORT_SYMBOL(x##_put)
IWL_EXPORT_SYMBOL(iwl_opmode_register);
EXPORT_TRACEPOINT_SYMBOL_GPL(foo);
EXPORT_BOTH(clk);
EXPORT_SYMBOL(
    spread_over_lines
);
`,
    };
    expect(brief(scan(files, 'drv/w.c', { CONFIG_TRACEPOINTS: 'y' }))).toEqual([
      ['iwl_opmode_register', 'GPL', 'IWLWIFI', 5, true],
      ['__tracepoint_foo', 'GPL', '', 6, true],
      ['clk_get', '', '', 7, true],
      ['clk_put', '', '', 7, true],
      ['spread_over_lines', '', '', 8, true],
    ]);
    expect(brief(scan(files, 'drv/w.c')).map((e) => e[0])).toEqual(['iwl_opmode_register', 'clk_get', 'clk_put', 'spread_over_lines']);
  });

  it('leaves unexpanded only the macros of an expansion that cannot matter to an export or .modinfo', () => {
    const r = scan(
      {
        'drv/p.c': `#include <linux/export.h>
#define CHECK(perm) (sizeof(struct { int:(-!!((perm) > 0777)); }) + (perm))
#define DROP(x)
#define KEEP(x) x
#define param(name, perm) static int name##_perm = CHECK(perm); MODULE_INFO(parm, #name)
#define both(n) DROP(MODULE_INFO(dropped, #n)) KEEP(MODULE_INFO(kept, #n)) KEEP(CHECK(1))
param(debug, 0644);
both(x);
`,
      },
      'drv/p.c',
    );
    // CHECK is left as it is; DROP and KEEP, whose arguments invoke MODULE_INFO, are expanded (as cpp would).
    expect(r.modinfo.map((m) => [m.tag, m.value, m.line])).toEqual([
      ['parm', 'debug', 7],
      ['kept', 'x', 8],
    ]);
    expect(r.errors).toEqual([]);
  });

  it('expands what only looks inert: a paste one level down or from a name as written, a header macro through a local one, a name that takes the next "("', () => {
    const r = scan(
      {
        'include/linux/wrap.h': '#define HDR_WRAP(x) LOCAL_INFO(x)\n',
        'drv/q.c': `#include <linux/export.h>
#include <linux/wrap.h>
#define CAT(a, b) a##b
#define MAKE(t) CAT(MODULE_, INFO)(t, "pasted")
#define LOCAL_INFO(x) MODULE_INFO(local, #x)
#define DROP(x)
#define PICK DROP
#define TWO(a, b) a b
#define pasted(n) MODULE_LICENSE("GPL"); MAKE(n)
#define through_header(n) MODULE_LICENSE("GPL"); HDR_WRAP(n)
#define taken(n) MODULE_LICENSE("GPL"); PICK(MODULE_INFO(dropped, #n))
#define wrong(n) MODULE_LICENSE("GPL"); TWO(n)
#define LIT(t) MODULE_##INFO(t, "literal")
#define STR(t) __str_##t
#define literal(n) MODULE_LICENSE("GPL"); LIT(n) STR(n)
pasted(p1);
through_header(h1);
taken(t1);
wrong(w1);
literal(l1);
`,
      },
      'drv/q.c',
    );
    expect(r.modinfo.map((m) => [m.tag, m.value, m.line])).toEqual([
      ['license', 'GPL', 16],
      ['p1', 'pasted', 16],
      ['license', 'GPL', 17],
      ['local', 'h1', 17],
      ['license', 'GPL', 18],
      ['license', 'GPL', 20],
      ['l1', 'literal', 20],
    ]);
    // An invocation the expansion reads is still checked as cpp would check it.
    expect(r.errors.map((e) => [e.line, e.message])).toEqual([[19, 'macro "TWO" passed 1 arguments, but takes 2']]);
  });

  it('finds the macro a paste names among a register map\'s, as each is defined at that point, -D ones too', () => {
    const r = scan(
      {
        'drv/regs.h': `#define REG_CTRL 0x10\n#define REG_STATUS 0x14\n#define REG_EXPORT(s) EXPORT_SYMBOL(s)\n${Array.from({ length: 50 }, (_, k) => `#define REG_R${k} 0x${k}`).join('\n')}\n`,
        'drv/r.c': `#include <linux/export.h>
#include "regs.h"
#define REG_OF(n, s) REG_##n(s)
#define CMD_OF(n, s) CMD_##n(s)
int first, second, third;
REG_OF(EXPORT, first);
#undef REG_EXPORT
#define REG_EXPORT(s) 0
REG_OF(EXPORT, second);
CMD_OF(EXPORT, third);
`,
      },
      'drv/r.c',
      {},
      ['-DCMD_EXPORT=EXPORT_SYMBOL'],
    );
    expect(brief(r)).toEqual([
      ['first', '', '', 6, true],
      ['third', '', '', 10, true],
    ]);
    expect(r.errors).toEqual([]);
  });

  it('reads exports an X-macro header expands, and no export where exports are disabled', () => {
    const files = {
      'include/asm/GEN-for-each-reg.h': 'GEN(rax)\nGEN(rbx)\n',
      'lib/thunk.S': '#include <linux/export.h>\n#define GEN(reg) EXPORT_SYMBOL(__x86_indirect_thunk_ ## reg)\n#include <asm/GEN-for-each-reg.h>\n#undef GEN\n',
    };
    expect(brief(scan(files, 'lib/thunk.S')).map((e) => e[0])).toEqual(['__x86_indirect_thunk_rax', '__x86_indirect_thunk_rbx']);
    expect(scan(files, 'lib/thunk.S', {}, ['-D__DISABLE_EXPORTS']).exports).toEqual([]);
  });

  it('reads a shared header that imports a namespace at file scope (linux/pwm.h)', () => {
    const files = {
      'include/linux/pwm.h': '#ifndef __LINUX_PWM_H\n#define __LINUX_PWM_H\n#include <linux/export.h>\nMODULE_IMPORT_NS(PWM);\nint pwm_get(void);\n#endif\n',
      'drv/p.c': '#include <linux/pwm.h>\n#include <linux/pwm.h>\nint f(void) { return pwm_get(); }\n',
    };
    expect(scan(files, 'drv/p.c').modinfo.map((m) => [m.tag, m.value, m.file.split('/').pop(), m.line])).toEqual([['import_ns', 'PWM', 'pwm.h', 4]]);
  });

  it('finds a header reached through an include cycle whichever header of the cycle is asked about first', () => {
    // p.h and aq.h include each other; root.h (included by nothing) includes p.h. Deciding whether
    // p.h is reached meets aq.h, whose one includer, p.h, is then still being decided: aq.h is not
    // reached by that path, but it is through p.h once p.h is known to be reached.
    const files = {
      'include/linux/p.h': '#ifndef P_H\n#define P_H\n#include <linux/aq.h>\n#define P_MACRO 1\n#endif\n',
      'include/linux/aq.h': '#ifndef AQ_H\n#define AQ_H\n#include <linux/p.h>\n#include <linux/export.h>\n#define AQ_EXPORT(x) EXPORT_SYMBOL(x)\n#endif\n',
      'include/linux/root.h': '#include <linux/p.h>\n',
      'drv/cyc.c': '#include <linux/root.h>\n#if P_MACRO\nint a;\n#endif\nAQ_EXPORT(a);\n',
      'drv/cyc2.c': '#include <linux/root.h>\nint a;\nAQ_EXPORT(a);\n',
    };
    expect(brief(scan(files, 'drv/cyc.c'))).toEqual([['a', '', '', 5, true]]);
    expect(brief(scan(files, 'drv/cyc2.c'))).toEqual([['a', '', '', 3, true]]);
  });

  it('reads an export gated on a config symbol through IS_MODULE dispatch (the example tree\'s EXPORT_SYMBOL_GPL_FOR_MODULE_IF)', () => {
    const files = {
      // include/linux/kconfig.h's IS_MODULE, trick included.
      'include/linux/kconfig.h': `#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x)			___is_defined(x)
#define ___is_defined(val)		____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk)	__take_second_arg(arg1_or_junk 1, 0)
#define IS_MODULE(option) __is_defined(option##_MODULE)
`,
      'bus/export.h': `#define __EXM_IF(c, ...) ___EXM_IF(c, __VA_ARGS__)
#define ___EXM_IF(c, ...) __EXM_IF_##c(__VA_ARGS__)
#define __EXM_IF_1(sym, mod) EXPORT_SYMBOL_GPL_FOR_MODULES(sym, mod)
#define __EXM_IF_0(sym, mod)
#define EXPORT_SYMBOL_GPL_FOR_MODULE_IF(sym, mod, cfg) __EXM_IF(IS_MODULE(cfg), sym, mod)
`,
      'bus/b.c': '#include <linux/export.h>\n#include <linux/kconfig.h>\n#include "export.h"\nEXPORT_SYMBOL_GPL_FOR_MODULE_IF(calibrate, "exm_sensor", CONFIG_EXM_SENSOR);\n',
    };
    expect(brief(scan(files, 'bus/b.c', { CONFIG_EXM_SENSOR: 'm' }))).toEqual([['calibrate', 'GPL', 'module:exm_sensor', 4, true]]);
    expect(brief(scan(files, 'bus/b.c', { CONFIG_EXM_SENSOR: 'y' }))).toEqual([]);
    expect(brief(scan(files, 'bus/b.c'))).toEqual([]);
  });

  it('reports bad input with file:line and goes on', () => {
    const r = scan(
      {
        'drv/bad.c': `#include <linux/export.h>
EXPORT_SYMBOL_NS(a, "QUOTED");
EXPORT_SYMBOL("not_a_name");
#if 1 +
#endif
#if 1
EXPORT_SYMBOL(b);
EXPORT_SYMBOL(never_closed
`,
      },
      'drv/bad.c',
    );
    const where = (m: RegExp) => r.errors.filter((e) => m.test(e.message)).map((e) => `${e.file.split('/').pop()}:${e.line}`);
    expect(where(/string literal/)).toEqual(['bad.c:2']);
    expect(where(/expected a symbol name/)).toEqual(['bad.c:3']);
    expect(where(/expression|#if/)).toEqual(['bad.c:4']);
    expect(where(/unterminated argument list/)).toEqual(['bad.c:8']);
    expect(where(/unterminated conditional/)).toEqual(['bad.c:6']);
    expect(brief(r).map((e) => e[0])).toEqual(['b']);
    // A bare identifier where export.h expects a string (-DDEFAULT_SYMBOL_NAMESPACE=CXL).
    const bare = scan({ 'drv/ns.c': '#include <linux/export.h>\nEXPORT_SYMBOL(c);\n' }, 'drv/ns.c', {}, ['-DDEFAULT_SYMBOL_NAMESPACE=CXL']);
    expect(bare.errors.map((e) => `${e.line}: ${e.message}`)).toEqual(['2: malformed namespace for c: "CXL" is not a string']);
  });
});
