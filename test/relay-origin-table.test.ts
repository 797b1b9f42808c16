import { test } from "uvu";
import * as assert from "uvu/assert";
import { RelayGridError } from "../lib/errors.ts";
import { SeqResult } from "../lib/relay/duplicate-window.ts";
import { DEFAULT_MAX_ORIGINS, DuplicateFilter } from "../lib/relay/origin-table.ts";

const { Fresh, Duplicate, Stale } = SeqResult;

test("claim 3: (origin, seq) identifies the data; origins have separate windows", () => {
  const f = new DuplicateFilter({ windowBits: 32 });
  assert.is(f.maxOrigins, DEFAULT_MAX_ORIGINS);
  assert.is(f.check(1, 10, 0), Fresh);
  assert.is(f.check(2, 10, 0), Fresh);
  assert.is(f.check(1, 10, 0), Duplicate);
  assert.is(f.check(2, 10, 0), Duplicate);
  assert.is(f.check(1, 26, 0), Fresh); // half a window (16) ahead: the window moves
  assert.is(f.check(1, 42, 0), Fresh);
  assert.is(f.check(1, 10, 0), Stale); // origin 1 moved on
  assert.is(f.check(2, 11, 0), Fresh); // origin 2 did not
  assert.equal(f.stats(), { origins: 2, fresh: 5, duplicate: 2, stale: 1, evictions: 0, refused: 0, jumpsHeld: 0, jumpsTaken: 0 });
});

test("peek neither records, counts nor reorders", () => {
  const f = new DuplicateFilter({ maxOrigins: 2 });
  f.check(1, 1, 0);
  f.check(2, 1, 0);
  assert.is(f.peek(1, 1), Duplicate);
  assert.is(f.peek(1, 2), Fresh);
  assert.is(f.peek(3, 1), Fresh);
  assert.is(f.size, 2);
  assert.equal(f.stats(), { origins: 2, fresh: 2, duplicate: 0, stale: 0, evictions: 0, refused: 0, jumpsHeld: 0, jumpsTaken: 0 });
  f.check(3, 1, 0); // origin 1 is still the least recently heard, despite the peek
  assert.is(f.peek(1, 1), Fresh);
  assert.is(f.peek(2, 1), Duplicate);
});

test("origin table evicts the least recently heard origin at maxOrigins", () => {
  const f = new DuplicateFilter({ maxOrigins: 3 });
  f.check(1, 1, 0);
  f.check(2, 1, 0);
  f.check(3, 1, 0);
  f.check(1, 2, 0); // origin 1 heard again: origin 2 is now the least recent
  f.check(2, 1, 0); // a duplicate is not "heard" (see DuplicateFilter)
  f.check(4, 1, 0); // evicts 2
  assert.is(f.size, 3);
  assert.is(f.stats().evictions, 1);
  assert.is(f.peek(2, 1), Fresh, "origin 2 forgotten");
  assert.is(f.peek(1, 2), Duplicate);
  assert.is(f.peek(3, 1), Duplicate);
  assert.is(f.peek(4, 1), Duplicate);
  f.check(5, 1, 0); // evicts 3
  assert.is(f.peek(3, 1), Fresh, "origin 3 forgotten");
  assert.is(f.peek(1, 2), Duplicate);
});

test("origin table memory stays bounded (1e6 messages from 10 origins)", () => {
  // Enough room: every origin keeps its window; a second copy of each message is a duplicate.
  const roomy = new DuplicateFilter();
  for (let i = 0; i < 500_000; i++) {
    const origin = i % 10;
    const seq = Math.floor(i / 10);
    roomy.check(origin, seq, 0);
    roomy.check(origin, seq, 0);
  }
  assert.equal(roomy.stats(), { origins: 10, fresh: 500_000, duplicate: 500_000, stale: 0, evictions: 0, refused: 0, jumpsHeld: 0, jumpsTaken: 0 });

  // Too little room: the table never holds more than maxOrigins; round-robin evicts every time.
  const tight = new DuplicateFilter({ maxOrigins: 4 });
  for (let i = 0; i < 1_000_000; i++) {
    tight.check(i % 10, Math.floor(i / 10), 0);
    if (tight.size > 4) assert.unreachable(`size ${tight.size} > maxOrigins 4 at message ${i}`);
  }
  // An evicted origin comes back with a fresh window whose first seq is far from 1: a jump,
  // held aside (lib/relay/origin-window.ts), still fresh.
  const { jumpsHeld, ...rest } = tight.stats();
  assert.equal(rest, { origins: 4, fresh: 1_000_000, duplicate: 0, stale: 0, evictions: 1_000_000 - 4, refused: 0, jumpsTaken: 0 });
  assert.ok(jumpsHeld > 900_000);
});

test("forget drops an origin (it left, or restarted its seqs)", () => {
  const f = new DuplicateFilter();
  f.check(9, 5000, 0);
  f.check(9, 5001, 0); // a first seq far from 1 is a jump, taken at its second (relay-origin-window.test.ts)
  assert.is(f.check(9, 0, 0), Stale, "a restarted origin looks stale until forgotten");
  assert.is(f.forget(9), true);
  assert.is(f.forget(9), false);
  assert.is(f.size, 0);
  assert.is(f.check(9, 0, 0), Fresh);
});

test("vouched origins: unvouched ids evict only each other; an unvouched id at a table full of vouched ones is refused as stale (issue 15, replay after eviction)", () => {
  const members = new Set([1, 2]);
  const f = new DuplicateFilter({ maxOrigins: 3, vouched: (o) => members.has(o) });
  f.check(1, 10, 0);
  f.check(2, 10, 0);
  for (let fake = 100; fake < 200; fake++) assert.is(f.check(fake, 1, 0), Fresh);
  assert.is(f.check(1, 10, 0), Duplicate, "member 1's window survived 100 fake ids");
  assert.is(f.check(2, 10, 0), Duplicate);
  assert.is(f.stats().evictions, 99);
  members.add(3);
  assert.is(f.check(3, 1, 0), Fresh, "a vouched newcomer takes the fake id's window");
  assert.is(f.check(4, 1, 0), Stale, "no window left for an unvouched id");
  assert.is(f.stats().refused, 1);
  members.add(5);
  assert.is(f.check(5, 1, 0), Fresh, "a vouched id at a table of vouched ones evicts the least recently heard");
  assert.is(f.peek(1, 10), Fresh, "member 1 was heard longest ago");
});

test("bad options throw invalid-config with the numbers", () => {
  for (const options of [{ maxOrigins: 0 }, { maxOrigins: 2.5 }, { windowBits: 100 }]) {
    assert.throws(
      () => new DuplicateFilter(options),
      (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config" && /got (0|2\.5|100)$/.test(e.message),
      JSON.stringify(options),
    );
  }
});

test.run();
