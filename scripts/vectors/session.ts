/**
 * Session frame known answers (PROTOCOL.md 6.10), for security.json (under a fixed session
 * key) and admission.json (under the session key of its handshake): the two MAC keys, a
 * request and a reply in frames, a retransmission re-framed under the next counter, and how
 * a receiver's replay window judges a run of counters. Computed with lib/security
 * (session-frame.ts); test/wire-security-vectors.test.ts and test/wire-admission-vectors.test.ts
 * recompute them from the formulas with @noble/hashes and a reference SipHash.
 */
import { encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom } from "../../lib/rng.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { deriveSessionMacKeys, ReplayWindow, SessionFramer } from "../../lib/security/session-frame.ts";
import { sipKeyFrom } from "../../lib/security/siphash.ts";
import { Kind } from "../../wire/kinds.ts";
import type { Message } from "../../wire/messages.ts";
import { fromHex, positional, toHex } from "./hex.ts";

/** One frame: the message it carries, the sender's counter, what the tag covers, and the datagram. */
export interface FrameVector {
  /** The session message inside, decoded, and its bytes (the frame's body). */
  readonly body: { readonly msg: Message; readonly hex: string };
  readonly counter: number;
  /** Every byte of the frame before the 8 tag bytes: what SipHash-2-4 reads. */
  readonly macInput: string;
  /** The auth field's 12 bytes: u32be(counter) || the tag. */
  readonly auth: string;
  /** The whole datagram. */
  readonly hex: string;
}

export interface SessionVectors {
  readonly about: string;
  readonly sessionKey: string;
  readonly session: number;
  /** HKDF-SHA256(ikm = sessionKey, salt = "relaygrid", info = "session mac v1", L = 32): bytes 0-15 and 16-31. */
  readonly toLobby: string;
  readonly toPeer: string;
  /** peer -> lobby, the peer's first frame (counter 1). */
  readonly request: FrameVector;
  /** The same request retransmitted: the next counter, so a new tag. */
  readonly retransmit: FrameVector;
  /** lobby -> peer, the lobby's first frame (counter 1), under the other key. */
  readonly reply: FrameVector;
  /** Counters as a receiver sees them, and what its window (128 wide) says to each. */
  readonly window: { readonly counters: readonly number[]; readonly verdicts: readonly string[] };
}

function frameVector(bytes: Uint8Array, body: Message): FrameVector {
  const n = bytes.length;
  return {
    body: { msg: body, hex: toHex(referenceEncode(positional(body))) },
    counter: ((bytes[n - 12] as number) * 2 ** 24 + ((bytes[n - 11] as number) << 16) + ((bytes[n - 10] as number) << 8) + (bytes[n - 9] as number)) >>> 0,
    macInput: toHex(bytes.subarray(0, n - 8)),
    auth: toHex(bytes.subarray(n - 12)),
    hex: toHex(bytes),
  };
}

export function buildSessionVectors(sessionKeyHex: string, session: number, about: string): SessionVectors {
  const crypto = new NobleCrypto(new SeededRandom(1)); // HKDF only: never drawn from
  const keys = deriveSessionMacKeys(crypto, fromHex(sessionKeyHex));
  const okm = crypto.hkdfSha256(fromHex(sessionKeyHex), new TextEncoder().encode("relaygrid"), new TextEncoder().encode("session mac v1"), 32);
  // deriveSessionMacKeys (what both sides use) must be exactly this HKDF: checked, not assumed.
  if (JSON.stringify([sipKeyFrom(okm.subarray(0, 16)), sipKeyFrom(okm.subarray(16))]) !== JSON.stringify([keys.toLobby, keys.toPeer])) {
    throw new Error("deriveSessionMacKeys is not HKDF-SHA256(K, \"relaygrid\", \"session mac v1\", 32): update PROTOCOL.md 6.10");
  }
  const peer = SessionFramer.forPeer(keys, session);
  const lobby = SessionFramer.forLobby(keys, session);
  const ask: Message = { kind: Kind.ListGrids, req: 3, session, filter: "", offset: 0 };
  const answer: Message = { kind: Kind.GridList, req: 3, total: 0, offset: 0, grids: [] };
  const first = peer.frame(referenceEncode(positional(ask))) as Uint8Array;
  const again = peer.reframe(first) as Uint8Array;
  const reply = lobby.frame(referenceEncode(positional(answer))) as Uint8Array;
  if (lobby.open(first) !== "fresh" || lobby.open(again) !== "fresh" || lobby.open(first) !== "replay" || peer.open(reply) !== "fresh") {
    throw new Error("session frames do not open as PROTOCOL.md 6.10 says");
  }
  const counters = [1, 3, 2, 3, 200, 72, 73, 71, 0];
  const window = new ReplayWindow();
  return {
    about,
    sessionKey: sessionKeyHex,
    session,
    toLobby: toHex(okm.subarray(0, 16)),
    toPeer: toHex(okm.subarray(16, 32)),
    request: frameVector(first, ask),
    retransmit: frameVector(again, ask),
    reply: frameVector(reply, answer),
    window: { counters, verdicts: counters.map((c) => window.take(c)) },
  };
}
