/**
 * ReplyTimer (relaygrid_lobby_reply_duration_seconds): a datagram's time runs from the `now`
 * it was handed in with until the drain that finds no more transmits, it is filed under its
 * request kind, and it passes everything else through untouched. A fake clock: no timing is
 * asserted, only arithmetic on readings the test chose.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby } from "../lib/lobby/index.ts";
import { SeededRandom } from "../lib/rng.ts";
import { encode } from "../wire/codec.ts";
import { REPLY_BUCKETS_SECONDS, ReplyTimer } from "../platform/node/reply-timer.ts";
import { helloMessage } from "./lobby-harness.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";

function drain(t: ReplyTimer<unknown>): number {
  let n = 0;
  while (t.pollTransmit() !== undefined) n++;
  while (t.pollEvent() !== undefined);
  return n;
}

test("reply timer: a Hello's time runs until its Retry is drained, filed under hello", () => {
  let clock = 0;
  const lobby = new Lobby({ random: new SeededRandom(3), crypto: new SeededNodeCrypto(3) });
  const timer = new ReplyTimer(lobby, () => clock);
  timer.handleDatagram(10, "10.1.0.1:4000", encode(helloMessage(1, "p")));
  clock = 10.3; // the drain ends 0.3 ms after the datagram arrived
  assert.is(drain(timer), 1, "the Retry passes through");
  const h = timer.snapshot().hello;
  assert.is(h.count, 1);
  assert.ok(Math.abs(h.sumSeconds - 0.0003) < 1e-12);
  // 0.3 ms lands in the (0.00025, 0.0005] bucket.
  const bucket = REPLY_BUCKETS_SECONDS.indexOf(0.0005);
  assert.equal(h.counts.map((c, i) => (i === bucket ? c - 1 : c)).filter((c) => c !== 0), []);
  assert.is(timer.snapshot().heartbeat.count, 0);
});

test("reply timer: datagrams handled before one drain each get their full wait; junk is 'other'", () => {
  let clock = 0;
  const lobby = new Lobby({ random: new SeededRandom(4), crypto: new SeededNodeCrypto(4) });
  const timer = new ReplyTimer(lobby, () => clock);
  timer.handleDatagram(0, "10.1.0.1:4000", encode(helloMessage(1, "a")));
  timer.handleDatagram(1, "10.1.0.2:4000", encode(helloMessage(1, "b")));
  timer.handleDatagram(2, "10.1.0.3:4000", new Uint8Array([0xc1, 0xc1, 0xc1]));
  timer.handleDatagram(2, "10.1.0.3:4000", new Uint8Array(0));
  clock = 5;
  drain(timer);
  const s = timer.snapshot();
  assert.is(s.hello.count, 2);
  assert.ok(Math.abs(s.hello.sumSeconds - 0.009) < 1e-12, "5 ms + 4 ms");
  assert.is(s.other.count, 2);
  assert.is(s.hello.counts.reduce((a, b) => a + b, 0), 2, "buckets add up to the count");
  // A drain with nothing waiting records nothing; time going on does not either.
  clock = 1000;
  drain(timer);
  assert.is(timer.snapshot().hello.count, 2);
  // A wait past every bound is counted in the last (+Inf) slot.
  timer.handleDatagram(1000, "10.1.0.4:4000", encode(helloMessage(1, "c")));
  clock = 3000;
  drain(timer);
  assert.is(timer.snapshot().hello.counts[REPLY_BUCKETS_SECONDS.length], 1);
});

test("reply timer: timeouts, polls and events pass through to the lobby", () => {
  const lobby = new Lobby({ random: new SeededRandom(5), crypto: new SeededNodeCrypto(5) });
  const timer = new ReplyTimer(lobby, () => 0);
  assert.is(timer.pollTimeout(), lobby.pollTimeout());
  timer.handleTimeout(100);
  assert.is(timer.pollEvent(), undefined);
  const copy = timer.snapshot();
  (copy.hello.counts as number[])[0] = 99;
  assert.is(timer.snapshot().hello.counts[0], 0, "snapshot() is a copy");
});

test.run();
