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
import { newRepairCounters, type RepairCounters } from "./repair-server.ts";
import type { PeerStats } from "./stats.ts";
import type { PeerTimer } from "./timers.ts";
import { roleOf, type MemberRoleName } from "../relay/spectators.ts";

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
  /** Members whose origin windows fake ids cannot evict (a subset of members). */
  vouched: number;
  /** Claim 41 cooldowns (one per recently disconnected member). */
  cooldown: number;
  /** Strangers whose rate is tracked (at most maxTrackedStrangers). */
  strangers: number;
  /** Origins with a duplicate window (at most maxOrigins). */
  origins: number;
  /** Outstanding control requests (at most 1024). */
  requests: number;
  /** Origins whose first link this peer tracks (redundancy lists, at most maxOrigins). */
  routes: number;
  /** Origins with a redundancy list (neighbours that pruned them, at most maxOrigins). */
  listed: number;
  /** Envelopes in the retransmit buffer (at most repairBufferMessages), and their bytes (at most repairBufferBytes). */
  buffered: number;
  bufferedBytes: number;
  /** Missing seqs being pulled from neighbours (at most 4096). */
  missing: number;
  /** Ordered messages held for an earlier one (at most maxHeldMessages per origin), and their bytes (at most maxHeldBytes). */
  held: number;
  heldBytes: number;
  /** Unfinished large messages, and their bytes (at most reassemblyBytes). */
  reassembling: number;
  reassemblyBytes: number;
  /** Tickets verified and cached. */
  tickets: number;
  /** Punches under way or still answering (at most MAX_PUNCH_SESSIONS). */
  punches: number;
  /** Proven paths (at most MAX_PROVEN_PATHS). */
  paths: number;
  /** Reliable routed messages waiting for their ack (at most MAX_PENDING_ROUTED). */
  routedPending: number;
  /** Named timers armed (timers.ts). */
  timers: number;
  queuedTransmits: number;
  queuedEvents: number;
}

const NO_REPAIR: RepairCounters = newRepairCounters();

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
  /** The role the lobby granted (in the id: lib/relay/spectators.ts); "player" until admitted. */
  get role(): MemberRoleName {
    return roleOf(this.parts.core.self);
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
      redundancy: { ...this.parts.redundancy.counters, listed: this.parts.relay.list?.entries ?? 0 },
      repair: { ...(this.parts.repair?.counters ?? NO_REPAIR) },
      messages: { ...this.parts.delivery.counters },
      routed: { ...this.parts.router.counters },
      nat: this.parts.nat.stats(),
      originAuth: { ...this.parts.relay.auth.counters },
    };
  }

  /**
   * One origin as this peer relays it (US 7,685,301): the link whose copies it keeps
   * (`parent`, 0 for none), the links it pruned for it, and the neighbours that pruned it here
   * (`listed`: this peer does not send them that origin's messages).
   */
  redundancyOf(origin: number): { parent: number; pruned: number[]; listed: number[] } {
    const { redundancy, relay } = this.parts;
    return { parent: redundancy.parentOf(origin), pruned: redundancy.prunedBy(origin), listed: relay.list?.listed(origin) ?? [] };
  }

  /** The earliest timer and its name (pollTimeout() is its atMs). */
  nextTimer(): { name: PeerTimer; atMs: number } | undefined {
    return this.parts.core.timers.next();
  }

  footprint(): PeerFootprint {
    const { core, seeker, relay, nat } = this.parts;
    return {
      links: core.links.size,
      pending: seeker.pending.size,
      repairing: seeker.repairing.size,
      members: core.members.size,
      vouched: core.vouched.size,
      cooldown: seeker.cooldown.size,
      strangers: this.receiver.strangers.size,
      origins: relay.duplicates.size,
      requests: core.requests.size,
      routes: this.parts.redundancy.size,
      listed: relay.list?.size ?? 0,
      buffered: this.parts.repair?.buffer.size ?? 0,
      bufferedBytes: this.parts.repair?.buffer.bytesHeld ?? 0,
      missing: this.parts.repair?.pending ?? 0,
      held: this.parts.delivery.holding.messages,
      heldBytes: this.parts.delivery.holding.bytes,
      reassembling: this.parts.delivery.reassembly.size,
      reassemblyBytes: this.parts.delivery.reassembly.bytesHeld,
      tickets: core.credentials.ticketsCached,
      punches: nat.punches.sessions.size,
      paths: core.credentials.paths.size,
      routedPending: this.parts.router.outbox.size,
      timers: core.timers.armed,
      queuedTransmits: core.outbox.length,
      queuedEvents: core.events.length,
    };
  }
}
