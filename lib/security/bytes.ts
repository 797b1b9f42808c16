/**
 * Small byte helpers for the security layer. None allocates except `concatBytes`.
 */

/**
 * True when a[aOffset..aOffset+n) equals b[bOffset..bOffset+n). Reads every one of the n
 * bytes of both arrays whatever they hold (no early exit), so the time taken does not
 * tell an attacker how many leading bytes of a forged tag were right. Ranges outside
 * either array compare unequal (after the same n reads, out-of-range reads yield 0).
 */
export function constantTimeEqual(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, n: number): boolean {
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= ((a[aOffset + i] ?? 0x100) ^ (b[bOffset + i] ?? 0x200)) | 0;
  const inRange = aOffset >= 0 && bOffset >= 0 && aOffset + n <= a.length && bOffset + n <= b.length;
  return diff === 0 && inRange;
}

/** Writes `value` (u32) big-endian at out[offset..offset+4). */
export function writeU32BE(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

/** Reads a big-endian u32 at bytes[offset..offset+4); the caller has checked the length. */
export function readU32BE(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] as number) << 24) |
      ((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number)) >>>
    0
  );
}

/** True for an integer in [0, 2^32). */
export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** The concatenation of `parts` in a new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Bytes of an ASCII constant (domain-separation labels); throws on non-ASCII. */
export function asciiBytes(label: string): Uint8Array {
  const out = new Uint8Array(label.length);
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`asciiBytes: non-ASCII label ${JSON.stringify(label)}`);
    out[i] = c;
  }
  return out;
}
