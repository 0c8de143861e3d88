import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSymvers } from '../symvers';
import { ElfFile, SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_FUNC } from './elf';
import { objectSymbols, readObjectSymbols } from './object-symbols';
import { crcText, symversRows } from './symvers-rows';

/**
 * Real objects, compiled here with gcc. The exports are written by hand the way
 * include/linux/export.h (___EXPORT_SYMBOL) and include/linux/export-internal.h (__KSYMTAB,
 * SYMBOL_CRC) emit them, so no kernel tree is needed.
 */
let dir: string;
const path = (name: string) => join(dir, name);

function compile(name: string, source: string, ...flags: string[]): string {
  writeFileSync(path(`${name}.c`), source);
  execFileSync('gcc', ['-c', '-O2', ...flags, '-o', path(`${name}.o`), path(`${name}.c`)], { stdio: 'pipe' });
  return path(`${name}.o`);
}

/**
 * ___EXPORT_SYMBOL(sym, license, ns) from export.h, for x86_64 (CONFIG_64BIT: .balign 8; .quad),
 * as the C asm() statement __EXPORT_SYMBOL makes of it. `ns` is the assembler text of the
 * namespace: string literals, which `.ascii` joins (`"module:" "kvm"`).
 */
const exportSymbol = (sym: string, license: string, ns: string) =>
  `asm(".section \\".export_symbol\\",\\"a\\" ; __export_symbol_${sym}: ; .asciz \\"${license}\\" ; .ascii ${ns.replace(/"/g, '\\"')} \\"\\\\0\\" ; .balign 8 ; .quad ${sym} ; .previous");\n`;

const MODULE_C = `
extern int ext_fn(int);
extern int maybe_there(void) __attribute__((weak));
struct module;
extern struct module __this_module;
struct module *owner = &__this_module;
static int helper(int x) { return x * 3; }
int bar(int x) { return ext_fn(helper(x)) + 1; }
int foo(int x) { return ext_fn(x) + (maybe_there ? maybe_there() : 0); }
__attribute__((weak)) int soft(void) { return 2; }
int data_export = 42;
${exportSymbol('bar', '', '""')}
${exportSymbol('foo', 'GPL', '"MY_NS"')}
${exportSymbol('data_export', 'GPL', '"module:" "kvm,kvm-*"')}
static const char license[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL";
static const char import_ns[] __attribute__((section(".modinfo"), used, aligned(8))) = "import_ns=MY_NS";
static const char author[] __attribute__((section(".modinfo"), used, aligned(1))) = "author=J\u00e9r\u00f4me = someone";
`;

let moduleO: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'object-symbols-'));
  // As kbuild compiles (-fno-PIE: no GOT references); -fno-toplevel-reorder keeps .modinfo in source order.
  moduleO = compile('mod', MODULE_C, '-fno-PIE', '-fno-toplevel-reorder');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readObjectSymbols on a .o', () => {
  it('reads .export_symbol entries in section order with license and namespace', () => {
    expect(readObjectSymbols(moduleO).exports).toEqual([
      { symbol: 'bar', license: '', namespace: '' },
      { symbol: 'foo', license: 'GPL', namespace: 'MY_NS' },
      { symbol: 'data_export', license: 'GPL', namespace: 'module:kvm,kvm-*' },
    ]);
  });

  it('reports undefined and defined global/weak symbols, sorted, with nothing filtered', () => {
    const o = readObjectSymbols(moduleO);
    // __this_module is reported although modpost ignores it; the weak reference is listed too.
    expect(o.undefined).toEqual(['__this_module', 'ext_fn', 'maybe_there']);
    expect(o.weakUndefined).toEqual(['maybe_there']);
    expect(o.defined).toEqual(['bar', 'data_export', 'foo', 'owner', 'soft']);
    expect(o.crcs.size).toBe(0);
  });

  it('reads .modinfo tag=value strings, skipping zero padding, splitting at the first "="', () => {
    expect(readObjectSymbols(moduleO).modinfo).toEqual([
      { tag: 'license', value: 'GPL' },
      { tag: 'import_ns', value: 'MY_NS' },
      { tag: 'author', value: 'J\u00e9r\u00f4me = someone' },
    ]);
  });

  it('gives the same answer from a Buffer as from the file read piecewise', () => {
    const fromBuffer = objectSymbols(ElfFile.fromBuffer(readFileSync(moduleO), moduleO));
    expect(fromBuffer).toEqual(readObjectSymbols(moduleO));
  });

  it('reads an object with more than 0xff00 sections (extended section numbering)', () => {
    // Sections before .export_symbol push its index past SHN_LORESERVE: its label's st_shndx is SHN_XINDEX.
    let asm = '';
    for (let i = 0; i < 0xff10; i++) asm += `.section .s${i},"a"\n.byte 0\n`;
    asm += '.text\n.globl big\nbig: ret\n';
    asm += '.section ".export_symbol","a"\n__export_symbol_big:\n.asciz "GPL"\n.ascii "BIG" "\\0"\n.balign 8\n.quad big\n.previous\n';
    writeFileSync(path('many.s'), asm);
    execFileSync('gcc', ['-c', '-o', path('many.o'), path('many.s')], { stdio: 'pipe' });
    const elf = ElfFile.fromBuffer(readFileSync(path('many.o')), path('many.o'));
    expect(elf.sections.length).toBeGreaterThan(0xff10);
    expect(elf.section('.export_symbol')!.index).toBeGreaterThan(0xff00);
    expect(readObjectSymbols(path('many.o')).exports).toEqual([{ symbol: 'big', license: 'GPL', namespace: 'BIG' }]);
  });
});

