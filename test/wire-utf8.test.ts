/**
 * Strings on the wire (PROTOCOL.md 5.3): a str is well-formed UTF-8 or the datagram is
 * `malformed`, and a decoder judges a field by its own bytes only.
 *
 * Regression (issue 11, bug 4): string decoding read past the string's end on invalid
 * UTF-8. @msgpack/msgpack's decoder took `ed a0`, the first two bytes of a 3-byte sequence,
 * and read the third from the next field's header, so the 2-byte Hello.name `ed a0` decoded
 * to a different lone surrogate before a bin 8 cookie (c4) than before a bin 16 one (c5),
 * and both were accepted. wire/msgpack-reader.ts now reads strings with the strict decoder
 * of wire/utf8.ts, over exactly the string's bytes.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom, randomInt } from "../lib/rng.ts";
import { DecodeErrorCode, decode, encode, Kind, utf8Length } from "../wire/index.ts";
import { hasLoneSurrogate, toWellFormed, truncateUtf8, utf8Decode, utf8Encode } from "../wire/utf8.ts";
import { fromHex, toHex } from "../scripts/gen-vectors.ts";

const EPH = "c420" + "00".repeat(32);
/** A Hello whose name field is `nameField` (header and bytes) and whose cookie field is `cookie`. */
const hello = (nameField: string, cookie: string): Uint8Array => fromHex(`97012001${nameField}${cookie}${EPH}c400`);
/** An independent strict UTF-8 decoder (WHATWG, which is RFC 3629 for validity). */
const fatal = new TextDecoder("utf-8", { fatal: true });
function oracle(bytes: Uint8Array): string | null {
  try {
    return fatal.decode(bytes);
  } catch {
    return null;
  }
}

test("bug 11.4: the 2-byte name ed a0 gets the same verdict before a bin 8 (c4) and a bin 16 (c5) cookie: malformed", () => {
  const before8 = decode(hello("a2eda0", "c400"));
  const before16 = decode(hello("a2eda0", "c50000"));
  assert.equal(
    [before8.ok ? "ok" : before8.code, before16.ok ? "ok" : before16.code],
    [DecodeErrorCode.Malformed, DecodeErrorCode.Malformed],
    JSON.stringify([before8, before16]),
  );
});

test("bug 11.4: a str field's verdict depends on its own bytes only, whatever byte follows it", () => {
  const rng = new SeededRandom(114);
  // Bytes that make UTF-8 decoders branch: continuation bytes, every lead class, the bad ones.
  const pool = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  let invalid = 0;
  for (let i = 0; i < 4000; i++) {
    const n = 1 + randomInt(rng, 6);
    const name = Uint8Array.from({ length: n }, () => (rng.next() < 0.8 ? pool[randomInt(rng, pool.length)] : rng.nextU32() & 0xff) as number);
    const field = (0xa0 | n).toString(16) + toHex(name);
    const expected = oracle(name);
    if (expected === null) invalid++;
    // Cookie headers whose first byte would complete or continue a cut sequence: c4 and c5
    // (the bug), and the same cookie as bin 32.
    for (const cookie of ["c400", "c50000", "c600000000"]) {
      const r = decode(hello(field, cookie));
      const what = `name ${toHex(name)} before ${cookie}`;
      if (expected === null) assert.ok(!r.ok && r.code === DecodeErrorCode.Malformed, `${what}: ${JSON.stringify(r)}`);
      else if (!r.ok || r.msg.kind !== Kind.Hello) assert.unreachable(`${what}: ${r.ok ? "not a Hello" : r.code}`);
      else assert.is(r.msg.name, expected, what);
    }
  }
  assert.ok(invalid > 1000 && invalid < 3900, `${invalid} of 4000 names invalid: the sweep tries both kinds`);
});

test("strict UTF-8: utf8Decode agrees with a fatal TextDecoder on every 1- to 4-byte sequence class, and reads only its range", () => {
  const rng = new SeededRandom(3629);
  for (let i = 0; i < 20000; i++) {
    const n = 1 + randomInt(rng, 4);
    const buf = new Uint8Array(n + 2);
    for (let j = 0; j < buf.length; j++) buf[j] = rng.nextU32() & 0xff;
    if (i % 2 === 0) buf[1] = [0xc2, 0xe0, 0xed, 0xf0, 0xf4][i % 5] as number; // a lead byte, so sequences get started
    const inner = buf.subarray(1, 1 + n);
    assert.is(utf8Decode(buf, 1, 1 + n), oracle(inner), toHex(inner));
  }
  assert.is(utf8Decode(new Uint8Array([0x61]), 0, 2), null, "a range past the end");
});

test("encode writes a lone surrogate as U+FFFD (as TextEncoder does): the wire is always well-formed, and utf8Length is its size", () => {
  for (const name of ["\ud800", "a\udc00b", "\ud83c", "🎮\ud800", "\udfff\ud800"]) {
    assert.ok(hasLoneSurrogate(name), name);
    const bytes = encode({ kind: Kind.GridCreated, req: 1, grid: 2, name });
    const r = decode(bytes);
    if (!r.ok || r.msg.kind !== Kind.GridCreated) assert.unreachable(`${JSON.stringify(name)}: ${r.ok ? "?" : r.code}`);
    else {
      assert.is(r.msg.name, toWellFormed(name));
      assert.is(utf8Length(r.msg.name), utf8Length(name));
      assert.is(toHex(utf8Encode(r.msg.name)), toHex(new TextEncoder().encode(name)));
    }
  }
  assert.not.ok(hasLoneSurrogate("Zoë ✓ 🎮"));
  assert.is(toWellFormed("Zoë ✓ 🎮"), "Zoë ✓ 🎮");
});

test("truncateUtf8 cuts between code points, never inside a pair, within the byte limit", () => {
  assert.is(truncateUtf8("ab🎮c", 5), "ab", "the emoji's 4 bytes do not fit in 3");
  assert.is(truncateUtf8("ab🎮c", 6), "ab🎮");
  assert.is(truncateUtf8("€€", 4), "€");
  assert.is(truncateUtf8("\ud800xyz", 4), "\ufffdx", "a lone surrogate becomes U+FFFD first");
  assert.is(truncateUtf8("short", 128), "short");
  const rng = new SeededRandom(7);
  const chars = ["a", "é", "€", "🎮", "\ud800"];
  for (let i = 0; i < 2000; i++) {
    let s = "";
    for (let j = randomInt(rng, 40); j > 0; j--) s += chars[randomInt(rng, chars.length)];
    const max = randomInt(rng, 60);
    const t = truncateUtf8(s, max);
    assert.ok(utf8Length(t) <= max && !hasLoneSurrogate(t) && toWellFormed(s).startsWith(t), JSON.stringify([s, max, t]));
    assert.ok(utf8Length(t) > max - 4 || t === toWellFormed(s), "the longest prefix that fits");
  }
});

test.run();
