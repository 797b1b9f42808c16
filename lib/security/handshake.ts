/**
 * The lobby session handshake and address-validation cookies (issue 6, points 1 and 3),
 * as pure functions over a CryptoProvider; the lobby and peer state machines carry the
 * bytes in their own messages.
 *
 *   peer  -> lobby  peerEph (32), from beginHandshake
 *   lobby -> peer   lobbyEph (32), session (u32), signature (64) [, identity public key
 *                   (32) for peers that trust on first use], from acceptHandshake
 *   both            sessionKey = HKDF-SHA256(X25519(eph, eph'), salt "relaygrid",
 *                                info "session v1" || peerEph || lobbyEph, 32 bytes)
 *
 * The lobby signs the transcript "relaygrid-welcome-v1" || peerEph || lobbyEph ||
 * session(u32be) with its Ed25519 identity: the peer's fresh ephemeral key makes each
 * signature unique to this handshake (no replay), and the prefix keeps it from ever
 * verifying as a ticket ("relaygrid-ticket-v1").
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { asciiBytes, concatBytes, constantTimeEqual, isU32, writeU32BE } from "./bytes.ts";
import { AEAD_NONCE_BYTES, type CryptoProvider, type KeyPair, X25519_KEY_BYTES } from "./crypto.ts";
import { type SipKey, sipHash24Into } from "./siphash.ts";
import { utf8EncodeInto, utf8Length } from "./utf8.ts";

export const SESSION_KEY_BYTES = 32;
const WELCOME_DOMAIN = asciiBytes("relaygrid-welcome-v1");
const SALT = asciiBytes("relaygrid");
const SESSION_INFO = asciiBytes("session v1");
const EMPTY = new Uint8Array(0);

/** The peer's first step: a fresh ephemeral X25519 key pair; send its publicKey. */
export function beginHandshake(crypto: CryptoProvider): KeyPair {
  return crypto.x25519KeyPair();
}

/** The bytes the lobby signs. */
export function welcomeTranscript(peerEph: Uint8Array, lobbyEph: Uint8Array, session: number): Uint8Array {
  const out = new Uint8Array(WELCOME_DOMAIN.length + 2 * X25519_KEY_BYTES + 4);
  out.set(WELCOME_DOMAIN, 0);
  out.set(peerEph, WELCOME_DOMAIN.length);
  out.set(lobbyEph, WELCOME_DOMAIN.length + X25519_KEY_BYTES);
  writeU32BE(out, WELCOME_DOMAIN.length + 2 * X25519_KEY_BYTES, session);
  return out;
}

function deriveSessionKey(crypto: CryptoProvider, shared: Uint8Array, peerEph: Uint8Array, lobbyEph: Uint8Array): Uint8Array {
  return crypto.hkdfSha256(shared, SALT, concatBytes(SESSION_INFO, peerEph, lobbyEph), SESSION_KEY_BYTES);
}

export interface Welcome {
  /** The lobby's ephemeral X25519 public key. */
  readonly lobbyEph: Uint8Array;
  /** Ed25519 signature of welcomeTranscript(peerEph, lobbyEph, session). */
  readonly signature: Uint8Array;
  readonly session: number;
}

/**
 * The lobby's step. Null when `peerEph` is not a usable X25519 key (wrong length or low
 * order): a remote mistake, so the lobby counts and drops. Throws for a bad identity key
 * or a session id that is not a u32 (caller mistakes).
 */
export function acceptHandshake(
  crypto: CryptoProvider,
  identitySecret: Uint8Array,
  peerEph: Uint8Array,
  session: number,
): (Welcome & { readonly sessionKey: Uint8Array }) | null {
  if (!isU32(session)) throw new RelayGridError(ErrorCode.InvalidConfig, `session id must be a u32, got ${String(session)}`);
  if (!(peerEph instanceof Uint8Array) || peerEph.length !== X25519_KEY_BYTES) return null;
  const eph = crypto.x25519KeyPair();
  const shared = crypto.x25519Shared(eph.secretKey, peerEph);
  if (shared === null) return null;
  const signature = crypto.ed25519Sign(identitySecret, welcomeTranscript(peerEph, eph.publicKey, session));
  return { lobbyEph: eph.publicKey, signature, session, sessionKey: deriveSessionKey(crypto, shared, peerEph, eph.publicKey) };
}

export type HandshakeResult =
  | {
      readonly ok: true;
      readonly sessionKey: Uint8Array;
      /** The identity the welcome verified under: record it when trusting on first use. */
      readonly lobbyPublicKey: Uint8Array;
      /** True when no key was pinned and the one the lobby sent was taken on trust. */
      readonly trustedOnFirstUse: boolean;
    }
  | { readonly ok: false; readonly reason: "no-lobby-key" | "bad-signature" | "bad-key" };

/**
 * The peer's last step. With `pinnedLobbyKey` the welcome must verify under it (whatever
 * key the lobby sent); without one the peer trusts `sentLobbyKey` on first use and returns
 * it so the caller can pin it from then on. Never throws on what the lobby sent.
 */
