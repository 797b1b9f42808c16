/**
 * PROTOCOL.md "Test vectors" (STYLE 9: vectors both ways, and every prefix). The hex of each
 * valid vector comes from @msgpack/msgpack, not from wire/codec.ts (scripts/gen-vectors.ts).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode as referenceDecode } from "@msgpack/msgpack";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  DecodeErrorCode,
  decode,
  encode,
  encodeInto,
  Kind,
  kindName,
  MIN_HELLO_BYTES,
  peekKind,
  TAG_BYTES,
  TAG_FIELD_BYTES,
} from "../wire/index.ts";
import { fromHex, positional, readVectorFiles, toHex, vectorFiles } from "../scripts/gen-vectors.ts";

const { text, valid, invalid } = readVectorFiles();

test("vector files are what scripts/gen-vectors.ts writes (run it after a schema change)", () => {
  const fresh = vectorFiles();
  assert.ok(fresh.messages === text.messages, "test/vectors/messages.json is stale: npx tsx scripts/gen-vectors.ts");
  assert.ok(fresh.invalid === text.invalid, "test/vectors/invalid.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("vectors cover every kind in Kind, and names are unique", () => {
  const covered = new Set(valid.map((v) => v.msg.kind));
  for (const [name, kind] of Object.entries(Kind)) assert.ok(covered.has(kind), `no vector for ${name}`);
  assert.is(new Set(valid.map((v) => v.name)).size, valid.length);
  assert.is(new Set(invalid.map((v) => v.name)).size, invalid.length);
  for (const v of valid) assert.is(v.kind, kindName(v.msg.kind), v.name);
});

test("every vector fits a datagram; one is exactly DEFAULT_MAX_DATAGRAM_BYTES", () => {
  for (const v of valid) assert.ok(v.hex.length / 2 <= DEFAULT_MAX_DATAGRAM_BYTES, v.name);
  assert.ok(valid.some((v) => v.hex.length / 2 === DEFAULT_MAX_DATAGRAM_BYTES));
});

test("encode: every vector gives the reference encoder's bytes", () => {
  for (const v of valid) assert.is(toHex(encode(v.msg)), v.hex, v.name);
});

test("encodeInto: every vector at an offset, returning the bytes written", () => {
  const buf = new Uint8Array(DEFAULT_MAX_DATAGRAM_BYTES + 64);
  for (const v of valid) {
    buf.fill(0xee);
    const n = encodeInto(v.msg, buf, 13);
    assert.is(n, v.hex.length / 2, v.name);
    assert.is(toHex(buf.subarray(13, 13 + n)), v.hex, v.name);
    assert.ok(buf.subarray(0, 13).every((b) => b === 0xee), `${v.name}: wrote before offset`);
  }
});

test("decode: every vector gives back its msg", () => {
  for (const v of valid) {
    const r = decode(fromHex(v.hex));
    if (!r.ok) assert.unreachable(`${v.name}: ${r.code} ${r.detail}`);
    else assert.equal(r.msg, v.msg, v.name);
  }
});

test("any MessagePack library decodes a datagram: @msgpack/msgpack gives the positional array", () => {
  for (const v of valid) assert.equal(referenceDecode(fromHex(v.hex)), positional(v.msg), v.name);
});

test("peekKind: the kind of every vector from its first three bytes", () => {
  for (const v of valid) assert.is(peekKind(fromHex(v.hex)), v.msg.kind, v.name);
  assert.is(peekKind(fromHex("9301")), -1);
  assert.is(peekKind(fromHex("930244")), -1);
  assert.is(peekKind(fromHex("dc000301")), -1);
});

test("every strict prefix of every vector decodes as truncated", () => {
  for (const v of valid) {
    const bytes = fromHex(v.hex);
    for (let n = 0; n < bytes.length; n++) {
      const r = decode(bytes.subarray(0, n));
      assert.ok(!r.ok && r.code === DecodeErrorCode.Truncated, `${v.name} prefix ${n}: ${r.ok ? "ok" : r.code}`);
    }
  }
});

test("every vector plus one byte decodes as trailing-bytes (oversized past 1200 bytes)", () => {
  for (const v of valid) {
    const bytes = fromHex(v.hex);
    const expected =
      bytes.length + 1 > DEFAULT_MAX_DATAGRAM_BYTES ? DecodeErrorCode.Oversized : DecodeErrorCode.TrailingBytes;
    for (const extra of [0x00, 0xc0, 0xc1, 0xff]) {
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      longer[bytes.length] = extra;
      const r = decode(longer);
      assert.ok(!r.ok && r.code === expected, `${v.name} + ${extra}: ${r.ok ? "ok" : r.code}`);
    }
  }
});

test("invalid vectors decode to their DecodeErrorCode, with a detail", () => {
  for (const v of invalid) {
    const r = decode(fromHex(v.hex));
    if (r.ok) assert.unreachable(`${v.name} decoded: ${JSON.stringify(r.msg)}`);
    else {
      assert.is(r.code, v.code, `${v.name} (${v.why}): ${r.detail}`);
      assert.ok(r.detail.length > 0, v.name);
    }
  }
});

test("invalid vectors cover every DecodeErrorCode", () => {
  const codes = new Set(invalid.map((v) => v.code));
  for (const code of Object.values(DecodeErrorCode)) assert.ok(codes.has(code), `no invalid vector for ${code}`);
});

test("decode honours a smaller maxDatagramBytes", () => {
  const v = valid.find((x) => x.hex.length / 2 > 100);
  assert.ok(v !== undefined);
  const r = decode(fromHex(v.hex), 100);
  assert.ok(!r.ok && r.code === DecodeErrorCode.Oversized);
});

// PROTOCOL.md 5.3: receivers of kinds other than Data check values, not encodings; Data's
// envelope accepts any uint width and bin16 for a short payload. Senders never rely on it.
test("PROTOCOL.md 5.3: tolerated non-canonical encodings", () => {
  const ack5 = { kind: Kind.Ack, req: 5 };
  for (const req of ["cd0005", "ce00000005", "cf0000000000000005", "d005", "d30000000000000005", "cb4014000000000000"]) {
    assert.equal(decode(fromHex("930144" + req)), { ok: true, msg: ack5 }, req);
  }
  // A str 8 name and a bin 16 cookie, eph and pad: other kinds check values, not formats.
  const eph = "00".repeat(32);
  assert.equal(decode(fromHex(`970120 01 d90161 c50000 c50020${eph} c50000`.replace(/ /g, ""))), {
    ok: true,
    msg: { kind: Kind.Hello, req: 1, name: "a", cookie: new Uint8Array(0), eph: new Uint8Array(32), pad: new Uint8Array(0) },
  });
  const tag = "c409" + "02" + "ab".repeat(8);
  const data = decode(fromHex("99010100ce00000001cd0002cc03c0c5000161" + tag));
  const tagBytes = fromHex("02" + "ab".repeat(8));
  assert.equal(data, {
    ok: true,
    msg: { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array([0x61]), tag: tagBytes },
  });
  // Re-encoding gives the canonical form.
  if (data.ok) assert.is(toHex(encode(data.msg)), "99010100010203c0c40161" + tag);
  // The Data tag is not tolerant: it is always bin 8 of 9 (c4 09), never bin 16.
  const r = decode(fromHex("99010100010203c0c40161c50009" + "00".repeat(9)));
  assert.ok(!r.ok && r.code === DecodeErrorCode.WrongType);
});

test("Data: the tag is a view of the datagram's last 9 bytes; encode writes the tag it is given", () => {
  for (const v of valid.filter((x) => x.msg.kind === Kind.Data)) {
    const bytes = fromHex(v.hex);
    const r = decode(bytes);
    if (!r.ok || r.msg.kind !== Kind.Data) assert.unreachable(v.name);
    else {
      assert.is(r.msg.tag.length, TAG_BYTES, v.name);
      assert.is(r.msg.tag.buffer, bytes.buffer, `${v.name}: tag is not a view`);
      assert.is(r.msg.tag.byteOffset, bytes.length - TAG_BYTES, v.name);
    }
  }
  const covered = new Set(valid.filter((x) => x.msg.kind === Kind.Data).map((x) => toHex((x.msg as { tag: Uint8Array }).tag)));
  assert.ok(covered.has("00".repeat(TAG_BYTES)), "a Data vector with the all-zero tag");
  assert.ok(covered.size >= 4, "Data vectors with arbitrary tags");
});

test("security fields: every peer <-> peer kind and Data end with the tag; Hellos are padded to MIN_HELLO_BYTES", () => {
  for (const v of valid) {
    const bytes = fromHex(v.hex);
    const k = v.msg.kind;
    if (k === Kind.Data || (k >= 0x10 && k <= 0x1f)) {
      assert.is(bytes[bytes.length - TAG_FIELD_BYTES], 0xc4, `${v.name}: tag header`);
      assert.is(bytes[bytes.length - TAG_FIELD_BYTES + 1], TAG_BYTES, `${v.name}: tag length`);
    }
    if (k === Kind.Hello && v.name !== "hello-unpadded-decodes") assert.ok(bytes.length >= MIN_HELLO_BYTES, `${v.name}: ${bytes.length} bytes`);
    if (k === Kind.Hello && v.name.startsWith("hello") && bytes.length < 200) {
      const hello = v.msg as { pad: Uint8Array };
      assert.ok(hello.pad.every((b) => b === 0), `${v.name}: pad is zeros`);
    }
  }
  // Every reply the lobby may send an unvalidated source is within 3x of the smallest Hello.
  const smallest = Math.min(...valid.filter((v) => v.msg.kind === Kind.Hello && v.name !== "hello-unpadded-decodes").map((v) => v.hex.length / 2));
  assert.is(smallest, MIN_HELLO_BYTES);
  for (const v of valid.filter((x) => x.msg.kind === Kind.Retry)) assert.ok(v.hex.length / 2 <= 3 * MIN_HELLO_BYTES, v.name);
});

test.run();
