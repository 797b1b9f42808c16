/**
 * UTF-8 without TextEncoder/TextDecoder (absent in some embedded VMs, and not in the core's
 * ES2020 lib). Encoding matches TextEncoder: a lone surrogate becomes U+FFFD (3 bytes), so
 * the byte count always equals wire/fields.ts `utf8Length`. Decoding is strict (RFC 3629
 * section 3): overlong forms, surrogates, code points above U+10FFFF and truncated
 * sequences are rejected, so one string has exactly one encoding and a signed address
 * cannot be smuggled in two spellings.
 */
import { utf8Length } from "../../wire/fields.ts";

export { utf8Length };

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
  let p = offset;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >>> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out[p++] = 0xf0 | (cp >>> 18);
        out[p++] = 0x80 | ((cp >>> 12) & 0x3f);
        out[p++] = 0x80 | ((cp >>> 6) & 0x3f);
        out[p++] = 0x80 | (cp & 0x3f);
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder does
    out[p++] = 0xe0 | (c >>> 12);
    out[p++] = 0x80 | ((c >>> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  return p - offset;
}

/** `s` as a new UTF-8 byte array. */
export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  utf8EncodeInto(s, out, 0);
  return out;
}

/**
 * Decodes bytes[start..end) as strict UTF-8. Returns null for any invalid sequence or a
 * range outside `bytes`; never throws.
 */
export function utf8Decode(bytes: Uint8Array, start: number, end: number): string | null {
  if (!(start >= 0 && end <= bytes.length && start <= end)) return null;
  let s = "";
  let i = start;
  while (i < end) {
    const b0 = bytes[i] as number;
    if (b0 < 0x80) {
      s += String.fromCharCode(b0);
      i += 1;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return null; // continuation byte first, 0xc0/0xc1 (always overlong) or > 0xf4
    }
    if (i + need >= end) return null; // truncated sequence
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k] as number;
      if ((b & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    if (cp >= 0x10000) {
      const v = cp - 0x10000;
      s += String.fromCharCode(0xd800 + (v >>> 10), 0xdc00 + (v & 0x3ff));
    } else {
      s += String.fromCharCode(cp);
    }
    i += need + 1;
  }
  return s;
}
