/**
 * SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012), written
 * from the paper with 32-bit arithmetic: every 64-bit word of the state is a (hi, lo) pair
 * of int32 locals, so there is no BigInt and no allocation per call. This is the relay's
 * per-hop MAC (issue 6, point 2), so it sits on the hot path; the output bytes are fixed by
 * PROTOCOL.md section 6 and test/vectors/security.json, and every change here keeps them.
 *
 * Conventions from the paper: the key k = k0 || k1 and the message words m_i are read
 * little-endian; the last word carries the remaining 0..7 bytes and, in its top byte, the
 * message length mod 256; the 64-bit result v0 ^ v1 ^ v2 ^ v3 is written little-endian
 * (the byte order of the paper's test vectors).
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { WASM_MAX_MESSAGE_BYTES, wasmSipHash } from "./siphash-wasm.ts";

/** A 16-byte SipHash key split once into its four little-endian u32 words. */
export interface SipKey {
  /** Low and high 32 bits of k0 (key bytes 0..7). */
  readonly k0lo: number;
  readonly k0hi: number;
  /** Low and high 32 bits of k1 (key bytes 8..15). */
  readonly k1lo: number;
  readonly k1hi: number;
}

export const SIP_KEY_BYTES = 16;
export const SIP_TAG_BYTES = 8;

function le32(b: Uint8Array, p: number): number {
  return (
    (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)
  );
}

/** Splits a 16-byte key into a SipKey. Throws InvalidConfig for any other length. */
export function sipKeyFrom(bytes16: Uint8Array): SipKey {
  if (bytes16.length !== SIP_KEY_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `SipHash key must be ${SIP_KEY_BYTES} bytes, got ${bytes16.length}`);
  }
  return { k0lo: le32(bytes16, 0), k0hi: le32(bytes16, 4), k1lo: le32(bytes16, 8), k1hi: le32(bytes16, 12) };
}

/** True where typed arrays are little-endian (every platform relaygrid targets; checked, not assumed). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/**
 * Messages of at least this many 8-byte words, 4-byte aligned in their buffer, are read
 * through an Int32Array view (one load per half word instead of four byte loads and shifts).
 * Below it the view's allocation costs more than it saves (on Bun first).
 */
const VIEW_MIN_WORDS = 32;

/**
 * Writes the 8-byte SipHash-2-4 tag of data[start..end) to out[outOffset..outOffset+8),
 * reading the byte at absolute index `skipIndex` as 0 (the relay's hop byte changes at
 * every hop, so it must not be covered; pass -1 to cover every byte). Allocates nothing
 * (but one typed-array view for a long aligned message).
 * Throws RangeError when the ranges do not fit their arrays (a caller mistake).
 *
 * Where the runtime has WebAssembly the message goes to siphash-wasm.ts (native 64-bit
 * arithmetic, 2-3x faster on long messages); otherwise, and for short ones, to
 * sipHash24IntoJs below, the same function in int32 halves.
 *
 * The JavaScript version, on the hot path of runtimes without WebAssembly: the full message
 * words go through one tight loop (c = 2 rounds each); the last word and the finalization
 * (d = 4) follow. A 64-bit add carries the top bit of
 * (a & b) | ((a | b) & ~sum) out of the low half: int32 arithmetic only, and no
 * data-dependent branch (a carry test as a branch, or as (sum >>> 0) < (a >>> 0), measured
 * 2-3x slower on varied input, from misprediction; a benchmark that hashes the same bytes
 * every time hides it, because the predictor learns them).
 */
export function sipHash24Into(
  key: SipKey,
  data: Uint8Array,
  start: number,
  end: number,
  skipIndex: number,
  out: Uint8Array,
  outOffset: number,
): void {
  if (!(start >= 0 && start <= end && end <= data.length && outOffset >= 0 && outOffset + 8 <= out.length)) {
    throw new RangeError(
      `sipHash24Into: range [${start}, ${end}) of ${data.length} bytes or output offset ${outOffset} of ${out.length} bytes is invalid`,
    );
  }
  const len = end - start;
  if (wasm !== null && len >= WASM_MIN_BYTES && len <= WASM_MAX_MESSAGE_BYTES) wasm(key, data, start, end, skipIndex, out, outOffset);
  else sipHash24IntoJs(key, data, start, end, skipIndex, out, outOffset);
}

/** Which implementation sipHash24Into uses for a message of WASM_MIN_BYTES or more: the same output either way. */
export function sipHashBackend(): "wasm" | "js" {
  return wasm === null ? "js" : "wasm";
}

/** Below this many bytes JavaScript is as fast as the copy into WebAssembly memory (cookies, ticket keys). */
const WASM_MIN_BYTES = 48;
let wasm = wasmSipHash;

/** For tests: hash with JavaScript only (false) or WebAssembly where available (true, the default). */
export function useWasmSipHash(on: boolean): void {
  wasm = on ? wasmSipHash : null;
}

