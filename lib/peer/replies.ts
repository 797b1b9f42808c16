/**
 * Replies to this peer's requests and requests that gave up, each routed to the part that
 * sent the request: the lobby client's (hello, create, list, select, heartbeat, rejoin, ...)
 * or the seeker's (join, available, connect, force). A reply is matched by id, source
 * address and kind first (request-table.ts), so a forged or stale reply changes nothing.
 */
import type { Address } from "../endpoint.ts";
import { Kind, LobbyErrorCode, NatKind, type AnyMessage } from "../../wire/index.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { PeerParts } from "./parts.ts";
import type { PendingRequest } from "./request-table.ts";

export function onReply(parts: PeerParts, now: number, from: Address, msg: AnyMessage & { req: number }, framed: boolean): DropReason | undefined {
  const { core, lobby, seeker, nat } = parts;
  const p = core.requests.match(from, msg);
  if (p === undefined) return PeerDrop.UnmatchedReply;
  if (msg.kind === Kind.Error && (!framed || msg.code === LobbyErrorCode.RateLimited)) {
    // A bare Error can only answer a Hello (nothing after the handshake is bare, PROTOCOL.md
    // 6.10), and anyone on the path can forge one; RateLimited says "later", not "no". Neither
    // ends anything: the request stays outstanding and its retransmits (with backoff) go on,
    // and a Hello that finally gives up reports the lobby's last word (issue 15: a spoofed
    // Error or RateLimited used to end a join).
    if (!framed && p.tag.t !== "hello") return PeerDrop.Unauthenticated;
    lobby.onLobbyNotice(msg);
    return undefined;
  }
  // A Members whose grant does not open (forged at the lobby's address, or corrupted) is
  // dropped as if it never came: the SelectGrid stays outstanding, so its retransmit and
  // the real reply still get the peer in. Taken first, it used to stall a join for good.
  const grant = msg.kind === Kind.Members ? lobby.handshake.openGrant(msg) : undefined;
  if (grant === null) return PeerDrop.BadGrant;
  if (msg.kind === Kind.Welcome || msg.kind === NatKind.Registered) {
    // Verified before the request is taken: a forged Welcome or Registered leaves it outstanding.
    const drop = msg.kind === Kind.Welcome ? lobby.onWelcome(now, msg) : nat.onRegistered(now, msg);
    if (drop === undefined) core.requests.take(msg.req);
    return drop;
  }
  core.requests.take(msg.req);
  const tag = p.tag;
  switch (msg.kind) {
    case Kind.Retry:
      lobby.onRetry(now, msg);
      return undefined;
    case Kind.HeartbeatAck:
      lobby.onHeartbeatAck(now, msg);
      return undefined;
    case Kind.GridCreated:
      lobby.onGridCreated(now, msg);
      return undefined;
    case Kind.GridList:
      lobby.onGridList(now, msg);
      return undefined;
    case Kind.Members:
      return grant === undefined ? undefined : lobby.onMembers(now, msg, tag.t === "select" ? tag.part : 0, grant);
    case Kind.UnknownSession:
      lobby.onUnknownSession(now);
      return undefined;
    case Kind.Error:
      // A refused Register or Introduce turns NAT traversal off or settles its targets; it
      // says nothing about the membership (heartbeats find out whether that expired).
      if (tag.t === "register" || tag.t === "introduce") nat.onRefused(now, tag);
      else if (tag.t !== "punchReport") lobby.onLobbyError(now, msg, p);
      return undefined;
    case NatKind.Introduced:
      nat.onIntroduced(now, msg);
      return undefined;
    case Kind.Ack:
      if (tag.t === "rejoin") lobby.onRejoined(now);
      else if (tag.t === "token") lobby.onTokenShown(now);
      return undefined;
    case Kind.JoinReply:
    case Kind.AvailableReply:
      if ((tag.t === "join" || tag.t === "available") && msg.from === tag.peer) {
        seeker.onRoundReply(now, tag.round, msg.from, from, msg.positive, msg.links);
      }
      return undefined;
    case Kind.ConnectReply:
    case Kind.ForceReply:
      return seeker.onLinkReply(now, from, msg, p);
    default:
      return undefined; // DisconnectAck, ConnStatusReply: the request is done
  }
}

/** A request sent maxAttempts times without an answer. */
export function onGiveUp(parts: PeerParts, now: number, p: PendingRequest): void {
  switch (p.tag.t) {
    case "connect":
    case "force":
      parts.seeker.onConnectFailed(now, p.tag.peer);
      return;
    case "hello":
    case "token":
    case "create":
    case "list":
    case "select":
      parts.lobby.onGiveUp(now, p.tag);
      return;
    case "register":
    case "introduce":
      parts.nat.onRefused(now, p.tag);
      return;
    default:
      return; // join/available rounds end on their timer; updates and heartbeats are refreshed later
  }
}
