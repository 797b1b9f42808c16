/**
 * Handlers for registry requests: ListGrids, CreateGrid, SelectGrid, Leave, Rejoin (claims
 * 24, 25, 35; the restart path). Hello is in handshake.ts, the Members reply in members.ts.
 * Each returns a drop reason, or undefined when the datagram was handled (an Error reply is
 * a handled request).
 */
import { decodeGrant } from "../security/admission.ts";
import { constantTimeEqual } from "../security/bytes.ts";
import { Direction, openFrom } from "../security/handshake.ts";
import type { Address } from "../endpoint.ts";
import { utf8Length } from "../../wire/fields.ts";
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import { MAX_ADDRESS_BYTES } from "../../wire/limits.ts";
import type { GridEntry, MessageOf } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { admitOrRefuse } from "./admit.ts";
import type { EpochKey } from "./key-rotation.ts";
import { grantKeys } from "./key-rotation.ts";
import { sendMembers } from "./members.ts";
import { noteGaveUp } from "./nat.ts";
import { allocPeerId, type Grid, type Member } from "./registry.ts";
import { MemberRole } from "../relay/spectators.ts";
import { CREATED_REMEMBERED, type Session } from "./sessions.ts";
import { GRID_LIST_OVERHEAD, gridEntryBytes, MAX_LIST_ITEMS } from "./sizes.ts";

type Msg<K extends keyof typeof Kind> = MessageOf<(typeof Kind)[K]>;

/** Tickets name the member's address in 1 to 64 UTF-8 bytes (lib/security/ticket.ts). */
function addressFits(from: Address): boolean {
  const n = utf8Length(from);
  return n >= 1 && n <= MAX_ADDRESS_BYTES;
}

export function onListGrids(core: LobbyCore, s: Session, msg: Msg<"ListGrids">): undefined {
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
  core.reply(s, { kind: Kind.GridList, req: msg.req, total, offset, grids });
  return undefined;
}

export function onCreateGrid(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"CreateGrid">): undefined {
  const { config, registry } = core;
  // A retransmitted CreateGrid gets the first reply, not NameTaken.
  const earlier = s.created.find((c) => c.req === msg.req);
  const again = earlier === undefined ? undefined : registry.get(earlier.grid);
  if (again !== undefined) {
    core.reply(s, { kind: Kind.GridCreated, req: msg.req, grid: again.id, name: again.name });
    return undefined;
  }
  if (msg.name === "") {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "grid name is empty");
  } else if (registry.findByName(msg.name) !== undefined) {
    core.replyError(s, msg.req, LobbyErrorCode.NameTaken, `grid name "${msg.name}" is taken`);
  } else if (registry.createdBy(s.host) >= config.maxGridsPerHost) {
    core.replyError(s, msg.req, LobbyErrorCode.QuotaExceeded, `this host created ${registry.createdBy(s.host)} grids, maxGridsPerHost ${config.maxGridsPerHost}`);
  } else if (registry.size >= config.maxGrids) {
    core.replyError(s, msg.req, LobbyErrorCode.TooManyGrids, `${registry.size} grids open, maxGrids ${config.maxGrids}`);
  } else if (admitOrRefuse(core, nowMs, s, msg.req, "create", msg.name, 0) !== undefined) {
    const capacity = msg.capacity === 0 ? config.maxMembersPerGrid : Math.min(msg.capacity, config.maxMembersPerGrid);
    const grid = core.createGrid(nowMs, registry.newGridId(core.random), msg.name, capacity, msg.limit, msg.meta, false, s.host);
    s.created.push({ req: msg.req, grid: grid.id });
    if (s.created.length > CREATED_REMEMBERED) s.created.shift();
    core.reply(s, { kind: Kind.GridCreated, req: msg.req, grid: grid.id, name: grid.name });
  }
  return undefined;
}

/** Whether a new member at `from` would fit: a stale member at the same address is replaced, so it does not count. */
function hasRoom(grid: Grid, from: Address): boolean {
  const occupied = grid.members.size - (grid.byAddr.has(from) ? 1 : 0);
  return occupied < grid.capacity;
}

