/**
 * The embedded driver loop (STYLE.md 12: netcode's `update(time)` with host callbacks),
 * shared by the embedded Peer and Lobby. The host owns the socket and the clock; after
 * every input or command this drains the endpoint in the order lib/endpoint.ts gives:
 * transmits to the host's `send`, then events to a callback or to a bounded queue.
 *
 * No timers, promises or platform APIs: the host calls `update(now)` each frame and may
 * sleep until `nextDeadline()`.
 */
import type { Address, Endpoint, Millis } from "../../lib/endpoint.ts";
import { checkInt, ErrorCode, RelayGridError } from "../../lib/errors.ts";
import { Queue } from "../../lib/util/queue.ts";

/**
 * Sends one datagram. Called synchronously from receive(), update() and commands. `bytes`
 * may be shared with other transmits and is the host's only for the call: a socket copies
 * it anyway; a host that queues it must copy it (a receiver in the same process takes
 * ownership of what it is handed and may patch it).
 */
export type SendFn = (address: Address, bytes: Uint8Array) => void;

/** Events held for pollEvent() when no callback takes them (the oldest are dropped first). Defaults to 4096. */
export const DEFAULT_MAX_QUEUED_EVENTS = 4096;

export class HostPump<E> {
  private readonly endpoint: Endpoint<E>;
  private readonly send: SendFn;
  private readonly deliver: (event: E) => boolean;
  private lastNow: Millis = 0;
  private flushing = false;
  private readonly queue = new Queue<E>();
  private readonly maxQueued: number;
  /** Events dropped because the queue was full and nobody polled. */
  eventsDropped = 0;

  /**
   * @param deliver hands an event to a host callback and returns true, or returns false
   *   to leave it for pollEvent().
   */
  constructor(endpoint: Endpoint<E>, send: SendFn, deliver: (event: E) => boolean, maxQueuedEvents: number | undefined) {
    if (typeof send !== "function") {
      throw new RelayGridError(ErrorCode.InvalidConfig, "send(address, bytes) is required: the host owns the socket");
    }
    this.endpoint = endpoint;
    this.send = send;
    this.deliver = deliver;
    this.maxQueued = checkInt("maxQueuedEvents", maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS, 1, 1 << 24);
  }

  /** The time a command runs at: `now` when given, else the latest time the host passed in. */
  stamp(now: Millis | undefined): Millis {
    if (now !== undefined && now > this.lastNow) this.lastNow = now;
    return this.lastNow;
  }

  receive(now: Millis, from: Address, bytes: Uint8Array): void {
    this.endpoint.handleDatagram(this.stamp(now), from, bytes);
    this.flush();
  }

  update(now: Millis): void {
    const t = this.stamp(now);
    const deadline = this.endpoint.pollTimeout();
    if (deadline !== undefined && deadline <= t) this.endpoint.handleTimeout(t);
    this.flush();
  }

  nextDeadline(): Millis | undefined {
    return this.endpoint.pollTimeout();
  }

  pollEvent(): E | undefined {
    return this.queue.shift();
  }

  /**
   * Drains transmits, then one event, until both are empty. Not reentrant: a callback that
   * calls a command (e.g. broadcast from onData) only queues work, which this loop then
   * sends, so events reach the host in order and never nested inside each other.
   */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const ep = this.endpoint;
      for (;;) {
        for (let t = ep.pollTransmit(); t !== undefined; t = ep.pollTransmit()) this.send(t.to, t.bytes);
        const e = ep.pollEvent();
        if (e === undefined) return;
        if (this.deliver(e)) continue;
        if (this.queue.length >= this.maxQueued) {
          this.queue.shift();
          this.eventsDropped++;
        }
        this.queue.push(e);
      }
    } finally {
      this.flushing = false;
    }
  }
}
