/**
 * The symbol data of a compiled kernel object (.o or .ko) as Linux 6.12's modpost reads it
 * (scripts/mod/modpost.c: parse_elf, handle_symbol, check_export_symbol, get_modinfo): what the
 * object exports, what it needs, and its .modinfo strings. Everything is reported as found; where
 * modpost ignores or rewrites something, the comments say so and the caller decides.
 */
import { closeSync, openSync } from 'node:fs';
import { cString, ElfFile, ET_REL, fileSource, SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_FILE, STT_SECTION } from './elf';
import type { ElfSection, SymbolTable } from './elf';

export interface ObjectExport {
  symbol: string;
  /** "GPL" for EXPORT_SYMBOL_GPL and its _NS/_FOR_MODULES forms, "" for EXPORT_SYMBOL. */
  license: 'GPL' | '';
  /** "" when the export has none; EXPORT_SYMBOL_GPL_FOR_MODULES gives "module:<mods>". */
  namespace: string;
}

export interface ModinfoEntry {
  /** Built-in code's tags carry the module name (`ext4.license`): __MODULE_INFO_PREFIX is KBUILD_MODNAME "." unless MODULE. */
  tag: string;
  value: string;
}

export interface ObjectSymbols {
  file: string;
  /**
   * In modpost's order, the order of Module.symvers rows: for a .o, the `.export_symbol` entries
   * by offset (modpost walks .rela.export_symbol, whose relocations are in offset order); for a
   * .ko, where module.lds.S discards `.export_symbol`, the __ksymtab/__ksymtab_gpl entries that
   * modpost generated into the .mod.c, in its symbol table order (the sections are sorted by name).
   */
  exports: ObjectExport[];
  /**
   * Undefined global and weak symbols, sorted (byte order) and deduplicated. modpost's
   * handle_symbol takes the same set and then ignores `__this_module` (the .mod.c defines it) and
   * `_GLOBAL_OFFSET_TABLE_` (plus PPC/SPARC register helpers), and with CONFIG_MODVERSIONS adds
   * `module_layout`; none of that is applied here.
   */
  undefined: string[];
  /** The subset of `undefined` bound weak: modpost records them as weak, so no "undefined!" error if unresolved. */
  weakUndefined: string[];
  /** Defined (including SHN_ABS and SHN_COMMON) global and weak symbols, sorted and deduplicated. */
  defined: string[];
  /** The `.modinfo` tag=value strings in section order, zero padding skipped (as next_string does). */
  modinfo: ModinfoEntry[];
  /**
   * symbol → CRC ("0x%08x") from the `__crc_<sym>` entries of a .ko's __kcrctab sections
   * (CONFIG_MODVERSIONS). A .o has none: 6.12 records genksyms' CRCs in the .<obj>.cmd file
   * (`#SYMVER <sym> <crc>`), where modpost's extract_crcs_for_object reads them.
   */
  crcs: Map<string, string>;
}

const EXPORT_LABEL = Buffer.from('__export_symbol_');
const KSYMTAB_LABEL = Buffer.from('__ksymtab_');
const KSTRTABNS_LABEL = Buffer.from('__kstrtabns_');
const CRC_LABEL = Buffer.from('__crc_');

export function readObjectSymbols(file: string): ObjectSymbols {
  const fd = openSync(file, 'r');
  try {
    // Read piecewise: an object's symbol data is a few percent of it, the rest is mostly DWARF.
    return objectSymbols(new ElfFile(fileSource(fd), file));
  } finally {
    closeSync(fd);
  }
}

