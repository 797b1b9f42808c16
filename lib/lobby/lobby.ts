/**
 * The lobby (claims 8, 12, 24, 25, 34, 35, 44, 50-52): a sans-IO Endpoint that registers
 * grids, admits peers, tracks who is linked to whom, and tells islands how to rejoin. Relay
 * data never passes through it.
 *
 * Driver order (lib/endpoint.ts): handleDatagram / handleTimeout / commands, then drain
 * pollTransmit() until undefined, then pollEvent() until undefined, then re-arm one timer at
 * pollTimeout(). Time going backwards is ignored.
 *
 * Checks on every datagram, cheapest first; each failure is a drop counted by reason:
 *   1. after close()                                   -> closed
 *   2. longer than maxDatagramBytes                    -> oversized (no per-source state touched)
 *   3. the source's token bucket is empty              -> rate-limited (an Error RateLimited at most once a second)
 *   4. decode (never throws)                           -> its DecodeErrorCode
 *   5. a kind the lobby never accepts                  -> unexpected-kind
 *   6. session not open                                -> unknown-session (replied UnknownSession{req})
 *   7. session opened from another address             -> address-mismatch
 * A reply to an unvalidated source (Retry, UnknownSession, Error RateLimited) is never more
 * than 3x its request's size; a source that echoed a Retry cookie, or holds a session token,
 * has proved its address, so later replies are not capped.
 *
 * Protocol (the peer side is written against exactly this):
 * - Hello{req, name, cookie, eph, pad} (handshake.ts, issue 6 points 1 and 3): a Hello under
 *   MIN_HELLO_BYTES is dropped; without a cookie valid for its address (made in this or the
 *   previous cookieLifetimeMs bucket) it gets Retry{req, cookie} and nothing is stored; with
 *   one, the lobby opens a session (random nonzero u32), agrees a session key with `eph`
 *   (X25519, HKDF) and replies Welcome{req, session, heartbeatMs, eph (its own), identity
 *   (its Ed25519 public key), signature (over peer eph, lobby eph, session)}; an unusable
 *   `eph` gets Error BadHandshake. A repeated Hello (same address, req and eph) gets the same
 *   Welcome bytes. maxSessions open: the least recently used session holding no membership
 *   is evicted; if none can be, the Hello is dropped.
 * - Every other request carries `session`; unknown -> UnknownSession{req} (a restarted lobby
 *   says so: Hello again, then Rejoin). Sessions holding no membership are forgotten after sessionIdleMs.
 * - ListGrids{filter (case-insensitive substring of the name; "" = all), offset} ->
 *   GridList{total, offset, grids[]}: grids in creation order from `offset`, as many as fit
 *   maxDatagramBytes (at most 32). Ask again from offset + grids.length until total.
 * - CreateGrid{name, capacity (0 or above maxMembersPerGrid: maxMembersPerGrid), limit, meta} ->
 *   GridCreated{grid (random nonzero u32), name}; the creator is not a member until it selects
 *   the grid. Errors: BadRequest (empty name), NameTaken, TooManyGrids. A repeated req from the
 *   session gets the same GridCreated. A grid nobody selects is removed after emptyGridGraceMs.
 * - SelectGrid{grid, limit, part} admits the session's peer (ids count up from 1 within the
 *   grid; the same session selecting again keeps its id and updates its limit), at the
 *   datagram's source address (a member at the same address under another session is replaced),
 *   and replies Members{grid, peer (its own id), part, parts, members[], nonce, sealed}: part
 *   `part` of the members {peer, addr, links (confirmed links)} by ascending id, split so each
 *   part fits maxDatagramBytes, the selecting peer left out of its own part. Every part admits;
 *   a part past the end has no members. `sealed` (members.ts) is the grant, sealed afresh for
 *   every reply under the session key with nonce counter `nonce` (1, 2, ... per session): the
 *   grid keys [active] or [active, next] by epoch and the peer's ticket (grid, peer, address,
 *   active epoch) signed by the identity. Errors: UnknownGrid, GridFull, BadRequest (address
 *   not 1 to 64 bytes), BadHandshake (the session used every nonce: Hello again).
 * - Grid keys (key-rotation.ts): epoch 1 at creation; after rotateAfterDepartures members
 *   left, expired or were replaced, epoch + 1 is granted as next, and active rotationDelayMs later.
 * - ConnUpdate{grid, peer, other, open} -> Ack. Heartbeat{grid, peer, links} replaces the
 *   peer's reported links -> HeartbeatAck{req, members, epoch (active: send under it), latest
 *   (next during a rotation, else active: a peer without it selects the grid again)}. A link
 *   is confirmed (counts in the graph, in `links`, in components) when both ends report it. A pair of members where only
 *   one end reports it for unconfirmedEdgeMs (2 heartbeats) gets Probe{req, grid, peer: silent
 *   end, other: reporting end} sent to the silent end, again every unconfirmedEdgeMs while it
 *   stays so. ProbeReply{linked} answering that Probe: true records the silent end's report
 *   (confirmed); false removes the link from both ends.
 * - ConnStatus{grid, peer, other} (claim 50): the link is removed from `peer`'s side, and the reply is
 *   ConnStatusReply{grid, other, status, silentMs}: Gone (not a member; silentMs 0), Alive (heard
 *   within aliveWithinMs = 1.5 heartbeats), Checking (a member silent longer: a Probe goes to it
 *   now; with no answer it expires at expireAfterMs like any silent member).
 * - Requests naming (grid, peer) that the session does not hold get Error UnknownGrid (no such
 *   grid) or BadRequest (left, expired, or another session's): the peer re-registers with Rejoin.
 *   ConnUpdate / ConnStatus with other == peer, or more than 64 links: BadRequest.
 * - Leave{grid, peer} -> Ack (also when already gone); the peer and its links are removed.
 *   A member is heard from by any request naming it; silent for expireAfterMs, it is removed
 *   (peerExpired). A grid empty for emptyGridGraceMs is removed.
 * - Rejoin{session (fresh), grid, name, peer, limit, links, epoch, sealed} -> Ack: recreates the grid
 *   with that id and name if missing (capacity maxMembersPerGrid, limit from the Rejoin, meta
 *   "", the key sealed in the Rejoin grant when it opens with activeEpoch = epoch, else a new
 *   key at epoch + 1; the peer then selects the grid for its grant), and the peer
 *   with that id at the datagram's address, with that limit and links. New ids are
 *   allocated above every restored one. Errors: BadRequest (zero ids, empty name, grid id named
 *   differently, peer id held by another address, session holds another id there), NameTaken,
 *   TooManyGrids, GridFull.
 * - Islands: every islandCheckMs, components of each grid's confirmed graph; a grid in more
 *   than one component for islandGraceMs gets RepairHint{grid, peer, force, targets (<= 4)}
 *   sent to up to 2 members of every smaller component (members with a free link first), at
 *   every check until whole: targets are random members of the largest component with a free
 *   link (reported links < limit), force = false; if none has one, random members of it, force = true.
 * - NAT traversal (nat.ts, PROTOCOL.md 4.7): Register -> Registered (a key-bound ticket),
 *   Introduce -> Introduced and an Introduction to both ends, PunchReport -> Ack; members
 *   alone too long are counted isolated. Members that never Register see no change.
 * - close(now, reason): LobbyClosing{reason} to every session's address; input is then ignored.
 */