describe('readObjectSymbols on a .ko', () => {
  /** __KSYMTAB and SYMBOL_CRC from export-internal.h as modpost's .mod.c uses them (PREL32 on x86_64). */
  const ksymtab = (name: string, sec: string, ns: string) =>
    `asm("  .section \\"__ksymtab_strings\\",\\"aMS\\",%progbits,1\\n__kstrtab_${name}:\\n  .asciz \\"${name}\\"\\n__kstrtabns_${name}:\\n  .asciz \\"${ns}\\"\\n  .previous\\n` +
    `  .section \\"___ksymtab${sec}+${name}\\", \\"a\\"\\n.balign 4\\n__ksymtab_${name}:\\n.long ${name} - .\\n.long __kstrtab_${name} - .\\n.long __kstrtabns_${name} - .\\n  .previous\\n");\n`;
  const crc = (name: string, value: string, sec: string) =>
    `asm(".section \\"___kcrctab${sec}+${name}\\",\\"a\\"\\n.balign 4\\n__crc_${name}:\\n.long ${value}\\n.previous\\n");\n`;

  it('reads __ksymtab/__ksymtab_gpl in modpost order (not the sorted section order) and __kcrctab CRCs', () => {
    const src = `
int zeta(void) { return 1; }
int alpha(void) { return 2; }
int mid = 3;
${ksymtab('zeta', '_gpl', '')}${ksymtab('alpha', '_gpl', 'NS1')}${ksymtab('mid', '', '')}
${crc('zeta', '0x1234abcd', '_gpl')}${crc('alpha', '0xdeadbeef', '_gpl')}${crc('mid', '0x00000007', '')}
static const char name[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=demo";
`;
    const o = compile('demo.mod', src);
    // The final link of a .ko gathers the per-symbol sections as scripts/module.lds.S does.
    writeFileSync(
      path('module.lds'),
      'SECTIONS {\n __ksymtab 0 : { *(SORT(___ksymtab+*)) }\n __ksymtab_gpl 0 : { *(SORT(___ksymtab_gpl+*)) }\n' +
        ' __kcrctab 0 : { *(SORT(___kcrctab+*)) }\n __kcrctab_gpl 0 : { *(SORT(___kcrctab_gpl+*)) }\n}\n',
    );
    const ko = path('demo.ko');
    execFileSync('ld', ['-r', '-T', path('module.lds'), '-o', ko, o], { stdio: 'pipe' });
    const s = readObjectSymbols(ko);
    expect(s.exports).toEqual([
      { symbol: 'zeta', license: 'GPL', namespace: '' },
      { symbol: 'alpha', license: 'GPL', namespace: 'NS1' },
      { symbol: 'mid', license: '', namespace: '' },
    ]);
    expect([...s.crcs]).toEqual([
      ['zeta', '0x1234abcd'],
      ['alpha', '0xdeadbeef'],
      ['mid', '0x00000007'],
    ]);
    expect(s.modinfo).toEqual([{ tag: 'name', value: 'demo' }]);
    expect(formatSymvers(symversRows('drivers/demo', [s]))).toBe(
      '0x1234abcd\tzeta\tdrivers/demo\tEXPORT_SYMBOL_GPL\t\n' + '0xdeadbeef\talpha\tdrivers/demo\tEXPORT_SYMBOL_GPL\tNS1\n' + '0x00000007\tmid\tdrivers/demo\tEXPORT_SYMBOL\t\n',
    );
  });
});

