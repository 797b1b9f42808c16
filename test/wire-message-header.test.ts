/**
 * The message header (PROTOCOL.md 4.1.1): round trips for every flag combination, and every
 * malformed header (truncated, unknown flags, ORDERED alone, fragment index or count out of
 * range, an empty fragment, team 0) is refused, never misread; random bytes never throw.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import { MAX_FRAGMENTS, MAX_FRAGMENT_BYTES, MAX_MESSAGE_BYTES, MessageFlag, messageHeaderBytes, newMessageHeader, readMessageHeader, writeMessageHeader } from "../wire/index.ts";

const F = MessageFlag;

test("every valid flag combination round-trips, and the body follows the header", () => {
  for (let flags = 0; flags < 16; flags++) {
    if (flags & F.Ordered && !(flags & F.Reliable)) continue;
    const b = new Uint8Array(messageHeaderBytes(flags) + 3);
    const at = writeMessageHeader(b, 0, flags, 0xfffffffe, 230, 231, 0x80000001);
    b.set([7, 8, 9], at);
    const h = newMessageHeader();
    assert.ok(readMessageHeader(b, 0, b.length, h), `flags ${flags}`);
    assert.is(h.flags, flags);
    assert.is(h.prev, flags & F.Reliable ? 0xfffffffe : 0);
    assert.is(h.index, flags & F.Fragment ? 230 : 0);
    assert.is(h.count, flags & F.Fragment ? 231 : 1);
    assert.is(h.team, flags & F.Team ? 0x80000001 : 0);
    assert.equal([...b.subarray(h.bodyOffset, h.bodyOffset + h.bodyLength)], [7, 8, 9]);
  }
});

test("the limits: 256 KiB messages in 231 fragments of at most 1137 bytes", () => {
  assert.is(MAX_MESSAGE_BYTES, 262144);
  assert.is(MAX_FRAGMENT_BYTES, 1137);
  assert.is(MAX_FRAGMENTS, 231);
});

test("malformed headers are refused: empty, unknown flags, ORDERED without RELIABLE, truncated fields, fragment count and index, empty fragment, team 0", () => {
  const h = newMessageHeader();
  const no = (bytes: number[], why: string): void => assert.not.ok(readMessageHeader(Uint8Array.from(bytes), 0, bytes.length, h), why);
  no([], "empty payload");
  no([0x10], "bit 4");
  no([0x80, 1], "bit 7");
  no([0x02, 0, 0, 0, 1], "ordered without reliable");
  no([0x01, 0, 0, 0], "prev truncated");
  no([0x04, 0, 0, 0], "index/count truncated");
  no([0x04, 0, 0, 0, 1, 9], "count 1");
  no([0x04, 0, 2, 0, 2, 9], "index 2 of 2");
  no([0x04, 0, 0, 0, 232, 9], "count 232 > 231");
  no([0x04, 0, 0, 0, 2], "an empty fragment");
  no([0x08, 0, 0, 0, 0, 9], "team 0");
  no([0x08, 0, 0, 1], "team truncated");
  // Offsets are honoured: a header inside a larger buffer reads only its own bytes.
  const b = Uint8Array.from([0xff, 0x01, 0, 0, 0, 9, 0xff]);
  assert.ok(readMessageHeader(b, 1, 5, h));
  assert.is(h.prev, 9);
  assert.is(h.bodyLength, 0);
  assert.not.ok(readMessageHeader(b, 1, 4, h), "the length, not the buffer, bounds it");
});

test("10000 random payloads: readMessageHeader never throws and a header it accepts stays inside the payload", () => {
  const rng = new SeededRandom(14);
  const h = newMessageHeader();
  for (let i = 0; i < 10_000; i++) {
    const n = rng.nextU32() % 24;
    const b = Uint8Array.from({ length: n }, () => (i % 3 === 0 ? rng.nextU32() & 0x0f : rng.nextU32() & 0xff));
    if (!readMessageHeader(b, 0, n, h)) continue;
    assert.ok(h.bodyOffset + h.bodyLength === n && h.bodyOffset <= n);
    assert.ok(h.count >= 1 && h.index < h.count);
  }
});

test.run();