import type { Address, Endpoint, Millis, Transmit } from "../endpoint.ts";
import { decode } from "../../wire/codec.ts";
import { DecodeErrorCode } from "../../wire/decode-error.ts";
import { Kind, LobbyErrorCode, NatKind } from "../../wire/kinds.ts";
import type { AnyMessage } from "../../wire/messages.ts";
import type { LobbyConfig } from "./config.ts";
import { clip, LobbyCore } from "./core.ts";
import type { LobbyEvent } from "./events.ts";
import { nextTimer, runTimers } from "./maintenance.ts";
import { AMPLIFICATION_FACTOR, onHello } from "./handshake.ts";
import { onJoinToken } from "./admit.ts";
import { onIntroduce, onPunchReport, onRegister } from "./nat.ts";
import { onCreateGrid, onLeave, onListGrids, onRejoin, onSelectGrid } from "./requests.ts";
import type { Session } from "./sessions.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";
import { LobbyView } from "./view.ts";
import { onConnStatus, onConnUpdate, onHeartbeat, onProbeReply } from "./tracking.ts";

function assertNever(x: never): never {
  throw new Error(`unhandled message kind ${String((x as { kind?: unknown }).kind)}`);
}

export class Lobby extends LobbyView implements Endpoint<LobbyEvent> {
  private nowMs = -Infinity;
  private closed = false;

