/**
 * A compact binary form of an object graph (plain objects, registered class instances, arrays,
 * Maps; strings, integers, doubles, booleans, null, undefined), with shared references and cycles
 * kept. Used to keep the parsed Kconfig tree between runs: JSON cannot hold its cycles and shared
 * expressions, and v8.serialize recurses (the menu lists overflow its stack) and decodes slower
 * than parsing the Kconfig files again.
 *
 * Decoding is two passes: every object is created first with its final shape (one factory per
 * shape, so objects of a shape share a hidden class as if built by the parser), then fields are
 * filled, which resolves forward references and cycles.
 */

/** Thrown for a value the codec does not represent (a function, a BigInt, an unregistered class). */
export class UnsupportedValue extends Error {}

const MAGIC = 0x53584b4e; // "NKXS"
const VERSION = 1;

type ShapeKind = 'object' | 'array' | 'map';
interface Shape {
  kind: ShapeKind;
  /** Registered class name (object shapes of class instances). */
  cls?: string;
  keys?: string[];
}

/** Tags in the low two bits of an encoded value. */
const enum Tag {
  Int = 0,
  Ref = 1,
  Str = 2,
  Special = 3,
}
const enum Special {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  /** Codes from here on index the doubles table. */
  FirstDouble = 4,
}
const SMALL = 1 << 29;

export type ClassRegistry = Record<string, { prototype: object }>;

