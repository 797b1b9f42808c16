/**
 * A UTF-8-only TextEncoder/TextDecoder in plain ECMAScript 2020, for VMs that have neither
 * (a bare QuickJS context, some console engines). @msgpack/msgpack builds one of each when
 * it is first evaluated, so without these the bundle cannot even load there.
 *
 * They are the WHATWG Encoding Standard's API (https://encoding.spec.whatwg.org/) over the
 * core's one UTF-8 codec (wire/utf8.ts): lone surrogates encode as U+FFFD; the
 * decoder replaces each maximal invalid subpart with one U+FFFD (or throws a TypeError when
 * `fatal`), strips a leading BOM unless `ignoreBOM`, and keeps a partial sequence across
 * `decode(bytes, { stream: true })` calls. Other encodings are refused with a RangeError, as
 * a conforming TextDecoder does for unknown labels.
 */
import {
  UTF8_ERROR,
  UTF8_NOTHING,
  UTF8_REPROCESS,
  Utf8DecodeState,
  utf8EncodeSome,
  type EncodeIntoResult,
} from "../../lib/security/utf8.ts";

export type { EncodeIntoResult };

export interface Utf8DecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

/** The labels the Encoding Standard maps to UTF-8. */
const UTF8_LABELS = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];
const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: well below every engine's argument limit. */
const CHUNK_UNITS = 4096;

export class Utf8TextEncoder {
  get encoding(): string {
    return "utf-8";
  }

  encode(input = ""): Uint8Array {
    const s = String(input);
    // Worst case is 3 bytes per UTF-16 code unit (a surrogate pair is 2 units for 4 bytes).
    const out = new Uint8Array(s.length * 3);
    return out.slice(0, utf8EncodeSome(s, out).written);
  }

  /** Writes whole characters only: one that does not fit stops the write (as the standard says). */
  encodeInto(input: string, dest: Uint8Array): EncodeIntoResult {
    return utf8EncodeSome(String(input), dest);
  }
}

export class Utf8TextDecoder {
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  /** The standard's UTF-8 decoder state, kept across streaming calls. */
  private readonly state = new Utf8DecodeState();
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
      const cp = this.state.step(bytes[i] as number);
      if (cp === UTF8_REPROCESS) {
        this.error(units); // the invalid prefix; the byte is tried again as a lead
        continue;
      }
      i++;
      if (cp === UTF8_ERROR) this.error(units);
      else if (cp !== UTF8_NOTHING) this.emit(units, cp);
      if (units.length >= CHUNK_UNITS) {
        out += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    if (options.stream !== true) {
      if (this.state.pending) {
        this.state.reset();
        this.error(units); // a truncated sequence at the end of the stream
      }
      this.atStart = true;
    }
    return out + String.fromCharCode(...units);
  }

  /** An invalid sequence: U+FFFD, or a TypeError in fatal mode (the standard's error mode). */
  private error(units: number[]): void {
    if (this.fatal) {
      this.state.reset();
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
}
