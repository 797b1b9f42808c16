/**
 * Handlers for session and registry requests: Hello, ListGrids, CreateGrid, SelectGrid,
 * Leave, Rejoin (claims 24, 25, 34, 35; the restart path). Each returns a drop reason, or
 * undefined when the datagram was handled (an Error reply is a handled request).
 */
import type { Address } from "../endpoint.ts";
import { utf8Length } from "../../wire/fields.ts";
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import { MAX_ADDRESS_BYTES } from "../../wire/limits.ts";
import type { GridEntry, MessageOf, PeerEntry } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { allocPeerId, type Grid, type Member } from "./registry.ts";
import { CREATED_REMEMBERED, type Session } from "./sessions.ts";
import {
  GRID_LIST_OVERHEAD,
  gridEntryBytes,
  MAX_LIST_ITEMS,
  MEMBERS_OVERHEAD,
  packRuns,
  peerEntryBytes,
  welcomeBytes,
} from "./sizes.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";

/** A reply to a source not yet validated is at most this many times the request's size. */
export const AMPLIFICATION_FACTOR = 3;

type Msg<K extends keyof typeof Kind> = MessageOf<(typeof Kind)[K]>;

export function onHello(core: LobbyCore, nowMs: number, from: Address, size: number, msg: Msg<"Hello">): DropReason | undefined {
  const maxBytes = size * AMPLIFICATION_FACTOR;
  if (welcomeBytes(msg.req, core.config.heartbeatMs) > maxBytes) return LobbyDrop.Amplification;
  let s = core.sessions.findHello(from, msg.req);
  if (s !== undefined) {
    core.sessions.touch(nowMs, s);
  } else {
    s = core.sessions.open(nowMs, from, msg.req, msg.name, core.random);
    if (s === undefined) return LobbyDrop.SessionsFull;
  }
  core.send(from, { kind: Kind.Welcome, req: msg.req, session: s.id, heartbeatMs: core.config.heartbeatMs }, maxBytes);
  return undefined;
}

export function onListGrids(core: LobbyCore, from: Address, msg: Msg<"ListGrids">): undefined {
  const matches = core.registry.list(msg.filter);
  const total = matches.length;
  const offset = Math.min(msg.offset, total);
  const grids: GridEntry[] = [];
  let bytes = GRID_LIST_OVERHEAD;
  for (let i = offset; i < total && grids.length < MAX_LIST_ITEMS; i++) {
    const g = matches[i] as Grid;
    const entry = { grid: g.id, name: g.name, members: g.members.size, capacity: g.capacity, limit: g.limit, meta: g.meta };
    const n = gridEntryBytes(entry);
    if (grids.length > 0 && bytes + n > core.config.maxDatagramBytes) break;
    grids.push(entry);
    bytes += n;
  }
  core.send(from, { kind: Kind.GridList, req: msg.req, total, offset, grids });
  return undefined;
}

export function onCreateGrid(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"CreateGrid">): undefined {
  const { config, registry } = core;
  // A retransmitted CreateGrid gets the first reply, not NameTaken.
  const earlier = s.created.find((c) => c.req === msg.req);
  const again = earlier === undefined ? undefined : registry.get(earlier.grid);
  if (again !== undefined) {
    core.send(from, { kind: Kind.GridCreated, req: msg.req, grid: again.id, name: again.name });
    return undefined;
  }
  if (msg.name === "") {
    core.sendError(from, msg.req, LobbyErrorCode.BadRequest, "grid name is empty");
  } else if (registry.findByName(msg.name) !== undefined) {
    core.sendError(from, msg.req, LobbyErrorCode.NameTaken, `grid name "${msg.name}" is taken`);
  } else if (registry.size >= config.maxGrids) {
    core.sendError(from, msg.req, LobbyErrorCode.TooManyGrids, `${registry.size} grids open, maxGrids ${config.maxGrids}`);
  } else {
    const capacity = msg.capacity === 0 ? config.maxMembersPerGrid : Math.min(msg.capacity, config.maxMembersPerGrid);
    const grid = core.createGrid(nowMs, registry.newGridId(core.random), msg.name, capacity, msg.limit, msg.meta, false);
    s.created.push({ req: msg.req, grid: grid.id });
    if (s.created.length > CREATED_REMEMBERED) s.created.shift();
    core.send(from, { kind: Kind.GridCreated, req: msg.req, grid: grid.id, name: grid.name });
  }
  return undefined;
}

/** Whether a new member at `from` would fit: a stale member at the same address is replaced, so it does not count. */
function hasRoom(grid: Grid, from: Address): boolean {
  const occupied = grid.members.size - (grid.byAddr.has(from) ? 1 : 0);
  return occupied < grid.capacity;
}