export function encodeGraph(root: object, classes: ClassRegistry, meta: unknown): Buffer {
  const classOf = new Map<object, string>(Object.entries(classes).map(([name, c]) => [c.prototype, name]));
  const shapes: Shape[] = [{ kind: 'array' }, { kind: 'map' }];
  const shapeIds = new Map<string, number>();
  const ids = new Map<object, number>();
  const queue: object[] = [];
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const doubles: string[] = [];
  const values: number[] = [];

  const ref = (o: object): number => {
    let id = ids.get(o);
    if (id === undefined) {
      id = queue.length;
      ids.set(o, id);
      queue.push(o);
    }
    return id;
  };
  const encode = (v: unknown): number => {
    switch (typeof v) {
      case 'undefined':
        return (Special.Undefined << 2) | Tag.Special;
      case 'boolean':
        return ((v ? Special.True : Special.False) << 2) | Tag.Special;
      case 'number':
        if (Number.isInteger(v) && v > -SMALL && v < SMALL && !Object.is(v, -0)) return (v << 2) | Tag.Int;
        // As text: String() round-trips every double; JSON would turn NaN and Infinity into null.
        doubles.push(Object.is(v, -0) ? '-0' : String(v));
        return ((Special.FirstDouble + doubles.length - 1) << 2) | Tag.Special;
      case 'string': {
        let id = stringIds.get(v);
        if (id === undefined) {
          id = strings.length;
          strings.push(v);
          stringIds.set(v, id);
        }
        return (id << 2) | Tag.Str;
      }
      case 'object':
        return v === null ? (Special.Null << 2) | Tag.Special : (ref(v) << 2) | Tag.Ref;
      default:
        throw new UnsupportedValue(`cannot encode a ${typeof v}`);
    }
  };
  /** The last shape seen per prototype: objects built by one constructor mostly share their keys. */
  const lastShape = new Map<object | null, number>();
  const sameKeys = (a: string[], b: string[]) => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  const shapeOf = (o: object): number => {
    const proto = Object.getPrototypeOf(o) as object | null;
    const keys = Object.keys(o);
    const last = lastShape.get(proto);
    if (last !== undefined && sameKeys(shapes[last].keys!, keys)) return last;
    let cls: string | undefined;
    if (proto !== Object.prototype) {
      cls = proto === null ? undefined : classOf.get(proto);
      if (cls === undefined) throw new UnsupportedValue(`cannot encode an instance of ${(proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'null'}`);
    }
    const key = `${cls ?? ''}\0${keys.join('\0')}`;
    let id = shapeIds.get(key);
    if (id === undefined) {
      id = shapes.length;
      shapes.push({ kind: 'object', cls, keys });
      shapeIds.set(key, id);
    }
    lastShape.set(proto, id);
    return id;
  };

  ref(root);
  for (let i = 0; i < queue.length; i++) {
    const o = queue[i];
    if (Array.isArray(o)) {
      values.push(0, o.length);
      for (let k = 0; k < o.length; k++) values.push(encode(o[k]));
    } else if (o instanceof Map) {
      values.push(1, o.size);
      for (const [k, v] of o) values.push(encode(k), encode(v));
    } else {
      const shape = shapeOf(o);
      values.push(shape);
      const rec = o as Record<string, unknown>;
      for (const k of shapes[shape].keys!) values.push(encode(rec[k]));
    }
  }

  const text = Buffer.from(strings.join(''), 'utf8');
  const header = Buffer.from(
    JSON.stringify({ version: VERSION, meta, shapes, objects: queue.length, values: values.length, strings: strings.length, textBytes: text.length, doubles }),
    'utf8',
  );
  const headerPadded = (header.length + 3) & ~3;
  const out = Buffer.alloc(8 + headerPadded + 4 * values.length + 4 * strings.length + text.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(header.length, 4);
  header.copy(out, 8);
  let at = 8 + headerPadded;
  const ints = new Int32Array(out.buffer, out.byteOffset + at, values.length + strings.length);
  ints.set(values);
  for (let i = 0; i < strings.length; i++) ints[values.length + i] = strings[i].length;
  at += 4 * (values.length + strings.length);
  text.copy(out, at);
  return out;
}

interface Header {
  version: number;
  meta: unknown;
  shapes: Shape[];
  objects: number;
  values: number;
  strings: number;
  textBytes: number;
  doubles: string[];
}

function readHeader(buf: Buffer): Header | undefined {
  if (buf.length < 8 || buf.readUInt32LE(0) !== MAGIC) return undefined;
  const len = buf.readUInt32LE(4);
  if (8 + len > buf.length) return undefined;
  const h = JSON.parse(buf.toString('utf8', 8, 8 + len)) as Header;
  return h.version === VERSION ? h : undefined;
}

/** The metadata stored with a graph, without decoding the graph (undefined: not a graph file). */
export function graphMeta(buf: Buffer): unknown {
  return readHeader(buf)?.meta;
}

type Decode = (x: number) => unknown;
type Fill = (o: Record<string, unknown>, v: Int32Array, at: number, d: Decode) => void;

/** Generated per shape: straight-line code gives each shape one hidden class and monomorphic stores. */
function factories(shape: Shape, classes: ClassRegistry): { create: () => object; fill: Fill } {
  const keys = shape.keys!.map((k) => JSON.stringify(k));
  const fill = new Function('o', 'v', 'at', 'd', keys.map((k, i) => `o[${k}] = d(v[at + ${i}]);`).join('\n')) as Fill;
  if (shape.cls === undefined) {
    return { create: new Function(`return () => ({${keys.map((k) => `${k}: undefined`).join(', ')}});`)() as () => object, fill };
  }
  const cls = classes[shape.cls];
  if (!cls) throw new UnsupportedValue(`class ${shape.cls} is not registered`);
  const init = new Function('p', `return () => { const o = Object.create(p); ${keys.map((k) => `o[${k}] = undefined;`).join(' ')} return o; };`);
  return { create: init(cls.prototype) as () => object, fill };
}

/** Decodes a graph written by encodeGraph (undefined: not such a file, or another version). */
export function decodeGraph<T>(buf: Buffer, classes: ClassRegistry): { root: T; meta: unknown } | undefined {
  const h = readHeader(buf);
  if (!h) return undefined;
  const start = 8 + ((buf.readUInt32LE(4) + 3) & ~3);
  // Copy into an aligned buffer when the file's bytes are not 4-aligned in memory.
  const aligned = (buf.byteOffset + start) % 4 === 0 ? buf : Buffer.from(buf);
  const base = aligned === buf ? buf.byteOffset + start : aligned.byteOffset + start;
  const v = new Int32Array(aligned.buffer, base, h.values);
  const lengths = new Int32Array(aligned.buffer, base + 4 * h.values, h.strings);
  const textStart = start + 4 * (h.values + h.strings);
  const text = buf.toString('utf8', textStart, textStart + h.textBytes);
  const strings: string[] = new Array<string>(h.strings);
  for (let i = 0, at = 0; i < h.strings; i++) {
    strings[i] = text.slice(at, at + lengths[i]);
    at += lengths[i];
  }

  const made = h.shapes.map((s) => (s.kind === 'object' ? factories(s, classes) : undefined));
  const objects: unknown[] = new Array<unknown>(h.objects);
  const offsets = new Int32Array(h.objects);
  for (let i = 0, at = 0; i < h.objects; i++) {
    offsets[i] = at;
    const shape = v[at];
    if (shape === 0) {
      objects[i] = [];
      at += 2 + v[at + 1];
    } else if (shape === 1) {
      objects[i] = new Map();
      at += 2 + 2 * v[at + 1];
    } else {
      objects[i] = made[shape]!.create();
      at += 1 + h.shapes[shape].keys!.length;
    }
  }
  const doubles = h.doubles;
  const d: Decode = (x) => {
    switch (x & 3) {
      case Tag.Int:
        return x >> 2;
      case Tag.Ref:
        return objects[x >>> 2];
      case Tag.Str:
        return strings[x >>> 2];
      default: {
        const code = x >>> 2;
        return code === Special.Undefined ? undefined : code === Special.Null ? null : code === Special.False ? false : code === Special.True ? true : Number(doubles[code - Special.FirstDouble]);
      }
    }
  };
  for (let i = 0; i < h.objects; i++) {
    const at = offsets[i];
    const shape = v[at];
    if (shape === 0) {
      const a = objects[i] as unknown[];
      for (let k = 0, n = v[at + 1]; k < n; k++) a.push(d(v[at + 2 + k]));
    } else if (shape === 1) {
      const m = objects[i] as Map<unknown, unknown>;
      for (let k = 0, n = v[at + 1]; k < n; k++) m.set(d(v[at + 2 + 2 * k]), d(v[at + 3 + 2 * k]));
    } else {
      made[shape]!.fill(objects[i] as Record<string, unknown>, v, at + 1, d);
    }
  }
  return { root: objects[0] as T, meta: h.meta };
}
