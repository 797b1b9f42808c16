/**
 * Hostile input (STYLE 6, 15; PROTOCOL.md 5): decode() never throws. Every result is either a
 * message that re-encodes to a valid datagram or one of the DecodeErrorCodes. All seeded, so a
 * failure names its seed and case and replays exactly.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode as referenceEncode, ExtData } from "@msgpack/msgpack";
import { SeededRandom, randomInt, type Random } from "../lib/rng.ts";
import {
  isEnvelopeKind,
  DEFAULT_MAX_DATAGRAM_BYTES,
  DecodeErrorCode,
  decode,
  encode,
  Kind,
  SCHEMAS,
  TAG_BYTES,
  type DecodeResult,
  type Message,
  type Spec,
} from "../wire/index.ts";
import { fromHex, positional, readVectorFiles, toHex } from "../scripts/gen-vectors.ts";

const { valid } = readVectorFiles();
const CODES = new Set<string>(Object.values(DecodeErrorCode));
const KINDS = Object.values(Kind) as number[];
/** Type bytes that make a decoder take a different path. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];

/** Decodes without letting a throw escape the assertion that it never throws. */
function mustNotThrow(bytes: Uint8Array, what: string): DecodeResult {
  try {
    return decode(bytes);
  } catch (e) {
    assert.unreachable(`${what}: decode threw ${String(e)} on ${toHex(bytes.subarray(0, 64))}`);
    throw e;
  }
}

/**
 * A decoded message must re-encode (every field within its limit), decode again, and be a
 * fixpoint from there on. It may differ from the input bytes: non-canonical encodings become
 * canonical (never longer). Strings are exact: invalid UTF-8 never decodes (PROTOCOL.md 5.3),
 * so a decoded str re-encodes to the very bytes it came from.
 */
function checkResult(r: DecodeResult, what: string): void {
  if (!r.ok) {
    assert.ok(CODES.has(r.code), `${what}: unknown code ${String(r.code)}`);
    assert.type(r.detail, "string");
    return;
  }
  let once: Uint8Array;
  try {
    once = encode(r.msg);
  } catch (e) {
    assert.unreachable(`${what}: decoded message does not re-encode: ${String(e)}`);
    return;
  }
  const again = decode(once);
  if (!again.ok) assert.unreachable(`${what}: re-encoded message does not decode: ${again.code} ${again.detail}`);
  else assert.is(toHex(encode(again.msg)), toHex(once), `${what}: re-encoding drifts`);
}

test("one-byte corruption of every valid vector at every position never throws", () => {
  const rng = new SeededRandom(0xc0ffee);
  const tally: Record<string, number> = {};
  let cases = 0;
  for (const v of valid) {
    const original = fromHex(v.hex);
    for (let pos = 0; pos < original.length; pos++) {
      const b = original[pos] as number;
      const values = [b ^ 0xff, b ^ 0x80, b ^ 0x01, (b + 1) & 0xff, rng.nextU32() & 0xff, INTERESTING[randomInt(rng, INTERESTING.length)] as number];
      for (const x of values) {
        if (x === b) continue;
        const bytes = original.slice();
        bytes[pos] = x;
        const what = `${v.name} byte ${pos} 0x${b.toString(16)} -> 0x${x.toString(16)}`;
        const r = mustNotThrow(bytes, what);
        checkResult(r, what);
        const key = r.ok ? "ok" : r.code;
        tally[key] = (tally[key] ?? 0) + 1;
        cases++;
      }
    }
  }
  // A sanity check on the sweep, not a tuning knob: most corruptions land in payloads and
  // strings, which are opaque (UDP's checksum, not relaygrid, guards them); the rest must reach
  // every rejection a one-byte change can cause (all but oversized).
  assert.ok(cases > 30000, `only ${cases} cases`);
  for (const code of CODES) {
    if (code !== DecodeErrorCode.Oversized) assert.ok((tally[code] ?? 0) > 100, `${code}: ${JSON.stringify(tally)}`);
  }
});

