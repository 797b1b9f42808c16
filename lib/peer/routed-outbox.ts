/**
 * Reliable routed messages (PROTOCOL.md 4.1.2), the sender's side: send(payload, { to,
 * reliable }) is a Routed envelope in mode RELIABLE naming its message id, which the target
 * acknowledges end to end with a Routed envelope in mode ACK routed back the same way. Until
 * the ack arrives the sender keeps the payload and sends it again along the route, each copy a
 * new envelope (its own seq; the route may have changed: every member on the way routes each
 * copy afresh), after RTO_MS, then 1.5 times longer
 * each time up to MAX_RTO_MS, MAX_ATTEMPTS times in all. Then it gives up and reports an
 * "error" event, code unreachable, naming the target and the seq. The state is bounded: at
 * most MAX_PENDING messages wait for their ack; a send past that throws limit-reached (the
 * application sends faster than the route acknowledges).
 *
 * The target delivers a message id once (the router's duplicate window of ids) and
 * acknowledges every copy, so a lost ack costs one more copy, never a second delivery.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import type { PeerCore } from "./core.ts";
import { PeerTimer } from "./timers.ts";

/** Reliable routed messages waiting for their ack at once. */
export const MAX_PENDING_ROUTED = 256;
/** The first wait for an ack, and the longest. */
const RTO_MS = 250;
const MAX_RTO_MS = 1000;
/** Copies sent in all before the target is reported unreachable (about 25 s at most). */
export const MAX_ROUTED_ATTEMPTS = 32;

interface Pending {
  /** The Routed payload: mode byte, message id, the application's bytes. */
  readonly payload: Uint8Array;
  readonly target: number;
  attempts: number;
  rto: number;
  dueAt: number;
}

/** What the outbox counts (stats().routed). */
export interface ReliableRoutedCounters {
  /** Copies sent again for want of an ack, acks received for pending messages, and messages given up. */
  resent: number;
  acked: number;
  unreachable: number;
}

export class RoutedOutbox {
  readonly counters: ReliableRoutedCounters = { resent: 0, acked: 0, unreachable: 0 };
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly core: PeerCore,
    /** Sends `payload` again to `target` in a new envelope (Router). */
    private readonly resend: (now: number, payload: Uint8Array, target: number) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Throws limit-reached when MAX_PENDING_ROUTED messages already wait for their ack. */
  checkRoom(): void {
    if (this.pending.size >= MAX_PENDING_ROUTED) {
      throw new RelayGridError(ErrorCode.LimitReached, `${MAX_PENDING_ROUTED} reliable routed messages wait for their ack (MAX_PENDING_ROUTED): send fewer, or wait for the earlier ones`);
    }
  }

  /** Keeps `payload` (message `id` to `target`, sent once already) until acked. */
  add(now: number, id: number, target: number, payload: Uint8Array): void {
    this.pending.set(id, { payload, target, attempts: 1, rto: RTO_MS, dueAt: now + RTO_MS });
    this.core.timers.armEarlier(PeerTimer.RoutedRetransmit, now + RTO_MS);
  }

  /** An ack of `seq` from `from`: the message is delivered. */
  onAck(seq: number, from: number): void {
    const p = this.pending.get(seq);
    if (p === undefined || p.target !== from) return;
    this.pending.delete(seq);
    this.counters.acked++;
  }

  /** The retransmit tick: sends again what is due, gives up what is out of attempts. */
  onTick(now: number): void {
    const timers = this.core.timers;
    timers.disarm(PeerTimer.RoutedRetransmit);
    let next = Infinity;
    for (const [seq, p] of [...this.pending]) {
      if (p.dueAt > now) {
        next = Math.min(next, p.dueAt);
        continue;
      }
      if (p.attempts >= MAX_ROUTED_ATTEMPTS) {
        this.pending.delete(seq);
        this.counters.unreachable++;
        this.core.emit({ type: "error", code: ErrorCode.Unreachable, message: `reliable routed message ${seq} to member ${p.target} not acknowledged after ${p.attempts} copies: the target left, or no route reaches it`, seq, target: p.target });
        continue;
      }
      p.attempts++;
      p.rto = Math.min(MAX_RTO_MS, p.rto * 1.5);
      p.dueAt = now + p.rto;
      next = Math.min(next, p.dueAt);
      this.counters.resent++;
      this.resend(now, p.payload, p.target);
    }
    if (next !== Infinity) timers.armEarlier(PeerTimer.RoutedRetransmit, next);
  }
}
