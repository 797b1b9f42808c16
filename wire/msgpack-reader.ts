/**
 * The MessagePack reader behind decode() for every kind but Data (PROTOCOL.md 5.1 step 8).
 *
 * Written for untrusted datagrams, not borrowed from a general-purpose library, because
 * three rules of the protocol need to hold inside the reader itself:
 * - it never reads a byte outside [0, n) of the datagram, nor outside a field's own bytes
 *   (a lenient UTF-8 decoder once read past a string's end: issue 11, bug 4);
 * - a str must be well-formed UTF-8 (wire/utf8.ts), else `malformed` (5.3);
 * - arrays and maps nest at most MAX_NESTING_DEPTH deep (the datagram, a list, a list
 *   entry), so no input can make a reader recurse deeper (5.1).
 * Every length is checked against its limit before its bytes are looked for, so a header
 * declaring 4 GiB costs nothing; the first problem in byte order is the one reported.
 * Bins are views of the datagram, not copies. Never throws.
 */
import { DecodeErrorCode } from "./decode-error.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_ARRAY_ITEMS, MAX_NESTING_DEPTH } from "./limits.ts";
import { utf8Decode } from "./utf8.ts";

/** What an empty map decodes to: no field accepts it, so it is `wrong-type` (5.1). */
export const EMPTY_MAP: Readonly<Record<string, never>> = Object.freeze({});
/** What an ext of length 0 (other than a timestamp) decodes to: no field accepts it either. */
export const EMPTY_EXT: Readonly<{ ext: true }> = Object.freeze({ ext: true });

/** str and bin lengths the reader accepts: nothing longer fits a datagram. */
const MAX_STR_BIN_BYTES = DEFAULT_MAX_DATAGRAM_BYTES;
const FAILED: unique symbol = Symbol("failed");

export type ReadResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly detail: string };

class Reader {
  pos = 0;
  code: DecodeErrorCode = DecodeErrorCode.Malformed;
  detail = "";
  private view: DataView | undefined;

  constructor(private readonly bytes: Uint8Array) {}

  fail(code: DecodeErrorCode, detail: string): typeof FAILED {
    this.code = code;
    this.detail = detail;
    return FAILED;
  }

  /** True when `n` more bytes are there; else records `truncated` for `what`. */
  has(n: number, what: string): boolean {
    if (this.pos + n <= this.bytes.length) return true;
    this.fail(DecodeErrorCode.Truncated, `${what} at byte ${this.pos} needs ${n} bytes, ${this.bytes.length - this.pos} left`);
    return false;
  }

