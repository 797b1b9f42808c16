/**
 * Counters a Peer keeps; stats() returns a snapshot. Inbound drops are counted by the named
 * reasons of drops.ts, and `datagramsIn === accepted + sum(drops)` always holds.
 */
import type { DropReason, PeerFailure } from "./drops.ts";
import type { OriginAuthCounters } from "./origin-auth.ts";
import type { RedundancyCounters } from "./redundancy.ts";
import type { RepairCounters } from "./repair-server.ts";
import type { MessageCounters } from "./delivery.ts";
import type { RoutedCounters } from "./router.ts";
import type { NatStats } from "./nat-client.ts";

export interface PeerStats {
  readonly peer: number;
  readonly grid: number;
  readonly phase: string;
  readonly connectionLimit: number;
  readonly links: readonly { peer: number; address: string; srttMs: number; neighbourLinks: number }[];
  readonly datagramsIn: number;
  /** Datagrams handed to the driver by pollTransmit() (as the Lobby counts them). */
  readonly datagramsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Inbound datagrams that reached the handler for their kind. */
  readonly accepted: number;
  /** Broadcasts this peer originated. */
  readonly broadcasts: number;
  /** Data delivered to the application (each (origin, seq) at most once). */
  readonly delivered: number;
  /** Forwards sent on behalf of other origins. */
  readonly relayed: number;
  /** Copies that arrived again and were dropped (claims 3, 19). Accepted relay data, not drops. */
  readonly duplicates: number;
  /** Arrivals older than the duplicate window: not relayed, since they cannot be told apart. Accepted, not drops. */
  readonly stale: number;
  /** (message, link) pairs each relay rule was the first to refuse, by rule name (claim 14). */
  readonly suppressed: Readonly<Record<string, number>>;
  /** Inbound datagrams dropped, by reason (drops.ts PeerDrop, or a DecodeErrorCode). */
  readonly drops: Readonly<Record<string, number>>;
  /** Outbound failures, by reason (drops.ts PeerFailure): counted apart from the inbound drops. */
  readonly failures: Readonly<Record<string, number>>;
  readonly linksOpened: number;
  readonly linksClosed: number;
  readonly forcedConnections: number;
  readonly retransmits: number;
  /** Redundancy lists (US 7,685,301): Prunes and Grafts sent and received, quiet origins; `listed`: (origin, neighbour) pairs this peer skips. */
  readonly redundancy: Readonly<RedundancyCounters> & { readonly listed: number };
  /** Repair: seqs found missing, repaired, given up; requests and Repairs both ways (all 0 with repair off). */
  readonly repair: Readonly<RepairCounters>;
  /** Messages (send()): delivered, reassembled, held for order, reported lost, ... (delivery.ts). */
  readonly messages: Readonly<MessageCounters>;
  /** Messages to one member, routed (router.ts): sent, delivered, forwarded, flooded for want of a route. */
  readonly routed: Readonly<RoutedCounters>;
  /** NAT traversal (PROTOCOL.md 4.7): registration, introductions, punches, proven paths. */
  readonly nat: NatStats;
  /** Origin signatures (originAuth, PROTOCOL.md 4.1.4): signed here, verified, refused (all 0 when off). */
  readonly originAuth: Readonly<OriginAuthCounters>;
}

export class PeerCounters {
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  accepted = 0;
  broadcasts = 0;
  delivered = 0;
  relayed = 0;
  duplicates = 0;
  stale = 0;
  linksOpened = 0;
  linksClosed = 0;
  forcedConnections = 0;
  retransmits = 0;
  readonly drops: Record<string, number> = {};
  readonly failures: Record<string, number> = {};

  drop(reason: DropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  fail(reason: PeerFailure): void {
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
  }

  totalDrops(): number {
    let n = 0;
    for (const k in this.drops) n += this.drops[k] ?? 0;
    return n;
  }
}
