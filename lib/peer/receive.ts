/**
 * Every datagram a Peer receives goes through these checks, cheapest first and in this
 * order (STYLE.md 6, PROTOCOL.md 6.7); the first that fails names the drop (drops.ts):
 *
 *   1. the peer has closed                                    -> closed
 *   2. relay data (first bytes 99 01 01, or 99 01 06 for a Message), if the phase takes it,
 *      goes to the hot path (relay-path.ts onData: not-linked, decode, wrong-grid, tag-*, the
 *      link's data bucket, then the duplicate window); else    -> unexpected-in-state
 *   3. Repair, MessageRepair, Routed and kinds 0x10-0x1f and 0x60-0x6f: the grid-key tag on
 *      the raw bytes (hop byte read as 0, as for Data)         -> tag-missing, tag-unknown-epoch, tag-bad-tag;
 *      then, and only then, a token: the link's data bucket (Repair, MessageRepair, Routed,
 *      Prune, Graft, RepairRequest) or control bucket (the rest) -> link-rate-limited, or for a sender that is not a link the
 *      strangers' bucket                                       -> rate-limited
 *      (charged after the tag, so spoofing an address spends nobody's tokens)
 *   4. any other kind from an address that is not the lobby's   -> not-from-lobby
 *   5. a session frame from the lobby: this session, its tag, a fresh counter (PROTOCOL.md 6.10)
 *                                                              -> frame-session, frame-*; what it carries goes on
 *   6. decode (never throws)                                   -> its DecodeErrorCode (past a
 *      valid tag, counted against the link too: a member's fault)
 *   7. the phase table (phases.ts) accepts the kind            -> unexpected-in-state
 *   8. a lobby message that came bare must be one the lobby sends bare: Retry, Welcome,
 *      UnknownSession, or an Error to a Hello                  -> unauthenticated, frame-body
 *   9. peer <-> peer control names this peer as its receiver (`to`) -> wrong-receiver;
 *      per kind: the grid, the sender (not ourselves; for Repair, Prune, Graft and
 *      RepairRequest a link, and `from` its peer; for those and Ping, Pong and Disconnect
 *      the link auth and its counter: link-auth, link-replay), a reply's match to its request; then the
 *      part's own checks (tickets, pongs, punches: PROTOCOL.md 6.9) -> wrong-grid, from-self,
 *      not-linked, wrong-sender, unexpected-probe, ... (drops.ts)
 *
 * NAT traversal's kinds (PROTOCOL.md 4.7) are decoded only with natTraversal on; off, they
 * are `unknown-kind`, as for any receiver that does not speak them.
 *
 * Anything that passes reaches the part that handles its kind and is counted as accepted.
 */
import type { Address } from "../endpoint.ts";
import { checkTag } from "../security/grid-keys.ts";
import { SourceLimiter } from "../util/rate-limit.ts";
import { decode, DEFAULT_MAX_DATAGRAM_BYTES, isEnvelopeKind, Kind, NatKind, RELAY_HOPS_OFFSET, type AnyMessage } from "../../wire/index.ts";
import { isTaggedControl } from "./core.ts";
import { PeerDrop, TAG_DROP, type DropReason } from "./drops.ts";
import type { PeerParts } from "./parts.ts";
import { onReply } from "./replies.ts";

function assertNever(x: never): never {
  throw new Error(`unhandled message kind ${String((x as { kind: unknown }).kind)}`);
}

/** Relay data is recognised by its first three bytes: fixarray(9), version 1, kind 1 or 6 (Data, Message; PROTOCOL.md 6.7). */
export function isRelayData(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x99 && bytes[1] === 1 && (bytes[2] === Kind.Data || bytes[2] === Kind.Message);
}

export class Receiver {
  /** Token buckets for datagrams from addresses that are not links (floods, STYLE.md 6). */
  readonly strangers: SourceLimiter;

  constructor(private readonly parts: PeerParts) {
    const cfg = parts.core.cfg;
    this.strangers = new SourceLimiter(cfg.strangerRatePerSecond, cfg.strangerBurst, cfg.maxTrackedStrangers);
  }

  /**
   * Steps 1 and 2 for relay data, the hot path: its checks return codes and never throw on
   * input (the hand decoder, the tag check and the duplicate window), so the Peer calls it
   * without the guard it keeps around receive().
   */
  receiveData(now: number, from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.parts.core;
    // The phase row first: a phase that takes data is never closed (one load on the hot path).
    if (core.accepting[Kind.Data] === 1) return this.parts.relay.onData(now, from, bytes);
    return core.phase === "closed" ? PeerDrop.Closed : PeerDrop.UnexpectedInState;
  }

