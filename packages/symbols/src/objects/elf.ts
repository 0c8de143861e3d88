/**
 * A minimal ELF64 little-endian reader: section headers and the symbol table, which is all that
 * modpost (scripts/mod/modpost.c, parse_elf) reads from an object. A kernel tree has ~15k objects
 * and one with debug info is mostly DWARF (ext4.o: 20 MB, of which .symtab and .strtab are 270 kB),
 * so bytes come from a ByteSource that can read just the sections asked for, and symbols are read
 * in place by index: nothing is allocated per symbol unless its name is asked for.
 */
import { fstatSync, readSync } from 'node:fs';

/** Where an ElfFile's bytes come from. */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes at `offset`; the caller has checked the range against `size`. */
  read(offset: number, length: number): Buffer;
}

/** The whole file in memory: reads are views, no copies. */
export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (offset, length) => buf.subarray(offset, offset + length) };
}

/** An open file, read piecewise: only the ranges asked for are read (the caller closes `fd`). */
export function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new Error(`short read at offset ${offset + done}`);
        done += n;
      }
      return out;
    },
  };
}

export const ET_REL = 1;

/** Section types (sh_type) this package looks at. */
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;

/** Special section indexes (st_shndx). */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

/** Symbol bindings and types (st_info). */
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** File offset of the section's bytes (meaningless for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** One symbol as an object, for callers that want one; SymbolTable reads fields without it. */
export interface ElfSymbol {
  name: string;
  /** Section index, resolved through SHT_SYMTAB_SHNDX; SHN_UNDEF/SHN_ABS/SHN_COMMON as they are. */
  section: number;
  value: number;
  size: number;
  bind: number;
  type: number;
}

/**
 * 64-bit fields as numbers, from two 32-bit reads (a BigInt per field would allocate): exact below
 * 2^53, which holds for every offset, size and section-relative value in a file Node can read.
 */
function u64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * 0x1_0000_0000;
}

/** A NUL-terminated string at `at` (to the end of `buf` when unterminated). */
export function cString(buf: Buffer, at: number, encoding: BufferEncoding = 'latin1'): string {
  const end = buf.indexOf(0, at);
  return buf.toString(encoding, at, end < 0 ? buf.length : end);
}

export class ElfFile {
  readonly type: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  private readonly data = new Map<number, Buffer>();
  private symtab: SymbolTable | null | undefined;

  /** Reads the ELF header and section headers; throws an Error naming `file` if it is not ELF64 LE. */
  constructor(
    private readonly source: ByteSource,
    readonly file: string,
  ) {
    if (source.size < 4) throw new Error(`${file}: not an ELF file (${source.size} bytes)`);
    const ident = source.read(0, Math.min(EHDR_SIZE, source.size));
    if (ident.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file (no \\x7fELF magic)`);
    if (ident.length < EHDR_SIZE) throw new Error(`${file}: truncated ELF header (${source.size} bytes)`);
    if (ident[4] !== 2) throw new Error(`${file}: not a 64-bit ELF file (EI_CLASS ${ident[4]}; only ELF64 is read)`);
    if (ident[5] !== 1) throw new Error(`${file}: not a little-endian ELF file (EI_DATA ${ident[5]}; only little-endian is read)`);
    this.type = ident.readUInt16LE(0x10);
    this.machine = ident.readUInt16LE(0x12);
    const shoff = u64(ident, 0x28);
    const shentsize = ident.readUInt16LE(0x3a);
    let shnum = ident.readUInt16LE(0x3c);
    let shstrndx = ident.readUInt16LE(0x3e);
    if (shoff === 0) {
      this.sections = [];
      return;
    }
    if (shentsize !== SHDR_SIZE) throw new Error(`${file}: bad section header size ${shentsize}`);
    this.check(shoff, SHDR_SIZE, 'section header table');
    // More than 0xff00 sections: the count is in section 0's sh_size, the string table index in its sh_link.
    const first = source.read(shoff, SHDR_SIZE);
    if (shnum === 0) shnum = u64(first, 0x20);
    if (shstrndx === SHN_XINDEX) shstrndx = first.readUInt32LE(0x28);
    this.check(shoff, shnum * SHDR_SIZE, 'section header table');
    const table = source.read(shoff, shnum * SHDR_SIZE);
    const sections: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = i * SHDR_SIZE;
      const s: ElfSection = {
        index: i,
        name: '',
        type: table.readUInt32LE(o + 4),
        flags: u64(table, o + 8),
        offset: u64(table, o + 0x18),
        size: u64(table, o + 0x20),
        link: table.readUInt32LE(o + 0x28),
        info: table.readUInt32LE(o + 0x2c),
        entsize: u64(table, o + 0x38),
      };
      // SHT_NULL's sh_size is not a size (section 0 holds the count of sections when there are many).
      if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) this.check(s.offset, s.size, `section ${i}`);
      sections.push(s);
    }
    if (shstrndx >= shnum) throw new Error(`${file}: section name table index ${shstrndx} out of range`);
    const names = this.sectionData(sections[shstrndx]);
    for (const s of sections) {
      const nameOff = table.readUInt32LE(s.index * SHDR_SIZE);
      if (nameOff >= names.length && nameOff !== 0) throw new Error(`${file}: section ${s.index} name offset out of range`);
      s.name = cString(names, nameOff);
    }
    this.sections = sections;
  }

  static fromBuffer(buf: Buffer, file = '<buffer>'): ElfFile {
    return new ElfFile(bufferSource(buf), file);
  }

  /** The first section called `name` (modpost looks sections up by name, too). */
  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A section's bytes (empty for SHT_NOBITS), read once and kept. */
  sectionData(s: ElfSection): Buffer {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL || s.size === 0) return Buffer.alloc(0);
    let d = this.data.get(s.index);
    if (!d) this.data.set(s.index, (d = this.source.read(s.offset, s.size)));
    return d;
  }

  /** The .symtab (SHT_SYMTAB) table, or null when the object has none (a stripped file). */
  symbols(): SymbolTable | null {
    if (this.symtab !== undefined) return this.symtab;
    const sym = this.sections.find((s) => s.type === SHT_SYMTAB);
    if (!sym) return (this.symtab = null);
    if (sym.link >= this.sections.length) throw new Error(`${this.file}: symbol table's string table index ${sym.link} out of range`);
    const shndx = this.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === sym.index);
    return (this.symtab = new SymbolTable(
      this.sectionData(sym),
      this.sectionData(this.sections[sym.link]),
      shndx ? this.sectionData(shndx) : null,
      this.file,
    ));
  }

