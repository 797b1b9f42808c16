/**
 * The UTF-8 fallback (platform/embedded/utf8-codec.ts) against Node's own TextEncoder and
 * TextDecoder, which implement the WHATWG Encoding Standard: the same strings, the same
 * bytes, the same replacement characters, over seeded random input biased towards the
 * edge cases (surrogates, overlongs, truncated and out-of-range sequences).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import { Utf8TextDecoder, Utf8TextEncoder } from "../platform/embedded/utf8-codec.ts";

const rng = new SeededRandom(2024);
const pick = <T>(items: readonly T[]): T => items[rng.nextU32() % items.length] as T;

/** Bytes that are mostly near UTF-8 boundaries: leads, continuations, and the special lead bytes. */
function randomBytes(n: number): Uint8Array {
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() < 0.7 ? pick(interesting) : rng.nextU32() & 0xff;
  return out;
}

/** Strings with lone and paired surrogates, BMP and astral characters. */
function randomString(n: number): string {
  const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xfeff, 0xfffd, 0xffff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe9, 0x4e2d];
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.2) s += String.fromCodePoint(0x10000 + (rng.nextU32() % 0x100000));
    else if (r < 0.8) s += String.fromCharCode(pick(units));
    else s += String.fromCharCode(rng.nextU32() & 0xffff);
  }
  return s;
}

test("encode() matches TextEncoder, lone surrogates included", () => {
  const ours = new Utf8TextEncoder();
  const native = new TextEncoder();
  assert.is(ours.encoding, "utf-8");
  assert.equal(ours.encode(), new Uint8Array(0));
  for (let i = 0; i < 2000; i++) {
    const s = randomString(rng.nextU32() % 40);
    assert.equal(ours.encode(s), native.encode(s), JSON.stringify(s));
  }
});

test("encodeInto() matches TextEncoder.encodeInto into short buffers (whole characters only)", () => {
  const ours = new Utf8TextEncoder();
  const native = new TextEncoder();
  for (let i = 0; i < 2000; i++) {
    const s = randomString(rng.nextU32() % 20);
    const size = rng.nextU32() % 40;
    const a = new Uint8Array(size);
    const b = new Uint8Array(size);
    assert.equal(ours.encodeInto(s, a), native.encodeInto(s, b), JSON.stringify(s));
    assert.equal(a, b);
  }
});

test("decode() matches TextDecoder on invalid and valid input, with replacement and BOM handling", () => {
  for (const ignoreBOM of [false, true]) {
    const ours = new Utf8TextDecoder("utf-8", { ignoreBOM });
    const native = new TextDecoder("utf-8", { ignoreBOM });
    for (let i = 0; i < 3000; i++) {
      const bytes = i % 4 === 0 ? new TextEncoder().encode(randomString(12)) : randomBytes(rng.nextU32() % 24);
      if (i % 7 === 0) bytes.set([0xef, 0xbb, 0xbf].slice(0, bytes.length)); // a BOM up front
      assert.is(ours.decode(bytes), native.decode(bytes), `bytes ${Array.from(bytes).join(",")}`);
    }
  }
});

test("decode() with { stream: true } matches TextDecoder across arbitrary chunk splits", () => {
  const ours = new Utf8TextDecoder();
  const native = new TextDecoder();
  for (let i = 0; i < 1000; i++) {
    const bytes = randomBytes(rng.nextU32() % 32);
    let a = "";
    let b = "";
    for (let at = 0; at < bytes.length; ) {
      const end = Math.min(bytes.length, at + 1 + (rng.nextU32() % 5));
      a += ours.decode(bytes.subarray(at, end), { stream: true });
      b += native.decode(bytes.subarray(at, end), { stream: true });
      at = end;
    }
    a += ours.decode();
    b += native.decode();
    assert.is(a, b, `bytes ${Array.from(bytes).join(",")}`);
  }
});

test("fatal mode throws a TypeError exactly when TextDecoder does; U+FFFD itself is valid", () => {
  const ours = new Utf8TextDecoder("utf-8", { fatal: true });
  const native = new TextDecoder("utf-8", { fatal: true });
  assert.is(ours.fatal, true);
  assert.is(ours.decode(new Uint8Array([0xef, 0xbf, 0xbd])), "\ufffd");
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(rng.nextU32() % 12);
    let expected: string | undefined;
    try {
      expected = native.decode(bytes);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) assert.throws(() => ours.decode(bytes), (e: unknown) => e instanceof TypeError);
    else assert.is(ours.decode(bytes), expected);
  }
});

test("decode() accepts ArrayBuffer and any view; labels other than UTF-8 are a RangeError", () => {
  const d = new Utf8TextDecoder(" UTF8 ");
  const bytes = new TextEncoder().encode("héllo, 世界 🎮");
  assert.is(d.decode(bytes.buffer), "héllo, 世界 🎮");
  assert.is(d.decode(new DataView(bytes.buffer, 0, 2)), "h\ufffd", "a view's own range: h and a truncated é");
  assert.is(d.decode(), "");
  assert.throws(() => new Utf8TextDecoder("latin1"), (e: unknown) => e instanceof RangeError);
  const long = "x".repeat(10_000) + "é".repeat(5000);
  assert.is(d.decode(new TextEncoder().encode(long)), long, "longer than one fromCharCode chunk");
});

test.run();
