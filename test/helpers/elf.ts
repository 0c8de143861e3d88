import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The package's source, not its dist: the helper must not depend on a build having run first.
import { ElfFile } from '../../packages/symbols/src/objects/elf';

/**
 * Comparing kernel modules whose BTF comes from pahole 1.24 with -j (kbuild's PAHOLE_FLAGS):
 * the threaded encoder emits the same types in an order that varies from run to run, so even
 * two `make M=` runs can give different .BTF bytes. Every other section must be identical;
 * .BTF must hold the same types, compared with their IDs replaced by what they denote.
 */

interface Section {
  name: string;
  type: number;
  flags: bigint;
  size: number;
  data: Buffer;
}

export function elfSections(buf: Buffer): Section[] {
  const elf = ElfFile.fromBuffer(buf);
  return elf.sections.map((s) => ({ name: s.name, type: s.type, flags: BigInt(s.flags), size: s.size, data: elf.sectionData(s) }));
}

const KIND_TRAILER: Record<number, (vlen: number) => number> = {
  1: () => 4, // INT
  3: () => 12, // ARRAY
  4: (v) => 12 * v, // STRUCT
  5: (v) => 12 * v, // UNION
  6: (v) => 8 * v, // ENUM
  13: (v) => 8 * v, // FUNC_PROTO
  14: () => 4, // VAR
  15: (v) => 12 * v, // DATASEC
  17: () => 4, // DECL_TAG
  19: (v) => 12 * v, // ENUM64
};

/** Kinds whose size_or_type field is a type ID: PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DECL_TAG, TYPE_TAG. */
const REFERS = new Set([2, 8, 9, 10, 11, 12, 13, 14, 17, 18]);

export interface BtfBase {
  types: number;
  strings: Buffer;
}

/** What split BTF builds on: the base's type count and string section (vmlinux's .BTF). */
export function btfBase(btf: Buffer): BtfBase {
  const hdrLen = btf.readUInt32LE(4);
  const strOff = hdrLen + btf.readUInt32LE(16);
  return { types: btfTypeCount(btf), strings: btf.subarray(strOff, strOff + btf.readUInt32LE(20)) };
}

/** Number of types in a BTF blob. */
export function btfTypeCount(btf: Buffer): number {
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = hdrLen + btf.readUInt32LE(8);
  const typeLen = btf.readUInt32LE(12);
  let n = 0;
  for (let p = typeOff; p < typeOff + typeLen; n++) {
    const info = btf.readUInt32LE(p + 4);
    p += 12 + (KIND_TRAILER[(info >>> 24) & 0x1f]?.(info & 0xffff) ?? 0);
  }
  return n;
}

