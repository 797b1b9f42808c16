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
 * Decodes bytes[start..end) as strict UTF-8, reading no byte outside that range. Returns
 * null for any invalid sequence or a range outside `bytes`; never throws.
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
    if (i + need >= end) return null; // truncated sequence: its last byte would be at or past `end`
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