test("10000 seeded random byte strings never throw", () => {
  const rng = new SeededRandom(1);
  for (let i = 0; i < 10000; i++) {
    const n = rng.next() < 0.9 ? randomInt(rng, 64) : randomInt(rng, DEFAULT_MAX_DATAGRAM_BYTES + 100);
    const bytes = new Uint8Array(n);
    for (let j = 0; j < n; j++) bytes[j] = rng.nextU32() & 0xff;
    // Half of them get a plausible header, so the sweep reaches the field decoders.
    if (n >= 3 && i % 2 === 0) {
      const kind = KINDS[randomInt(rng, KINDS.length)] as number;
      bytes[0] = 0x90 | (((SCHEMAS as Record<number, readonly unknown[]>)[kind]?.length ?? 0) + 2);
      bytes[1] = 1;
      bytes[2] = kind;
    }
    checkResult(mustNotThrow(bytes, `random string ${i}`), `random string ${i}`);
  }
});

/** Any MessagePack value, of any type, small enough to fit a datagram. */
function randomValue(rng: Random, depth: number): unknown {
  switch (randomInt(rng, depth > 2 ? 12 : 14)) {
    case 0:
      return null;
    case 1:
      return rng.next() < 0.5;
    case 2:
      return randomInt(rng, 128);
    case 3:
      return [128, 255, 256, 65535, 65536, 0xffffffff, 2 ** 32, 2 ** 53 - 1][randomInt(rng, 8)];
    case 4:
      return -1 - randomInt(rng, 2 ** 31);
    case 5:
      return rng.next() < 0.5 ? rng.next() * 1000 : randomInt(rng, 1000);
    case 6:
      return Number.NaN;
    case 7:
      return "s".repeat(randomInt(rng, 40));
    case 8:
      return "é🎮".repeat(randomInt(rng, 30));
    case 9:
      return new Uint8Array(randomInt(rng, 300));
    case 10:
      return new ExtData(randomInt(rng, 128), new Uint8Array(randomInt(rng, 5)));
    case 11:
      return { k: randomInt(rng, 10) };
    default: {
      const n = rng.next() < 0.9 ? randomInt(rng, 8) : randomInt(rng, 140);
      return Array.from({ length: n }, () => randomValue(rng, depth + 1));
    }
  }
}

test("5000 random MessagePack arrays never throw", () => {
  const rng = new SeededRandom(2);
  let decoded = 0;
  for (let i = 0; i < 5000; i++) {
    const kind = KINDS[randomInt(rng, KINDS.length)] as number;
    const arity = ((SCHEMAS as Record<number, readonly unknown[]>)[kind]?.length ?? 0) + (rng.next() < 0.9 ? 0 : randomInt(rng, 3) - 1);
    const arr: unknown[] = [rng.next() < 0.95 ? 1 : randomInt(rng, 4), kind];
    for (let j = 0; j < arity; j++) arr.push(randomValue(rng, 0));
    const bytes = referenceEncode(arr);
    const r = mustNotThrow(bytes, `random array ${i}`);
    checkResult(r, `random array ${i}`);
    if (r.ok) decoded++;
  }
  assert.ok(decoded < 5000);
});

/** A random value that satisfies `spec`. */
function randomField(rng: Random, spec: Spec): unknown {
  const uint = (max: number): number =>
    rng.next() < 0.3 ? ([0, 127, 128, 255, 256, 65535, 65536, 0xffffffff].filter((x) => x <= max)[randomInt(rng, 8)] ?? max) : randomInt(rng, max + 1);
  // 1-, 2-, 3- and 4-byte UTF-8 characters, up to a random byte budget within the limit.
  const str = (maxBytes: number): string => {
    const budget = randomInt(rng, maxBytes + 1);
    let s = "";
    let bytes = 0;
    for (;;) {
      const c = ["a", "é", "✓", "🎮"][randomInt(rng, 4)] as string;
      const n = c === "a" ? 1 : c === "é" ? 2 : c === "✓" ? 3 : 4;
      if (bytes + n > budget) return s;
      s += c;
      bytes += n;
    }
  };
  switch (spec.t) {
    case "uint":
      return uint(spec.max);
    case "optUint":
      return rng.next() < 0.3 ? null : uint(spec.max);
    case "bool":
      return rng.next() < 0.5;
    case "str":
      return rng.next() < 0.5 ? "x".repeat(randomInt(rng, spec.maxBytes + 1)) : str(spec.maxBytes);
    case "bin":
      return new Uint8Array(randomInt(rng, spec.maxBytes + 1)).map(() => rng.nextU32() & 0xff);
    case "uints":
      return Array.from({ length: randomInt(rng, spec.maxItems + 1) }, () => uint(spec.max));
    case "list":
      return Array.from({ length: randomInt(rng, Math.min(spec.maxItems, 4) + 1) }, () =>
        Object.fromEntries(spec.of.map(([name, s]) => [name, randomField(rng, s)])),
      );
  }
}

