/** Bits per expected key and probes per key: about 0.06% false positives at the expected count. */
const BITS_PER_KEY = 16;
const PROBES = 8;

/**
 * A Bloom filter over keys that are already uniform hashes, given as two 32-bit halves
 * (double hashing derives the probes). It answers "certainly absent" or "maybe present";
 * it never forgets a key, so after deletions it only errs further towards "maybe".
 */
export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  /** Sized for `expectedKeys`; more keys still work, with more false positives. */
  constructor(expectedKeys: number) {
    let size = 1024;
    while (size < expectedKeys * BITS_PER_KEY && size < 2 ** 31) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  add(hi: number, lo: number): void {
    const step = lo | 1;
    let x = hi;
    for (let i = 0; i < PROBES; i++) {
      const bit = x & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
      x = (x + step) >>> 0;
    }
  }

  mayContain(hi: number, lo: number): boolean {
    const step = lo | 1;
    let x = hi;
    for (let i = 0; i < PROBES; i++) {
      const bit = x & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      x = (x + step) >>> 0;
    }
    return true;
  }

  /** Memory the filter holds, in bytes. */
  get bytes(): number {
    return this.bits.byteLength;
  }
}