/** sipHash24Into in JavaScript alone, for runtimes without WebAssembly (and to check the two agree). Same contract; ranges are not checked. */
export function sipHash24IntoJs(
  key: SipKey,
  data: Uint8Array,
  start: number,
  end: number,
  skipIndex: number,
  out: Uint8Array,
  outOffset: number,
): void {
  // Initialization (paper section 2.1): v0..v3 = k xor "somepseudorandomlygeneratedbytes".
  let v0h = key.k0hi ^ 0x736f6d65;
  let v0l = key.k0lo ^ 0x70736575;
  let v1h = key.k1hi ^ 0x646f7261;
  let v1l = key.k1lo ^ 0x6e646f6d;
  let v2h = key.k0hi ^ 0x6c796765;
  let v2l = key.k0lo ^ 0x6e657261;
  let v3h = key.k1hi ^ 0x74656462;
  let v3l = key.k1lo ^ 0x79746573;

  const len = end - start;
  const words = len >>> 3; // complete 8-byte words
  const at = data.byteOffset + start;
  const view = LITTLE_ENDIAN && words >= VIEW_MIN_WORDS && (at & 3) === 0 ? new Int32Array(data.buffer, at, words * 2) : null;
  // The word holding the skipped byte, and the mask that zeroes it there.
  const skipWord = skipIndex >= start && skipIndex < start + words * 8 ? (skipIndex - start) >>> 3 : -1;
  const skipShift = ((skipIndex - start) & 3) << 3;
  const skipHigh = ((skipIndex - start) & 4) !== 0;
  let t = 0;
  let h = 0;
  let ml = 0;
  let mh = 0;
  for (let i = 0; i < words; i++) {
    if (view !== null) {
      ml = view[2 * i] as number;
      mh = view[2 * i + 1] as number;
    } else {
      const p = start + 8 * i;
      ml = le32(data, p);
      mh = le32(data, p + 4);
    }
    if (i === skipWord) {
      if (skipHigh) mh &= ~(0xff << skipShift);
      else ml &= ~(0xff << skipShift);
    }
    v3h ^= mh;
    v3l ^= ml;
    // SipRound (paper figure 2.1), c = 2 times.
    for (let r = 0; r < 2; r++) {
      t = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~t)) >>> 31)) | 0; v0l = t;
      t = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~t)) >>> 31)) | 0; v2l = t;
      h = (v1h << 13) | (v1l >>> 19); v1l = (v1l << 13) | (v1h >>> 19); v1h = h; // v1 <<<= 13
      h = (v3h << 16) | (v3l >>> 16); v3l = (v3l << 16) | (v3h >>> 16); v3h = h; // v3 <<<= 16
      v1h ^= v0h; v1l ^= v0l; v3h ^= v2h; v3l ^= v2l;
      h = v0h; v0h = v0l; v0l = h; // v0 <<<= 32
      t = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~t)) >>> 31)) | 0; v2l = t;
      t = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~t)) >>> 31)) | 0; v0l = t;
      h = (v1h << 17) | (v1l >>> 15); v1l = (v1l << 17) | (v1h >>> 15); v1h = h; // v1 <<<= 17
      h = (v3h << 21) | (v3l >>> 11); v3l = (v3l << 21) | (v3h >>> 11); v3h = h; // v3 <<<= 21
      v1h ^= v2h; v1l ^= v2l; v3h ^= v0h; v3l ^= v0l;
      h = v2h; v2h = v2l; v2l = h; // v2 <<<= 32
    }
    v0h ^= mh;
    v0l ^= ml;
  }

  // The last word: the remaining len mod 8 bytes, then the length mod 256 in the top byte.
  const p = start + words * 8;
  ml = 0;
  mh = (len & 0xff) << 24;
  for (let i = p; i < end; i++) {
    const b = i === skipIndex ? 0 : (data[i] as number);
    const shift = (i - p) << 3;
    if (shift < 32) ml |= b << shift;
    else mh |= b << (shift - 32);
  }
  // Pass 0 compresses the last word (2 rounds); pass 1 is the finalization (v2 ^= 0xff, 4 rounds).
  for (let pass = 0; pass < 2; pass++) {
    let rounds = 2;
    if (pass === 0) {
      v3h ^= mh;
      v3l ^= ml;
    } else {
      v2l ^= 0xff;
      rounds = 4;
    }
    for (let r = 0; r < rounds; r++) {
      t = (v0l + v1l) | 0; v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~t)) >>> 31)) | 0; v0l = t;
      t = (v2l + v3l) | 0; v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~t)) >>> 31)) | 0; v2l = t;
      h = (v1h << 13) | (v1l >>> 19); v1l = (v1l << 13) | (v1h >>> 19); v1h = h;
      h = (v3h << 16) | (v3l >>> 16); v3l = (v3l << 16) | (v3h >>> 16); v3h = h;
      v1h ^= v0h; v1l ^= v0l; v3h ^= v2h; v3l ^= v2l;
      h = v0h; v0h = v0l; v0l = h;
      t = (v2l + v1l) | 0; v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~t)) >>> 31)) | 0; v2l = t;
      t = (v0l + v3l) | 0; v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~t)) >>> 31)) | 0; v0l = t;
      h = (v1h << 17) | (v1l >>> 15); v1l = (v1l << 17) | (v1h >>> 15); v1h = h;
      h = (v3h << 21) | (v3l >>> 11); v3l = (v3l << 21) | (v3h >>> 11); v3h = h;
      v1h ^= v2h; v1l ^= v2l; v3h ^= v0h; v3l ^= v0l;
      h = v2h; v2h = v2l; v2l = h;
    }
    if (pass === 0) {
      v0h ^= mh;
      v0l ^= ml;
    }
  }
  const lo = v0l ^ v1l ^ v2l ^ v3l;
  const hi = v0h ^ v1h ^ v2h ^ v3h;
  out[outOffset] = lo & 0xff;
  out[outOffset + 1] = (lo >>> 8) & 0xff;
  out[outOffset + 2] = (lo >>> 16) & 0xff;
  out[outOffset + 3] = lo >>> 24;
  out[outOffset + 4] = hi & 0xff;
  out[outOffset + 5] = (hi >>> 8) & 0xff;
  out[outOffset + 6] = (hi >>> 16) & 0xff;
  out[outOffset + 7] = hi >>> 24;
}

/** The 8-byte SipHash-2-4 tag of all of `bytes`, in a new array (convenience; allocates). */
export function sipHash24(key: SipKey, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIP_TAG_BYTES);
  sipHash24Into(key, bytes, 0, bytes.length, -1, out, 0);
  return out;
}
