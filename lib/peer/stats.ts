/** Counters a Peer keeps; stats() returns a snapshot. Drops are counted by named reason. */
export interface PeerStats {
  readonly peer: number;
  readonly grid: number;
  readonly phase: string;
  readonly connectionLimit: number;
  readonly links: readonly { peer: number; address: string; srttMs: number; neighbourLinks: number }[];
  readonly datagramsIn: number;
  readonly datagramsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Broadcasts this peer originated. */
  readonly broadcasts: number;
  /** Data delivered to the application (each (origin, seq) at most once). */
  readonly delivered: number;
  /** Forwards sent on behalf of other origins. */
  readonly relayed: number;
  /** Copies that arrived again and were dropped (claims 3, 19). */
  readonly duplicates: number;
  /** Arrivals older than the duplicate window: dropped, since they cannot be told apart. */
  readonly stale: number;
  /** Forwards each relay rule suppressed, by rule name (claim 14). */
  readonly suppressed: Readonly<Record<string, number>>;
  /** Datagrams dropped, by reason (decode error codes, not-linked, wrong-grid, ...). */
  readonly drops: Readonly<Record<string, number>>;
  readonly linksOpened: number;
  readonly linksClosed: number;
  readonly forcedConnections: number;
  readonly retransmits: number;
}

export class PeerCounters {
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
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

  drop(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}
