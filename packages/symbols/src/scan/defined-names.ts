/**
 * The names a header #defines anywhere, for headers too large to follow (GPU register maps: amdgpu
 * skips 181 of them, 460 MB with 3.9 million #defines). Each name is kept as a 64-bit fingerprint
 * of its characters in an open-addressing table, not as a string in a Set: slicing and hashing
 * millions of names was a quarter of amdgpu's scan, and the sets hundreds of megabytes. Two names
 * share a fingerprint with a probability of about 2^-63 per pair: for 4 million names and the
 * few thousand asked for, about 10^-9 that one answer is wrong.
 */

/** Two independent 32-bit hashes of a name's char codes (FNV-1a, and a multiply-xorshift). */
const H1 = 0x811c9dc5 | 0;
const H2 = 0x2545f491 | 0;
const step1 = (h: number, c: number) => Math.imul(h ^ c, 16777619);
const step2 = (h: number, c: number) => {
  const x = Math.imul(h + c, 0x5bd1e995);
  return x ^ (x >>> 15);
};

const isBlank = (c: number) => c === 32 || c === 9;
const isLineEnd = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const isWord = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;

export class DefinedNames {
  /**
   * Fingerprints in pairs of slots (2k: low half, always odd; 2k + 1: high half); a low half of 0
   * is an empty slot. One array: a probe touches one cache line, not two.
   */
  private slots: Int32Array;
  private count = 0;

  private constructor(capacity: number) {
    this.slots = new Int32Array(2 * capacity);
  }

  /**
   * The names of the lines `^[ \t]*#[ \t]*define[ \t]+(\w+)` (multiline) of `text`, found from
   * each "define" outwards.
   */
  static of(text: string): DefinedNames {
    // Sized for a #define every 64 characters (register maps have one every 60 to 100).
    let capacity = 1024;
    while (capacity * 32 < text.length) capacity *= 2;
    const out = new DefinedNames(capacity);
    for (let at = text.indexOf('define'); at >= 0; at = text.indexOf('define', at + 6)) {
      let i = at - 1;
      while (i >= 0 && isBlank(text.charCodeAt(i))) i--;
      if (i < 0 || text.charCodeAt(i) !== 35) continue;
      i--;
      while (i >= 0 && isBlank(text.charCodeAt(i))) i--;
      if (i >= 0 && !isLineEnd(text.charCodeAt(i))) continue;
      let j = at + 6;
      while (j < text.length && isBlank(text.charCodeAt(j))) j++;
      if (j === at + 6) continue;
      let h1 = H1;
      let h2 = H2;
      const start = j;
      for (; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (!isWord(c)) break;
        h1 = step1(h1, c);
        h2 = step2(h2, c);
      }
      if (j > start) out.add(h1 | 1, h2 ^ (j - start));
    }
    return out;
  }

  has(name: string): boolean {
    let h1 = H1;
    let h2 = H2;
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      h1 = step1(h1, c);
      h2 = step2(h2, c);
    }
    return this.find(h1 | 1, h2 ^ name.length) >= 0;
  }

  get size(): number {
    return this.count;
  }

  /** The slot pair holding (lo, hi), or -(1 + the empty pair where it would go). */
  private find(lo: number, hi: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let s = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; s = (s + 1) & mask) {
      const at = slots[2 * s];
      if (at === 0) return -1 - s;
      if (at === lo && slots[2 * s + 1] === hi) return s;
    }
  }

  private add(lo: number, hi: number): void {
    const s = this.find(lo, hi);
    if (s >= 0) return;
    this.slots[2 * (-1 - s)] = lo;
    this.slots[2 * (-1 - s) + 1] = hi;
    if (++this.count * 2 > this.slots.length >> 1) this.grow();
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.count = 0;
    for (let k = 0; k < old.length; k += 2) if (old[k] !== 0) this.add(old[k], old[k + 1]);
  }
}
