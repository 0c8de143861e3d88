/**
 * Module.symvers rows for one module from its objects' exports, as modpost's write_dump()
 * (scripts/mod/modpost.c) prints them:
 *   "0x%08x\t%s\t%s\tEXPORT_SYMBOL%s\t%s\n", crc, symbol, module, is_gpl_only ? "_GPL" : "", namespace
 * formatSymvers (../symvers) prints rows in that layout.
 */
import type { SymversRow } from '../symvers';
import type { ObjectSymbols } from './object-symbols';

const NO_CRC = '0x00000000';

/**
 * `module` is modpost's module name: the object path without ".o"/".ko" (`fs/ext4/ext4`).
 * `objects` in link order: either the module's own object (`<module>.o`, what modpost reads, or
 * the .ko) or its component objects in the order of its .mod file, which `ld -r` concatenates in
 * that order, so the rows come out in the same order: modpost appends each export to the module's
 * list as it meets it, and write_dump prints the list as is.
 * A symbol's CRC is `crcs`' entry (e.g. from the objects' `#SYMVER <sym> <crc>` .cmd lines), else
 * the object's own (a .ko's __kcrctab), else 0, which is what modpost prints without
 * CONFIG_MODVERSIONS. Not modelled: CONFIG_TRIM_UNUSED_KSYMS, under which write_dump leaves out
 * exports no module uses, and vmlinux's exports, which come from vmlinux.o the same way.
 */
export function symversRows(module: string, objects: readonly ObjectSymbols[], crcs?: ReadonlyMap<string, string>): SymversRow[] {
  const rows: SymversRow[] = [];
  for (const o of objects) {
    for (const e of o.exports) {
      rows.push({
        crc: crcText(crcs?.get(e.symbol)) ?? crcText(o.crcs.get(e.symbol)) ?? NO_CRC,
        symbol: e.symbol,
        module,
        exportType: e.license === 'GPL' ? 'EXPORT_SYMBOL_GPL' : 'EXPORT_SYMBOL',
        namespace: e.namespace,
      });
    }
  }
  return rows;
}

/**
 * A CRC as write_dump prints it, "0x%08x". extract_crcs_for_object parses `#SYMVER` values with
 * strtoul(p, &p, 0) into an unsigned int and skips a value that does not start with a digit or
 * has anything after it; such a value gives undefined here, so the next source or 0 applies.
 */
export function crcText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let n: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(value)) n = BigInt(value);
  else if (/^0[0-7]*$/.test(value)) n = BigInt(`0o${value.slice(1) || '0'}`);
  else if (/^[1-9][0-9]*$/.test(value)) n = BigInt(value);
  else return undefined;
  return `0x${(n & 0xffffffffn).toString(16).padStart(8, '0')}`;
}
