/**
 * Session frames (PROTOCOL.md 6.10; issue 15, point 4: "every lobby message after the
 * handshake authenticated under the session key"). After Welcome, every lobby <-> peer
 * datagram but UnknownSession is a SessionFrame:
 *
 *   [1, 0x70, session, body, auth]     body = one whole version-1 session message
 *   auth = bin 8 of 12 bytes: u32be(counter) || SipHash-2-4(K_dir, D[0 .. n-8))
 *
 * so the auth field is always the datagram's last 14 bytes (`c4 0c`, the counter, the tag),
 * and the tag covers everything before its own 8 bytes, the counter included. Each side
 * counts its frames from 1 (a retransmission is a new frame with the next counter), and the
 * receiver keeps a window of the counters it took (ReplayWindow), so a captured frame
 * replayed from the sender's address is dropped instead of answered again.
 *
 *   K_peer->lobby || K_lobby->peer = HKDF-SHA256(ikm = session key, salt = "relaygrid",
 *                                                info = "session mac v1", length = 32)
 *
 * One key per direction: a frame the lobby sent can never be reflected back to it as the
 * peer's. SipHash-2-4 is the grid tag's MAC too (grid-keys.ts): cheap enough that checking
 * it costs less than the rate-limit bookkeeping it now comes before.
 */
import { encode } from "../../wire/codec.ts";
import { Kind } from "../../wire/kinds.ts";
import { SESSION_AUTH_BYTES, SESSION_AUTH_FIELD_BYTES } from "../../wire/limits.ts";
import { asciiBytes, constantTimeEqual, readU32BE, writeU32BE } from "./bytes.ts";
import type { CryptoProvider } from "./crypto.ts";
import { type SipKey, sipHash24Into, sipKeyFrom } from "./siphash.ts";

const SALT = asciiBytes("relaygrid");
const INFO = asciiBytes("session mac v1");
const AUTH_HEADER_0 = 0xc4; // MessagePack bin 8 ...
const AUTH_HEADER_1 = SESSION_AUTH_BYTES; // ... of 12 bytes
/** The last counter a sender may use; past it the session is spent (a new handshake). */
export const MAX_FRAME_COUNTER = 0xffffffff;

/** The two MAC keys of one session. */
export interface SessionMacKeys {
  readonly toLobby: SipKey;
  readonly toPeer: SipKey;
}

export function deriveSessionMacKeys(crypto: CryptoProvider, sessionKey: Uint8Array): SessionMacKeys {
  const okm = crypto.hkdfSha256(sessionKey, SALT, INFO, 32);
  return { toLobby: sipKeyFrom(okm.subarray(0, 16)), toPeer: sipKeyFrom(okm.subarray(16, 32)) };
}

/** Writes counter and tag into the last 12 bytes of an encoded frame, in place. */
function stamp(key: SipKey, bytes: Uint8Array, counter: number): void {
  const n = bytes.length;
  writeU32BE(bytes, n - SESSION_AUTH_BYTES, counter);
  sipHash24Into(key, bytes, 0, n - 8, -1, bytes, n - 8);
}

/** `body` (an encoded session message) framed for `session` under `key` with `counter` (1..MAX_FRAME_COUNTER). */
export function writeFrame(key: SipKey, session: number, counter: number, body: Uint8Array): Uint8Array {
  const bytes = encode({ kind: Kind.SessionFrame, session, body, auth: new Uint8Array(SESSION_AUTH_BYTES) });
  stamp(key, bytes, counter);
  return bytes;
}

/** A copy of `frame` under a new counter (a retransmission is a new frame, PROTOCOL.md 6.10). */
export function restampFrame(key: SipKey, frame: Uint8Array, counter: number): Uint8Array {
  const bytes = frame.slice();
  stamp(key, bytes, counter);
  return bytes;
}

export type FrameCheck = "ok" | "missing" | "bad-mac";

const scratch = new Uint8Array(8);

