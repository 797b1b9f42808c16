/**
 * The Members reply (claim 24: the joining peer learns the grid and the member addresses;
 * issue 6, point 1: and what admits it). Every part carries, beside its slice of the member
 * list, a grant sealed under the session key: the grid keys by epoch and the peer's ticket
 * (lib/security/admission.ts), so only the peer that did the handshake can read it.
 *
 * Cost: parts are cut once per membership change (the grid's Roster), each part reads only
 * its own <= 32 members, and a member's ticket is signed once per epoch. Building and sorting
 * the whole list for every part of every joiner made a mass join cubic in the grid size. A
 * grid above memberListLimit is not listed at all: each joiner gets a sample in one part
 * (member-sample.ts), so a joiner costs the lobby the same in a grid of 100 or of 10,000.
 */
import { encodeGrant } from "../security/admission.ts";
import { Direction, sealFor } from "../security/handshake.ts";
import { issueTicket } from "../security/ticket.ts";
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import type { PeerEntry } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { grantKeys, latestEpoch } from "./key-rotation.ts";
import type { Grid, Member, Roster } from "./registry.ts";
import { takeNonce, type Session } from "./sessions.ts";
import { noteFree, sampleMembers } from "./member-sample.ts";
import { MAX_LIST_ITEMS, MEMBERS_OVERHEAD, packRuns, peerEntryBytes, strBytes, uintBytes } from "./sizes.ts";

/** The grid's member ids by ascending id, cut into parts that fit `maxDatagramBytes`. */
function buildRoster(grid: Grid, maxDatagramBytes: number): Roster {
  const ids = [...grid.members.keys()].sort((a, b) => a - b);
  // A PeerEntry's size: its link count is at most MAX_LINKS (64), always a one-byte fixint.
  const sizes = ids.map((id) => 1 + uintBytes(id) + strBytes((grid.members.get(id) as Member).addr) + 1);
  const partStarts = [0];
  let at = 0;
  for (const run of packRuns(sizes, maxDatagramBytes - MEMBERS_OVERHEAD)) partStarts.push((at += run));
  if (partStarts.length === 1) partStarts.push(0);
  return { ids, partStarts };
}

/**
 * The grant sealed for `s` under nonce counter `nonce`: keys, active epoch, and `m`'s ticket
 * (signed once per epoch) under the newest epoch, the next one during a rotation: a member
 * that fetches the next key holds a ticket its neighbours still take after the switch, when
 * tickets of older epochs open no new link (PROTOCOL.md 6.3, 6.5).
 */
function sealGrant(core: LobbyCore, s: Session, nonce: number, grid: Grid, m: Member): Uint8Array {
  const epoch = latestEpoch(grid.keys);
  let ticket = m.ticket;
  if (ticket === undefined || ticket.epoch !== epoch) {
    const fields = { grid: grid.id, peer: m.id, address: m.addr, epoch };
    ticket = { epoch, bytes: issueTicket(core.crypto, core.identity.secretKey, fields) };
    m.ticket = ticket;
  }
  const grant = encodeGrant({ activeEpoch: grid.keys.active.epoch, keys: grantKeys(grid.keys), ticket: ticket.bytes });
  return sealFor(core.crypto, s.key, Direction.LobbyToPeer, nonce, grant);
}

function entry(grid: Grid, o: Member): PeerEntry {
  return { peer: o.id, addr: o.addr, links: Math.min(0xff, grid.graph.degree(o.id)) };
}

/** Part `part` of the whole list, by ascending id, self left out. */
function listPart(core: LobbyCore, grid: Grid, self: Member, part: number): { members: PeerEntry[]; parts: number } {
  grid.roster ??= buildRoster(grid, core.config.maxDatagramBytes);
  const { ids, partStarts } = grid.roster;
  const members: PeerEntry[] = [];
  const end = partStarts[part + 1];
  for (let i = partStarts[part] ?? 0; end !== undefined && i < end; i++) {
    const o = grid.members.get(ids[i] as number);
    if (o !== undefined && o !== self) members.push(entry(grid, o));
  }
  return { members, parts: partStarts.length - 1 };
}

/** A grid above memberListLimit: a sample in one part, cut to fit one datagram (part > 0 is empty). */
function samplePart(core: LobbyCore, grid: Grid, self: Member, part: number): { members: PeerEntry[]; parts: number } {
  const members: PeerEntry[] = [];
  if (part !== 0) return { members, parts: 1 };
  let bytes = 0;
  const budget = core.config.maxDatagramBytes - MEMBERS_OVERHEAD;
  for (const id of sampleMembers(grid, self.id, MAX_LIST_ITEMS, core.random)) {
    const e = entry(grid, grid.members.get(id) as Member);
    const n = peerEntryBytes(e);
    if (bytes + n > budget) break;
    members.push(e);
    bytes += n;
  }
  return { members, parts: 1 };
}

/**
 * Members part `part` to `self` (held by session `s`): the other members of that part by
 * ascending id (self is left out of the part it falls in, so a part may hold one entry fewer),
 * `parts` >= 1, and a freshly sealed grant under the session's next nonce counter; above
 * memberListLimit, a sample in part 0 of 1. A part past the end has no members but still
 * admits and carries the grant.
 */
export function sendMembers(core: LobbyCore, req: number, grid: Grid, self: Member, s: Session, part: number): void {
  const nonce = takeNonce(s);
  if (nonce === undefined) {
    core.replyError(s, req, LobbyErrorCode.BadHandshake, "session nonce counter exhausted; send Hello for a new session");
    return;
  }
  noteFree(grid, self); // selecting again may have raised its limit
  const sampled = grid.members.size - 1 > core.config.memberListLimit;
  const { members, parts } = sampled ? samplePart(core, grid, self, part) : listPart(core, grid, self, part);
  const sealed = sealGrant(core, s, nonce, grid, self);
  core.reply(s, { kind: Kind.Members, req, grid: grid.id, peer: self.id, part, parts, members, nonce, sealed });
}
