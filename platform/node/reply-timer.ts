/**
 * How long the lobby takes to answer, by request kind, for relaygrid_lobby_reply_duration_seconds
 * (issue 17). An Endpoint in front of the Lobby: a datagram's time starts at the `now` the driver
 * hands to handleDatagram and ends when the driver's drain finds the transmit queue empty,
 * that is once every reply to it has been handed to the socket. A driver that handles several
 * datagrams before one drain gives each its full wait. Dropped datagrams are timed too.
 *
 * Cost per datagram: a three-byte peek and two typed-array stores; one clock read per drain.
 */
import type { Address, Endpoint, Millis, Transmit } from "../../lib/endpoint.ts";
import { peekKind } from "../../wire/codec.ts";
import { Kind } from "../../wire/kinds.ts";

/** Upper bounds of the histogram buckets, in seconds (+Inf is implied). 50 us to 1 s. */
export const REPLY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** The `kind` label: the lobby's request kinds (PROTOCOL.md section 3), and "other" for anything else. */
export const REPLY_KINDS = {
  [Kind.Hello]: "hello",
  [Kind.ListGrids]: "list_grids",
  [Kind.CreateGrid]: "create_grid",
  [Kind.SelectGrid]: "select_grid",
  [Kind.ConnUpdate]: "conn_update",
  [Kind.ConnStatus]: "conn_status",
  [Kind.ProbeReply]: "probe_reply",
  [Kind.Heartbeat]: "heartbeat",
  [Kind.Leave]: "leave",
  [Kind.Rejoin]: "rejoin",
} as const satisfies Record<number, string>;
export type ReplyKind = (typeof REPLY_KINDS)[keyof typeof REPLY_KINDS] | "other";

/** Datagrams awaiting a drain at once; past this (a driver that never drains) the rest are not timed. */
const MAX_WAITING = 4096;
const FIRST_KIND = Kind.Hello;
/** Label slots: one per request kind 0x20..0x29 in REPLY_KINDS order, then "other". */
const SLOT_NAMES: readonly ReplyKind[] = [...Object.values(REPLY_KINDS), "other"];
const OTHER = SLOT_NAMES.length - 1;
const BUCKETS = REPLY_BUCKETS_SECONDS.length + 1;

/** One histogram per kind: counts per bucket (Prometheus's cumulative counts are made at render time). */
export interface ReplyHistogram {
  /** counts[i]: observations <= REPLY_BUCKETS_SECONDS[i] and above the bound before; the last entry, above 1 s. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

export type ReplyTimes = Readonly<Record<ReplyKind, ReplyHistogram>>;

export class ReplyTimer<E> implements Endpoint<E> {
  // Flat typed arrays, not objects per kind: this sits on every datagram's path.
  private readonly counts = new Float64Array(SLOT_NAMES.length * BUCKETS);
  private readonly sums = new Float64Array(SLOT_NAMES.length);
  private readonly waitingSlot = new Uint8Array(MAX_WAITING);
  private readonly waitingSince = new Float64Array(MAX_WAITING);
  private waiting = 0;

  /** `clock` must be the driver's (the one whose readings it passes as `now`). */
  constructor(
    private readonly inner: Endpoint<E>,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  handleDatagram(now: Millis, from: Address, bytes: Uint8Array): void {
    if (this.waiting < MAX_WAITING) {
      const k = peekKind(bytes) - FIRST_KIND;
      this.waitingSlot[this.waiting] = k >= 0 && k < OTHER ? k : OTHER;
      this.waitingSince[this.waiting++] = now;
    }
    this.inner.handleDatagram(now, from, bytes);
  }

  handleTimeout(now: Millis): void {
    this.inner.handleTimeout(now);
  }

  pollTimeout(): Millis | undefined {
    return this.inner.pollTimeout();
  }

  pollTransmit(): Transmit | undefined {
    const t = this.inner.pollTransmit();
    if (t === undefined && this.waiting > 0) this.settle();
    return t;
  }

  pollEvent(): E | undefined {
    return this.inner.pollEvent();
  }

  /** A copy of every kind's histogram. */
  snapshot(): ReplyTimes {
    const out: Partial<Record<ReplyKind, ReplyHistogram>> = {};
    SLOT_NAMES.forEach((name, slot) => {
      const counts = [...this.counts.subarray(slot * BUCKETS, (slot + 1) * BUCKETS)];
      out[name] = { counts, count: counts.reduce((a, b) => a + b, 0), sumSeconds: this.sums[slot] as number };
    });
    return out as ReplyTimes;
  }

  private settle(): void {
    const end = this.clock();
    for (let i = 0; i < this.waiting; i++) {
      const slot = this.waitingSlot[i] as number;
      const seconds = Math.max(0, end - (this.waitingSince[i] as number)) / 1000;
      let b = 0;
      while (b < REPLY_BUCKETS_SECONDS.length && seconds > (REPLY_BUCKETS_SECONDS[b] as number)) b++;
      const at = slot * BUCKETS + b;
      this.counts[at] = (this.counts[at] as number) + 1;
      this.sums[slot] = (this.sums[slot] as number) + seconds;
    }
    this.waiting = 0;
  }
}
