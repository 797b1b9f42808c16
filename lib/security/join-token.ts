/**
 * Join tokens (issue 18, item 7): the game's backend decides who may enter which grid. It
 * signs (grid name, player, expiry, nonce) with an Ed25519 key whose public half the lobby is
 * configured with; the player's peer presents the token to the lobby (JoinToken, PROTOCOL.md
 * 4.3) before it creates or selects the grid, and the lobby's admission policy
 * (lib/lobby/admission.ts) verifies it. As netcode's connect tokens do, a token is short-lived
 * and bound to the first lobby session that uses it, so a token seen on the wire cannot admit
 * a second client. The backend and the lobby share no secret: the lobby cannot mint tokens.
 *
 * Byte layout, version 1 (integers big-endian; 79 + n + p bytes, at most 143):
 *
 *   offset    size  field
 *   0         1     version = 1
 *   1         1     n = grid name length in bytes, 1..32
 *   2         n     grid name, strict UTF-8: the grid the token admits to (created if missing)
 *   2+n       1     p = player length in bytes, 0..32
 *   3+n       p     player, strict UTF-8: the backend's id for the player (may be empty)
 *   3+n+p     4     expiresAt, u32: Unix time in seconds after which the token admits nobody
 *   7+n+p     8     nonce: random bytes that make every token unique
 *   15+n+p    64    Ed25519 signature over "relaygrid-join-token-v1" || bytes[0 .. 15+n+p)
 *
 * The label keeps join-token signatures apart from anything else an Ed25519 key signs. Exactly
 * one encoding is valid: anything else (a wrong version, lengths out of range or that disagree
 * with the total, invalid UTF-8) is "malformed".
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { asciiBytes, isU32, readU32BE, writeU32BE } from "./bytes.ts";
import { type CryptoProvider, checkBytes, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES } from "./crypto.ts";
import { utf8Decode, utf8EncodeInto, utf8Length } from "./utf8.ts";

export const JOIN_TOKEN_VERSION = 1;
export const JOIN_TOKEN_MAX_GRID_BYTES = 32;
export const JOIN_TOKEN_MAX_PLAYER_BYTES = 32;
export const JOIN_TOKEN_NONCE_BYTES = 8;
/** Version, two lengths, expiry, nonce and signature: the token without its two strings. */
const FIXED_BYTES = 1 + 1 + 1 + 4 + JOIN_TOKEN_NONCE_BYTES + ED25519_SIGNATURE_BYTES;
export const JOIN_TOKEN_MIN_BYTES = FIXED_BYTES + 1;
export const JOIN_TOKEN_MAX_BYTES = FIXED_BYTES + JOIN_TOKEN_MAX_GRID_BYTES + JOIN_TOKEN_MAX_PLAYER_BYTES;
const DOMAIN = asciiBytes("relaygrid-join-token-v1");

export interface JoinTokenClaims {
  /** The grid name it admits to. */
  readonly grid: string;
  /** The backend's id for the player ("" for none); the lobby keeps one member per player and grid. */
  readonly player: string;
  /** Unix time in seconds after which it admits nobody. */
  readonly expiresAt: number;
  /** JOIN_TOKEN_NONCE_BYTES random bytes. */
  readonly nonce: Uint8Array;
}

export type JoinTokenCheck = { readonly ok: true; readonly claims: JoinTokenClaims } | { readonly ok: false; readonly reason: "malformed" | "bad-signature" };

function signedMessage(token: Uint8Array, unsignedLength: number): Uint8Array {
  const msg = new Uint8Array(DOMAIN.length + unsignedLength);
  msg.set(DOMAIN, 0);
  msg.set(token.subarray(0, unsignedLength), DOMAIN.length);
  return msg;
}

/**
 * Mints a token: the backend's side. `secretKey` is the backend's 32-byte Ed25519 seed
 * (crypto.ed25519KeyPair() makes a pair; the lobby gets the public key). Throws a
 * RelayGridError(invalid-config) for a field out of range.
 */
export function createJoinToken(crypto: CryptoProvider, secretKey: Uint8Array, claims: JoinTokenClaims): Uint8Array {
  checkBytes("join token secretKey", secretKey, ED25519_SEED_BYTES);
  const n = utf8Length(claims.grid);
  const p = utf8Length(claims.player);
  if (n < 1 || n > JOIN_TOKEN_MAX_GRID_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `join token grid name is ${n} UTF-8 bytes; it must be 1 to ${JOIN_TOKEN_MAX_GRID_BYTES}`);
  }
  if (p > JOIN_TOKEN_MAX_PLAYER_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `join token player is ${p} UTF-8 bytes; it must be at most ${JOIN_TOKEN_MAX_PLAYER_BYTES}`);
  }
  if (!isU32(claims.expiresAt)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `join token expiresAt must be Unix seconds (a u32), got ${String(claims.expiresAt)}`);
  }
  checkBytes("join token nonce", claims.nonce, JOIN_TOKEN_NONCE_BYTES);
  const unsigned = FIXED_BYTES - ED25519_SIGNATURE_BYTES + n + p;
  const out = new Uint8Array(unsigned + ED25519_SIGNATURE_BYTES);
  out[0] = JOIN_TOKEN_VERSION;
  out[1] = n;
  utf8EncodeInto(claims.grid, out, 2);
  out[2 + n] = p;
  utf8EncodeInto(claims.player, out, 3 + n);
  writeU32BE(out, 3 + n + p, claims.expiresAt);
  out.set(claims.nonce, 7 + n + p);
  out.set(crypto.ed25519Sign(secretKey, signedMessage(out, unsigned)), unsigned);
  return out;
}

/** The claims of a well-formed token, or null; checks every length before reading, never throws, checks no signature. */
export function readJoinToken(bytes: Uint8Array): JoinTokenClaims | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < JOIN_TOKEN_MIN_BYTES || bytes.length > JOIN_TOKEN_MAX_BYTES) return null;
  if (bytes[0] !== JOIN_TOKEN_VERSION) return null;
  const n = bytes[1] as number;
  if (n < 1 || n > JOIN_TOKEN_MAX_GRID_BYTES || 3 + n > bytes.length) return null;
  const p = bytes[2 + n] as number;
  if (p > JOIN_TOKEN_MAX_PLAYER_BYTES || bytes.length !== FIXED_BYTES + n + p) return null;
  const grid = utf8Decode(bytes, 2, 2 + n);
  const player = utf8Decode(bytes, 3 + n, 3 + n + p);
  if (grid === null || player === null) return null;
  const at = 3 + n + p;
  return { grid, player, expiresAt: readU32BE(bytes, at), nonce: bytes.slice(at + 4, at + 4 + JOIN_TOKEN_NONCE_BYTES) };
}

/**
 * Checks a token's layout and its signature under any of `publicKeys` (the backend's current
 * key and, during a rotation, its previous one). Expiry, grid and replay are the admission
 * policy's checks. Never throws.
 */
export function verifyJoinToken(crypto: CryptoProvider, publicKeys: readonly Uint8Array[], bytes: Uint8Array): JoinTokenCheck {
  const claims = readJoinToken(bytes);
  if (claims === null) return { ok: false, reason: "malformed" };
  const unsigned = bytes.length - ED25519_SIGNATURE_BYTES;
  const message = signedMessage(bytes, unsigned);
  const signature = bytes.subarray(unsigned);
  for (const key of publicKeys) if (crypto.ed25519Verify(key, message, signature)) return { ok: true, claims };
  return { ok: false, reason: "bad-signature" };
}
