/**
 * The bounded-memory invariant (issue 6, point 4: "pending joins, origins, grids and
 * tickets are bounded"), measured on the endpoints' own tables: each table's size against
 * its cap, from their footprint(). The fuzzer checks it after every batch and the flood
 * test across a million datagrams.
 */
import type { Lobby } from "../../../lib/lobby/lobby.ts";
import { DEFAULT_MAX_KNOWN_MEMBERS, DEFAULT_MAX_TRACKED_STRANGERS } from "../../../lib/peer/config.ts";
import { insiderOf } from "../../../lib/peer/insider.ts";
import { TIMER_ORDER } from "../../../lib/peer/timers.ts";
import { DEFAULT_MAX_ORIGINS } from "../../../lib/relay/origin-table.ts";
import { DEFAULT_TICKET_CACHE_ENTRIES } from "../../../lib/security/ticket-cache.ts";
import type { PeerNode } from "../sim-grid.ts";

/** A Peer's outstanding requests are capped at this (RequestTable's maxPending default). */
export const MAX_PENDING_REQUESTS = 1024;

export interface Table {
  readonly name: string;
  readonly size: number;
  readonly cap: number;
}

/** Outstanding request ids of a peer, oldest first (for fuzz tokens that answer them). */
export function outstandingRequests(node: PeerNode): number[] {
  return insiderOf(node.endpoint).outstandingRequests();
}

/** The Peer options that set a table's cap, as the peer under test was configured (defaults when left out). */
export interface PeerCaps {
  maxTrackedStrangers?: number;
  maxOrigins?: number;
  maxKnownMembers?: number;
}

/** Every table a Peer keeps that input from the network can grow, with its cap. */
export function peerTables(node: PeerNode, caps: PeerCaps = {}): Table[] {
  const f = node.endpoint.footprint();
  const limit = node.endpoint.connectionLimit;
  return [
    { name: "links", size: f.links, cap: limit },
    { name: "pending", size: f.pending, cap: limit },
    { name: "members", size: f.members, cap: caps.maxKnownMembers ?? DEFAULT_MAX_KNOWN_MEMBERS },
    { name: "vouched", size: f.vouched, cap: f.members },
    { name: "cooldown", size: f.cooldown, cap: caps.maxKnownMembers ?? DEFAULT_MAX_KNOWN_MEMBERS },
    { name: "strangers", size: f.strangers, cap: caps.maxTrackedStrangers ?? DEFAULT_MAX_TRACKED_STRANGERS },
    { name: "origins", size: f.origins, cap: caps.maxOrigins ?? DEFAULT_MAX_ORIGINS },
    { name: "requests", size: f.requests, cap: MAX_PENDING_REQUESTS },
    { name: "tickets", size: f.tickets, cap: DEFAULT_TICKET_CACHE_ENTRIES },
    { name: "repairing", size: f.repairing, cap: limit },
    { name: "timers", size: f.timers, cap: TIMER_ORDER.length },
    { name: "queuedTransmits", size: f.queuedTransmits, cap: 4 * MAX_PENDING_REQUESTS },
    { name: "queuedEvents", size: f.queuedEvents, cap: 4 * MAX_PENDING_REQUESTS },
  ];
}

/** The drop-table invariant (drops.ts): every datagram a Peer took was accepted or dropped once. */
export function peerAccounting(node: PeerNode): string[] {
  const s = node.endpoint.stats();
  const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
  const bad: string[] = [];
  if (s.datagramsIn !== s.accepted + drops) bad.push(`datagramsIn ${s.datagramsIn} != accepted ${s.accepted} + drops ${drops}`);
  if ((s.drops["internal-error"] ?? 0) > 0) bad.push(`a handler threw (${s.drops["internal-error"]} internal-error drops)`);
  return bad;
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
