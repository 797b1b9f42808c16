/**
 * Hello: address validation, then the session handshake (claims 24, 34: "opening a
 * connection between a server and a joining peer"; issue 6, points 1 and 3).
 *
 * Checks, in this order (cheapest first, nothing stored before the address is validated):
 *   1. shorter than MIN_HELLO_BYTES                        -> dropped, "short-hello"
 *   2. cookie empty or not made for this address in this
 *      or the previous time bucket                         -> Retry{req, cookie}, no state
 *   3. same address, req and key as the Hello that opened
 *      the address's latest session (a retransmit)         -> that session's Welcome again, byte for byte
 *   4. the host's handshake bucket is empty (handshakesPerSecondPerHost) -> dropped, "handshake-rate-limited"
 *      (an Error RateLimited at most once a second)
 *   5. the host holds maxSessionsPerHost sessions            -> Error QuotaExceeded, "sessions-per-host"
 *   6. maxSessions open and none idle to evict             -> dropped, "sessions-full"
 *   7. the ephemeral key is unusable (wrong length, low order) -> Error BadHandshake, no session
 *   8. otherwise: a session and its key, Welcome{req, session, heartbeatMs, eph, identity, signature}
 *
 * Steps 4 and 5 are per host (hosts.ts) and come after the cookie: only a host that receives
 * at the address can be charged, so a spoofer cannot use up a victim's handshakes, and a host
 * that can is held to a few handshakes a second (each costs an X25519 agreement and an Ed25519
 * signature, about 0.4-0.8 ms of lobby CPU) and a bounded share of the session table.
 *
 * Retry is the only reply a source gets before it proves it receives at its address (a Retry
 * is 18 bytes at most against a Hello of at least 96, within the 3x of PROTOCOL.md 6), and it
 * costs one SipHash: no key agreement or signature is spent on a spoofed source.
 */
import type { Address } from "../endpoint.ts";
import { acceptHandshake, checkCookie, makeCookie } from "../security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../security/session-frame.ts";
import { TokenBucket } from "../util/rate-limit.ts";
import { encode } from "../../wire/codec.ts";
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import { MIN_HELLO_BYTES } from "../../wire/limits.ts";
import type { MessageOf } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { hostOf } from "./hosts.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";

/** A reply to a source not yet validated is at most this many times the request's size. */
export const AMPLIFICATION_FACTOR = 3;

/** The cookie time bucket at `nowMs`: floor(now / cookieLifetimeMs) as a u32 (wrapping). */
export function cookieBucket(nowMs: number, cookieLifetimeMs: number): number {
  return Math.floor(nowMs / cookieLifetimeMs) >>> 0;
}

export function onHello(
  core: LobbyCore,
  nowMs: number,
  from: Address,
  size: number,
  msg: MessageOf<typeof Kind.Hello>,
): DropReason | undefined {
  if (size < MIN_HELLO_BYTES) return LobbyDrop.ShortHello;
  const bucket = cookieBucket(nowMs, core.config.cookieLifetimeMs);
  if (!checkCookie(core.cookieSecret, from, msg.cookie, bucket)) {
    const retry = { kind: Kind.Retry, req: msg.req, cookie: makeCookie(core.cookieSecret, from, bucket) } as const;
    if (core.send(from, retry, size * AMPLIFICATION_FACTOR) > 0) core.counters.retriesSent++;
    return undefined;
  }
  const sessions = core.sessions;
  const again = sessions.findHello(from, msg.req, msg.eph);
  if (again !== undefined) {
    sessions.touch(nowMs, again);
    core.sendBytes(from, again.welcome);
    return undefined;
  }
  const host = hostOf(from);
  if (!core.handshakes.allow(nowMs, host)) {
    if (core.handshakes.shouldWarn(nowMs, host)) {
      core.sendError(from, msg.req, LobbyErrorCode.RateLimited, `over ${core.config.handshakesPerSecondPerHost} handshakes/s`, size * AMPLIFICATION_FACTOR);
    }
    return LobbyDrop.HandshakeRateLimited;
  }
  const room = sessions.canOpen(host);
  if (room === "host-quota") {
    core.sendError(from, msg.req, LobbyErrorCode.QuotaExceeded, `${sessions.heldBy(host)} sessions from this host`, size * AMPLIFICATION_FACTOR);
    return LobbyDrop.SessionsPerHost;
  }
  if (room === "full") return LobbyDrop.SessionsFull;
  const id = sessions.newId(core.random);
  const hs = acceptHandshake(core.crypto, core.identity.secretKey, msg.eph, id);
  if (hs === null) {
    core.sendError(from, msg.req, LobbyErrorCode.BadHandshake, "Hello.eph is not a usable X25519 public key");
    return undefined;
  }
  const welcome = encode({
    kind: Kind.Welcome,
    req: msg.req,
    session: id,
    heartbeatMs: core.config.heartbeatMs,
    eph: hs.lobbyEph,
    identity: core.identity.publicKey,
    signature: hs.signature,
  });
  const framer = SessionFramer.forLobby(deriveSessionMacKeys(core.crypto, hs.sessionKey), id);
  const requests = new TokenBucket(core.config.requestsPerSecondPerSession, core.config.requestBurstPerSession, nowMs);
  sessions.open(nowMs, { id, addr: from, host, helloReq: msg.req, helloEph: msg.eph.slice(), welcome, key: hs.sessionKey, framer, requests, name: msg.name });
  core.counters.handshakes++;
  core.sendBytes(from, welcome);
  return undefined;
}
