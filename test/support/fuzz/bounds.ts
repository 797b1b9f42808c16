/**
 * The bounded-memory invariant (issue 6, point 4: "pending joins, origins, grids and
 * tickets are bounded"), measured on the endpoints' own tables: each table's size against
 * its cap. The fuzzer checks it after every batch and the flood test across a million
 * datagrams. Tests reach into the Peer's core on purpose (as peer-scenarios.ts does): its
 * tables are not part of the API.
 */
import type { Lobby } from "../../../lib/lobby/lobby.ts";
import { MAX_KNOWN_MEMBERS, type PeerCore } from "../../../lib/peer/core.ts";
import { DEFAULT_TICKET_CACHE_ENTRIES } from "../../../lib/security/ticket-cache.ts";
import type { PeerNode } from "../sim-grid.ts";

/** A Peer's outstanding requests are capped at this (RequestTable's maxPending default). */
export const MAX_PENDING_REQUESTS = 1024;

export interface Table {
  readonly name: string;
  readonly size: number;
  readonly cap: number;
}

export function coreOf(node: PeerNode): PeerCore {
  return (node.endpoint as unknown as { core: PeerCore }).core;
}

/** Outstanding request ids of a peer, oldest first (for fuzz tokens that answer them). */
export function outstandingRequests(node: PeerNode): number[] {
  return [...(coreOf(node).requests as unknown as { byId: Map<number, unknown> }).byId.keys()];
}

/** Every table a Peer keeps that input from the network can grow, with its cap. */
export function peerTables(node: PeerNode): Table[] {
  const c = coreOf(node);
  return [
    { name: "links", size: c.links.size, cap: c.limit },
    { name: "pending", size: c.pending.size, cap: c.limit },
    { name: "members", size: c.members.size, cap: MAX_KNOWN_MEMBERS },
    { name: "cooldown", size: c.cooldown.size, cap: MAX_KNOWN_MEMBERS },
    { name: "strangers", size: c.strangers.size, cap: c.cfg.maxTrackedStrangers },
    { name: "origins", size: c.duplicates.size, cap: c.cfg.maxOrigins },
    { name: "requests", size: c.requests.size, cap: MAX_PENDING_REQUESTS },
    { name: "tickets", size: c.tickets?.size ?? 0, cap: DEFAULT_TICKET_CACHE_ENTRIES },
    { name: "repairing", size: c.repairing.size, cap: c.limit },
    { name: "outbox", size: c.outbox.length, cap: 4 * MAX_PENDING_REQUESTS },
    { name: "events", size: c.events.length, cap: 4 * MAX_PENDING_REQUESTS },
  ];
}

export interface LobbyCaps {
  maxSessions: number;
  maxTrackedSources: number;
  maxGrids: number;
  maxMembersPerGrid: number;
  maxQueuedTransmits: number;
  maxQueuedEvents: number;
}

/** The lobby's footprint() against its configured caps. */
export function lobbyTables(lobby: Lobby, caps: LobbyCaps): Table[] {
  const f = lobby.footprint();
  const maxPeers = caps.maxGrids * caps.maxMembersPerGrid;
  return [
    { name: "sessions", size: f.sessions, cap: caps.maxSessions },
    { name: "sources", size: f.sources, cap: caps.maxTrackedSources },
    { name: "grids", size: f.grids, cap: caps.maxGrids },
    { name: "peers", size: f.peers, cap: maxPeers },
    // Each unconfirmed edge and probe names two members of one grid, at most 64 links each.
    { name: "pendingEdges", size: f.pendingEdges, cap: maxPeers * 64 },
    { name: "probes", size: f.probes, cap: maxPeers * 64 },
    { name: "timers", size: f.timers, cap: maxPeers * 64 + 3 * caps.maxGrids },
    { name: "queuedTransmits", size: f.queuedTransmits, cap: caps.maxQueuedTransmits },
    { name: "queuedEvents", size: f.queuedEvents, cap: caps.maxQueuedEvents },
  ];
}

/** "name size > cap" for every table over its cap. */
export function overCap(tables: readonly Table[]): string[] {
  return tables.filter((t) => t.size > t.cap).map((t) => `${t.name} ${t.size} > ${t.cap}`);
}
