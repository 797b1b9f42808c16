/**
 * What the dashboard page draws, as JSON: lobby totals, the grid list, one grid's topology,
 * and a log of lobby events. Every field is copied by name from the lobby's getters and
 * events (never spread), so a secret added to them later (a key, a ticket, a session id)
 * cannot reach a page by accident; test/lobby-http.test.ts checks none does.
 */
import type { GridTopology, LobbyEvent } from "../../lib/lobby/index.ts";
import type { LobbyHttpSource } from "./source.ts";

/** Grids listed in one state (the rest are counted in gridsOmitted). Defaults to 200. */
export const DEFAULT_MAX_LISTED_GRIDS = 200;
/** Members drawn for the selected grid (the lowest ids); the grid's counts stay whole. Defaults to 512. */
export const DEFAULT_MAX_DRAWN_MEMBERS = 512;

export interface StateOptions {
  maxListedGrids: number;
  maxDrawnMembers: number;
  /** The driver's clock, for how long ago members were heard from. */
  clock: () => number;
}

/** One member as the page gets it: [peer, addr, limit, links, reported, heardAgoSeconds, component]. */
export type MemberRow = [number, string, number, number, number, number, number];
/** [a, b, 1 (confirmed) | 0 (one-sided: a reports it, b does not)]. */
export type EdgeRow = [number, number, 0 | 1];

export interface DashboardState {
  lobby: {
    address: string;
    grids: number;
    members: number;
    sessions: number;
    links: number;
    oneSidedLinks: number;
    islands: number;
    components: number;
    datagramsIn: number;
    datagramsOut: number;
    bytesIn: number;
    bytesOut: number;
    dropped: number;
    handshakes: number;
    repairHints: number;
  };
  grids: { grid: number; name: string; members: number; capacity: number; links: number; components: number }[];
  gridsOmitted: number;
  selected: {
    grid: number;
    name: string;
    capacity: number;
    limit: number;
    members: number;
    links: number;
    oneSidedLinks: number;
    components: number;
    componentSizes: number[];
    splitForSeconds: number | null;
    truncated: boolean;
    rows: MemberRow[];
    edges: EdgeRow[];
  } | null;
}

/** The grid to show when the page names none (or one that is gone): the one with the most members. */
export function defaultGrid(source: LobbyHttpSource): number | undefined {
  let best: { grid: number; members: number } | undefined;
  for (const g of source.lobby.grids()) if (best === undefined || g.members > best.members) best = g;
  return best?.grid;
}

export function buildState(source: LobbyHttpSource, want: number | undefined, o: StateOptions): DashboardState {
  const s = source.stats();
  const all = source.lobby.grids();
  let dropped = 0;
  for (const n of Object.values(s.drops)) dropped += n;
  const gridId = want !== undefined && all.some((g) => g.grid === want) ? want : defaultGrid(source);
  const topology = gridId === undefined ? undefined : source.lobby.topologyOf(gridId, o.maxDrawnMembers);
  return {
    lobby: {
      address: source.address?.() ?? "",
      grids: s.grids,
      members: s.peers,
      sessions: s.sessions,
      links: s.links,
      oneSidedLinks: source.lobby.footprint().pendingEdges,
      islands: s.islands,
      components: s.components,
      datagramsIn: s.datagramsIn,
      datagramsOut: s.datagramsOut,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      dropped,
      handshakes: s.handshakes,
      repairHints: s.hintsSent,
    },
    grids: all.slice(0, o.maxListedGrids).map((g) => ({
      grid: g.grid,
      name: g.name,
      members: g.members,
      capacity: g.capacity,
      links: g.links,
      components: g.components,
    })),
    gridsOmitted: Math.max(0, all.length - o.maxListedGrids),
    selected: topology === undefined ? null : selectedState(topology, o.clock()),
  };
}

function selectedState(t: GridTopology, nowMs: number): NonNullable<DashboardState["selected"]> {
  let links = 0;
  let oneSided = 0;
  const edges: EdgeRow[] = t.edges.map((e) => {
    if (e.confirmed) links++;
    else oneSided++;
    return [e.a, e.b, e.confirmed ? 1 : 0];
  });
  return {
    grid: t.grid,
    name: t.name,
    capacity: t.capacity,
    limit: t.limit,
    members: t.memberCount,
    links,
    oneSidedLinks: oneSided,
    components: t.components.length,
    componentSizes: t.components.map((c) => c.length),
    splitForSeconds: t.splitSinceMs === undefined ? null : Math.max(0, Math.floor((nowMs - t.splitSinceMs) / 1000)),
    truncated: t.truncated,
    rows: t.members.map((m) => [m.peer, m.addr, m.limit, m.links, m.reported, Math.max(0, Math.floor((nowMs - m.lastHeardMs) / 1000)), m.component]),
    edges,
  };
}

/** A lobby event for the page's log: [seq, wall-clock ms, type, grid, detail fields by name]. */
export interface LogEntry {
  seq: number;
  t: number;
  type: LobbyEvent["type"];
  grid: number;
  peer?: number;
  name?: string;
  addr?: string;
  reason?: string;
  restored?: boolean;
  silentMs?: number;
  count?: number;
  force?: boolean;
  targets?: number[];
  epoch?: number;
}

export function logEntry(seq: number, t: number, e: LobbyEvent): LogEntry {
  // A handler that threw (a lobby bug) belongs to no grid: grid 0 is never assigned. The
  // exception's message stays out of the page (it could quote datagram bytes).
  if (e.type === "internalError") return { seq, t, type: e.type, grid: 0, reason: `handler for kind ${e.kind} threw` };
  const base = { seq, t, type: e.type, grid: e.grid };
  switch (e.type) {
    case "gridCreated":
      return { ...base, name: e.name, restored: e.restored };
    case "gridRemoved":
      return { ...base, name: e.name };
    case "peerJoined":
      return { ...base, peer: e.peer, addr: e.addr, restored: e.restored };
    case "peerLeft":
      return { ...base, peer: e.peer, reason: e.reason };
    case "peerExpired":
      return { ...base, peer: e.peer, silentMs: Math.round(e.silentMs) };
    case "gridKeyRotated":
      return { ...base, epoch: e.epoch };
    case "islandsDetected":
      return { ...base, count: e.count };
    case "repairHintSent":
      return { ...base, peer: e.peer, force: e.force, targets: [...e.targets] };
    default:
      return base;
  }
}
