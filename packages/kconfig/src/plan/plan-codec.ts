import { planTables, TABLE_NAMES, type EvalPlan, type PlanMeta } from './eval-plan';

/**
 * The plan's file: a JSON header (meta, table lengths), then every table's int32s, the strings'
 * lengths and the strings' UTF-8 text. Decoding makes views on the file's bytes and slices one
 * string per entry: no per-row work.
 */
const MAGIC = 0x4c504b4e; // "NKPL"
const VERSION = 1;

interface Header {
  version: number;
  meta: PlanMeta;
  lengths: number[];
  strings: number;
  textBytes: number;
}

export function encodePlan(plan: EvalPlan): Buffer {
  const text = Buffer.from(plan.strings.join(''), 'utf8');
  const header: Header = {
    version: VERSION,
    meta: plan.meta,
    lengths: TABLE_NAMES.map((n) => plan.tables[n].length),
    strings: plan.strings.length,
    textBytes: text.length,
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const start = 8 + ((head.length + 3) & ~3);
  const ints = header.lengths.reduce((a, b) => a + b, 0) + plan.strings.length;
  const out = Buffer.alloc(start + 4 * ints + text.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(head.length, 4);
  head.copy(out, 8);
  let at = start;
  for (const n of TABLE_NAMES) {
    const table = plan.tables[n];
    Buffer.from(table.buffer, table.byteOffset, table.byteLength).copy(out, at);
    at += table.byteLength;
  }
  // String lengths are in UTF-16 units: the text is sliced after one decode.
  for (const s of plan.strings) {
    out.writeInt32LE(s.length, at);
    at += 4;
  }
  text.copy(out, at);
  return out;
}

function readHeader(buf: Buffer): Header | undefined {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) return undefined;
  const len = buf.readUInt32LE(4);
  if (8 + len > buf.length) return undefined;
  try {
    const h = JSON.parse(buf.toString('utf8', 8, 8 + len)) as Header;
    return h.version === VERSION && h.lengths?.length === TABLE_NAMES.length ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The plan's metadata without decoding the tables (undefined: not a plan file of this version). */
export function planMeta(buf: Buffer): PlanMeta | undefined {
  return readHeader(buf)?.meta;
}

export function decodePlan(buf: Buffer): EvalPlan | undefined {
  const h = readHeader(buf);
  if (!h) return undefined;
  const start = 8 + ((buf.readUInt32LE(4) + 3) & ~3);
  const ints = h.lengths.reduce((a, b) => a + b, 0) + h.strings;
  if (start + 4 * ints + h.textBytes !== buf.length) return undefined;
  // Int32Array views need 4-aligned offsets: copy when the file's bytes are not.
  const aligned = (buf.byteOffset + start) % 4 === 0 ? buf : Buffer.from(buf);
  const offsets: number[] = [];
  let at = aligned.byteOffset + start;
  for (const length of h.lengths) {
    offsets.push(at);
    at += 4 * length;
  }
  const tables = planTables((n) => {
    const i = TABLE_NAMES.indexOf(n);
    return new Int32Array(aligned.buffer, offsets[i], h.lengths[i]);
  });
  const lengths = new Int32Array(aligned.buffer, at, h.strings);
  const textStart = start + 4 * ints;
  const text = buf.toString('utf8', textStart, textStart + h.textBytes);
  const strings = new Array<string>(h.strings);
  for (let i = 0, p = 0; i < h.strings; i++) {
    strings[i] = text.slice(p, p + lengths[i]);
    p += lengths[i];
  }
  return { meta: h.meta, strings, tables };
}