export function objectSymbols(elf: ElfFile): ObjectSymbols {
  // modpost: "modpost only works for relocatable objects"; .o and .ko are both ET_REL.
  if (elf.type !== ET_REL) throw new Error(`${elf.file}: not a relocatable object (e_type ${elf.type}); kernel .o and .ko files are ET_REL`);
  const syms = elf.symbols();
  if (!syms) throw new Error(`${elf.file}: has no symbol table`);
  const undef: string[] = [];
  const weakUndef: string[] = [];
  const defined: string[] = [];
  for (let i = 1; i < syms.count; i++) {
    const bind = syms.bind(i);
    // handle_symbol: only global and weak symbols are references or definitions; locals are the object's own.
    if (bind !== STB_GLOBAL && bind !== STB_WEAK) continue;
    const type = syms.type(i);
    if (type === STT_SECTION || type === STT_FILE) continue;
    const name = syms.name(i);
    if (name === '') continue;
    if (syms.section(i) === SHN_UNDEF) {
      undef.push(name);
      if (bind === STB_WEAK) weakUndef.push(name);
    } else defined.push(name);
  }
  return {
    file: elf.file,
    exports: [...exportSymbolEntries(elf, syms), ...ksymtabEntries(elf, syms)],
    undefined: sortedUnique(undef),
    weakUndefined: sortedUnique(weakUndef),
    defined: sortedUnique(defined),
    modinfo: modinfo(elf),
    crcs: kcrctab(elf, syms),
  };
}

/** Section index → section, for the sections with one of `names`. */
function sectionsNamed(elf: ElfFile, names: readonly string[]): Map<number, ElfSection> {
  const m = new Map<number, ElfSection>();
  for (const s of elf.sections) if (names.includes(s.name)) m.set(s.index, s);
  return m;
}

/**
 * `___EXPORT_SYMBOL` (include/linux/export.h) emits, in section ".export_symbol":
 *   __export_symbol_<sym>: .asciz license; .ascii ns "\0"; .balign 8; .quad <sym>
 * modpost finds each entry from its relocation, takes the nearest label before it, and reads the
 * license and then the namespace at the label (check_export_symbol). It reports a license other
 * than "GPL" or "" as an error; so does this, since no export can carry one.
 */
function exportSymbolEntries(elf: ElfFile, syms: SymbolTable): ObjectExport[] {
  const secs = sectionsNamed(elf, ['.export_symbol']);
  if (secs.size === 0) return [];
  const found: { at: number; e: ObjectExport }[] = [];
  for (let i = 1; i < syms.count; i++) {
    const sec = secs.get(syms.section(i));
    if (!sec || !syms.nameStartsWith(i, EXPORT_LABEL)) continue;
    const symbol = syms.nameFrom(i, EXPORT_LABEL.length);
    const at = syms.value(i);
    const data = elf.sectionData(sec);
    const [license, namespace] = twoStrings(data, at, `${elf.file}: .export_symbol entry of '${symbol}'`);
    if (license !== 'GPL' && license !== '') throw new Error(`${elf.file}: unknown license '${license}' was specified for '${symbol}'`);
    // Several .export_symbol sections would each start at 0: order by section, then offset.
    found.push({ at: sec.index * 2 ** 32 + at, e: { symbol, license, namespace } });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.e);
}

/**
 * In a .ko, modpost's .mod.c (KSYMTAB_FUNC/KSYMTAB_DATA, include/linux/export-internal.h) gave
 * each export a `__ksymtab_<sym>` entry in __ksymtab (EXPORT_SYMBOL) or __ksymtab_gpl, and
 * `__kstrtab_<sym>` / `__kstrtabns_<sym>` strings (name, namespace) in __ksymtab_strings.
 */