/** Whether `s`'s host may hold another member of `grid` (maxMembersPerGridPerHost; a replaced member at `from` does not count). */
function hostHasRoom(core: LobbyCore, grid: Grid, s: Session, from: Address): boolean {
  const held = grid.hosts.get(s.host) - (grid.byAddr.has(from) ? 1 : 0);
  return held < core.config.maxMembersPerGridPerHost;
}

/** The refusal of a new member for lack of room in the grid, or for its host; undefined when it fits. */
function roomError(core: LobbyCore, grid: Grid, s: Session, from: Address): [LobbyErrorCode, string] | undefined {
  if (!hasRoom(grid, from)) return [LobbyErrorCode.GridFull, `grid ${grid.id} is full: capacity ${grid.capacity}`];
  if (!hostHasRoom(core, grid, s, from)) {
    return [LobbyErrorCode.QuotaExceeded, `this host holds ${grid.hosts.get(s.host)} members of grid ${grid.id}, maxMembersPerGridPerHost ${core.config.maxMembersPerGridPerHost}`];
  }
  return undefined;
}

export function onSelectGrid(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"SelectGrid">): undefined {
  const grid = core.registry.get(msg.grid);
  if (grid === undefined) {
    core.replyError(s, msg.req, LobbyErrorCode.UnknownGrid, `grid ${msg.grid} does not exist`);
    return undefined;
  }
  const held = s.memberships.get(grid.id);
  let m: Member | undefined = held === undefined ? undefined : grid.members.get(held);
  const refused = m === undefined ? roomError(core, grid, s, from) : undefined;
  if (m !== undefined) {
    // Selecting again is idempotent and is how a member changes its limit (claim 10).
    m.limit = msg.limit;
    m.lastHeardMs = nowMs;
  } else if (!addressFits(from)) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, `address must be 1 to ${MAX_ADDRESS_BYTES} bytes`);
    return undefined;
  } else if (msg.role !== MemberRole.Player && msg.role !== MemberRole.Spectator) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, `role must be 0 (player) or 1 (spectator), got ${msg.role}`);
    return undefined;
  } else if (refused !== undefined) {
    core.replyError(s, msg.req, ...refused);
    return undefined;
  } else {
    const admitted = admitOrRefuse(core, nowMs, s, msg.req, "select", grid.name, grid.id, msg.role === MemberRole.Spectator ? "spectator" : "player");
    if (admitted === undefined) return undefined;
    // The role is granted in the id (lib/relay/spectators.ts): the asked one, or the one the
    // admission policy chose; it stays the member's until it leaves (selecting again with
    // another role changes nothing).
    m = core.admit(nowMs, grid, s, allocPeerId(grid, admitted.role === "spectator"), from, msg.limit, false, admitted.player);
  }
  // Every part, a retransmitted one too, is sealed afresh under a new nonce counter.
  sendMembers(core, msg.req, grid, m, s, msg.part);
  return undefined;
}

export function onLeave(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"Leave">): undefined {
  // Idempotent: a retransmitted Leave finds the peer gone and is acknowledged again.
  const own = core.ownMember(s, msg.grid, msg.peer);
  if (typeof own !== "string") {
    noteGaveUp(core, nowMs, own.grid, own.member);
    core.dropMember(nowMs, own.grid, own.member, "leave");
  }
  core.reply(s, { kind: Kind.Ack, req: msg.req });
  return undefined;
}

/**
 * The grid key a Rejoin carries (sealed under this session as a Rejoin grant, PROTOCOL.md 4.3):
 * the key of the epoch it reports, or undefined (epoch 0 holds no key; a grant that does not
 * open, or names another epoch).
 */
function heldKey(core: LobbyCore, s: Session, msg: Msg<"Rejoin">): EpochKey | undefined {
  const plain = msg.epoch === 0 ? null : openFrom(core.crypto, s.key, Direction.PeerToLobby, msg.req, msg.sealed);
  const grant = plain === null ? null : decodeGrant(plain);
  return grant?.activeEpoch === msg.epoch ? grant.keys.find((k) => k.epoch === msg.epoch) : undefined;
}

