/**
 * Link-bound authentication of peer <-> peer control (issue 15, "links that cannot be stolen
 * or cut"; PROTOCOL.md 6.13). The grid-key tag proves a datagram came from *a* member, not
 * which one, nor for which link: any member could forge a Disconnect "from" a neighbour at
 * its address, or replay a captured Force at anyone. So:
 *
 * - Connect / Force and their replies carry each side's fresh 8-byte nonce. Both ends derive
 *   the link key: HKDF-SHA256(ikm = the grid key of the request's epoch, salt = initiator
 *   nonce || responder nonce, info = "relaygrid link v1" || initiator id || responder id
 *   (u32be each)), 16 bytes, a SipHash-2-4 key. A member off the path never sees the nonces,
 *   so it cannot compute the key of a link it is not on, even holding the grid key.
 * - Ping, Pong, Disconnect, Prune, Graft and RepairRequest carry `ctr` (the sender's per-link
 *   counter, from 1) and `auth`: SipHash-2-4 under the link key over every byte before the
 *   auth field. The receiver checks it, then takes `ctr` in a 32-counter sliding window
 *   (LinkReplayWindow): a replay is dropped.
 *
 * The auth field sits at a fixed place from the end (right before the grid-key tag), so it
 * is stamped and checked on the raw bytes without decoding. Allocates nothing per message.
 */
import { asciiBytes, concatBytes, constantTimeEqual, writeU32BE } from "./bytes.ts";
import type { CryptoProvider } from "./crypto.ts";
import { type SipKey, sipHash24Into, sipKeyFrom } from "./siphash.ts";

/** Bytes of each side's nonce in Connect, Force and their replies. */
export const LINK_NONCE_BYTES = 8;
/** The grid-key tag's field (bin8 of 9) that ends every peer <-> peer datagram. */
const GRID_TAG_FIELD_BYTES = 11;
/** The link auth field: bin8 header (c4 08), then 8 bytes of SipHash. */
const AUTH_FIELD_BYTES = 10;
const INFO_PREFIX = asciiBytes("relaygrid link v1");

/**
 * The link key of the link `initiator` opened with `responder` (by Connect or Force), from
 * the grid key both held and both nonces. The same bytes at both ends; a different key for
 * every link and every reopening of one.
 */
export function deriveLinkKey(
  crypto: CryptoProvider,
  gridKey: Uint8Array,
  initiatorNonce: Uint8Array,
  responderNonce: Uint8Array,
  initiator: number,
  responder: number,
): SipKey {
  return sipKeyFrom(crypto.hkdfSha256(gridKey, concatBytes(initiatorNonce, responderNonce), linkInfo(initiator, responder), 16));
}

function linkInfo(initiator: number, responder: number): Uint8Array {
  const info = concatBytes(INFO_PREFIX, new Uint8Array(8));
  writeU32BE(info, INFO_PREFIX.length, initiator >>> 0);
  writeU32BE(info, INFO_PREFIX.length + 4, responder >>> 0);
  return info;
}

/** Where the auth field starts in a link-authenticated datagram, or -1 when it cannot hold one. */
function authStart(bytes: Uint8Array): number {
  const at = bytes.length - GRID_TAG_FIELD_BYTES - AUTH_FIELD_BYTES;
  return at >= 0 && bytes[at] === 0xc4 && bytes[at + 1] === 0x08 ? at : -1;
}

/**
 * Writes the link auth over an encoded message (its auth field of 8 zero bytes in place,
 * before its grid-key tag is written). Returns false when the bytes hold no auth field.
 */
export function stampLinkAuth(key: SipKey, bytes: Uint8Array): boolean {
  const at = authStart(bytes);
  if (at < 0) return false;
  sipHash24Into(key, bytes, 0, at, -1, bytes, at + 2);
  return true;
}

const scratch = new Uint8Array(8);

/** Whether the auth field verifies under `key` (constant time). Never throws. */
export function checkLinkAuth(key: SipKey, bytes: Uint8Array): boolean {
  const at = authStart(bytes);
  if (at < 0) return false;
  sipHash24Into(key, bytes, 0, at, -1, scratch, 0);
  return constantTimeEqual(scratch, 0, bytes, at + 2, 8);
}

/** Counters a LinkReplayWindow remembers behind the highest it took. */
export const LINK_REPLAY_WINDOW = 32;

/**
 * The receiver's memory of one link's counters (RFC 4303's anti-replay window, 32 wide in
 * one u32 bitmap): above the highest is fresh; within 32 below it, fresh once; older, stale.
 * Call take() only after the auth verified, so a forgery moves nothing.
 */
export class LinkReplayWindow {
  private highest = 0;
  /** Bit i: counter highest - i was taken. */
  private bits = 0;

  take(ctr: number): "fresh" | "replay" {
    if (ctr === 0) return "replay"; // counters start at 1
    if (ctr > this.highest) {
      const shift = ctr - this.highest;
      this.bits = shift >= LINK_REPLAY_WINDOW ? 1 : ((this.bits << shift) | 1) >>> 0;
      this.highest = ctr;
      return "fresh";
    }
    const back = this.highest - ctr;
    if (back >= LINK_REPLAY_WINDOW) return "replay";
    const bit = (1 << back) >>> 0;
    if ((this.bits & bit) !== 0) return "replay";
    this.bits = (this.bits | bit) >>> 0;
    return "fresh";
  }
}
