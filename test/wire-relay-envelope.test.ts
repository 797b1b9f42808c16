/**
 * PROTOCOL.md 4.1: the hand-written relay envelope (wire/relay-envelope.ts) writes exactly the
 * bytes @msgpack/msgpack writes for `[1, 0x01, hops, grid, origin, seq, target, payload, tag]`,
 * and forwarding patches one byte at RELAY_HOPS_OFFSET.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom, randomInt, type Random } from "../lib/rng.ts";
import {
  DecodeErrorCode,
  decode,
  encode,
  encodeInto,
  ErrorCode,
  Kind,
  MAX_HOPS,
  MAX_PAYLOAD_BYTES,
  newRelayHeader,
  readRelay,
  RELAY_HOPS_OFFSET,
  RelayGridError,
  relaySizeBound,
  TAG_BYTES,
  TAG_FIELD_BYTES,
  writeRelay,
  type MessageOf,
} from "../wire/index.ts";

type Data = MessageOf<typeof Kind.Data>;

const BOUNDARIES = [0, 1, 127, 128, 255, 256, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const PAYLOAD_SIZES = [0, 1, 127, 128, 255, 256, 1023, MAX_PAYLOAD_BYTES - 1, MAX_PAYLOAD_BYTES];

function u32(rng: Random): number {
  // Half boundary values, half uniform: every encoding width shows up often.
  return rng.next() < 0.5 ? (BOUNDARIES[randomInt(rng, BOUNDARIES.length)] as number) : rng.nextU32();
}

function randomData(rng: Random): Data {
  const size =
    rng.next() < 0.5 ? (PAYLOAD_SIZES[randomInt(rng, PAYLOAD_SIZES.length)] as number) : randomInt(rng, MAX_PAYLOAD_BYTES + 1);
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = rng.nextU32() & 0xff;
  return {
    kind: Kind.Data,
    hops: rng.next() < 0.2 ? (rng.next() < 0.5 ? 0 : MAX_HOPS) : randomInt(rng, MAX_HOPS + 1),
    grid: u32(rng),
    origin: u32(rng),
    seq: u32(rng),
    target: rng.next() < 0.3 ? null : u32(rng),
    payload,
    tag: randomTag(rng),
  };
}

/** Zeros (an unsigned envelope) a quarter of the time, else random bytes. */
function randomTag(rng: Random): Uint8Array {
  const tag = new Uint8Array(TAG_BYTES);
  if (rng.next() < 0.75) for (let i = 0; i < TAG_BYTES; i++) tag[i] = rng.nextU32() & 0xff;
  return tag;
}

function reference(m: Data): Uint8Array {
  return referenceEncode([1, Kind.Data, m.hops, m.grid, m.origin, m.seq, m.target, m.payload, m.tag]);
}

function write(m: Data, buf: Uint8Array, offset: number): number {
  return writeRelay(buf, offset, m.hops, m.grid, m.origin, m.seq, m.target, m.payload, m.tag);
}

const NO_TAG = new Uint8Array(TAG_BYTES);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

test("writeRelay is byte-identical to @msgpack/msgpack for 3000 seeded headers", () => {
  const rng = new SeededRandom(0x4e1a7);
  const buf = new Uint8Array(relaySizeBound(MAX_PAYLOAD_BYTES));
  for (let i = 0; i < 3000; i++) {
    const m = randomData(rng);
    const n = write(m, buf, 0);
    const ref = reference(m);
    assert.ok(sameBytes(buf.subarray(0, n), ref), `case ${i}: ${JSON.stringify({ ...m, payload: m.payload.length })}`);
    assert.ok(n <= relaySizeBound(m.payload.length), `case ${i}: ${n} > relaySizeBound`);
    assert.ok(sameBytes(encode(m), ref), `case ${i}: encode()`);
  }
});