describe('ElfFile', () => {
  it('gives section headers with names, section bytes and the symbol table', () => {
    const elf = ElfFile.fromBuffer(readFileSync(moduleO), moduleO);
    const text = elf.section('.text')!;
    expect(elf.sections[0].name).toBe('');
    expect(elf.sectionData(elf.section('.modinfo')!).toString('latin1')).toContain('license=GPL\0');
    const syms = elf.symbols()!;
    const all = Array.from({ length: syms.count }, (_, i) => syms.symbol(i));
    expect(all[0]).toEqual({ name: '', section: SHN_UNDEF, value: 0, size: 0, bind: 0, type: 0 });
    const foo = all.find((s) => s.name === 'foo')!;
    expect(foo).toMatchObject({ section: text.index, bind: STB_GLOBAL, type: STT_FUNC });
    expect(foo.size).toBeGreaterThan(0);
    expect(all.find((s) => s.name === 'soft')!.bind).toBe(STB_WEAK);
    expect(all.find((s) => s.name === 'ext_fn')!.section).toBe(SHN_UNDEF);
  });
});

describe('bad input', () => {
  const variant = (name: string, edit: (b: Buffer) => Buffer) => {
    const p = path(name);
    writeFileSync(p, edit(Buffer.from(readFileSync(moduleO))));
    return p;
  };

  it('rejects a file that is not ELF, naming it', () => {
    const p = path('not-elf.o');
    writeFileSync(p, 'this is not an object file\n');
    expect(() => readObjectSymbols(p)).toThrow(`${p}: not an ELF file`);
    const empty = path('empty.o');
    writeFileSync(empty, '');
    expect(() => readObjectSymbols(empty)).toThrow(`${empty}: not an ELF file`);
  });

  it('rejects 32-bit and big-endian ELF, naming the file', () => {
    const elf32 = variant('elf32.o', (b) => ((b[4] = 1), b));
    expect(() => readObjectSymbols(elf32)).toThrow(`${elf32}: not a 64-bit ELF file`);
    const be = variant('be.o', (b) => ((b[5] = 2), b));
    expect(() => readObjectSymbols(be)).toThrow(`${be}: not a little-endian ELF file`);
  });

  it('rejects a truncated object', () => {
    const cut = variant('cut.o', (b) => b.subarray(0, 200));
    expect(() => readObjectSymbols(cut)).toThrow(`${cut}: truncated`);
  });

  it('rejects what modpost cannot read: a linked executable, an unknown export license', () => {
    writeFileSync(path('prog.c'), 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-o', path('prog'), path('prog.c')], { stdio: 'pipe' });
    expect(() => readObjectSymbols(path('prog'))).toThrow(`${path('prog')}: not a relocatable object`);
    const bsd = compile('bsd', `int f(void) { return 0; }\n${exportSymbol('f', 'BSD', '""')}`);
    expect(() => readObjectSymbols(bsd)).toThrow(`${bsd}: unknown license 'BSD' was specified for 'f'`);
  });
});

describe('symversRows', () => {
  it('writes rows as write_dump does, objects in link order, CRCs from the map or 0', () => {
    const mod = readObjectSymbols(moduleO);
    const other = { ...mod, exports: [{ symbol: 'later', license: '' as const, namespace: 'NS' }] };
    const rows = symversRows('drivers/misc/mod', [mod, other], new Map([['foo', '0x1a2b3c4d'], ['later', '0x1f']]));
    expect(formatSymvers(rows)).toBe(
      [
        '0x00000000\tbar\tdrivers/misc/mod\tEXPORT_SYMBOL\t',
        '0x1a2b3c4d\tfoo\tdrivers/misc/mod\tEXPORT_SYMBOL_GPL\tMY_NS',
        '0x00000000\tdata_export\tdrivers/misc/mod\tEXPORT_SYMBOL_GPL\tmodule:kvm,kvm-*',
        '0x0000001f\tlater\tdrivers/misc/mod\tEXPORT_SYMBOL\tNS',
        '',
      ].join('\n'),
    );
  });

  it('reads CRC values as strtoul(…, 0) does and skips malformed ones', () => {
    expect(crcText('0xABCDEF01')).toBe('0xabcdef01');
    expect(crcText('0x123456789')).toBe('0x23456789');
    expect(crcText('17')).toBe('0x00000011');
    expect(crcText('017')).toBe('0x0000000f');
    expect(crcText('0')).toBe('0x00000000');
    expect(crcText('x12')).toBeUndefined();
    expect(crcText('0x12 ')).toBeUndefined();
    expect(crcText(undefined)).toBeUndefined();
  });
});