/** The module's own BTF types as canonical strings (split BTF: IDs above the base's are local). */
export function canonicalBtf(btf: Buffer, base: BtfBase): string[] {
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = hdrLen + btf.readUInt32LE(8);
  const typeLen = btf.readUInt32LE(12);
  const strOff = hdrLen + btf.readUInt32LE(16);
  // String offsets below the base's string section size are the base's strings.
  const str = (off: number) => {
    if (off < base.strings.length) return base.strings.toString('latin1', off, base.strings.indexOf(0, off));
    const at = strOff + off - base.strings.length;
    return btf.toString('latin1', at, btf.indexOf(0, at));
  };
  const types: { kind: number; name: string; vlen: number; kflag: number; sizeOrType: number; extra: number[] }[] = [];
  for (let p = typeOff; p < typeOff + typeLen; ) {
    const nameOff = btf.readUInt32LE(p);
    const info = btf.readUInt32LE(p + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const sizeOrType = btf.readUInt32LE(p + 8);
    const trailer = KIND_TRAILER[kind]?.(vlen) ?? 0;
    const extra: number[] = [];
    for (let q = p + 12; q < p + 12 + trailer; q += 4) extra.push(btf.readUInt32LE(q));
    types.push({ kind, name: str(nameOff), vlen, kflag: info >>> 31, sizeOrType, extra });
    p += 12 + trailer;
  }
  const firstLocal = base.types + 1;
  const memo = new Map<number, string>();
  const describe = (id: number, depth: number): string => {
    if (id === 0) return 'void';
    if (id < firstLocal) return `base#${id}`;
    const t = types[id - firstLocal];
    if (!t) return `?#${id}`;
    if (t.name && [4, 5, 6, 7, 8, 19].includes(t.kind) && depth > 0) return `${t.kind}:${t.name}`;
    if (depth > 40) return `${t.kind}:${t.name}:deep`;
    const cached = depth === 0 ? memo.get(id) : undefined;
    if (cached) return cached;
    const ref = (x: number) => describe(x, depth + 1);
    let s = `${t.kind}:${t.name}:${t.kflag}:${t.vlen}:`;
    if (REFERS.has(t.kind)) s += ref(t.sizeOrType);
    else s += String(t.sizeOrType);
    const e = t.extra;
    switch (t.kind) {
      case 3:
        s += `[${ref(e[0])},${ref(e[1])},${e[2]}]`;
        break;
      case 4:
      case 5:
        for (let i = 0; i < e.length; i += 3) s += `{${str(e[i])},${ref(e[i + 1])},${e[i + 2]}}`;
        break;
      case 13:
        for (let i = 0; i < e.length; i += 2) s += `(${str(e[i])},${ref(e[i + 1])})`;
        break;
      case 15:
        for (let i = 0; i < e.length; i += 3) s += `<${ref(e[i])},${e[i + 1]},${e[i + 2]}>`;
        break;
      case 6:
        for (let i = 0; i < e.length; i += 2) s += `{${str(e[i])}=${e[i + 1]}}`;
        break;
      default:
        s += e.join(',');
    }
    if (depth === 0) memo.set(id, s);
    return s;
  };
  return types.map((_, i) => describe(firstLocal + i, 0)).sort();
}

/** True when two .ko files are identical but for the order of their BTF types. */
export function sameModule(a: Buffer, b: Buffer, base: BtfBase): { same: boolean; why?: string } {
  if (a.equals(b)) return { same: true };
  const sa = elfSections(a);
  const sb = elfSections(b);
  if (sa.map((s) => s.name).join() !== sb.map((s) => s.name).join()) return { same: false, why: 'different sections' };
  for (let i = 0; i < sa.length; i++) {
    if (sa[i].name === '.BTF') {
      const ca = canonicalBtf(sa[i].data, base);
      const cb = canonicalBtf(sb[i].data, base);
      if (ca.join('\n') !== cb.join('\n')) return { same: false, why: '.BTF types differ' };
      continue;
    }
    if (sa[i].type !== sb[i].type || sa[i].flags !== sb[i].flags || !sa[i].data.equals(sb[i].data)) {
      return { same: false, why: `section ${sa[i].name} differs` };
    }
  }
  return { same: true };
}

/**
 * Under load, pahole 1.24's threaded encoder (`-j`, in kbuild's PAHOLE_FLAGS) also drops a type now
 * and then: two kbuild runs can give .BTF sections with different types (seen: 3,074 vs 3,075 types
 * for ext4.ko). What is reproducible is the module before BTF: this strips .BTF and encodes it again
 * single-threaded (otherwise kbuild's flags), then resolve_btfids, so that two modules linked from
 * the same bytes compare equal byte for byte.
 */
export function reencodeBtf(ko: Buffer, objtree: string, pahole: string[], resolveBtfids: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'nx-kbuild-btf-'));
  try {
    const f = join(dir, 'm.ko');
    writeFileSync(f, ko);
    const step = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
      const r = spawnSync(cmd, args, { cwd: objtree, env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    };
    step('objcopy', ['--remove-section', '.BTF', f]);
    step(pahole[0], [...pahole.slice(1).filter((a) => a !== '-j' && !a.startsWith('-j')), '--btf_base', 'vmlinux', f], { ...process.env, LLVM_OBJCOPY: 'objcopy' });
    step(resolveBtfids, ['-b', 'vmlinux', f]);
    return readFileSync(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sections two ELF files differ in, .BTF and .BTF_ids (pahole's and resolve_btfids') aside. */
export function differingSections(a: Buffer, b: Buffer): string[] {
  const sa = elfSections(a);
  const sb = elfSections(b);
  if (sa.map((s) => s.name).join() !== sb.map((s) => s.name).join()) return ['(section list)'];
  return sa.filter((s, i) => s.name !== '.BTF' && s.name !== '.BTF_ids' && (s.type !== sb[i].type || s.flags !== sb[i].flags || !s.data.equals(sb[i].data))).map((s) => s.name);
}
