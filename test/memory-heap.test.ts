import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom, randomInt } from "../lib/rng.ts";
import { MinHeap } from "../platform/memory/heap.ts";

interface Item {
  readonly time: number;
  readonly seq: number;
}

test("memory heap: pops by time, then first in first out among equal times", () => {
  const rng = new SeededRandom(3);
  for (let round = 0; round < 20; round++) {
    const heap = new MinHeap<Item>();
    const items: Item[] = [];
    let seq = 0;
    // Few distinct times so ties are common; interleave pops to exercise both sift directions.
    const popped: Item[] = [];
    for (let i = 0; i < 500; i++) {
      const item = { time: randomInt(rng, 20), seq: seq++ };
      items.push(item);
      heap.push(item);
      if (randomInt(rng, 4) === 0) {
        const top = heap.pop();
        assert.ok(top !== undefined);
        popped.push(top);
        items.splice(items.indexOf(top), 1);
        const min = items.reduce((m, x) => (x.time < m.time || (x.time === m.time && x.seq < m.seq) ? x : m), top);
        assert.is(min, top, "a popped item is never later than one still queued");
      }
    }
    const rest: Item[] = [];
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) rest.push(x);
    const sorted = [...items].sort((p, q) => p.time - q.time || p.seq - q.seq);
    assert.equal(rest, sorted);
    assert.is(heap.size, 0);
    assert.is(heap.peek(), undefined);
  }
});

test("memory heap: popping an empty heap gives undefined", () => {
  const heap = new MinHeap<Item>();
  assert.is(heap.pop(), undefined);
  heap.push({ time: 1, seq: 0 });
  assert.equal(heap.pop(), { time: 1, seq: 0 });
  assert.is(heap.pop(), undefined);
});

test.run();