test("every uint boundary in every header field, payloads 0/1/255/256/1150", () => {
  const buf = new Uint8Array(relaySizeBound(MAX_PAYLOAD_BYTES));
  for (const size of [0, 1, 255, 256, MAX_PAYLOAD_BYTES]) {
    const payload = new Uint8Array(size).fill(0xab);
    for (const v of BOUNDARIES) {
      for (const m of [
        { kind: Kind.Data, hops: 0, grid: v, origin: 1, seq: 2, target: null, payload, tag: NO_TAG },
        { kind: Kind.Data, hops: 127, grid: 3, origin: v, seq: 4, target: v, payload, tag: NO_TAG },
        { kind: Kind.Data, hops: v & 0x7f, grid: 5, origin: 6, seq: v, target: 0, payload, tag: NO_TAG },
      ] satisfies Data[]) {
        const n = write(m, buf, 0);
        assert.ok(sameBytes(buf.subarray(0, n), reference(m)), `size ${size} value ${v}`);
      }
    }
  }
});

test("readRelay reads what writeRelay wrote, and @msgpack/msgpack decodes it to the array", () => {
  const rng = new SeededRandom(7);
  const buf = new Uint8Array(relaySizeBound(MAX_PAYLOAD_BYTES));
  const h = newRelayHeader();
  for (let i = 0; i < 1000; i++) {
    const m = randomData(rng);
    const bytes = buf.subarray(0, write(m, buf, 0));
    assert.is(readRelay(bytes, h), null, `case ${i}`);
    assert.equal(
      [h.hops, h.grid, h.origin, h.seq, h.target, bytes.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)],
      [m.hops, m.grid, m.origin, m.seq, m.target, m.payload],
      `case ${i}`,
    );
    assert.is(h.tagOffset, bytes.length - TAG_FIELD_BYTES, `case ${i}: tagOffset`);
    assert.ok(sameBytes(bytes.subarray(h.tagOffset + 2), m.tag), `case ${i}: tag bytes`);
    const arr = referenceDecode(bytes) as unknown[];
    assert.equal(arr.slice(0, 7), [1, Kind.Data, m.hops, m.grid, m.origin, m.seq, m.target]);
    assert.ok(sameBytes(arr[7] as Uint8Array, m.payload), `case ${i}: payload`);
    assert.ok(sameBytes(arr[8] as Uint8Array, m.tag), `case ${i}: tag`);
    const r = decode(bytes);
    assert.ok(
      r.ok && r.msg.kind === Kind.Data && sameBytes(r.msg.payload, m.payload) && sameBytes(r.msg.tag, m.tag),
      `case ${i}: decode()`,
    );
  }
});

test("writeRelay at a nonzero offset touches only its own bytes; readRelay reads the subarray", () => {
  const rng = new SeededRandom(99);
  const buf = new Uint8Array(4096);
  const h = newRelayHeader();
  for (let i = 0; i < 200; i++) {
    const m = randomData(rng);
    const offset = 1 + randomInt(rng, 4096 - relaySizeBound(m.payload.length) - 1);
    buf.fill(0x5a);
    const n = write(m, buf, offset);
    assert.ok(sameBytes(buf.subarray(offset, offset + n), reference(m)), `case ${i}`);
    assert.ok(buf.subarray(0, offset).every((b) => b === 0x5a), `case ${i}: bytes before offset changed`);
    assert.ok(buf.subarray(offset + n).every((b) => b === 0x5a), `case ${i}: bytes after the envelope changed`);
    assert.is(readRelay(buf.subarray(offset, offset + n), h), null);
    assert.is(h.payloadLength, m.payload.length);
    // encodeInto at the same offset agrees.
    const other = new Uint8Array(4096);
    assert.is(encodeInto(m, other, offset), n);
    assert.ok(sameBytes(other.subarray(offset, offset + n), buf.subarray(offset, offset + n)));
  }
});

test("forwarding: patching the byte at RELAY_HOPS_OFFSET changes hops and nothing else", () => {
  assert.is(RELAY_HOPS_OFFSET, 3);
  const rng = new SeededRandom(3);
  const h = newRelayHeader();
  for (let i = 0; i < 300; i++) {
    const m = randomData(rng);
    const bytes = encode(m);
    const hops = randomInt(rng, MAX_HOPS + 1);
    bytes[RELAY_HOPS_OFFSET] = hops;
    // The patched datagram is exactly a fresh encoding with the new hops.
    assert.ok(sameBytes(bytes, reference({ ...m, hops })), `case ${i}`);
    assert.is(readRelay(bytes, h), null);
    assert.equal([h.hops, h.grid, h.origin, h.seq, h.target, h.payloadLength], [hops, m.grid, m.origin, m.seq, m.target, m.payload.length]);
    assert.ok(sameBytes(bytes.subarray(h.tagOffset + 2), m.tag), `case ${i}: the tag travels unchanged`);
  }
});