  /** One datagram that is not relay data through the checks above: its drop reason, or undefined when accepted. */
  receive(now: number, from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.parts.core;
    if (core.phase === "closed") return PeerDrop.Closed;
    const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
    // Peer<->peer control, NAT traversal and Repair must carry a valid tag under one of the
    // grid's keys: checked on the raw bytes before anything is decoded (cheapest check first,
    // STYLE.md 6), and before any token is taken, so a spoofer cannot spend a member's budget.
    const envelope = isEnvelopeKind(kind);
    const tagged = isTaggedControl(kind) || envelope;
    if (tagged) {
      const t = checkTag(core.credentials.keyring, bytes, envelope ? RELAY_HOPS_OFFSET : -1);
      if (t !== "ok") return TAG_DROP[t];
      const link = core.links.byAddr(from);
      if (link !== undefined ? !(envelope || isRepairControl(kind) ? link.data : link.control).take(now) : !this.strangers.allow(now, from)) {
        return link !== undefined ? PeerDrop.LinkRateLimited : PeerDrop.RateLimited;
      }
    } else if (from !== core.cfg.lobby) return PeerDrop.NotFromLobby;
    let body = bytes;
    let framed = false;
    if (kind === Kind.SessionFrame) {
      const outer = decode(bytes);
      if (!outer.ok) return outer.code;
      if (outer.msg.kind !== Kind.SessionFrame || core.accepting[Kind.SessionFrame] !== 1) return PeerDrop.UnexpectedInState;
      const opened = this.parts.lobby.handshake.openFrame(outer.msg, bytes);
      if (typeof opened === "string") return opened;
      body = opened;
      framed = true;
    }
    const r = decode(body, DEFAULT_MAX_DATAGRAM_BYTES, { natTraversal: core.cfg.natTraversal });
    if (!r.ok) {
      // Past a valid tag, an undecodable body is a member's fault.
      if (tagged) core.chargeLink(now, from);
      return r.code;
    }
    if (core.accepting[r.msg.kind] !== 1) return PeerDrop.UnexpectedInState;
    if (!tagged) {
      const wrong = lobbyFraming(r.msg, framed);
      if (wrong !== undefined) return wrong;
    }
    return this.dispatch(now, from, bytes, r.msg, framed);
  }