  private check(offset: number, length: number, what: string): void {
    if (offset + length > this.source.size) throw new Error(`${this.file}: truncated: ${what} ends at ${offset + length}, file has ${this.source.size} bytes`);
  }
}

/** The symbol table read in place: fields by index, names decoded only when asked for. */
export class SymbolTable {
  readonly count: number;

  constructor(
    private readonly table: Buffer,
    private readonly strtab: Buffer,
    private readonly shndx: Buffer | null,
    private readonly file: string,
  ) {
    this.count = Math.floor(table.length / SYM_SIZE);
  }

  private nameOffset(i: number): number {
    const off = this.table.readUInt32LE(i * SYM_SIZE);
    if (off >= this.strtab.length && off !== 0) throw new Error(`${this.file}: symbol ${i} name offset out of range`);
    return off;
  }

  /** The name as bytes taken one to one (latin1): kernel symbols are ASCII, and no byte is lost. */
  name(i: number): string {
    return cString(this.strtab, this.nameOffset(i));
  }

  /** Whether the name starts with `prefix`, compared as bytes without decoding the name. */
  nameStartsWith(i: number, prefix: Buffer): boolean {
    const off = this.nameOffset(i);
    const end = off + prefix.length;
    return end <= this.strtab.length && this.strtab.compare(prefix, 0, prefix.length, off, end) === 0;
  }

  /** The name with its first `skip` bytes dropped (after a nameStartsWith check). */
  nameFrom(i: number, skip: number): string {
    return cString(this.strtab, this.nameOffset(i) + skip);
  }

  bind(i: number): number {
    return this.table[i * SYM_SIZE + 4] >> 4;
  }

  type(i: number): number {
    return this.table[i * SYM_SIZE + 4] & 0xf;
  }

  /** Section index; SHN_XINDEX is resolved through the SHT_SYMTAB_SHNDX table as modpost's get_secindex does. */
  section(i: number): number {
    const raw = this.table.readUInt16LE(i * SYM_SIZE + 6);
    if (raw !== SHN_XINDEX) return raw;
    if (!this.shndx) throw new Error(`${this.file}: symbol ${i} has SHN_XINDEX but there is no SHT_SYMTAB_SHNDX section`);
    return this.shndx.readUInt32LE(i * 4);
  }

  /** st_value: in a relocatable object, the offset within the symbol's section. */
  value(i: number): number {
    return u64(this.table, i * SYM_SIZE + 8);
  }

  size(i: number): number {
    return u64(this.table, i * SYM_SIZE + 16);
  }

  symbol(i: number): ElfSymbol {
    return { name: this.name(i), section: this.section(i), value: this.value(i), size: this.size(i), bind: this.bind(i), type: this.type(i) };
  }
}