  /** The unsigned big-endian integer of `n` (1, 2 or 4) bytes at pos, or FAILED. */
  uint(n: number, what: string): number | typeof FAILED {
    if (!this.has(n, what)) return FAILED;
    const b = this.bytes;
    const p = this.pos;
    this.pos += n;
    if (n === 1) return b[p] as number;
    if (n === 2) return ((b[p] as number) << 8) | (b[p + 1] as number);
    return (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0;
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.view;
  }

  /** A fixed-size number of `n` bytes after the type byte (ints of 8 bytes, floats, signed ints). */
  number(type: number, n: number): number | typeof FAILED {
    if (!this.has(n, `0x${type.toString(16)} value`)) return FAILED;
    const v = this.dataView();
    const p = this.pos;
    this.pos += n;
    switch (type) {
      case 0xca:
        return v.getFloat32(p);
      case 0xcb:
        return v.getFloat64(p);
      case 0xcf: // uint 64: past 2^53 it loses precision, but every field is far below that
        return v.getUint32(p) * 0x100000000 + v.getUint32(p + 4);
      case 0xd0:
        return v.getInt8(p);
      case 0xd1:
        return v.getInt16(p);
      case 0xd2:
        return v.getInt32(p);
      default: // 0xd3, int 64
        return v.getInt32(p) * 0x100000000 + v.getUint32(p + 4);
    }
  }

  str(len: number): unknown {
    if (len > MAX_STR_BIN_BYTES) return this.fail(DecodeErrorCode.Malformed, `str of ${len} bytes > ${MAX_STR_BIN_BYTES}`);
    if (!this.has(len, `str of ${len} bytes`)) return FAILED;
    const start = this.pos;
    this.pos += len;
    const s = utf8Decode(this.bytes, start, start + len);
    return s ?? this.fail(DecodeErrorCode.Malformed, `str of ${len} bytes at byte ${start} is not well-formed UTF-8`);
  }

  bin(len: number): unknown {
    if (len > MAX_STR_BIN_BYTES) return this.fail(DecodeErrorCode.Malformed, `bin of ${len} bytes > ${MAX_STR_BIN_BYTES}`);
    if (!this.has(len, `bin of ${len} bytes`)) return FAILED;
    const start = this.pos;
    this.pos += len;
    return this.bytes.subarray(start, start + len);
  }

  array(len: number, depth: number): unknown {
    if (depth > MAX_NESTING_DEPTH) return this.fail(DecodeErrorCode.Malformed, `array nested ${depth} deep > ${MAX_NESTING_DEPTH}`);
    if (len > MAX_ARRAY_ITEMS) return this.fail(DecodeErrorCode.Malformed, `array of ${len} items > ${MAX_ARRAY_ITEMS}`);
    const out: unknown[] = [];
    for (let i = 0; i < len; i++) {
      const v = this.value(depth);
      if (v === FAILED) return FAILED;
      out.push(v);
    }
    return out;
  }

  map(len: number, depth: number): unknown {
    if (depth > MAX_NESTING_DEPTH) return this.fail(DecodeErrorCode.Malformed, `map nested ${depth} deep > ${MAX_NESTING_DEPTH}`);
    return len === 0 ? EMPTY_MAP : this.fail(DecodeErrorCode.Malformed, `a map of ${len} entries: maps are never used`);
  }

  /** An ext whose length is known: any data is malformed; an empty one still needs its type byte. */
  ext(len: number): unknown {
    if (len > 0) return this.fail(DecodeErrorCode.Malformed, `an ext with ${len} bytes of data: ext types are never used`);
    const type = this.uint(1, "ext type");
    if (type === FAILED) return FAILED;
    return type === 0xff ? this.fail(DecodeErrorCode.Malformed, "a timestamp ext (type -1)") : EMPTY_EXT;
  }

  /** One value at pos, inside containers `depth - 1` deep (the datagram's own array is depth 1). */
  value(depth: number): unknown {
    const t = this.uint(1, "type byte");
    if (t === FAILED) return FAILED;
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t <= 0x8f) return this.map(t & 0x0f, depth + 1);
    if (t <= 0x9f) return this.array(t & 0x0f, depth + 1);
    if (t <= 0xbf) return this.str(t & 0x1f);
    let n: number | typeof FAILED;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        n = this.uint(1 << (t - 0xc4), "bin length");
        return n === FAILED ? FAILED : this.bin(n);
      case 0xc7:
      case 0xc8:
      case 0xc9:
        n = this.uint(1 << (t - 0xc7), "ext length");
        return n === FAILED ? FAILED : this.ext(n);
      case 0xcc:
      case 0xcd:
      case 0xce:
        return this.uint(1 << (t - 0xcc), `uint ${8 << (t - 0xcc)}`);
      case 0xca:
      case 0xd2:
        return this.number(t, 4);
      case 0xcb:
      case 0xcf:
      case 0xd3:
        return this.number(t, 8);
      case 0xd0:
        return this.number(t, 1);
      case 0xd1:
        return this.number(t, 2);
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8: // fixext 1..16: the length is in the type byte, and is never 0
        return this.ext(1 << (t - 0xd4));
      case 0xd9:
      case 0xda:
      case 0xdb:
        n = this.uint(1 << (t - 0xd9), "str length");
        return n === FAILED ? FAILED : this.str(n);
      case 0xdc:
      case 0xdd:
        n = this.uint(t === 0xdc ? 2 : 4, "array length");
        return n === FAILED ? FAILED : this.array(n, depth + 1);
      case 0xde:
      case 0xdf:
        n = this.uint(t === 0xde ? 2 : 4, "map length");
        return n === FAILED ? FAILED : this.map(n, depth + 1);
      default: // 0xc1
        return this.fail(DecodeErrorCode.Malformed, `reserved type byte 0x${t.toString(16)} at byte ${this.pos - 1}`);
    }
  }
}

/**
 * Reads exactly one MessagePack value from all of `bytes`: `truncated` when the input ends
 * inside it, `malformed` for what MessagePack or this protocol forbids, `trailing-bytes`
 * when bytes remain after it.
 */
export function readValue(bytes: Uint8Array): ReadResult {
  const r = new Reader(bytes);
  const value = r.value(0);
  if (value === FAILED) return { ok: false, code: r.code, detail: r.detail };
  if (r.pos < bytes.length) {
    return { ok: false, code: DecodeErrorCode.TrailingBytes, detail: `${bytes.length - r.pos} bytes after the value, from byte ${r.pos}` };
  }
  return { ok: true, value };
}