  /** Step 9: the kind's own checks, then the part that handles it. */
  private dispatch(now: number, from: Address, bytes: Uint8Array, msg: AnyMessage, framed: boolean): DropReason | undefined {
    const { core, lobby, seeker, responder, pings, relay, redundancy, repair, router, nat } = this.parts;
    const fromLobby = from === core.cfg.lobby;
    // Peer <-> peer control names its receiver: a capture replayed at anyone else is theirs to drop (PROTOCOL.md 6.13).
    if (msg.kind >= 0x10 && msg.kind <= 0x1f && "to" in msg && msg.to !== core.self) return PeerDrop.WrongReceiver;
    switch (msg.kind) {
      case Kind.Repair:
      case Kind.MessageRepair: {
        const link = core.links.byAddr(from);
        return link === undefined ? PeerDrop.NotLinked : relay.onRepair(now, link, bytes);
      }
      case Kind.Routed: {
        const link = core.links.byAddr(from);
        return link === undefined ? PeerDrop.NotLinked : router.onRouted(now, link, bytes);
      }
      case Kind.Prune:
      case Kind.Graft:
      case Kind.RepairRequest: {
        // Redundancy lists and repair are between linked members only, each speaking for itself.
        if (msg.grid !== core.grid) return PeerDrop.WrongGrid;
        if (msg.from === core.self) return PeerDrop.FromSelf;
        const link = core.links.byAddr(from);
        if (link === undefined) return PeerDrop.NotLinked;
        if (link.peer !== msg.from) return PeerDrop.WrongSender;
        const bad = core.checkOnLink(link, bytes, msg.ctr);
        if (bad !== undefined) return bad;
        if (msg.kind === Kind.Prune) return redundancy.onPrune(link, msg);
        if (msg.kind === Kind.Graft) return redundancy.onGraft(now, link, msg);
        return repair?.onRequest(now, link, msg);
      }
      case Kind.Join:
      case Kind.Available:
      case Kind.Connect:
      case Kind.Force:
      case Kind.Disconnect:
      case Kind.Ping:
        if (msg.grid !== core.grid) return PeerDrop.WrongGrid;
        if (core.self === 0) return PeerDrop.UnexpectedInState;
        if (msg.from === core.self) return PeerDrop.FromSelf;
        if (msg.kind === Kind.Join || msg.kind === Kind.Available) return responder.onAsk(from, msg);
        if (msg.kind === Kind.Connect) return responder.onConnect(now, from, bytes, msg);
        if (msg.kind === Kind.Force) return responder.onForce(now, from, bytes, msg);
        if (msg.kind === Kind.Disconnect) return responder.onDisconnect(now, from, bytes, msg);
        return responder.onPing(from, bytes, msg);
      case Kind.Pong:
        return msg.grid !== core.grid ? PeerDrop.WrongGrid : pings.onPong(now, from, bytes, msg);
      case Kind.Probe:
        if (!fromLobby || msg.grid !== core.grid || msg.peer !== core.self) return PeerDrop.UnexpectedProbe;
        lobby.onProbe(msg);
        return undefined;
      case Kind.RepairHint:
        if (!fromLobby || msg.grid !== core.grid || msg.peer !== core.self) return PeerDrop.UnexpectedHint;
        seeker.onRepairHint(now, msg);
        return undefined;
      case Kind.GridStatus:
        if (!fromLobby || msg.grid !== core.grid || msg.peer !== core.self) return PeerDrop.UnexpectedStatus;
        this.parts.standing.onGridStatus(msg);
        return undefined;
      case Kind.LobbyClosing:
        // The grid keeps relaying without its lobby; heartbeats find a restarted one.
        return fromLobby ? undefined : PeerDrop.NotFromLobby;
      case Kind.JoinReply:
      case Kind.AvailableReply:
      case Kind.ConnectReply:
      case Kind.ForceReply:
      case Kind.DisconnectAck:
      case Kind.Welcome:
      case Kind.GridList:
      case Kind.GridCreated:
      case Kind.Members:
      case Kind.Ack:
      case Kind.ConnStatusReply:
      case Kind.HeartbeatAck:
      case Kind.UnknownSession:
      case Kind.Retry:
      case Kind.Error:
        return onReply(this.parts, now, from, msg, framed);
      case NatKind.Registered:
      case NatKind.Introduced:
        return onReply(this.parts, now, from, msg, framed);
      case NatKind.Introduction:
        return fromLobby ? nat.onIntroduction(now, msg) : PeerDrop.NatKindNotFromLobby;
      case NatKind.Punch:
      case NatKind.PunchReply:
        return nat.onPunch(now, from, msg);
      case Kind.Data:
      case Kind.Message:
        return PeerDrop.InternalError; // unreachable: decode() yields Data only for bytes step 2 took
      case Kind.Hello:
      case Kind.ListGrids:
      case Kind.CreateGrid:
      case Kind.SelectGrid:
      case Kind.ConnUpdate:
      case Kind.ConnStatus:
      case Kind.ProbeReply:
      case Kind.Heartbeat:
      case Kind.Leave:
      case Kind.Rejoin:
      case Kind.JoinToken:
      case NatKind.Register:
      case NatKind.Introduce:
      case NatKind.PunchReport:
      case Kind.SessionFrame:
        return PeerDrop.UnexpectedInState; // lobby-bound requests (no phase accepts them); a frame inside a frame
      default:
        return assertNever(msg);
    }
  }
}

/**
 * Prune, Graft and RepairRequest follow the relay data they steer (one per lost or redundant
 * copy, at 20% loss many a second on one link), so they spend the link's data budget, not the
 * control budget meant for pings and join answers.
 */
function isRepairControl(kind: number): boolean {
  return kind === Kind.Prune || kind === Kind.Graft || kind === Kind.RepairRequest;
}

/**
 * Step 8: after the handshake the lobby frames everything but UnknownSession (PROTOCOL.md
 * 6.10). So a bare lobby message must be one of the handshake's (Retry, Welcome; an Error,
 * which onReply takes only as the answer to a Hello) or UnknownSession; a framed one must
 * be one the lobby frames.
 */
const LOBBY_TO_PEER_LAST = 0x5f;

function lobbyFraming(msg: AnyMessage, framed: boolean): DropReason | undefined {
  const handshake = msg.kind === Kind.Retry || msg.kind === Kind.Welcome || msg.kind === Kind.UnknownSession;
  // The lobby -> peer range (0x40-0x5f): GridStatus (0x50) lies past Error.
  if (framed) return handshake || msg.kind < Kind.Welcome || msg.kind > LOBBY_TO_PEER_LAST ? PeerDrop.FrameBody : undefined;
  return handshake || msg.kind === Kind.Error ? undefined : PeerDrop.Unauthenticated;
}
