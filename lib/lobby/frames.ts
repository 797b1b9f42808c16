/**
 * The lobby's session path (PROTOCOL.md 6.10): every request after the handshake arrives in
 * a SessionFrame, and is checked in this order, cheapest first, before any handler runs or
 * any token is spent:
 *
 *   1. the frame names an open session               -> unknown-session (UnknownSession{req}, <= 3x)
 *   2. it comes from the address that opened it       -> address-mismatch
 *   3. its tag verifies under the session's MAC key   -> bad-mac
 *   4. its counter is fresh in the session's window   -> replay (a captured frame sent again)
 *   5. the body decodes as a peer -> lobby request of this session -> its DecodeErrorCode, bad-frame-body
 *   6. the session's request bucket has a token       -> rate-limited (Error RateLimited, framed, at most once a second)
 *
 * So the rate limit is charged only to the session that really sent the frame: spoofing a
 * member's address spends none of its tokens (issue 15: 1,000 spoofed datagrams a second
 * used to stop a join, 4,000 a second got a member expired), and a replayed request is never
 * answered again (a replayed SelectGrid drew 40 times its size in Members).
 *
 * A session request that is not framed (a peer older than session frames, or a forgery)
 * gets Error Unauthenticated at most once a second, never larger than 3 times it, and
 * changes nothing.
 */
import type { Address } from "../endpoint.ts";
import { decode } from "../../wire/codec.ts";
import { Kind, LobbyErrorCode, NatKind } from "../../wire/kinds.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "../../wire/limits.ts";
import type { AnyMessage, MessageOf } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { AMPLIFICATION_FACTOR } from "./handshake.ts";
import { onJoinToken } from "./admit.ts";
import { onCreateGrid, onLeave, onListGrids, onRejoin, onSelectGrid } from "./requests.ts";
import type { Session } from "./sessions.ts";
import { onIntroduce, onPunchReport, onRegister } from "./nat.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";
import { onConnStatus, onConnUpdate, onHeartbeat, onProbeReply } from "./tracking.ts";

/** The requests that carry a session (every peer -> lobby kind but Hello, NAT traversal's included). */
export type SessionRequest = Extract<AnyMessage, { session: number; req: number }>;

export function isSessionRequest(msg: AnyMessage): msg is SessionRequest {
  return (msg.kind > Kind.Hello && msg.kind <= Kind.Rejoin) || msg.kind === Kind.JoinToken || msg.kind === NatKind.Register || msg.kind === NatKind.Introduce || msg.kind === NatKind.PunchReport;
}

/** How often one session is told, at most, that it sent something the lobby will not take. */
const NOTICE_INTERVAL_MS = 1000;

/** The request inside a frame, when its body is one; for the unauthenticated replies of steps 1 and 6. */
function innerRequest(body: Uint8Array): SessionRequest | undefined {
  const d = decode(body, DEFAULT_MAX_DATAGRAM_BYTES, { natTraversal: true });
  return d.ok && isSessionRequest(d.msg) ? d.msg : undefined;
}

export function onFrame(
  core: LobbyCore,
  nowMs: number,
  from: Address,
  frame: MessageOf<typeof Kind.SessionFrame>,
  bytes: Uint8Array,
): DropReason | undefined {
  const s = core.sessions.get(frame.session);
  if (s === undefined) {
    // The lobby restarted or forgot the session: the peer must Hello again. Not framed (there
    // is no key to frame it under), so the peer takes it only as the answer to its request.
    const req = innerRequest(frame.body)?.req;
    if (req !== undefined) core.send(from, { kind: Kind.UnknownSession, req }, bytes.length * AMPLIFICATION_FACTOR);
    return LobbyDrop.UnknownSession;
  }
  if (s.addr !== from) return LobbyDrop.AddressMismatch;
  const check = s.framer.open(bytes);
  if (check === "missing" || check === "bad-mac") return LobbyDrop.BadMac;
  if (check !== "fresh") return LobbyDrop.Replay;
  const inner = decode(frame.body, core.config.maxDatagramBytes, { natTraversal: true });
  if (!inner.ok) return inner.code;
  const msg = inner.msg;
  if (!isSessionRequest(msg) || msg.session !== s.id) return LobbyDrop.BadFrameBody;
  if (!s.requests.take(nowMs)) {
    if (s.requests.shouldWarn(nowMs)) core.replyError(s, msg.req, LobbyErrorCode.RateLimited, `over ${core.config.requestsPerSecondPerSession}/s`);
    return LobbyDrop.RateLimited;
  }
  core.sessions.touch(nowMs, s);
  return dispatchRequest(core, nowMs, from, s, msg);
}

/** A session request outside a frame: UnknownSession for a session the lobby does not know, else Unauthenticated. */
export function onUnframed(core: LobbyCore, nowMs: number, from: Address, size: number, msg: SessionRequest): DropReason {
  const s = core.sessions.get(msg.session);
  const budget = size * AMPLIFICATION_FACTOR;
  if (s === undefined) {
    core.send(from, { kind: Kind.UnknownSession, req: msg.req }, budget);
    return LobbyDrop.UnknownSession;
  }
  if (s.addr !== from) return LobbyDrop.AddressMismatch;
  if (nowMs - s.lastUnframedNoticeMs >= NOTICE_INTERVAL_MS) {
    s.lastUnframedNoticeMs = nowMs;
    core.sendError(from, msg.req, LobbyErrorCode.Unauthenticated, "send session frames (PROTOCOL.md 6.10)", budget);
  }
  return LobbyDrop.Unframed;
}

function dispatchRequest(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: SessionRequest): DropReason | undefined {
  switch (msg.kind) {
    case Kind.ListGrids:
      return onListGrids(core, s, msg);
    case Kind.CreateGrid:
      return onCreateGrid(core, nowMs, s, msg);
    case Kind.SelectGrid:
      return onSelectGrid(core, nowMs, from, s, msg);
    case Kind.ConnUpdate:
      return onConnUpdate(core, nowMs, s, msg);
    case Kind.ConnStatus:
      return onConnStatus(core, nowMs, s, msg);
    case Kind.ProbeReply:
      return onProbeReply(core, nowMs, s, msg);
    case Kind.Heartbeat:
      return onHeartbeat(core, nowMs, s, msg);
    case Kind.Leave:
      return onLeave(core, nowMs, s, msg);
    case Kind.Rejoin:
      return onRejoin(core, nowMs, from, s, msg);
    case Kind.JoinToken:
      return onJoinToken(core, s, msg);
    // NAT traversal (nat.ts, PROTOCOL.md 4.7).
    case NatKind.Register:
      return onRegister(core, nowMs, from, s, msg);
    case NatKind.Introduce:
      return onIntroduce(core, nowMs, s, msg);
    case NatKind.PunchReport:
      return onPunchReport(core, nowMs, s, msg);
  }
}
