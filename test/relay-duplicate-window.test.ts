import { test } from "uvu";
import * as assert from "uvu/assert";
import { RelayGridError } from "../lib/errors.ts";
import { SeededRandom, randomInt } from "../lib/rng.ts";
import { DEFAULT_WINDOW_BITS, DuplicateWindow, SeqResult } from "../lib/relay/duplicate-window.ts";

const { Fresh, Duplicate, Stale } = SeqResult;

test("claim 18/19: a fresh seq is recorded and its repeat is a duplicate", () => {
  const w = new DuplicateWindow();
  assert.is(w.windowBits, DEFAULT_WINDOW_BITS);
  assert.is(w.highestSeq, undefined);
  assert.is(w.peek(7), Fresh);
  assert.is(w.check(7), Fresh);
  assert.is(w.highestSeq, 7);
  assert.is(w.peek(7), Duplicate);
  assert.is(w.check(7), Duplicate);
  assert.is(w.check(8), Fresh);
  assert.is(w.check(7), Duplicate);
  assert.is(w.check(8), Duplicate);
});

test("peek records nothing", () => {
  const w = new DuplicateWindow(32);
  w.check(100);
  assert.is(w.peek(90), Fresh);
  assert.is(w.peek(200), Fresh);
  assert.is(w.peek(50), Stale);
  assert.is(w.highestSeq, 100);
  assert.is(w.check(90), Fresh);
  assert.is(w.check(90), Duplicate);
});

test("wrap-around: 0xFFFFFFF0 .. 0x10 are all fresh once and duplicates after", () => {
  for (const bits of [32, 64, DEFAULT_WINDOW_BITS]) {
    const w = new DuplicateWindow(bits);
    const seqs: number[] = [];
    for (let s = 0xfffffff0; s !== 0x11; s = (s + 1) >>> 0) seqs.push(s);
    assert.is(seqs.length, 33);
    for (const s of seqs) assert.is(w.check(s), Fresh, `first ${s.toString(16)} (window ${bits})`);
    assert.is(w.highestSeq, 0x10);
    // With a 32-bit window the oldest one (0xFFFFFFF0) has slid out: 33 seqs > 32 slots.
    for (const s of seqs.slice(bits === 32 ? 1 : 0)) {
      assert.is(w.check(s), Duplicate, `repeat ${s.toString(16)} (window ${bits})`);
    }
    if (bits === 32) assert.is(w.check(0xfffffff0), Stale);
  }
});

test("wrap-around: a seq just before the wrap is older than 0", () => {
  const w = new DuplicateWindow(32);
  assert.is(w.check(0), Fresh);
  assert.is(w.check(0xffffffff), Fresh);
  assert.is(w.highestSeq, 0);
  assert.is(w.check(0xffffffff), Duplicate);
  assert.is(w.check(0xffffffe1), Fresh); // 31 behind: last slot in the window
  assert.is(w.check(0xffffffe0), Stale); // 32 behind
});

test("reordering inside the window is accepted once", () => {
  const w = new DuplicateWindow(64);
  assert.is(w.check(10), Fresh);
  for (const s of [5, 7, 3, 9, 12, 11]) assert.is(w.check(s), Fresh, `first ${s}`);
  assert.is(w.highestSeq, 12);
  for (const s of [5, 7, 3, 9, 12, 11, 10]) assert.is(w.check(s), Duplicate, `repeat ${s}`);
  for (const s of [4, 6, 8]) assert.is(w.check(s), Fresh, `gap ${s}`);
});

test("stale arrival beyond the window is rejected as stale", () => {
  const w = new DuplicateWindow(32);
  assert.is(w.check(100), Fresh);
  assert.is(w.check(69), Fresh); // 31 behind: the oldest slot
  assert.is(w.check(68), Stale); // 32 behind
  assert.is(w.check(68), Stale); // never recorded
  assert.is(w.check(0), Stale);
  assert.is(w.highestSeq, 100);
});

test("a jump of more than the window clears old bits", () => {
  const w = new DuplicateWindow(32);
  for (let s = 0; s < 32; s++) w.check(s);
  assert.is(w.check(1000), Fresh);
  // 969..999 share slots with 9..31 and 0..8, all of which were set before the jump.
  for (let s = 969; s < 1000; s++) assert.is(w.check(s), Fresh, `after jump ${s}`);
  assert.is(w.check(968), Stale);
});

test("a jump inside the window clears only the slots it passes over", () => {
  const w = new DuplicateWindow(64);
  for (let s = 0; s < 64; s++) assert.is(w.check(s), Fresh);
  assert.is(w.check(100), Fresh); // 37 ahead: slots of 64..100 cleared, wrapping the ring's end
  for (let s = 37; s < 64; s++) assert.is(w.check(s), Duplicate, `kept ${s}`);
  for (let s = 64; s < 100; s++) assert.is(w.check(s), Fresh, `cleared ${s}`);
  assert.is(w.check(36), Stale);
});

