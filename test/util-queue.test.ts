/** lib/util/queue.ts: the transmit and event queues of every endpoint. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Queue } from "../lib/util/queue.ts";
import { SeededRandom } from "../lib/rng.ts";

test("queue: FIFO order matches an array through growth and wrap-around (seeded random push/shift)", () => {
  const q = new Queue<number>();
  const ref: number[] = [];
  const rng = new SeededRandom(5);
  for (let i = 0; i < 100_000; i++) {
    if (rng.next() < 0.6) {
      q.push(i);
      ref.push(i);
    } else assert.is(q.shift(), ref.shift());
    assert.is(q.length, ref.length);
  }
  while (ref.length > 0) assert.is(q.shift(), ref.shift());
  assert.is(q.shift(), undefined);
  q.push(1);
  q.clear();
  assert.is(q.length, 0);
  assert.is(q.shift(), undefined);
});

test.run();