export function finishHandshake(
  crypto: CryptoProvider,
  ephemeral: KeyPair,
  welcome: Welcome,
  pinnedLobbyKey: Uint8Array | undefined,
  sentLobbyKey?: Uint8Array,
): HandshakeResult {
  const lobbyKey = pinnedLobbyKey ?? sentLobbyKey;
  if (lobbyKey === undefined) return { ok: false, reason: "no-lobby-key" };
  const { lobbyEph, signature, session } = welcome;
  if (!(lobbyEph instanceof Uint8Array) || lobbyEph.length !== X25519_KEY_BYTES || !isU32(session)) {
    return { ok: false, reason: "bad-key" };
  }
  const transcript = welcomeTranscript(ephemeral.publicKey, lobbyEph, session);
  if (!crypto.ed25519Verify(lobbyKey, transcript, signature)) return { ok: false, reason: "bad-signature" };
  const shared = crypto.x25519Shared(ephemeral.secretKey, lobbyEph);
  if (shared === null) return { ok: false, reason: "bad-key" };
  return {
    ok: true,
    sessionKey: deriveSessionKey(crypto, shared, ephemeral.publicKey, lobbyEph),
    lobbyPublicKey: lobbyKey.slice(),
    trustedOnFirstUse: pinnedLobbyKey === undefined,
  };
}

/** Which side sealed a session message: part of the nonce, so the two never collide. */
export const Direction = { PeerToLobby: 0, LobbyToPeer: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

/**
 * The 12-byte AEAD nonce: direction byte, 7 zero bytes, counter u32be.
 *
 * A (key, nonce) pair must never seal two different plaintexts: ChaCha20-Poly1305 then
 * leaks their XOR and lets an attacker forge tags. Under one session key each side must
 * use each counter value for one plaintext only. Using the request id as the counter (the
 * peer's requests, and the lobby's reply under the other direction) is safe only if a
 * retransmission resends the same sealed bytes and the lobby replies to a duplicated
 * request with the identical bytes it sent before; a reply whose content can change
 * between duplicates needs a fresh counter (a per-direction send counter carried in clear).
 */
export function sessionNonce(direction: Direction, counter: number): Uint8Array {
  if (!isU32(counter)) throw new RelayGridError(ErrorCode.InvalidConfig, `nonce counter must be a u32, got ${String(counter)}`);
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  nonce[0] = direction;
  writeU32BE(nonce, 8, counter);
  return nonce;
}

/** Seals `plaintext` under the session key (ciphertext || 16-byte tag). See sessionNonce. */
export function sealFor(
  crypto: CryptoProvider,
  sessionKey: Uint8Array,
  direction: Direction,
  nonceCounter: number,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
): Uint8Array {
  return crypto.aeadSeal(sessionKey, sessionNonce(direction, nonceCounter), plaintext, aad);
}

/** The plaintext, or null when it does not authenticate (or the counter is not a u32). Never throws. */
export function openFrom(
  crypto: CryptoProvider,
  sessionKey: Uint8Array,
  direction: Direction,
  nonceCounter: number,
  ciphertext: Uint8Array,
  aad: Uint8Array = EMPTY,
): Uint8Array | null {
  if (!isU32(nonceCounter) || (direction !== Direction.PeerToLobby && direction !== Direction.LobbyToPeer)) return null;
  return crypto.aeadOpen(sessionKey, sessionNonce(direction, nonceCounter), ciphertext, aad);
}

// Address-validation cookies (RFC 9000 section 8.1 in spirit): the lobby proves a source
// receives at its address without keeping state, as SipHash(secret, bucket || address).

export const COOKIE_BYTES = 8;
const COOKIE_SCRATCH_BYTES = 4 + 256;
const cookieInput = new Uint8Array(COOKIE_SCRATCH_BYTES);
const cookieScratch = new Uint8Array(2 * COOKIE_BYTES);

function writeCookie(secret: SipKey, address: string, timeBucket: number, out: Uint8Array, offset: number): void {
  const n = utf8Length(address);
  const input = 4 + n <= COOKIE_SCRATCH_BYTES ? cookieInput : new Uint8Array(4 + n);
  writeU32BE(input, 0, timeBucket);
  utf8EncodeInto(address, input, 4);
  sipHash24Into(secret, input, 0, 4 + n, -1, out, offset);
}

/**
 * The 8-byte cookie for `address` in `timeBucket` = floor(now / cookieLifetimeMs); the
 * caller supplies time (the core reads no clock). Throws for a bucket that is not a u32.
 */
export function makeCookie(secret: SipKey, address: string, timeBucket: number): Uint8Array {
  if (!isU32(timeBucket)) throw new RelayGridError(ErrorCode.InvalidConfig, `cookie time bucket must be a u32, got ${String(timeBucket)}`);
  const out = new Uint8Array(COOKIE_BYTES);
  writeCookie(secret, address, timeBucket, out, 0);
  return out;
}

/**
 * True when `cookie` was made for `address` in `currentBucket` or the one before (so a
 * cookie lives one to two lifetimes). Both candidates are always computed and compared in
 * constant time. Never throws for a bad cookie (only for a bucket that is not a u32);
 * allocates nothing for addresses up to 252 UTF-8 bytes.
 */
export function checkCookie(secret: SipKey, address: string, cookie: Uint8Array, currentBucket: number): boolean {
  if (!isU32(currentBucket)) throw new RelayGridError(ErrorCode.InvalidConfig, `cookie time bucket must be a u32, got ${String(currentBucket)}`);
  if (!(cookie instanceof Uint8Array) || cookie.length !== COOKIE_BYTES) return false;
  writeCookie(secret, address, currentBucket, cookieScratch, 0);
  writeCookie(secret, address, (currentBucket - 1) >>> 0, cookieScratch, COOKIE_BYTES);
  const now = constantTimeEqual(cookieScratch, 0, cookie, 0, COOKIE_BYTES);
  const before = constantTimeEqual(cookieScratch, COOKIE_BYTES, cookie, 0, COOKIE_BYTES);
  return now || before;
}
