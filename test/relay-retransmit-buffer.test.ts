/**
 * The retransmit buffer repair answers from (lib/relay/retransmit-buffer.ts): every envelope
 * findable by (origin, seq) until it is evicted, oldest first whatever its origin, and never
 * more than maxMessages envelopes or maxBytes bytes (bookkeeping included), whatever arrives.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ENTRY_OVERHEAD_BYTES, MAX_INDEX_SLOTS, newOriginIndex, RetransmitBuffer } from "../lib/relay/retransmit-buffer.ts";
import { SeededRandom } from "../lib/rng.ts";
import { assertInvalidConfig } from "./support/invalid-config.ts";

const env = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

test("stores and finds envelopes by (origin, seq) with their hops and sender; the same seq again replaces it", () => {
  const buf = new RetransmitBuffer(64, 1 << 20);
  const a = newOriginIndex(5);
  const b = newOriginIndex(6);
  buf.store(a, 10, 2, 77, env(40, 1));
  buf.store(b, 10, 0, 6, env(50, 2));
  const id = buf.find(a, 10);
  assert.ok(id >= 0);
  assert.equal([buf.bytesOf(id)[0], buf.hopsOf(id), buf.fromOf(id)], [1, 2, 77]);
  assert.is(buf.bytesOf(buf.find(b, 10))[0], 2);
  assert.is(buf.find(a, 11), -1);
  buf.store(a, 10, 3, 78, env(40, 3));
  assert.is(buf.size, 2);
  assert.is(buf.hopsOf(buf.find(a, 10)), 3);
});

test("bounded by messages and by bytes: the oldest goes first, whatever its origin", () => {
  const buf = new RetransmitBuffer(4, 4096);
  const o = [newOriginIndex(1), newOriginIndex(2)];
  for (let s = 0; s < 6; s++) buf.store(o[s % 2] as ReturnType<typeof newOriginIndex>, s, 0, 0, env(10, s));
  assert.is(buf.size, 4);
  assert.equal([0, 1, 2, 3, 4, 5].map((s) => buf.has(o[s % 2] as ReturnType<typeof newOriginIndex>, s)), [false, false, true, true, true, true]);
  const small = new RetransmitBuffer(1000, 2048);
  const x = newOriginIndex(9);
  for (let s = 0; s < 100; s++) small.store(x, s, 0, 0, env(400, 1));
  assert.ok(small.bytesHeld <= 2048, `${small.bytesHeld} bytes`);
  assert.is(small.size, Math.floor(2048 / (400 + ENTRY_OVERHEAD_BYTES)));
  assert.ok(small.has(x, 99) && !small.has(x, 90));
  small.store(x, 100, 0, 0, env(4000, 1)); // larger than the whole budget: not kept, nothing evicted
  assert.not.ok(small.has(x, 100));
  assert.ok(small.has(x, 99));
});

test("a model check: 20,000 seeded stores over 16 origins with wrap-around seqs; every envelope stored recently enough is found, nothing else", () => {
  const rng = new SeededRandom(3);
  const max = 256;
  const buf = new RetransmitBuffer(max, 1 << 24);
  const idx = Array.from({ length: 16 }, (_, i) => newOriginIndex(i));
  const next = idx.map(() => 0xffffff00);
  const order: [number, number][] = [];
  for (let k = 0; k < 20_000; k++) {
    const o = Math.floor(rng.next() * 16);
    const seq = (next[o] as number) >>> 0;
    next[o] = (seq + 1) >>> 0;
    buf.store(idx[o] as ReturnType<typeof newOriginIndex>, seq, 0, 0, env(8, o));
    order.push([o, seq]);
  }
  // The newest `max` stores, as long as no origin had more than MAX_INDEX_SLOTS of them.
  const recent = order.slice(-max);
  for (const [o, seq] of recent) assert.ok(buf.has(idx[o] as ReturnType<typeof newOriginIndex>, seq), `${o}:${seq}`);
  for (const [o, seq] of order.slice(0, -max)) assert.not.ok(buf.has(idx[o] as ReturnType<typeof newOriginIndex>, seq), `${o}:${seq} is gone`);
  assert.ok(MAX_INDEX_SLOTS >= 16);
  assert.is(buf.size, max);
});

test("forget() drops an origin's envelopes; bad bounds are a typed error", () => {
  const buf = new RetransmitBuffer(16, 1 << 16);
  const a = newOriginIndex(1);
  for (let s = 0; s < 5; s++) buf.store(a, s, 0, 0, env(20, 1));
  buf.forget(a);
  assert.is(buf.size, 0);
  assert.is(buf.bytesHeld, 0);
  assertInvalidConfig(() => new RetransmitBuffer(0, 1 << 16), /repairBufferMessages/);
  assertInvalidConfig(() => new RetransmitBuffer(16, 100), /repairBufferBytes/);
});

test.run();