test("3000 random schema-valid messages: reference bytes, round trip, every fix and width", () => {
  const rng = new SeededRandom(3);
  for (let i = 0; i < 3000; i++) {
    const kind = KINDS[i % KINDS.length] as number;
    const msg: Record<string, unknown> = { kind };
    for (const [name, spec] of (SCHEMAS as Record<number, readonly (readonly [string, Spec])[]>)[kind] ?? []) {
      msg[name] = randomField(rng, spec);
    }
    // The Data envelope's tag is always exactly 9 bytes (PROTOCOL.md 4.1): the schema only
    // bounds it (bin <= 9), and the hand-written envelope writes a shorter one as 9 bytes.
    if (isEnvelopeKind(kind)) msg.tag = new Uint8Array(TAG_BYTES).map(() => rng.nextU32() & 0xff);
    const m = msg as unknown as Message;
    const bytes = encode(m);
    assert.is(toHex(bytes), toHex(referenceEncode(positional(m))), `case ${i} kind ${kind}`);
    if (bytes.length > DEFAULT_MAX_DATAGRAM_BYTES) continue; // lists of long strings need not fit (PROTOCOL.md 2)
    const r = decode(bytes);
    if (!r.ok) assert.unreachable(`case ${i}: ${r.code} ${r.detail}`);
    else assert.equal(r.msg, m, `case ${i}`);
  }
});

test("4 GiB declared lengths (array32, str32, bin32, map32, ext32) are rejected without reading on", () => {
  const huge = "ffffffff";
  const cases: [string, DecodeErrorCode][] = [
    ["dd" + huge, DecodeErrorCode.NotArray],
    ["df" + huge, DecodeErrorCode.NotArray],
    ["db" + huge, DecodeErrorCode.NotArray],
    ["930144dd" + huge, DecodeErrorCode.Malformed],
    ["930144db" + huge, DecodeErrorCode.Malformed],
    ["930144c6" + huge, DecodeErrorCode.Malformed],
    ["930144df" + huge, DecodeErrorCode.Malformed],
    ["930144c9" + huge + "01", DecodeErrorCode.Malformed],
    ["970127010207" + "03dd" + huge, DecodeErrorCode.Malformed],
    ["99010100010203c0c6" + huge, DecodeErrorCode.WrongType],
    ["99010100010203c0c5ffff", DecodeErrorCode.WrongType],
    ["97011001070304c6" + huge, DecodeErrorCode.Malformed],
  ];
  for (const [hex, code] of cases) {
    // The datagram is a few bytes; padding it with a long tail must not change the answer.
    for (const tail of [0, 1000]) {
      const bytes = new Uint8Array(hex.length / 2 + tail);
      bytes.set(fromHex(hex));
      const r = mustNotThrow(bytes, hex);
      assert.ok(!r.ok && r.code === code, `${hex} + ${tail}: ${r.ok ? "ok" : `${r.code} ${r.detail}`}`);
    }
  }
});

test("decode keeps no state: one input gives one answer, before and after hostile input", () => {
  const probe = fromHex((valid.find((v) => v.name === "members-part-0-of-2") ?? { hex: "" }).hex);
  const first = decode(probe);
  mustNotThrow(fromHex("930144dd" + "ffffffff"), "huge");
  mustNotThrow(fromHex("9301"), "short");
  mustNotThrow(fromHex("930144c1"), "c1");
  assert.equal(decode(probe), first);
});

test.run();