/** Checks the auth field of a frame's raw bytes in constant time. Never throws, allocates nothing. */
export function checkFrame(key: SipKey, bytes: Uint8Array): FrameCheck {
  const n = bytes.length;
  const at = n - SESSION_AUTH_FIELD_BYTES;
  if (at < 0 || bytes[at] !== AUTH_HEADER_0 || bytes[at + 1] !== AUTH_HEADER_1) return "missing";
  sipHash24Into(key, bytes, 0, n - 8, -1, scratch, 0);
  return constantTimeEqual(scratch, 0, bytes, n - 8, 8) ? "ok" : "bad-mac";
}

/** The counter of a frame whose auth field checkFrame found. */
export function frameCounter(bytes: Uint8Array): number {
  return readU32BE(bytes, bytes.length - SESSION_AUTH_BYTES);
}

/** Counters a ReplayWindow remembers behind the highest one it took. */
export const REPLAY_WINDOW = 128;

export type ReplayCheck = "fresh" | "replay" | "stale";

/**
 * The receiver's memory of frame counters (RFC 4303 section 3.4.3's anti-replay window):
 * the highest counter taken and which of the REPLAY_WINDOW before it were. A counter above
 * the highest is fresh; inside the window, fresh once; below it, stale. Requests sent
 * together (a member list's parts) may arrive in any order within the window.
 */
export class ReplayWindow {
  private highest = 0;
  private readonly seen = new Uint8Array(REPLAY_WINDOW);

  /** Takes `counter` when it is fresh (call only after its frame's tag verified). */
  take(counter: number): ReplayCheck {
    if (counter === 0) return "stale"; // counters start at 1
    if (counter > this.highest) {
      const gap = counter - this.highest;
      if (gap >= REPLAY_WINDOW) this.seen.fill(0);
      else for (let c = this.highest + 1; c < counter; c++) this.seen[c % REPLAY_WINDOW] = 0;
      this.highest = counter;
      this.seen[counter % REPLAY_WINDOW] = 1;
      return "fresh";
    }
    if (this.highest - counter >= REPLAY_WINDOW) return "stale";
    const i = counter % REPLAY_WINDOW;
    if (this.seen[i] === 1) return "replay";
    this.seen[i] = 1;
    return "fresh";
  }
}

/** One side of a session's frames: its MAC keys, its send counter and its receive window. */
export class SessionFramer {
  private sent = 0;
  private readonly window = new ReplayWindow();

  constructor(
    readonly session: number,
    private readonly sendKey: SipKey,
    private readonly receiveKey: SipKey,
  ) {}

  /** The framer of the peer's side (sends under toLobby). */
  static forPeer(keys: SessionMacKeys, session: number): SessionFramer {
    return new SessionFramer(session, keys.toLobby, keys.toPeer);
  }

  /** The framer of the lobby's side (sends under toPeer). */
  static forLobby(keys: SessionMacKeys, session: number): SessionFramer {
    return new SessionFramer(session, keys.toPeer, keys.toLobby);
  }

  /** True when every counter is used: the session must be replaced by a new handshake. */
  get spent(): boolean {
    return this.sent >= MAX_FRAME_COUNTER;
  }

  /** Frames an encoded message under the next counter (undefined once spent). */
  frame(body: Uint8Array): Uint8Array | undefined {
    if (this.spent) return undefined;
    return writeFrame(this.sendKey, this.session, ++this.sent, body);
  }

  /** The same frame under the next counter, for a retransmission (undefined once spent). */
  reframe(frame: Uint8Array): Uint8Array | undefined {
    if (this.spent) return undefined;
    return restampFrame(this.sendKey, frame, ++this.sent);
  }

  /**
   * Checks a received frame's raw bytes (the caller checked its session id): its tag under
   * the other side's key, then its counter against the window. Only a frame whose tag
   * verified moves the window, so forged counters cannot push real frames out of it.
   */
  open(bytes: Uint8Array): Exclude<FrameCheck, "ok"> | ReplayCheck {
    const c = checkFrame(this.receiveKey, bytes);
    if (c !== "ok") return c;
    return this.window.take(frameCounter(bytes));
  }
}
