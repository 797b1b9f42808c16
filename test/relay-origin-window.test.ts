/**
 * The origin window (lib/relay/origin-window.ts): a seq more than half a window ahead is
 * delivered once from an aside window and moves the origin's window only at its second new
 * seq after the origin's own traffic was quiet (issue 15, the one-packet mute).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeqResult } from "../lib/relay/duplicate-window.ts";
import { DuplicateFilter } from "../lib/relay/origin-table.ts";
import { DEFAULT_SEQ_JUMP_QUIET_MS } from "../lib/relay/origin-window.ts";

const { Fresh, Duplicate, Stale } = SeqResult;
const QUIET = DEFAULT_SEQ_JUMP_QUIET_MS;

test("one-packet mute: a seq 2^31 - 2 ahead is delivered once and does not move the window", () => {
  const f = new DuplicateFilter();
  let now = 0;
  for (let seq = 1; seq <= 10; seq++) assert.is(f.check(7, seq, (now += 33)), Fresh);
  const forged = (10 + 0x7fffffff - 1) >>> 0;
  assert.is(f.check(7, forged, (now += 1)), Fresh, "delivered once (no signature can tell it from a real jump)");
  assert.is(f.check(7, forged, now), Duplicate, "and only once");
  for (let seq = 11; seq <= 40; seq++) assert.is(f.check(7, seq, (now += 33)), Fresh, `the real origin's ${seq}`);
  // The forger keeps sending ahead while the origin talks: never taken.
  for (let i = 1; i < 50; i++) assert.is(f.check(7, (forged + i) >>> 0, (now += 5)), Fresh);
  assert.is(f.check(7, 41, (now += 33)), Fresh);
  assert.is(f.check(7, 11, now), Duplicate, "the main window is still the origin's");
  assert.equal({ held: f.stats().jumpsHeld, taken: f.stats().jumpsTaken }, { held: 50, taken: 0 });
});

test("a real jump after a gap (the member missed 5,000 messages) is taken at the second message", () => {
  const f = new DuplicateFilter();
  let now = 0;
  for (let seq = 1; seq <= 100; seq++) f.check(3, seq, (now += 33));
  now += 5_000 * 33; // the origin went on, this member heard nothing of it
  for (let seq = 5_101; seq <= 5_200; seq++) assert.is(f.check(3, seq, (now += 33)), Fresh, `seq ${seq}`);
  assert.is(f.stats().jumpsTaken, 1);
  assert.is(f.check(3, 5_101, now), Duplicate, "what was delivered from the aside window stays known");
  assert.is(f.check(3, 100, now), Stale, "the old window is gone: its seqs are stale, not fresh again");
  assert.is(f.check(3, 5_201, (now += 33)), Fresh);
});

test("a jump taken while the origin was quiet only after quietMs of quiet", () => {
  const f = new DuplicateFilter();
  f.check(3, 1, 0);
  assert.is(f.check(3, 2_000, QUIET - 10), Fresh);
  assert.is(f.check(3, 2_001, QUIET - 5), Fresh, "held: the origin spoke < quietMs ago");
  assert.is(f.stats().jumpsTaken, 0);
  assert.is(f.check(3, 2_002, QUIET), Fresh);
  assert.is(f.stats().jumpsTaken, 1);
  assert.is(f.check(3, 1, QUIET), Stale);
  for (const seq of [2_000, 2_001, 2_002]) assert.is(f.check(3, seq, QUIET), Duplicate);
});

test("duplicates of aside seqs stay duplicates when the main window catches up with them", () => {
  const f = new DuplicateFilter({ windowBits: 64 });
  f.check(1, 10, 0);
  assert.is(f.check(1, 60, 1), Fresh, "50 ahead of 10 (> 32): aside");
  for (let seq = 11; seq <= 59; seq++) assert.is(f.check(1, seq, 2), Fresh);
  assert.is(f.check(1, 60, 3), Duplicate, "now in the main window's reach, and still known");
  assert.is(f.check(1, 61, 3), Fresh);
  assert.is(f.peek(1, 60), Duplicate);
});

test("a new jump far from the aside window replaces it; seqs behind the window stay stale (no replays)", () => {
  const f = new DuplicateFilter();
  f.check(1, 5_000, 0);
  assert.is(f.check(1, 9_000, 1), Fresh);
  assert.is(f.check(1, 90_000, 2), Fresh, "another jump");
  assert.is(f.check(1, 90_001, 2_000), Fresh, "its second seq after quiet: taken");
  assert.is(f.stats().jumpsTaken, 1);
  assert.is(f.check(1, 4_000, 2_001), Stale, "a captured old message is not delivered again");
  assert.is(f.check(1, 9_000, 2_001), Stale);
});

test("seqJumpQuietMs 0 takes a jump at its second seq; bad values throw", () => {
  const f = new DuplicateFilter({ seqJumpQuietMs: 0 });
  f.check(1, 1, 0);
  f.check(1, 3_000, 0);
  f.check(1, 3_001, 0);
  assert.is(f.stats().jumpsTaken, 1);
  assert.throws(() => new DuplicateFilter({ seqJumpQuietMs: -1 }), /seqJumpQuietMs/);
});

test.run();
