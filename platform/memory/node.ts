/**
 * What the simulator keeps per node: its endpoint, its liveness, its single timer and a
 * bounded log of its events.
 */
import type { Address, Endpoint, Millis } from "../../lib/endpoint.ts";

/**
 * The last `limit` events of one node. Oldest are dropped first: a log is for looking at
 * what just happened, and 1,000 chatty nodes must not grow memory without bound.
 */
export class EventLog<E> {
  private items: E[] = [];
  private head = 0;
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Appends `event`; returns how many old events fell off (0 or 1). */
  push(event: E): number {
    if (this.limit === 0) return 1;
    this.items.push(event);
    if (this.items.length - this.head <= this.limit) return 0;
    this.head++;
    // Compact once the dead prefix is as long as the log: amortized O(1) per event.
    if (this.head >= this.limit) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return 1;
  }

  /** Removes and returns every kept event, oldest first. */
  take(): E[] {
    const out = this.head === 0 ? this.items : this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

export class NodeState<E> {
  alive = true;
  /**
   * Bumped by every crash. A delivery remembers the incarnation it was sent to; one that
   * lands on a later incarnation is stale (it was already counted in crashedDrops).
   */
  incarnation = 0;
  /** Deliveries scheduled to this incarnation and not yet popped, for crashedDrops at crash time. */
  inFlight = 0;
  /** Bumped to invalidate heap wake-ups (crash, or an earlier deadline replacing a later one). */
  timerGen = 0;
  /** Time of this node's live wake-up in the heap, if any. */
  wakeAt: Millis | undefined = undefined;
  /** The deadline the endpoint asked for at its last pollTimeout(), clamped to >= now. */
  deadline: Millis | undefined = undefined;
  readonly address: Address;
  endpoint: Endpoint<E>;
  readonly log: EventLog<E>;

  constructor(address: Address, endpoint: Endpoint<E>, eventLogLimit: number) {
    this.address = address;
    this.endpoint = endpoint;
    this.log = new EventLog(eventLogLimit);
  }
}