test("writeRelay with a null tag writes the tag field as c4 09 and 9 zeros, to be signed in place", () => {
  const rng = new SeededRandom(11);
  const buf = new Uint8Array(relaySizeBound(MAX_PAYLOAD_BYTES));
  for (let i = 0; i < 200; i++) {
    const m = randomData(rng);
    buf.fill(0xee);
    const n = writeRelay(buf, 0, m.hops, m.grid, m.origin, m.seq, m.target, m.payload, null);
    assert.ok(sameBytes(buf.subarray(0, n), reference({ ...m, tag: NO_TAG })), `case ${i}`);
    assert.ok(sameBytes(buf.subarray(n - TAG_FIELD_BYTES, n), Uint8Array.of(0xc4, TAG_BYTES, ...NO_TAG)), `case ${i}`);
    // Omitting the argument is the same as null.
    const other = new Uint8Array(buf.length).fill(0x11);
    assert.is(writeRelay(other, 0, m.hops, m.grid, m.origin, m.seq, m.target, m.payload), n);
    assert.ok(sameBytes(other.subarray(0, n), buf.subarray(0, n)), `case ${i}: default tag`);
  }
});

test("hops above MAX_HOPS (127) do not fit the one-byte field: wrong-type on read", () => {
  const bytes = encode({ kind: Kind.Data, hops: 127, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(2), tag: NO_TAG });
  const h = newRelayHeader();
  for (const b of [0x80, 0xcc, 0xc0, 0xe0, 0xff]) {
    bytes[RELAY_HOPS_OFFSET] = b;
    assert.is(readRelay(bytes, h), DecodeErrorCode.WrongType, `hops byte 0x${b.toString(16)}`);
  }
});

test("encode rejects a payload over MAX_PAYLOAD_BYTES with the numbers in the message", () => {
  for (const size of [MAX_PAYLOAD_BYTES + 1, 1400, 65536]) {
    const m: Data = { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(size), tag: NO_TAG };
    for (const run of [() => encode(m), () => encodeInto(m, new Uint8Array(70000), 0)]) {
      try {
        run();
        assert.unreachable(`payload ${size} encoded`);
      } catch (e) {
        assert.instance(e, RelayGridError);
        const err = e as RelayGridError;
        assert.is(err.code, ErrorCode.InvalidConfig);
        assert.match(err.message, "payload");
        assert.match(err.message, String(size));
        assert.match(err.message, String(MAX_PAYLOAD_BYTES));
      }
    }
  }
  // The largest payload encodes, in at most relaySizeBound bytes.
  const max: Data = { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(MAX_PAYLOAD_BYTES), tag: NO_TAG };
  assert.ok(encode(max).length <= relaySizeBound(MAX_PAYLOAD_BYTES));
});

test("encodeInto rejects a buffer smaller than relaySizeBound, naming both sizes", () => {
  const m: Data = { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(100), tag: NO_TAG };
  try {
    encodeInto(m, new Uint8Array(200), 80);
    assert.unreachable("encoded into 120 bytes");
  } catch (e) {
    assert.instance(e, RelayGridError);
    assert.is((e as RelayGridError).code, ErrorCode.InvalidConfig);
    assert.match((e as RelayGridError).message, "120");
    assert.match((e as RelayGridError).message, String(relaySizeBound(100)));
  }
});

test("worst-case envelope, the 11-byte tag and the 12 reserved bytes make the 1200-byte datagram (PROTOCOL.md 2)", () => {
  const worst: Data = {
    kind: Kind.Data, hops: 127, grid: 0xffffffff, origin: 0xffffffff, seq: 0xffffffff, target: 0xffffffff,
    payload: new Uint8Array(MAX_PAYLOAD_BYTES), tag: NO_TAG,
  };
  assert.is(encode(worst).length, 27 + MAX_PAYLOAD_BYTES + TAG_FIELD_BYTES);
  assert.is(relaySizeBound(MAX_PAYLOAD_BYTES), 27 + MAX_PAYLOAD_BYTES + TAG_FIELD_BYTES);
  assert.is(relaySizeBound(MAX_PAYLOAD_BYTES) + 12, 1200);
});

test.run();
