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
 *   2. longer than maxDatagramBytes                    -> oversized (no state touched)
 *   3. decode (never throws)                           -> its DecodeErrorCode
 *   4. Hello: handshake.ts (cookie, then the host's handshake bucket and session quota)
 *   5. SessionFrame: frames.ts (session, address, tag, replay, body, then the session's bucket)
 *   6. a session request outside a frame               -> unframed (Error Unauthenticated, <= 3x, once a second)
 *   7. any other kind                                  -> unexpected-kind
 * No token is taken before a datagram authenticated (a valid cookie for a Hello, a valid
 * frame tag for a session request), so spoofing an address spends nobody's budget. A reply
 * to an unvalidated source (Retry, UnknownSession, Error RateLimited, QuotaExceeded,
 * Unauthenticated) is never more than 3x its request's size; replies to a fresh,
 * authenticated frame go to the session's own address and are not capped.
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
 * - Every other request carries `session` and travels in a SessionFrame{session, body, auth}
 *   (frames.ts, PROTOCOL.md 6.10), and so does every reply and notice the lobby sends to a
 *   session; unknown session -> UnknownSession{req}, the one bare reply (a restarted lobby
 *   says so: Hello again, then Rejoin). Sessions holding no membership are forgotten after
 *   sessionIdleMs. Per host (hosts.ts): handshakesPerSecondPerHost, maxSessionsPerHost,
 *   maxGridsPerHost, maxMembersPerGridPerHost (Error QuotaExceeded).
 * - ListGrids{filter (case-insensitive substring of the name; "" = all), offset} ->
 *   GridList{total, offset, grids[]}: grids in creation order from `offset`, as many as fit
 *   maxDatagramBytes (at most 32). Ask again from offset + grids.length until total.
 * - CreateGrid{name, capacity (0 or above maxMembersPerGrid: maxMembersPerGrid), limit, meta} ->
 *   GridCreated{grid (random nonzero u32), name}; the creator is not a member until it selects
 *   the grid. Errors: BadRequest (empty name), NameTaken, TooManyGrids. A repeated req from the
 *   session gets the same GridCreated. A grid nobody selects is removed after unselectedGridGraceMs.
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
 *   at every check until whole (islands.ts): the main component is the one holding the
 *   longest-standing member; recipients are members of the other islands (up to 2 with a
 *   free link, else 1), targets members of the main component with a free link (reported
 *   links < limit), force = false; only when none has one, random members of it, force =
 *   true, to one recipient per island and at most every 4 checks.
 * - NAT traversal (nat.ts, PROTOCOL.md 4.7): Register -> Registered (a key-bound ticket),
 *   Introduce -> Introduced and an Introduction to both ends, PunchReport -> Ack, all in
 *   session frames like every request; members alone too long are counted isolated.
 *   Members that never Register see no change.
 * - close(now, reason): LobbyClosing{reason} to every session's address; input is then ignored.
 */
import type { Address, Endpoint, Millis, Transmit } from "../endpoint.ts";
import { decode } from "../../wire/codec.ts";
import { DecodeErrorCode } from "../../wire/decode-error.ts";
import { Kind } from "../../wire/kinds.ts";
import type { LobbyConfig } from "./config.ts";
import { clip, LobbyCore } from "./core.ts";
import type { LobbyEvent } from "./events.ts";
import { isSessionRequest, onFrame, onUnframed } from "./frames.ts";
import { nextTimer, runTimers } from "./maintenance.ts";
import { onHello } from "./handshake.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";
import { LobbyView } from "./view.ts";

/** The kind of the request a datagram carries: a session frame's inner kind (for internalError events). */
function requestKind(bytes: Uint8Array): number {
  const d = bytes.length >= 3 && bytes[2] === Kind.SessionFrame ? decode(bytes) : undefined;
  if (d?.ok === true && d.msg.kind === Kind.SessionFrame && d.msg.body.length >= 3) return d.msg.body[2] as number;
  return bytes.length >= 3 ? (bytes[2] as number) : -1;
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
      const kind = requestKind(bytes);
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
    for (const s of this.core.sessions.values()) this.core.reply(s, { kind: Kind.LobbyClosing, reason: clip(reason) });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The lobby counts whole milliseconds: every *Ms option is an integer, and so is every
   * time it puts on the wire (ConnStatusReply.silentMs). A real driver's clock is
   * fractional (a monotonic millisecond clock with a fraction), so time is floored here, at the edge; a fraction that
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
    const decoded = decode(bytes, core.config.maxDatagramBytes, { natTraversal: true });
    if (!decoded.ok) return decoded.code;
    const msg = decoded.msg;
    if (msg.kind === Kind.Hello) return onHello(core, nowMs, from, bytes.length, msg);
    if (msg.kind === Kind.SessionFrame) return onFrame(core, nowMs, from, msg, bytes);
    // A session request outside a frame, or a kind the lobby never takes (relay data, peer <->
    // peer control, lobby -> peer replies).
    return isSessionRequest(msg) ? onUnframed(core, nowMs, from, bytes.length, msg) : LobbyDrop.UnexpectedKind;
  }
}
