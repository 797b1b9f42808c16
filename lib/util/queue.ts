/**
 * A FIFO ring buffer: O(1) push and shift, and no allocation once it has grown to its
 * working size (the endpoints' transmit and event queues drain after every datagram, so a
 * queue that re-allocated when drained cost an array per relayed message).
 */
export class Queue<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the item be collected
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  clear(): void {
    this.items = new Array<T | undefined>(16);
    this.head = 0;
    this.count = 0;
  }

  /** Doubles the capacity (always a power of two), unrolling the ring into the new array. */
  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
