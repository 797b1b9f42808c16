/**
 * The Peer's getters (STYLE.md 2: getters never change state), as LobbyView is the Lobby's:
 * who it is, stats(), the next timer, and footprint(), the size of every table input can
 * grow, so tests and benches measure the Peer without reaching into its parts.
 */
import { registerParts } from "./insider.ts";
import type { PeerParts } from "./parts.ts";
import type { Phase } from "./phases.ts";
import type { Receiver } from "./receive.ts";
import type { GridStanding } from "./standing.ts";
import type { PeerStats } from "./stats.ts";
import type { PeerTimer } from "./timers.ts";

/** Sizes of every table a Peer keeps that input from the network can grow. */
export interface PeerFootprint {
  /** Links (at most the connection limit). */
  links: number;
  /** Connect and Force requests in flight, each holding a slot. */
  pending: number;
  /** Island repairs in flight. */
  repairing: number;
  /** Known member addresses (at most maxKnownMembers). */
  members: number;
  /** Claim 41 cooldowns (one per recently disconnected member). */
  cooldown: number;
  /** Strangers whose rate is tracked (at most maxTrackedStrangers). */
  strangers: number;
  /** Origins with a duplicate window (at most maxOrigins). */
  origins: number;
  /** Outstanding control requests (at most 1024). */
  requests: number;
  /** Tickets verified and cached. */
  tickets: number;
  /** Named timers armed (timers.ts). */
  timers: number;
  queuedTransmits: number;
  queuedEvents: number;
}

export class PeerView {
  constructor(
    protected readonly parts: PeerParts,
    protected readonly receiver: Receiver,
  ) {
    registerParts(this, parts);
  }

  /** This peer's id in its grid; 0 until admitted. */
  get id(): number {
    return this.parts.core.self;
  }
  get grid(): number {
    return this.parts.core.grid;
  }
  get phase(): Phase {
    return this.parts.core.phase;
  }
  get connectionLimit(): number {
    return this.parts.core.limit;
  }
  /**
   * Where the lobby last said this peer stands (GridStatus): in the grid's main component or
   * on an island, with the counts it saw; undefined until it has said.
   */
  get standing(): GridStanding | undefined {
    return this.parts.standing.current;
  }
  /** Peer ids of the current links. */
  get linkPeers(): readonly number[] {
    return this.parts.core.links.ids;
  }

  stats(): PeerStats {
    const c = this.parts.core;
    const k = c.counters;
    return {
      peer: c.self,
      grid: c.grid,
      phase: c.phase,
      connectionLimit: c.limit,
      links: [...c.links.all()].map((l) => ({ peer: l.peer, address: l.address, srttMs: l.srttMs, neighbourLinks: l.neighbourLinks })),
      datagramsIn: k.datagramsIn,
      datagramsOut: k.datagramsOut,
      bytesIn: k.bytesIn,
      bytesOut: k.bytesOut,
      accepted: k.accepted,
      broadcasts: k.broadcasts,
      delivered: k.delivered,
      relayed: k.relayed,
      duplicates: k.duplicates,
      stale: k.stale,
      suppressed: this.parts.relay.rules.suppressedByName(),
      drops: { ...k.drops },
      failures: { ...k.failures },
      linksOpened: k.linksOpened,
      linksClosed: k.linksClosed,
      forcedConnections: k.forcedConnections,
      retransmits: k.retransmits,
    };
  }

  /** The earliest timer and its name (pollTimeout() is its atMs). */
  nextTimer(): { name: PeerTimer; atMs: number } | undefined {
    return this.parts.core.timers.next();
  }

  footprint(): PeerFootprint {
    const { core, seeker, relay } = this.parts;
    return {
      links: core.links.size,
      pending: seeker.pending.size,
      repairing: seeker.repairing.size,
      members: core.members.size,
      cooldown: seeker.cooldown.size,
      strangers: this.receiver.strangers.size,
      origins: relay.duplicates.size,
      requests: core.requests.size,
      tickets: core.credentials.ticketsCached,
      timers: core.timers.armed,
      queuedTransmits: core.outbox.length,
      queuedEvents: core.events.length,
    };
  }
}
