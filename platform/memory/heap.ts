/**
 * The simulator's agenda: a binary min-heap of scheduled work.
 *
 * Ordered by virtual time, then by insertion sequence. The sequence tie-break is what
 * makes a run deterministic: two deliveries due at the same millisecond always pop in
 * the order they were scheduled, never in an order that depends on the heap's shape.
 */
export interface Scheduled {
  /** Virtual time in ms at which the entry is due. */
  readonly time: number;
  /** Strictly increasing per scheduler; breaks ties between equal times (first in, first out). */
  readonly seq: number;
}

export class MinHeap<T extends Scheduled> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest entry, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    // Sift up: move the hole toward the root while the parent is later.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    // Sift down: move the hole toward the leaves while a child is earlier than `last`.
    const n = items.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(items[right] as T, items[left] as T)) child = right;
      const c = items[child] as T;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
