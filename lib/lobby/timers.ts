/**
 * The lobby's timer table (STYLE.md 3). Each timer has a name; pollTimeout() is the minimum
 * over them and nextTimer() says which one it is. Per-peer expiry, per-link checks and
 * per-grid removal live in indexed binary heaps (O(log n) arm, re-arm and cancel), so no
 * deadline is ever found by scanning members.
 */

export const LobbyTimer = {
  /** A member's silence reaches expireAfterMs (one heap entry per member). */
  PeerExpiry: "peer-expiry",
  /** A link reported by one end only is due for a Probe (one entry per such pair). */
  EdgeCheck: "edge-check",
  /** An empty grid's grace ends (one entry per empty grid). */
  EmptyGrid: "empty-grid",
  /** The periodic island check (armed while any grid exists). */
  IslandCheck: "island-check",
  /** A grid's members or confirmed links changed: review its components soon (standing.ts). */
  ComponentCheck: "component-check",
  /** The least recently used membership-less session goes idle. */
  SessionIdle: "session-idle",
  /** A grid's next key becomes active (one entry per grid in a rotation). */
  KeyRotation: "key-rotation",
} as const;
export type LobbyTimer = (typeof LobbyTimer)[keyof typeof LobbyTimer];

/** Something a TimerHeap can hold. `heapIndex` is -1 while it is not in a heap. */
export interface Deadline {
  deadlineMs: number;
  heapIndex: number;
}

/** A binary min-heap on deadlineMs that knows where each item is, so it can cancel or re-arm one. */
export class TimerHeap<T extends Deadline> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest item, or undefined. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Arms `item` at `deadlineMs`, or moves it there if it is already armed. */
  set(item: T, deadlineMs: number): void {
    item.deadlineMs = deadlineMs;
    if (item.heapIndex < 0) {
      item.heapIndex = this.items.length;
      this.items.push(item);
    }
    this.siftUp(item.heapIndex);
    this.siftDown(item.heapIndex);
  }

  /** Cancels `item`; a no-op when it is not armed. */
  delete(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  /** Removes and returns the earliest item whose deadline is <= nowMs. */
  popDue(nowMs: number): T | undefined {
    const top = this.items[0];
    if (top === undefined || top.deadlineMs > nowMs) return undefined;
    this.delete(top);
    return top;
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i] as T;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (p.deadlineMs <= item.deadlineMs) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (items[r] as T).deadlineMs < (items[l] as T).deadlineMs) c = r;
      const child = items[c] as T;
      if (child.deadlineMs >= item.deadlineMs) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
