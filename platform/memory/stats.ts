/**
 * Counters for a simulated run.
 *
 * Every transmit ends in exactly one bucket, so a test can check the books balance:
 *   sent + duplicated = delivered + lost + mtuDrops + partitionDrops + crashedDrops + natDrops + inFlight
 */
import type { Address } from "../../lib/endpoint.ts";

export interface SimStats {
  /** Transmits drained from endpoints, counted once each before any fault applies. */
  readonly sent: number;
  /** Datagrams handed to an endpoint's handleDatagram (a duplicate counts twice). */
  readonly delivered: number;
  /** Dropped by the link's lossPercent, or sent to an address no node was added at. */
  readonly lost: number;
  /** The part of `lost` sent to an address no node was added at. */
  readonly unknownAddress: number;
  /** Extra copies created by duplicatePercent. */
  readonly duplicated: number;
  /** Datagrams held back by reorderPercent. */
  readonly reordered: number;
  /** Larger than mtuBytes: never delivered. */
  readonly mtuDrops: number;
  /** Sent across, or in flight across, a partition. */
  readonly partitionDrops: number;
  /** Sent to, or in flight to, a crashed node (or to a node that restarted meanwhile). */
  readonly crashedDrops: number;
  /** Dropped by a simulated NAT router (nat.ts): filtered, no mapping, or no hairpinning. */
  readonly natDrops: number;
  /** Scheduled and not yet delivered or dropped. */
  readonly inFlight: number;
  /** handleTimeout calls. */
  readonly timerFires: number;
  /** Times pollTimeout() was still <= now right after handleTimeout(now); re-armed 1 ms later. */
  readonly stuckTimers: number;
  /** Events dropped from full per-node logs (onEvent still saw them). */
  readonly eventsDropped: number;
  /** Deliveries and timer fires processed. */
  readonly steps: number;
}

export type Counters = { -readonly [K in keyof SimStats]: SimStats[K] };

export function createCounters(): Counters {
  return {
    sent: 0,
    delivered: 0,
    lost: 0,
    unknownAddress: 0,
    duplicated: 0,
    reordered: 0,
    mtuDrops: 0,
    partitionDrops: 0,
    crashedDrops: 0,
    natDrops: 0,
    inFlight: 0,
    timerFires: 0,
    stuckTimers: 0,
    eventsDropped: 0,
    steps: 0,
  };
}

/** Traffic on one directed link. */
export interface LinkCounters {
  /** Datagrams the sender emitted toward this address (before any fault). */
  readonly sentDatagrams: number;
  readonly sentBytes: number;
  /** Datagrams that reached the receiver (duplicates included). */
  readonly deliveredDatagrams: number;
  readonly deliveredBytes: number;
}

type MutableLinkCounters = { -readonly [K in keyof LinkCounters]: LinkCounters[K] };

/** Per-directed-link counters; a link costs one small object once it carries traffic. */
export class LinkCounterTable {
  private readonly rows = new Map<Address, Map<Address, MutableLinkCounters>>();

  sent(from: Address, to: Address, bytes: number): void {
    const c = this.row(from, to);
    c.sentDatagrams++;
    c.sentBytes += bytes;
  }

  delivered(from: Address, to: Address, bytes: number): void {
    const c = this.row(from, to);
    c.deliveredDatagrams++;
    c.deliveredBytes += bytes;
  }

  /** A copy of the counters from -> to, or undefined if nothing was ever sent that way. */
  get(from: Address, to: Address): LinkCounters | undefined {
    const c = this.rows.get(from)?.get(to);
    return c === undefined ? undefined : { ...c };
  }

  private row(from: Address, to: Address): MutableLinkCounters {
    let row = this.rows.get(from);
    if (row === undefined) this.rows.set(from, (row = new Map()));
    let c = row.get(to);
    if (c === undefined) {
      c = { sentDatagrams: 0, sentBytes: 0, deliveredDatagrams: 0, deliveredBytes: 0 };
      row.set(to, c);
    }
    return c;
  }
}