export function onSelectGrid(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"SelectGrid">): undefined {
  const grid = core.registry.get(msg.grid);
  if (grid === undefined) {
    core.sendError(from, msg.req, LobbyErrorCode.UnknownGrid, `grid ${msg.grid} does not exist`);
    return undefined;
  }
  const held = s.memberships.get(grid.id);
  let m: Member | undefined = held === undefined ? undefined : grid.members.get(held);
  if (m !== undefined) {
    // Selecting again is idempotent and is how a member changes its limit (claim 10).
    m.limit = msg.limit;
    m.lastHeardMs = nowMs;
  } else if (utf8Length(from) > MAX_ADDRESS_BYTES) {
    core.sendError(from, msg.req, LobbyErrorCode.BadRequest, `address longer than ${MAX_ADDRESS_BYTES} bytes`);
    return undefined;
  } else if (!hasRoom(grid, from)) {
    core.sendError(from, msg.req, LobbyErrorCode.GridFull, `grid ${grid.id} is full: capacity ${grid.capacity}`);
    return undefined;
  } else {
    m = core.admit(nowMs, grid, s, allocPeerId(grid), from, msg.limit, false);
  }
  sendMembers(core, from, msg.req, grid, m, msg.part);
  return undefined;
}

/** Members part `part`: the other members by ascending id, split so each part fits maxDatagramBytes (claim 24). */
function sendMembers(core: LobbyCore, to: Address, req: number, grid: Grid, self: Member, part: number): void {
  const others: PeerEntry[] = [];
  for (const o of grid.members.values()) {
    if (o.id !== self.id) others.push({ peer: o.id, addr: o.addr, links: Math.min(0xff, grid.graph.degree(o.id)) });
  }
  others.sort((a, b) => a.peer - b.peer);
  const runs = packRuns(others.map(peerEntryBytes), core.config.maxDatagramBytes - MEMBERS_OVERHEAD);
  let start = 0;
  for (let i = 0; i < part && i < runs.length; i++) start += runs[i] as number;
  const members = part < runs.length ? others.slice(start, start + (runs[part] as number)) : [];
  core.send(to, { kind: Kind.Members, req, grid: grid.id, peer: self.id, part, parts: Math.max(1, runs.length), members });
}

export function onLeave(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"Leave">): undefined {
  // Idempotent: a retransmitted Leave finds the peer gone and is acknowledged again.
  const own = core.ownMember(s, msg.grid, msg.peer);
  if (typeof own !== "string") core.dropMember(nowMs, own.grid, own.member, "leave");
  core.send(from, { kind: Kind.Ack, req: msg.req });
  return undefined;
}

/**
 * Re-registration after a lobby restart: recreate the grid with its id and name if missing,
 * then the peer with its id, this datagram's address, its limit and its links.
 */
export function onRejoin(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"Rejoin">): undefined {
  const { config, registry } = core;
  const bad = (detail: string, code: LobbyErrorCode = LobbyErrorCode.BadRequest): undefined => {
    core.sendError(from, msg.req, code, detail);
    return undefined;
  };
  if (msg.grid === 0 || msg.peer === 0 || msg.name === "") return bad("Rejoin needs a nonzero grid, a nonzero peer and a name");
  if (utf8Length(from) > MAX_ADDRESS_BYTES) return bad(`address longer than ${MAX_ADDRESS_BYTES} bytes`);
  let grid = registry.get(msg.grid);
  if (grid !== undefined && grid.name !== msg.name) return bad(`grid ${grid.id} is named "${grid.name}", not "${msg.name}"`);
  const held = grid === undefined ? undefined : s.memberships.get(grid.id);
  if (held !== undefined && held !== msg.peer) return bad(`this session holds peer ${held} in grid ${msg.grid}`);
  const existing = grid?.members.get(msg.peer);
  if (existing !== undefined && existing.addr !== from) return bad(`peer ${msg.peer} of grid ${msg.grid} is held by another address`);
  if (grid === undefined) {
    if (registry.findByName(msg.name) !== undefined) return bad(`grid name "${msg.name}" is taken`, LobbyErrorCode.NameTaken);
    if (registry.size >= config.maxGrids) {
      return bad(`${registry.size} grids open, maxGrids ${config.maxGrids}`, LobbyErrorCode.TooManyGrids);
    }
    // Capacity and metadata are not in Rejoin: the grid comes back with the defaults.
    grid = core.createGrid(nowMs, msg.grid, msg.name, config.maxMembersPerGrid, msg.limit, "", true);
  }
  let m = existing;
  if (m !== undefined) {
    // A retransmitted Rejoin, or the same peer re-registering under a new session.
    const old = m.session === s.id ? undefined : core.sessions.get(m.session);
    if (old !== undefined) core.sessions.dropMembership(nowMs, old, grid.id, m.id);
    m.session = s.id;
    core.sessions.addMembership(s, grid.id, m.id);
    m.limit = msg.limit;
    m.lastHeardMs = nowMs;
  } else if (!hasRoom(grid, from)) {
    return bad(`grid ${grid.id} is full: capacity ${grid.capacity}`, LobbyErrorCode.GridFull);
  } else {
    m = core.admit(nowMs, grid, s, msg.peer, from, msg.limit, true);
  }
  core.replaceLinks(nowMs, grid, m.id, msg.links);
  core.send(from, { kind: Kind.Ack, req: msg.req });
  return undefined;
}
