/**
 * A running 32-bit FNV-1a hash over everything a run delivers and fires.
 *
 * Two runs with the same seed and the same endpoints must produce the same hash; a test
 * compares one number instead of storing and diffing whole traces.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class TraceHash {
  private h = FNV_OFFSET;

  get value(): number {
    return this.h >>> 0;
  }

  byte(b: number): void {
    this.h = Math.imul(this.h ^ (b & 0xff), FNV_PRIME);
  }

  /** Hashes a non-negative number's integer part and, separately, a fraction if any, little-endian. */
  number(n: number): void {
    let int = Math.floor(n);
    for (let i = 0; i < 7; i++) {
      this.byte(int % 256);
      int = Math.floor(int / 256);
    }
    const frac = n - Math.floor(n);
    if (frac !== 0) this.number(Math.floor(frac * 2 ** 32));
  }

  string(s: string): void {
    this.number(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.byte(c);
      this.byte(c >> 8);
    }
  }

  bytes(b: Uint8Array): void {
    this.number(b.length);
    for (let i = 0; i < b.length; i++) this.byte(b[i] as number);
  }
}
