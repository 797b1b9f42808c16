/**
 * Replies to this peer's requests (matched by id, kind and sender, so a forged or stale
 * reply changes nothing) and requests that gave up after every retransmit.
 */
import type { Address } from "../endpoint.ts";
import { ErrorCode } from "../errors.ts";
import { DisconnectReason, Kind, type Message } from "../../wire/index.ts";
import { NO_TAG, type PeerCore } from "./core.ts";
import * as lobby from "./lobby-client.ts";
import type { PendingRequest } from "./requests.ts";
import * as seeker from "./seeker.ts";

/** A reply: matched to its request by id, kind and sender, or dropped (a forged or stale reply changes nothing). */
export function onReply(c: PeerCore, from: Address, msg: Message & { req: number }): void {
  const p = c.requests.get(msg.req);
  if (p === undefined || p.to !== from || !replyFits(p, msg)) {
    c.counters.drop("unmatched-reply");
    return;
  }
  // A Members whose grant does not open (forged at the lobby's address, or corrupted) is
  // dropped as if it never came: the SelectGrid stays outstanding, so its retransmit and
  // the real reply still get the peer in. Taken first, it used to stall a join for good.
  const grant = msg.kind === Kind.Members ? lobby.openGrant(c, msg) : undefined;
  if (grant === null) {
    c.counters.drop("bad-grant");
    return;
  }
  if (msg.kind === Kind.Welcome) {
    // Verified before the Hello is taken: a forged Welcome leaves it outstanding.
    if (lobby.onWelcome(c, msg)) c.requests.take(msg.req);
    return;
  }
  c.requests.take(msg.req);
  switch (msg.kind) {
    case Kind.Retry:
      return lobby.onRetry(c, msg);
    case Kind.HeartbeatAck:
      return lobby.onHeartbeatAck(c, msg);
    case Kind.GridCreated:
      return lobby.onGridCreated(c, msg);
    case Kind.GridList:
      return lobby.onGridList(c, msg);
    case Kind.Members:
      if (grant !== undefined) lobby.onMembers(c, msg, p.tag.t === "select" ? p.tag.part : 0, grant);
      return;
    case Kind.UnknownSession:
      return lobby.onUnknownSession(c);
    case Kind.Error:
      return lobby.onLobbyError(c, msg, p);
    case Kind.Ack:
      if (p.tag.t === "rejoin") lobby.onRejoined(c);
      return;
    case Kind.JoinReply:
    case Kind.AvailableReply:
      if ((p.tag.t === "join" || p.tag.t === "available") && msg.from === p.tag.peer) {
        seeker.onRoundReply(c, p.tag.round, msg.from, from, msg.positive, msg.links);
      }
      return;
    case Kind.ConnectReply:
    case Kind.ForceReply: {
      let ok = msg.kind === Kind.ConnectReply ? msg.accepted : msg.ok;
      if (ok) {
        // The member proves it was admitted as this peer id at this address (PROTOCOL.md 6.3).
        const verdict = c.checkTicket(msg.from, from, msg.ticket);
        if (verdict !== "ok") {
          c.counters.drop(`ticket-${verdict}`);
          c.send(from, { kind: Kind.Disconnect, req: c.nextReq(), grid: c.grid, from: c.self, reason: DisconnectReason.Misbehaving, tag: NO_TAG });
          ok = false;
        }
      }
      if (ok && c.phase !== "leaving" && c.phase !== "closed") {
        if (msg.kind === Kind.ForceReply) c.counters.forcedConnections++;
        const repair = c.repairing.delete(msg.from);
        if (repair && c.links.size >= c.limit && !c.links.has(msg.from)) makeRoom(c);
        if (c.links.size < c.limit || c.links.has(msg.from)) {
          if (!c.openLink(msg.from, from, 0)) seeker.onConnectFailed(c, msg.from);
        } else c.send(from, { kind: Kind.Disconnect, req: c.nextReq(), grid: c.grid, from: c.self, reason: DisconnectReason.LimitLowered, tag: NO_TAG });
      } else seeker.onConnectFailed(c, msg.from);
      return;
    }
    default:
      return; // DisconnectAck, HeartbeatAck, ConnStatusReply: the request is done
  }
}

export function onGiveUp(c: PeerCore, p: PendingRequest): void {
  switch (p.tag.t) {
    case "connect":
    case "force":
      seeker.onConnectFailed(c, p.tag.peer);
      return;
    case "hello":
    case "create":
    case "list":
    case "select":
      if (c.phase === "lobby") {
        c.phase = "idle";
        c.target = undefined;
        const refused = p.tag.t === "hello" ? c.handshakeFailure : undefined;
        c.emit(
          refused !== undefined
            ? { type: "error", code: ErrorCode.Rejected, message: `the lobby at ${c.cfg.lobby} failed the handshake: ${refused}` }
            : { type: "error", code: ErrorCode.Timeout, message: `the lobby at ${c.cfg.lobby} did not answer ${p.tag.t} after ${c.cfg.maxAttempts} tries` },
        );
      } else if (c.rejoining) lobby.sendHello(c); // keep looking for a restarted lobby
      return;
    default:
      return; // join/available rounds end on their timer; updates and heartbeats are refreshed later
  }
}

/** Which reply kinds answer which request tags (Error and UnknownSession answer any lobby request). */
const REPLY_KINDS: Readonly<Record<PendingRequest["tag"]["t"], readonly number[]>> = {
  hello: [Kind.Welcome, Kind.Retry],
  create: [Kind.GridCreated],
  list: [Kind.GridList],
  select: [Kind.Members],
  connUpdate: [Kind.Ack],
  status: [Kind.ConnStatusReply],
  heartbeat: [Kind.HeartbeatAck],
  leave: [Kind.Ack],
  rejoin: [Kind.Ack],
  probeReply: [],
  join: [Kind.JoinReply],
  available: [Kind.AvailableReply],
  connect: [Kind.ConnectReply],
  force: [Kind.ForceReply],
  disconnect: [Kind.DisconnectAck],
};

function replyFits(p: PendingRequest, msg: Message): boolean {
  if (msg.kind === Kind.UnknownSession || msg.kind === Kind.Error) return isLobbyTag(p);
  if (!REPLY_KINDS[p.tag.t].includes(msg.kind)) return false;
  // A peer's reply must name the peer that was asked: one naming another id (corrupted or
  // forged at the right address) would open a link under the wrong id and strand the
  // request's slot in `pending`.
  return !("peer" in p.tag) || ("from" in msg && msg.from === p.tag.peer);
}

function isLobbyTag(p: PendingRequest): boolean {
  const t = p.tag.t;
  return t !== "join" && t !== "available" && t !== "connect" && t !== "force" && t !== "disconnect";
}

/** Drops the neighbour the connection rules pick (the most connected) for an accepted island repair. */
function makeRoom(c: PeerCore): void {
  const neighbours = [...c.links.all()].map((l) => ({ peer: l.peer, links: l.neighbourLinks, rttMs: l.srttMs }));
  const drop = c.cfg.connectionRules.selectDrop(neighbours, c.random);
  if (drop !== undefined) c.closeLink(drop.peer, "forced");
}

