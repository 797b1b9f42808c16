/**
 * Every datagram a Peer receives goes through these checks, cheapest first and in this
 * order (STYLE.md 6, PROTOCOL.md 6.7); the first that fails names the drop (drops.ts):
 *
 *   1. the peer has closed                                    -> closed
 *   2. relay data (first bytes 99 01 01), if the phase takes it, goes to the hot path
 *      (relay-path.ts onData: not-linked, decode, wrong-grid, tag-*, then the duplicate
 *      window); else                                          -> unexpected-in-state
 *   3. from neither a link nor the lobby, over the strangers' token bucket -> rate-limited
 *   4. kinds 0x10-0x1f: the grid-key tag on the raw bytes      -> tag-missing, tag-unknown-epoch, tag-bad-tag
 *   5. decode (never throws)                                   -> its DecodeErrorCode (past a
 *      valid tag, counted against the link too: a member's fault)
 *   6. the phase table (phases.ts) accepts the kind            -> unexpected-in-state
 *   7. per kind: the grid, the sender (not ourselves; the lobby's address for lobby
 *      messages), a reply's match to its request; then the part's own checks (tickets,
 *      pongs) -> wrong-grid, from-self, unexpected-probe, ... (drops.ts)
 *
 * Anything that passes reaches the part that handles its kind and is counted as accepted.
 */
import type { Address } from "../endpoint.ts";
import { checkTag } from "../security/grid-keys.ts";
import { SourceLimiter } from "../util/rate-limit.ts";
import { decode, Kind, type Message } from "../../wire/index.ts";
import { PeerDrop, TAG_DROP, type DropReason } from "./drops.ts";
import type { PeerParts } from "./parts.ts";
import { onReply } from "./replies.ts";

function assertNever(x: never): never {
  throw new Error(`unhandled message kind ${String((x as { kind: unknown }).kind)}`);
}

/** Relay data is recognised by its first three bytes: fixarray(9), version 1, kind 1 (PROTOCOL.md 6.7). */
export function isRelayData(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x99 && bytes[1] === 1 && bytes[2] === Kind.Data;
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
  receiveData(from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.parts.core;
    // The phase row first: a phase that takes data is never closed (one load on the hot path).
    if (core.accepting[Kind.Data] === 1) return this.parts.relay.onData(from, bytes);
    return core.phase === "closed" ? PeerDrop.Closed : PeerDrop.UnexpectedInState;
  }

  /** One datagram that is not relay data through the checks above: its drop reason, or undefined when accepted. */
  receive(now: number, from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.parts.core;
    if (core.phase === "closed") return PeerDrop.Closed;
    const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
    if (core.links.byAddr(from) === undefined && from !== core.cfg.lobby && !this.strangers.allow(now, from)) {
      return PeerDrop.RateLimited;
    }
    // Peer<->peer control must carry a valid tag under one of the grid's keys: checked on
    // the raw bytes before anything is decoded (cheapest check first, STYLE.md 6).
    const tagged = kind >= 0x10 && kind <= 0x1f;
    if (tagged) {
      const t = checkTag(core.credentials.keyring, bytes, -1);
      if (t !== "ok") return TAG_DROP[t];
    }
    const r = decode(bytes);
    if (!r.ok) {
      // Past a valid tag, an undecodable body is a member's fault.
      if (tagged) core.chargeLink(now, from);
      return r.code;
    }
    if (core.accepting[r.msg.kind] !== 1) return PeerDrop.UnexpectedInState;
    return this.dispatch(now, from, r.msg);
  }

  /** Step 7: the kind's own checks, then the part that handles it. */
  private dispatch(now: number, from: Address, msg: Message): DropReason | undefined {
    const { core, lobby, seeker, responder, pings } = this.parts;
    const fromLobby = from === core.cfg.lobby;
    switch (msg.kind) {
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
        if (msg.kind === Kind.Connect) return responder.onConnect(now, from, msg);
        if (msg.kind === Kind.Force) return responder.onForce(now, from, msg);
        if (msg.kind === Kind.Disconnect) return responder.onDisconnect(now, from, msg);
        return responder.onPing(from, msg);
      case Kind.Pong:
        return msg.grid !== core.grid ? PeerDrop.WrongGrid : pings.onPong(now, from, msg);
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
        return onReply(this.parts, now, from, msg);
      case Kind.Data:
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
        return PeerDrop.UnexpectedInState; // lobby-bound requests: no phase accepts them
      default:
        return assertNever(msg);
    }
  }
}
