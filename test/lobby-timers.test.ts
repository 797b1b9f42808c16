/** The lobby's timer heap (lib/lobby/timers.ts) against a sorted-list model, over seeded random operations. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TimerHeap, type Deadline } from "../lib/lobby/timers.ts";
import { randomInt, SeededRandom } from "../lib/rng.ts";

interface Item extends Deadline {
  id: number;
}

test("timer heap: set, re-arm, cancel and popDue agree with a model", () => {
  const rng = new SeededRandom(8);
  const heap = new TimerHeap<Item>();
  const items: Item[] = Array.from({ length: 200 }, (_, id) => ({ id, deadlineMs: 0, heapIndex: -1 }));
  const armed = new Map<number, number>(); // id -> deadline
  let now = 0;
  for (let step = 0; step < 20_000; step++) {
    const item = items[randomInt(rng, items.length)] as Item;
    const op = rng.next();
    if (op < 0.5) {
      const at = now + randomInt(rng, 1000);
      heap.set(item, at);
      armed.set(item.id, at);
    } else if (op < 0.7) {
      heap.delete(item);
      armed.delete(item.id);
    } else {
      now += randomInt(rng, 50);
      const popped: number[] = [];
      for (let it = heap.popDue(now); it !== undefined; it = heap.popDue(now)) {
        assert.ok(it.deadlineMs <= now);
        assert.is(it.heapIndex, -1);
        popped.push(it.deadlineMs);
        armed.delete(it.id);
      }
      assert.equal(popped, [...popped].sort((a, b) => a - b), "due items pop in deadline order");
      for (const at of armed.values()) assert.ok(at > now, "nothing due is left behind");
    }
    assert.is(heap.size, armed.size);
    const top = heap.peek();
    const min = armed.size === 0 ? undefined : Math.min(...armed.values());
    assert.is(top?.deadlineMs, min);
  }
});

test.run();
