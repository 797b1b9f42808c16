/**
 * Replies to this peer's requests and requests that gave up, each routed to the part that
 * sent the request: the lobby client's (hello, create, list, select, heartbeat, rejoin, ...)
 * or the seeker's (join, available, connect, force). A reply is matched by id, source
 * address and kind first (request-table.ts), so a forged or stale reply changes nothing.
 */
import type { Address } from "../endpoint.ts";
import { Kind, type Message } from "../../wire/index.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { PeerParts } from "./parts.ts";
import type { PendingRequest } from "./request-table.ts";

export function onReply(parts: PeerParts, now: number, from: Address, msg: Message & { req: number }): DropReason | undefined {
  const { core, lobby, seeker } = parts;
  const p = core.requests.match(from, msg);
  if (p === undefined) return PeerDrop.UnmatchedReply;
  // A Members whose grant does not open (forged at the lobby's address, or corrupted) is
  // dropped as if it never came: the SelectGrid stays outstanding, so its retransmit and
  // the real reply still get the peer in. Taken first, it used to stall a join for good.
  const grant = msg.kind === Kind.Members ? lobby.handshake.openGrant(msg) : undefined;
  if (grant === null) return PeerDrop.BadGrant;
  if (msg.kind === Kind.Welcome) {
    // Verified before the Hello is taken: a forged Welcome leaves it outstanding.
    const drop = lobby.onWelcome(now, msg);
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
      lobby.onLobbyError(now, msg, p);
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
      return seeker.onLinkReply(now, from, msg);
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
    default:
      return; // join/available rounds end on their timer; updates and heartbeats are refreshed later
  }
}