  /** Throws RelayGridError(invalid-config) when an option is out of range. */
  constructor(config: LobbyConfig) {
    super(new LobbyCore(config));
  }

  handleDatagram(now: Millis, from: Address, bytes: Uint8Array): void {
    const nowMs = this.advance(now);
    const c = this.core.counters;
    c.datagramsIn++;
    c.bytesIn += bytes.length;
    let reason: DropReason | undefined;
    try {
      reason = this.dispatch(nowMs, from, bytes);
    } catch (error) {
      // A handler threw: a lobby bug, never the sender's fault. The datagram is dropped so
      // the lobby keeps serving, and the event says what broke (tests fail on it).
      reason = LobbyDrop.InternalError;
      const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.core.emit({ type: "internalError", kind, message, error });
    }
    if (reason === undefined) c.accepted++;
    else c.drop(reason);
  }

  handleTimeout(now: Millis): void {
    if (!this.closed) runTimers(this.core, this.advance(now));
  }

  pollTimeout(): Millis | undefined {
    return this.closed ? undefined : nextTimer(this.core)?.atMs;
  }

  pollTransmit(): Transmit | undefined {
    const t = this.core.transmits.shift();
    if (t !== undefined) {
      this.core.counters.datagramsOut++;
      this.core.counters.bytesOut += t.bytes.length;
    }
    return t;
  }

  pollEvent(): LobbyEvent | undefined {
    return this.core.events.shift();
  }

