/**
 * A UTF-8-only TextEncoder/TextDecoder in plain ECMAScript 2020, for VMs that have neither
 * (a bare QuickJS context, some console engines). @msgpack/msgpack builds one of each when
 * it is first evaluated, so without these the bundle cannot even load there.
 *
 * It follows the WHATWG Encoding Standard for UTF-8 (https://encoding.spec.whatwg.org/):
 * lone surrogates encode as U+FFFD; the decoder replaces each maximal invalid subpart with
 * one U+FFFD (or throws a TypeError when `fatal`), strips a leading BOM unless `ignoreBOM`,
 * and keeps a partial sequence across `decode(bytes, { stream: true })` calls. Other
 * encodings are refused with a RangeError, as a conforming TextDecoder does for unknown labels.
 */

/** The result of encodeInto: UTF-16 code units read and bytes written. */
export interface EncodeIntoResult {
  read: number;
  written: number;
}

export interface Utf8DecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

/** The labels the Encoding Standard maps to UTF-8. */
const UTF8_LABELS = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];
const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: well below every engine's argument limit. */
const CHUNK_UNITS = 4096;
/** step() results that are not code points. */
const NOTHING = -1;
const REPROCESS = -2;
const ERROR = -3;

export class Utf8TextEncoder {
  get encoding(): string {
    return "utf-8";
  }

  encode(input = ""): Uint8Array {
    const s = String(input);
    // Worst case is 3 bytes per UTF-16 code unit (a surrogate pair is 2 units for 4 bytes).
    const out = new Uint8Array(s.length * 3);
    return out.slice(0, this.encodeInto(s, out).written);
  }

  /** Writes whole characters only: one that does not fit stops the write (as the standard says). */
  encodeInto(input: string, dest: Uint8Array): EncodeIntoResult {
    const s = String(input);
    let read = 0;
    let written = 0;
    const end = dest.length;
    while (read < s.length) {
      let c = s.charCodeAt(read);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = read + 1 < s.length ? s.charCodeAt(read + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        } else c = REPLACEMENT; // a lone surrogate is not a scalar value
      }
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (written + size > end) break;
      if (size === 1) dest[written++] = c;
      else if (size === 2) {
        dest[written++] = 0xc0 | (c >> 6);
        dest[written++] = 0x80 | (c & 0x3f);
      } else if (size === 3) {
        dest[written++] = 0xe0 | (c >> 12);
        dest[written++] = 0x80 | ((c >> 6) & 0x3f);
        dest[written++] = 0x80 | (c & 0x3f);
      } else {
        dest[written++] = 0xf0 | (c >> 18);
        dest[written++] = 0x80 | ((c >> 12) & 0x3f);
        dest[written++] = 0x80 | ((c >> 6) & 0x3f);
        dest[written++] = 0x80 | (c & 0x3f);
      }
      read += units;
    }
    return { read, written };
  }
}

export class Utf8TextDecoder {
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  // The standard's UTF-8 decoder state, kept across streaming calls.
  private codePoint = 0;
  private bytesSeen = 0;
  private bytesNeeded = 0;
  private lower = 0x80;
  private upper = 0xbf;
  /** True until the first code point of a stream has been seen (for the BOM check). */
  private atStart = true;

  constructor(label = "utf-8", options: Utf8DecoderOptions = {}) {
    const l = String(label).trim().toLowerCase();
    if (!UTF8_LABELS.includes(l)) throw new RangeError(`this TextDecoder supports only UTF-8, not "${String(label)}"`);
    this.fatal = options.fatal === true;
    this.ignoreBOM = options.ignoreBOM === true;
  }

  get encoding(): string {
    return "utf-8";
  }

  decode(input?: ArrayBuffer | ArrayBufferView, options: { stream?: boolean } = {}): string {
    const bytes =
      input === undefined
        ? new Uint8Array(0)
        : input instanceof ArrayBuffer
          ? new Uint8Array(input)
          : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const units: number[] = [];
    let out = "";
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i] as number;
      const cp = this.step(b);
      if (cp === REPROCESS) {
        this.error(units); // the invalid prefix; the byte is tried again as a lead
        continue;
      }
      i++;
      if (cp === ERROR) this.error(units);
      else if (cp !== NOTHING) this.emit(units, cp);
      if (units.length >= CHUNK_UNITS) {
        out += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    if (options.stream !== true) {
      if (this.bytesNeeded !== 0) {
        this.reset();
        this.error(units); // a truncated sequence at the end of the stream
      }
      this.atStart = true;
    }
    return out + String.fromCharCode(...units);
  }

  /** One byte through the standard's state machine: a code point, NOTHING, ERROR or REPROCESS. */
  private step(b: number): number {
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
      } else return ERROR;
      return NOTHING;
    }
    if (b < this.lower || b > this.upper) {
      this.reset();
      return REPROCESS;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.codePoint = (this.codePoint << 6) | (b & 0x3f);
    if (++this.bytesSeen !== this.bytesNeeded) return NOTHING;
    const cp = this.codePoint;
    this.reset();
    return cp;
  }

  /** An invalid sequence: U+FFFD, or a TypeError in fatal mode (the standard's error mode). */
  private error(units: number[]): void {
    if (this.fatal) {
      this.reset();
      this.atStart = true;
      throw new TypeError("The encoded data was not valid UTF-8");
    }
    this.emit(units, REPLACEMENT);
  }

  private emit(units: number[], cp: number): void {
    const first = this.atStart;
    this.atStart = false;
    if (first && cp === 0xfeff && !this.ignoreBOM) return;
    if (cp < 0x10000) units.push(cp);
    else units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
  }

  private reset(): void {
    this.codePoint = 0;
    this.bytesSeen = 0;
    this.bytesNeeded = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}
