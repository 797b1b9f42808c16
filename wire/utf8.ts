/**
 * UTF-8 for the wire (PROTOCOL.md 5.3) without TextEncoder/TextDecoder (absent in some
 * embedded VMs, and not in the core's ES2020 lib).
 *
 * Decoding is strict (RFC 3629 section 3): overlong forms, surrogates, code points above
 * U+10FFFF and truncated sequences are rejected, so a str field has exactly one decoding,
 * its byte limit counts the bytes on the wire, and a decoder looks at nothing outside the
 * bytes it was given (issue 11, bug 4: a lenient decoder read past a string's end).
 * Encoding matches TextEncoder: a lone surrogate becomes U+FFFD (3 bytes), so the byte
 * count always equals `utf8Length` and what is written is always well-formed.
 *
 * This is the project's one UTF-8 codec. The decoder is the WHATWG Encoding Standard's
 * UTF-8 decoder (https://encoding.spec.whatwg.org/#utf-8) as a byte-at-a-time state
 * machine (Utf8DecodeState); utf8Decode runs it in the standard's fatal mode (= RFC 3629
 * section 3), and platform/embedded/utf8-codec.ts wraps the same machine as a streaming,
 * replacing TextDecoder for VMs that have none.
 */

/** Byte length of `s` in UTF-8, a lone surrogate counted as U+FFFD (3 bytes), as TextEncoder writes it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** True when `s` has a surrogate that is not half of a pair (it cannot be written as UTF-8 as it is). */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return true;
  }
  return false;
}

/** `s` with every lone surrogate replaced by U+FFFD (what TextEncoder writes for it); `s` itself when it has none. */
export function toWellFormed(s: string): string {
  if (!hasLoneSurrogate(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] + (s[i + 1] as string);
        i++;
        continue;
      }
    }
    out += c >= 0xd800 && c <= 0xdfff ? "\ufffd" : (s[i] as string);
  }
  return out;
}

/**
 * The longest prefix of toWellFormed(s) that is at most `maxBytes` of UTF-8, cut between
 * code points (never inside a surrogate pair).
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  const w = toWellFormed(s);
  if (utf8Length(w) <= maxBytes) return w;
  let n = 0;
  let i = 0;
  while (i < w.length) {
    const c = w.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff; // well-formed: a high surrogate always has its low half
    const bytes = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (n + bytes > maxBytes) break;
    n += bytes;
    i += pair ? 2 : 1;
  }
  return w.slice(0, i);
}

/** The result of a partial encode: UTF-16 code units read and bytes written. */
export interface EncodeIntoResult {
  read: number;
  written: number;
}

/**
 * Writes `s` as UTF-8 into dest[offset..] character by character and stops before the
 * first one that does not fit (TextEncoder.encodeInto's rule).
 */
export function utf8EncodeSome(s: string, dest: Uint8Array, offset = 0): EncodeIntoResult {
  let read = 0;
  let p = offset;
  const end = dest.length;
  while (read < s.length) {
    let c = s.charCodeAt(read);
    let units = 1;
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = read + 1 < s.length ? s.charCodeAt(read + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        units = 2;
      } else c = 0xfffd; // a lone surrogate is not a scalar value
    }
    if (c < 0x80) {
      if (p + 1 > end) break;
      dest[p++] = c;
    } else if (c < 0x800) {
      if (p + 2 > end) break;
      dest[p++] = 0xc0 | (c >>> 6);
      dest[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      if (p + 3 > end) break;
      dest[p++] = 0xe0 | (c >>> 12);
      dest[p++] = 0x80 | ((c >>> 6) & 0x3f);
      dest[p++] = 0x80 | (c & 0x3f);
    } else {
      if (p + 4 > end) break;
      dest[p++] = 0xf0 | (c >>> 18);
      dest[p++] = 0x80 | ((c >>> 12) & 0x3f);
      dest[p++] = 0x80 | ((c >>> 6) & 0x3f);
      dest[p++] = 0x80 | (c & 0x3f);
    }
    read += units;
  }
  return { read, written: p - offset };
}

/**
 * Writes `s` as UTF-8 at `out[offset..]` and returns the number of bytes written.
 * The caller sizes `out` with utf8Length(s); writing past its end throws a RangeError
 * (a caller mistake, never reachable from network input).
 */
export function utf8EncodeInto(s: string, out: Uint8Array, offset: number): number {
  const need = utf8Length(s);
  if (offset < 0 || offset + need > out.length) {
    throw new RangeError(`utf8EncodeInto: ${need} bytes at offset ${offset} exceed buffer of ${out.length}`);
  }
  return utf8EncodeSome(s, out, offset).written;
}

/** `s` as a new UTF-8 byte array. */
export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  utf8EncodeSome(s, out, 0);
  return out;
}

/** Utf8DecodeState.step() results that are not code points. */
export const UTF8_NOTHING = -1;
/** The byte ended an invalid sequence and must be fed again as a lead byte. */
export const UTF8_REPROCESS = -2;
export const UTF8_ERROR = -3;

/** The WHATWG UTF-8 decoder's state (kept across calls, for streaming). */
export class Utf8DecodeState {
  private codePoint = 0;
  private bytesSeen = 0;
  private bytesNeeded = 0;
  private lower = 0x80;
  private upper = 0xbf;

  /** True while a multi-byte sequence is incomplete. */
  get pending(): boolean {
    return this.bytesNeeded !== 0;
  }

  /** One byte: a code point, or UTF8_NOTHING (need more), UTF8_ERROR, UTF8_REPROCESS. */
  step(b: number): number {
    if (this.bytesNeeded === 0) {
      if (b <= 0x7f) return b;
      if (b >= 0xc2 && b <= 0xdf) {
        this.bytesNeeded = 1;
        this.codePoint = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) this.lower = 0xa0; // no overlong 3-byte forms
        if (b === 0xed) this.upper = 0x9f; // no surrogates
        this.bytesNeeded = 2;
        this.codePoint = b & 0x0f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) this.lower = 0x90; // no overlong 4-byte forms
        if (b === 0xf4) this.upper = 0x8f; // nothing above U+10FFFF
        this.bytesNeeded = 3;
        this.codePoint = b & 0x07;
      } else return UTF8_ERROR; // a continuation byte first, 0xc0/0xc1 (always overlong) or > 0xf4
      return UTF8_NOTHING;
    }
    if (b < this.lower || b > this.upper) {
      this.reset();
      return UTF8_REPROCESS;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.codePoint = (this.codePoint << 6) | (b & 0x3f);
    if (++this.bytesSeen !== this.bytesNeeded) return UTF8_NOTHING;
    const cp = this.codePoint;
    this.reset();
    return cp;
  }

  reset(): void {
    this.codePoint = 0;
    this.bytesSeen = 0;
    this.bytesNeeded = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/**
 * Decodes bytes[start..end) as strict UTF-8. Returns null for any invalid sequence or a
 * range outside `bytes`; never throws.
 */
export function utf8Decode(bytes: Uint8Array, start: number, end: number): string | null {
  if (!(start >= 0 && end <= bytes.length && start <= end)) return null;
  const state = new Utf8DecodeState();
  let s = "";
  for (let i = start; i < end; i++) {
    const cp = state.step(bytes[i] as number);
    if (cp >= 0x10000) {
      const v = cp - 0x10000;
      s += String.fromCharCode(0xd800 + (v >>> 10), 0xdc00 + (v & 0x3ff));
    } else if (cp >= 0) s += String.fromCharCode(cp);
    else if (cp !== UTF8_NOTHING) return null;
  }
  return state.pending ? null : s;
}