  /** Command: tells every session the lobby is going away (LobbyClosing) and stops serving. Idempotent. */
  close(now: Millis, reason = "lobby closing"): void {
    if (this.closed) return;
    this.advance(now);
    this.closed = true;
    const told = new Set<Address>();
    for (const s of this.core.sessions.values()) {
      if (told.has(s.addr)) continue;
      told.add(s.addr);
      this.core.send(s.addr, { kind: Kind.LobbyClosing, reason: clip(reason) });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The lobby counts whole milliseconds: every *Ms option is an integer, and so is every
   * time it puts on the wire (ConnStatusReply.silentMs). A real driver's clock is
   * fractional (performance.now()), so time is floored here, at the edge; a fraction that
   * reached an encoder once made every ConnStatus about a live member throw (issue 11,
   * bug 1). Time going backwards is ignored.
   */
  private advance(now: Millis): number {
    const ms = Math.floor(now);
    if (ms > this.nowMs) this.nowMs = ms;
    return this.nowMs;
  }

  private dispatch(nowMs: number, from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.core;
    if (this.closed) return LobbyDrop.Closed;
    if (bytes.length > core.config.maxDatagramBytes) return DecodeErrorCode.Oversized;
    if (!core.limiter.allow(nowMs, from)) {
      if (core.limiter.shouldWarn(nowMs, from)) this.warnRateLimited(from, bytes);
      return LobbyDrop.RateLimited;
    }
    const decoded = decode(bytes, core.config.maxDatagramBytes, { natTraversal: true });
    if (!decoded.ok) return decoded.code;
    const msg = decoded.msg;
    const size = bytes.length;
    switch (msg.kind) {
      case Kind.Hello:
        return onHello(core, nowMs, from, size, msg);
      case Kind.ListGrids: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onListGrids(core, from, msg);
      }
      case Kind.CreateGrid: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onCreateGrid(core, nowMs, from, s, msg);
      }
      case Kind.SelectGrid: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onSelectGrid(core, nowMs, from, s, msg);
      }
      case Kind.ConnUpdate: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onConnUpdate(core, nowMs, from, s, msg);
      }
      case Kind.ConnStatus: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onConnStatus(core, nowMs, from, s, msg);
      }
      case Kind.ProbeReply: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onProbeReply(core, nowMs, s, msg);
      }
      case Kind.Heartbeat: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onHeartbeat(core, nowMs, from, s, msg);
      }
      case Kind.Leave: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onLeave(core, nowMs, from, s, msg);
      }
      case Kind.Rejoin: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onRejoin(core, nowMs, from, s, msg);
      }
      case Kind.JoinToken: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onJoinToken(core, from, s, msg);
      }
      // NAT traversal (nat.ts, PROTOCOL.md 4.7).
      case NatKind.Register: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onRegister(core, nowMs, from, s, msg);
      }
      case NatKind.Introduce: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onIntroduce(core, nowMs, from, s, msg);
      }
      case NatKind.PunchReport: {
        const s = this.session(nowMs, from, size, msg);
        return typeof s === "string" ? s : onPunchReport(core, nowMs, from, s, msg);
      }
      // Relay data and peer <-> peer control belong to peers; lobby -> peer kinds to the lobby.
      case Kind.Data:
      case Kind.Join:
      case Kind.JoinReply:
      case Kind.Connect:
      case Kind.ConnectReply:
      case Kind.Force:
      case Kind.ForceReply:
      case Kind.Available:
      case Kind.AvailableReply:
      case Kind.Ping:
      case Kind.Pong:
      case Kind.Disconnect:
      case Kind.DisconnectAck:
      case Kind.Welcome:
      case Kind.GridList:
      case Kind.GridCreated:
      case Kind.Members:
      case Kind.Ack:
      case Kind.ConnStatusReply:
      case Kind.Probe:
      case Kind.HeartbeatAck:
      case Kind.UnknownSession:
      case Kind.RepairHint:
      case Kind.LobbyClosing:
      case Kind.Retry:
      case Kind.Error:
      case Kind.GridStatus:
      case NatKind.Registered:
      case NatKind.Introduced:
      case NatKind.Introduction:
      case NatKind.Punch:
      case NatKind.PunchReply:
        return LobbyDrop.UnexpectedKind;
      default:
        return assertNever(msg);
    }
  }

  /** Steps 6 and 7: the open session for `msg.session`, used from its own address. */
  private session(nowMs: number, from: Address, size: number, msg: { req: number; session: number }): Session | DropReason {
    const s = this.core.sessions.get(msg.session);
    if (s === undefined) {
      this.core.send(from, { kind: Kind.UnknownSession, req: msg.req }, size * AMPLIFICATION_FACTOR);
      return LobbyDrop.UnknownSession;
    }
    if (s.addr !== from) return LobbyDrop.AddressMismatch;
    this.core.sessions.touch(nowMs, s);
    return s;
  }

  /** The occasional Error RateLimited: only for a lobby request (kinds 0x20-0x3f), and no larger than 3x it. */
  private warnRateLimited(from: Address, bytes: Uint8Array): void {
    const decoded = decode(bytes, this.core.config.maxDatagramBytes, { natTraversal: true });
    if (!decoded.ok || decoded.msg.kind < 0x20 || decoded.msg.kind > 0x3f) return;
    const req = (decoded.msg as AnyMessage & { req: number }).req;
    const detail = `over ${this.core.config.requestsPerSecondPerSource}/s`;
    this.core.sendError(from, req, LobbyErrorCode.RateLimited, detail, bytes.length * AMPLIFICATION_FACTOR);
  }
}
