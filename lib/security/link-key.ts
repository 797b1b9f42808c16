/**
 * A member's link key (issue 13, item 3): an Ed25519 key pair each peer makes for itself,
 * registered with the lobby once per membership and bound into its version 2 ticket
 * (ticket.ts), so that a link opens on proof of the key, not on the address the lobby saw.
 *
 *   Register.sealed = ChaCha20-Poly1305(session key, nonce = 0x00 || 7 zero bytes || u32be(Register.req),
 *                                       plaintext = link public key (32),
 *                                       aad = "relaygrid-linkkey-v1" || u32be(grid) || u32be(peer))
 *
 *   PunchReply.proof = Ed25519(link secret, "relaygrid-punch-v1" || u32be(grid) || u32be(prover)
 *                                           || u32be(verifier) || challenge (16))
 *
 * Sealing under the session key keeps an on-path attacker from registering its own key for
 * someone else's membership (the AAD names the membership, so a sealed key is good for it
 * alone). The proof signs a challenge the verifier sent to one address, with both peer ids:
 * it shows that the source of the reply holds the key of `prover`'s ticket, answering
 * `verifier` and nobody else, now (PROTOCOL.md 6.9).
 */
import { asciiBytes, concatBytes, isU32, writeU32BE } from "./bytes.ts";
import { type CryptoProvider, ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "./crypto.ts";
import { Direction, openFrom, sealFor } from "./handshake.ts";
import { ErrorCode, RelayGridError } from "../errors.ts";

export const LINK_KEY_BYTES = ED25519_PUBLIC_KEY_BYTES;
/** Bytes of a Punch challenge (PUNCH_CHALLENGE_BYTES on the wire). */
export const CHALLENGE_BYTES = 16;
const LINK_KEY_DOMAIN = asciiBytes("relaygrid-linkkey-v1");
const PUNCH_DOMAIN = asciiBytes("relaygrid-punch-v1");

function ids(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  values.forEach((v, i) => writeU32BE(out, 4 * i, v));
  return out;
}

/** The AAD that binds a sealed link key to one membership. */
export function linkKeyAad(grid: number, peer: number): Uint8Array {
  return concatBytes(LINK_KEY_DOMAIN, ids(grid, peer));
}

/** Register.sealed for `publicKey` (the peer's side). Throws for a key that is not 32 bytes or ids that are not u32. */
export function sealLinkKey(crypto: CryptoProvider, sessionKey: Uint8Array, req: number, grid: number, peer: number, publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== LINK_KEY_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `a link key is a ${LINK_KEY_BYTES}-byte Ed25519 public key`);
  }
  if (!isU32(grid) || !isU32(peer)) throw new RelayGridError(ErrorCode.InvalidConfig, "grid and peer must be u32");
  return sealFor(crypto, sessionKey, Direction.PeerToLobby, req, publicKey, linkKeyAad(grid, peer));
}

/** The link key a Register sealed (the lobby's side), or null when it does not open or is not 32 bytes. Never throws. */
export function openLinkKey(crypto: CryptoProvider, sessionKey: Uint8Array, req: number, grid: number, peer: number, sealed: Uint8Array): Uint8Array | null {
  if (!isU32(grid) || !isU32(peer)) return null;
  const key = openFrom(crypto, sessionKey, Direction.PeerToLobby, req, sealed, linkKeyAad(grid, peer));
  return key !== null && key.length === LINK_KEY_BYTES ? key : null;
}

/** The bytes a punch proof signs. Throws for ids that are not u32 or a challenge that is not 16 bytes (caller mistakes). */
export function punchProofMessage(grid: number, prover: number, verifier: number, challenge: Uint8Array): Uint8Array {
  if (!isU32(grid) || !isU32(prover) || !isU32(verifier)) throw new RelayGridError(ErrorCode.InvalidConfig, "grid, prover and verifier must be u32");
  if (!(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `a punch challenge is ${CHALLENGE_BYTES} bytes`);
  }
  return concatBytes(PUNCH_DOMAIN, ids(grid, prover, verifier), challenge);
}

/** PunchReply.proof: `prover` answers `verifier`'s challenge with its link secret (an Ed25519 seed). */
export function signPunchProof(crypto: CryptoProvider, linkSecret: Uint8Array, grid: number, prover: number, verifier: number, challenge: Uint8Array): Uint8Array {
  return crypto.ed25519Sign(linkSecret, punchProofMessage(grid, prover, verifier, challenge));
}

/** Whether `proof` is `prover`'s answer to `verifier`'s challenge under `linkKey`. Never throws. */
export function verifyPunchProof(
  crypto: CryptoProvider,
  linkKey: Uint8Array,
  proof: Uint8Array,
  grid: number,
  prover: number,
  verifier: number,
  challenge: Uint8Array,
): boolean {
  if (!(proof instanceof Uint8Array) || proof.length !== ED25519_SIGNATURE_BYTES) return false;
  if (!isU32(grid) || !isU32(prover) || !isU32(verifier) || !(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_BYTES) return false;
  return crypto.ed25519Verify(linkKey, punchProofMessage(grid, prover, verifier, challenge), proof);
}
