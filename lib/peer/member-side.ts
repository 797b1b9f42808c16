/**
 * Answering other peers: join and connection-available (positive when a link is free,
 * claims 27, 38), connect (re-checks room, so the limit holds even when several peers
 * picked us at once), force connection (claim 32: drop a link so the grid stays whole),
 * disconnect, and the lobby's probes and repair hints. Every handler is idempotent: a
 * retransmitted request gets the same answer and changes nothing twice.
 */
import type { Address } from "../endpoint.ts";
import { DisconnectReason, Kind, type MessageOf } from "../../wire/index.ts";
import { NO_TAG } from "./core.ts";
import type { PeerCore } from "./core.ts";
import { connect, sendForce } from "./seeker.ts";

type Ask = MessageOf<typeof Kind.Join> | MessageOf<typeof Kind.Available>;

export function onAsk(core: PeerCore, from: Address, msg: Ask): void {
  core.rememberMember(msg.from, from);
  const positive = core.hasRoom() && !core.links.has(msg.from);
  const reply = { req: msg.req, grid: core.grid, from: core.self, positive, links: core.links.size, tag: NO_TAG };
  if (msg.kind === Kind.Join) core.send(from, { kind: Kind.JoinReply, ...reply, limit: core.limit });
  else core.send(from, { kind: Kind.AvailableReply, ...reply });
}

/** A link-opening request must show a ticket the lobby signed for this peer id and address. */
function ticketOk(core: PeerCore, from: Address, msg: MessageOf<typeof Kind.Connect> | MessageOf<typeof Kind.Force>): boolean {
  const verdict = core.checkTicket(msg.from, from, msg.ticket);
  if (verdict === "ok") return true;
  core.counters.drop(`ticket-${verdict}`);
  return false;
}

export function onConnect(core: PeerCore, from: Address, msg: MessageOf<typeof Kind.Connect>): void {
  if (!ticketOk(core, from, msg)) {
    core.send(from, { kind: Kind.ConnectReply, req: msg.req, grid: core.grid, from: core.self, accepted: false, ticket: core.ticket, tag: NO_TAG });
    return;
  }
  let accepted: boolean;
  const link = core.links.get(msg.from);
  if (link !== undefined) accepted = link.address === from;
  else if (core.links.byAddr(from) !== undefined) accepted = false; // another link's address: a stale or forged id
  else if (core.hasRoom() && !core.pending.has(msg.from)) {
    accepted = core.openLink(msg.from, from, 0);
  } else if (core.pending.has(msg.from) && core.self < msg.from) {
    // Both sides asked each other at once: the lower id yields its own request and accepts.
    core.pending.delete(msg.from);
    accepted = core.openLink(msg.from, from, 0);
  } else accepted = false;
  core.send(from, { kind: Kind.ConnectReply, req: msg.req, grid: core.grid, from: core.self, accepted, ticket: core.ticket, tag: NO_TAG });
}

/** Claim 32: close one of this peer's links to make room for the forcing peer, then confirm. */
export function onForce(core: PeerCore, from: Address, msg: MessageOf<typeof Kind.Force>): void {
  if (!ticketOk(core, from, msg)) {
    core.send(from, { kind: Kind.ForceReply, req: msg.req, grid: core.grid, from: core.self, ok: false, ticket: core.ticket, tag: NO_TAG });
    return;
  }
  let ok = false;
  const link = core.links.get(msg.from);
  if (link !== undefined) ok = link.address === from;
  else if (core.links.byAddr(from) !== undefined) ok = false; // another link's address: never drop a link for it
  else if (core.hasRoom() && !core.pending.has(msg.from)) ok = true;
  else if (core.pending.has(msg.from)) {
    // We asked it at the same time: the slot our own request holds is the room it wants.
    core.pending.delete(msg.from);
    ok = true;
  } else if (core.links.size > 0) {
    const neighbours = [...core.links.all()].map((l) => ({ peer: l.peer, links: l.neighbourLinks, rttMs: l.srttMs }));
    const drop = core.cfg.connectionRules.selectDrop(neighbours, core.random);
    if (drop !== undefined && core.closeLink(drop.peer, "forced")) ok = core.hasRoom();
  }
  if (ok && !core.links.has(msg.from)) {
    ok = core.openLink(msg.from, from, 0);
    if (ok) core.counters.forcedConnections++;
  }
  core.send(from, { kind: Kind.ForceReply, req: msg.req, grid: core.grid, from: core.self, ok, ticket: core.ticket, tag: NO_TAG });
}

export function onDisconnect(core: PeerCore, from: Address, msg: MessageOf<typeof Kind.Disconnect>): void {
  const link = core.links.get(msg.from);
  if (link !== undefined && link.address === from) core.closeLink(msg.from, "remote", msg.reason);
  core.send(from, { kind: Kind.DisconnectAck, req: msg.req, grid: core.grid, from: core.self, tag: NO_TAG });
}

export function onPing(core: PeerCore, from: Address, msg: MessageOf<typeof Kind.Ping>): void {
  // Our connect or force to it is still unanswered (its reply was lost): it has linked us,
  // and our retransmit will get the same yes. Answer, so it does not count us dead
  // meanwhile; saying "not linked" would undo the link.
  const link = core.links.get(msg.from);
  if ((link !== undefined && link.address === from) || (link === undefined && core.pending.has(msg.from))) {
    core.send(from, { kind: Kind.Pong, req: msg.req, grid: core.grid, from: core.self, links: core.links.size, tag: NO_TAG });
    return;
  }
  // The sender thinks we are linked but we are not (our close or its connect got lost):
  // tell it, so its side closes too instead of counting misses (same size as the ping).
  core.counters.drop("not-linked");
  core.send(from, { kind: Kind.Disconnect, req: msg.req, grid: core.grid, from: core.self, reason: DisconnectReason.NotLinked, tag: NO_TAG });
}

/** The lobby checks a link it has a one-sided or contradictory report of. */
export function onProbe(core: PeerCore, msg: MessageOf<typeof Kind.Probe>): void {
  core.send(core.cfg.lobby, {
    kind: Kind.ProbeReply,
    req: msg.req,
    session: core.session,
    grid: core.grid,
    peer: core.self,
    other: msg.other,
    linked: core.links.has(msg.other),
  });
}

/**
 * Island repair (7,596,633): the lobby names members of the main component to link with.
 * One new link joins the islands. A full island peer first drops its most connected
 * neighbour (which keeps other paths, so the island stays whole) to make room.
 */
export function onRepairHint(core: PeerCore, msg: MessageOf<typeof Kind.RepairHint>): void {
  for (const t of msg.targets) core.rememberMember(t.peer, t.addr);
  const t = msg.targets.find((x) => !core.links.has(x.peer) && !core.pending.has(x.peer));
  if (t === undefined) return;
  const full = !core.hasRoom();
  if (full) {
    // A repair already in flight (an earlier hint's): one at a time.
    if (core.pending.size > 0 || core.links.size === 0) return;
    // A full island peer asks first and makes room only once the target has accepted
    // (peer.ts onReply), so a hint that cannot succeed (the other island is unreachable,
    // a partition) costs no link.
    core.repairing.add(t.peer);
  }
  core.cooldown.delete(t.peer);
  if (msg.force) sendForce(core, t.peer, t.addr, full);
  else connect(core, { peer: t.peer, addr: t.addr, positive: true, links: 0, receivedAt: core.now, responseTimeMs: 0, order: 0 }, full);
}