test("a jump of exactly the window clears everything", () => {
  const w = new DuplicateWindow(32);
  for (let s = 0; s < 32; s++) w.check(s);
  assert.is(w.check(63), Fresh);
  for (let s = 32; s < 63; s++) assert.is(w.check(s), Fresh, `${s}`);
  assert.is(w.check(31), Stale);
});

test("2^31 ambiguity", () => {
  const w = new DuplicateWindow(32);
  assert.is(w.check(0), Fresh);
  assert.is(w.peek(0x80000000), Stale);
  assert.is(w.check(0x80000000), Stale); // RFC 1982: undefined order, so not provably fresh
  assert.is(w.highestSeq, 0);
  assert.is(w.check(0x80000001), Stale); // 2^31 - 1 behind
  assert.is(w.check(0x7fffffff), Fresh); // 2^31 - 1 ahead: newer, a big jump
  assert.is(w.highestSeq, 0x7fffffff);
  assert.is(w.check(0), Stale);
  assert.is(w.check(0x7fffffe0), Fresh);
});

test("window size must be a power of two from 32 to 65536", () => {
  for (const bad of [0, 16, 96, 1000, 131072, 1.5, Number.NaN]) {
    assert.throws(
      () => new DuplicateWindow(bad),
      (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config" && e.message.includes(String(bad)),
      `windowBits ${bad}`,
    );
  }
  for (const good of [32, 64, 1024, 65536]) assert.is(new DuplicateWindow(good).windowBits, good);
});

test("reset forgets everything", () => {
  const w = new DuplicateWindow(32);
  w.check(5);
  w.reset();
  assert.is(w.highestSeq, undefined);
  assert.is(w.check(5), Fresh);
  assert.is(w.check(500), Fresh);
});

/**
 * Reference model: a Set of every seq recorded and the newest seq, with "inside the window"
 * judged from a plain distance. Arrivals are a seeded stream that starts near the u32 wrap,
 * moves mostly forward, repeats recent seqs, reorders within a span and sometimes jumps.
 */
test("property: matches a Set model under duplicates, reordering, wrap and jumps", () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    for (const bits of [32, 256, DEFAULT_WINDOW_BITS]) {
      const rng = new SeededRandom(seed);
      const w = new DuplicateWindow(bits);
      const seen = new Set<number>();
      const recent: number[] = [];
      let highest: number | undefined;
      let next = (0xffffffff - randomInt(rng, 4 * bits)) >>> 0; // crosses the wrap during the run
      const counts = [0, 0, 0];
      for (let i = 0; i < 20000; i++) {
        const roll = rng.next();
        let seq: number;
        if (roll < 0.45) seq = next = (next + 1 + randomInt(rng, 3)) >>> 0;
        else if (roll < 0.75 && recent.length > 0) seq = recent[randomInt(rng, recent.length)] as number;
        else if (roll < 0.95) seq = (next - randomInt(rng, Math.floor(bits * 1.5))) >>> 0;
        else if (roll < 0.998) seq = (next + randomInt(rng, bits / 2)) >>> 0; // arrives early
        else seq = next = (next + bits + randomInt(rng, 100000)) >>> 0;
        recent.push(seq);
        if (recent.length > 2 * bits) recent.shift();

        let expected: SeqResult;
        if (highest === undefined) expected = Fresh;
        else {
          const ahead = (seq - highest) >>> 0;
          if (ahead > 0 && ahead < 0x80000000) expected = Fresh;
          else if (((highest - seq) >>> 0) >= bits) expected = Stale;
          else expected = seen.has(seq) ? Duplicate : Fresh;
        }
        const got = w.check(seq);
        if (got !== expected) {
          assert.unreachable(`seed ${seed} window ${bits} step ${i}: seq ${seq} got ${got}, expected ${expected}`);
        }
        counts[got] = (counts[got] as number) + 1;
        if (expected === Fresh) {
          seen.add(seq);
          if (highest === undefined || (((seq - highest) >>> 0) > 0 && ((seq - highest) >>> 0) < 0x80000000)) {
            highest = seq;
          }
        }
      }
      assert.is(w.highestSeq, highest);
      // The stream must exercise all three outcomes, or the comparison proves little.
      for (const r of [Fresh, Duplicate, Stale]) assert.ok((counts[r] as number) > 500, `seed ${seed} window ${bits} result ${r}: ${counts[r]}`);
    }
  }
});

test.run();
