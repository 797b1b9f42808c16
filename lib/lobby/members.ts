/**
 * The Members reply (claim 24: the joining peer learns the grid and the member addresses;
 * issue 6, point 1: and what admits it). Every part carries, beside its slice of the member
 * list, a grant sealed under the session key: the grid keys by epoch and the peer's ticket
 * (lib/security/admission.ts), so only the peer that did the handshake can read it.
 *
 * Cost: parts are cut once per membership change (the grid's Roster), each part reads only
 * its own <= 32 members, and a member's ticket is signed once per epoch. Building and sorting
 * the whole list for every part of every joiner made a mass join cubic in the grid size.
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
import { MEMBERS_OVERHEAD, packRuns, strBytes, uintBytes } from "./sizes.ts";

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

/**
 * Members part `part` to `self` (held by session `s`): the other members of that part by
 * ascending id (self is left out of the part it falls in, so a part may hold one entry fewer),
 * `parts` >= 1, and a freshly sealed grant under the session's next nonce counter. A part
 * past the end has no members but still admits and carries the grant.
 */
export function sendMembers(core: LobbyCore, req: number, grid: Grid, self: Member, s: Session, part: number): void {
  const nonce = takeNonce(s);
  if (nonce === undefined) {
    core.replyError(s, req, LobbyErrorCode.BadHandshake, "session nonce counter exhausted; send Hello for a new session");
    return;
  }
  grid.roster ??= buildRoster(grid, core.config.maxDatagramBytes);
  const { ids, partStarts } = grid.roster;
  const parts = partStarts.length - 1;
  const members: PeerEntry[] = [];
  if (part < parts) {
    const end = partStarts[part + 1] as number;
    for (let i = partStarts[part] as number; i < end; i++) {
      const id = ids[i] as number;
      const o = grid.members.get(id);
      if (id === self.id || o === undefined) continue;
      members.push({ peer: id, addr: o.addr, links: Math.min(0xff, grid.graph.degree(id)) });
    }
  }
  const sealed = sealGrant(core, s, nonce, grid, self);
  core.reply(s, { kind: Kind.Members, req, grid: grid.id, peer: self.id, part, parts, members, nonce, sealed });
}