function ksymtabEntries(elf: ElfFile, syms: SymbolTable): ObjectExport[] {
  const tabs = sectionsNamed(elf, ['__ksymtab', '__ksymtab_gpl']);
  const strings = elf.section('__ksymtab_strings');
  if (tabs.size === 0 || !strings) return [];
  const nsAt = new Map<string, number>();
  for (let i = 1; i < syms.count; i++) {
    if (syms.section(i) === strings.index && syms.nameStartsWith(i, KSTRTABNS_LABEL)) nsAt.set(syms.nameFrom(i, KSTRTABNS_LABEL.length), syms.value(i));
  }
  const data = elf.sectionData(strings);
  const out: ObjectExport[] = [];
  for (let i = 1; i < syms.count; i++) {
    const tab = tabs.get(syms.section(i));
    if (!tab || !syms.nameStartsWith(i, KSYMTAB_LABEL)) continue;
    const symbol = syms.nameFrom(i, KSYMTAB_LABEL.length);
    const at = nsAt.get(symbol);
    if (at === undefined || at >= data.length) throw new Error(`${elf.file}: no __kstrtabns_${symbol} string for __ksymtab_${symbol}`);
    out.push({ symbol, license: tab.name === '__ksymtab_gpl' ? 'GPL' : '', namespace: cString(data, at) });
  }
  return out;
}

/** SYMBOL_CRC: `__crc_<sym>: .long <crc>` in ___kcrctab[_gpl]+<sym>, linked into __kcrctab[_gpl]. */
function kcrctab(elf: ElfFile, syms: SymbolTable): Map<string, string> {
  const crcs = new Map<string, string>();
  const tabs = sectionsNamed(elf, ['__kcrctab', '__kcrctab_gpl']);
  if (tabs.size === 0) return crcs;
  for (let i = 1; i < syms.count; i++) {
    const tab = tabs.get(syms.section(i));
    if (!tab || !syms.nameStartsWith(i, CRC_LABEL)) continue;
    const data = elf.sectionData(tab);
    const at = syms.value(i);
    if (at + 4 > data.length) throw new Error(`${elf.file}: __crc_ entry at ${at} is past the end of ${tab.name}`);
    crcs.set(syms.nameFrom(i, CRC_LABEL.length), `0x${data.readUInt32LE(at).toString(16).padStart(8, '0')}`);
  }
  return crcs;
}

/** The license string and, after its NUL, the namespace string: both must end inside the section. */
function twoStrings(data: Buffer, at: number, what: string): [string, string] {
  const end1 = at < data.length ? data.indexOf(0, at) : -1;
  const end2 = end1 < 0 ? -1 : data.indexOf(0, end1 + 1);
  if (end2 < 0) throw new Error(`${what} at offset ${at} does not hold two NUL-terminated strings`);
  return [data.toString('latin1', at, end1), data.toString('latin1', end1 + 1, end2)];
}

/**
 * `.modinfo` is a run of NUL-terminated "tag=value" strings with zero padding between them
 * (__aligned(1) in 6.12, but older objects align them). A string without "=" is kept with an empty
 * value. Values are UTF-8 (authors' names, descriptions); modpost compares them as bytes.
 */
function modinfo(elf: ElfFile): ModinfoEntry[] {
  const out: ModinfoEntry[] = [];
  // parse_elf keeps the last section called .modinfo; there is only ever one.
  let sec: ElfSection | undefined;
  for (const s of elf.sections) if (s.name === '.modinfo') sec = s;
  if (!sec) return out;
  const data = elf.sectionData(sec);
  for (let p = 0; p < data.length; ) {
    if (data[p] === 0) {
      p++;
      continue;
    }
    let end = data.indexOf(0, p);
    if (end < 0) end = data.length;
    const eq = data.indexOf(0x3d /* = */, p);
    if (eq >= 0 && eq < end) out.push({ tag: data.toString('utf8', p, eq), value: data.toString('utf8', eq + 1, end) });
    else out.push({ tag: data.toString('utf8', p, end), value: '' });
    p = end + 1;
  }
  return out;
}

function sortedUnique(names: string[]): string[] {
  // Default sort compares UTF-16 code units; names are latin1-decoded bytes, so this is byte order.
  names.sort();
  let n = 0;
  for (let i = 0; i < names.length; i++) if (i === 0 || names[i] !== names[n - 1]) names[n++] = names[i];
  names.length = n;
  return names;
}
