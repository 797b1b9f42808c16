/**
 * The virtual clock and what is scheduled on it: datagram deliveries and timer wake-ups.
 *
 * Entries are never removed early: crash() and re-arming make them stale instead (an
 * incarnation or generation number no longer matches), and they are skipped when popped.
 * That keeps every operation O(log n) on one plain binary heap.
 */
import type { Address, Millis } from "../../lib/endpoint.ts";
import { MinHeap } from "./heap.ts";
import type { NodeState } from "./node.ts";

export const DELIVER = 0;
export const WAKE = 1;

export interface Delivery<E> {
  readonly kind: typeof DELIVER;
  readonly time: Millis;
  readonly seq: number;
  readonly node: NodeState<E>;
  /** The incarnation the datagram was sent to; a crash in between makes it stale. */
  readonly incarnation: number;
  /** The source address the receiver sees (a NAT's mapping, for a sender behind one). */
  readonly from: Address;
  /** The sending node's own address (partitions and link counters are between nodes). */
  readonly sender: Address;
  readonly bytes: Uint8Array;
}

export interface Wake<E> {
  readonly kind: typeof WAKE;
  readonly time: Millis;
  readonly seq: number;
  readonly node: NodeState<E>;
  /** Must equal node.timerGen, else a later re-arm or a crash superseded this wake-up. */
  readonly gen: number;
}

export type Entry<E> = Delivery<E> | Wake<E>;

export class Agenda<E> {
  /** Virtual time in ms: starts at 0, only moves forward. */
  now: Millis = 0;
  private seq = 0;
  private readonly heap = new MinHeap<Entry<E>>();

  get size(): number {
    return this.heap.size;
  }

  /** Schedules a delivery `delayMs` from now to the node's current incarnation. */
  deliver(node: NodeState<E>, from: Address, bytes: Uint8Array, delayMs: Millis, sender: Address = from): void {
    const time = this.now + delayMs;
    this.heap.push({ kind: DELIVER, time, seq: this.seq++, node, incarnation: node.incarnation, from, sender, bytes });
  }

  /** Schedules the node's one wake-up at `time` (>= now), superseding any earlier one. */
  wake(node: NodeState<E>, time: Millis): void {
    node.timerGen++;
    node.wakeAt = time;
    this.heap.push({ kind: WAKE, time, seq: this.seq++, node, gen: node.timerGen });
  }

  /** The time of the next entry, or undefined when nothing is scheduled. */
  nextTime(): Millis | undefined {
    return this.heap.peek()?.time;
  }

  /** Removes the next entry if it is due by `limit`, moving now to its time. */
  popBy(limit: Millis): Entry<E> | undefined {
    const next = this.heap.peek();
    if (next === undefined || next.time > limit) return undefined;
    this.heap.pop();
    // Heap order plus "nothing scheduled before now" means this never moves time back.
    this.now = next.time;
    return next;
  }
}