/** Whether `key` is one the grid hands out now: proof its holder was admitted to it. */
function holdsGridKey(grid: Grid, key: EpochKey | undefined): boolean {
  if (key === undefined) return false;
  return grantKeys(grid.keys).some((k) => k.epoch === key.epoch && constantTimeEqual(k.key, 0, key.key, 0, k.key.length) && k.key.length === key.key.length);
}

/**
 * Re-registration after a lobby restart: recreate the grid with its id and name if missing,
 * then the peer with its id, this datagram's address, its limit and its links. A recreated
 * grid keeps the key its members send under when the Rejoin grant carries it (PROTOCOL.md
 * 4.3); else its first key takes epoch Rejoin.epoch + 1, later than the key its members send
 * under, so they keep that one as previous while they switch (issue 6, point 2: no gap);
 * later Rejoins of the grid change no key. The peer then selects the grid for its grant.
 */
export function onRejoin(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"Rejoin">): undefined {
  const { config, registry } = core;
  const bad = (detail: string, code: LobbyErrorCode = LobbyErrorCode.BadRequest): undefined => {
    core.replyError(s, msg.req, code, detail);
    return undefined;
  };
  if (msg.grid === 0 || msg.peer === 0 || msg.name === "") return bad("Rejoin needs a nonzero grid, a nonzero peer and a name");
  if (!addressFits(from)) return bad(`address must be 1 to ${MAX_ADDRESS_BYTES} bytes`);
  let grid = registry.get(msg.grid);
  if (grid !== undefined && grid.name !== msg.name) return bad(`grid ${grid.id} is named "${grid.name}", not "${msg.name}"`);
  const held = grid === undefined ? undefined : s.memberships.get(grid.id);
  if (held !== undefined && held !== msg.peer) return bad(`this session holds peer ${held} in grid ${msg.grid}`);
  const existing = grid?.members.get(msg.peer);
  if (existing !== undefined && existing.addr !== from) return bad(`peer ${msg.peer} of grid ${msg.grid} is held by another address`);
  const carried = heldKey(core, s, msg);
  // Admission: a member re-registering is the same one (same id, same address); one that shows
  // the grid's key was admitted before the restart; anyone else asks the policy.
  let player: string | undefined = existing?.player ?? "";
  if (existing === undefined && (grid === undefined || !holdsGridKey(grid, carried))) {
    player = admitOrRefuse(core, nowMs, s, msg.req, "rejoin", msg.name, msg.grid)?.player;
    if (player === undefined) return undefined;
  }
  if (grid === undefined) {
    if (registry.findByName(msg.name) !== undefined) return bad(`grid name "${msg.name}" is taken`, LobbyErrorCode.NameTaken);
    if (registry.createdBy(s.host) >= config.maxGridsPerHost) {
      return bad(`this host created ${registry.createdBy(s.host)} grids, maxGridsPerHost ${config.maxGridsPerHost}`, LobbyErrorCode.QuotaExceeded);
    }
    if (registry.size >= config.maxGrids) {
      return bad(`${registry.size} grids open, maxGrids ${config.maxGrids}`, LobbyErrorCode.TooManyGrids);
    }
    if (msg.epoch >= 0xffffffff) return bad(`Rejoin epoch ${msg.epoch} leaves no later epoch`);
    // The grid's key as the peer holds it (sealed under this session): restoring that same
    // key keeps every member's tags valid. Without it, a new key one epoch later.
    const key = carried;
    // Capacity and metadata are not in Rejoin: the grid comes back with the defaults.
    grid = core.createGrid(
      nowMs,
      msg.grid,
      msg.name,
      config.maxMembersPerGrid,
      msg.limit,
      "",
      true,
      s.host,
      key === undefined ? msg.epoch + 1 : key.epoch,
      key?.key,
    );
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
  } else {
    const refused = roomError(core, grid, s, from);
    if (refused !== undefined) return bad(refused[1], refused[0]);
    m = core.admit(nowMs, grid, s, msg.peer, from, msg.limit, true, player);
  }
  core.replaceLinks(nowMs, grid, m.id, msg.links);
  core.reply(s, { kind: Kind.Ack, req: msg.req });
  return undefined;
}
