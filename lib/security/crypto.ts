/**
 * The cryptographic primitives the security layer needs, behind one injectable interface
 * (issue 6, point 1: "where Node has a faster native primitive, the Node driver may inject
 * it behind the same interface"). lib/security/noble-crypto.ts is the portable default
 * (pure JS, runs in QuickJS); platform/node/node-crypto.ts swaps in node:crypto where it
 * measured faster.
 *
 * Error families (STYLE.md 7): arguments that only the local caller controls (own secret
 * keys, AEAD keys, lengths) throw a RelayGridError when wrong; anything that can come from
 * the network (peer public keys, signatures, ciphertexts, nonces) never throws: a bad
 * value gives false or null.
 */
import type { Random } from "../rng.ts";
import { ErrorCode, RelayGridError } from "../errors.ts";

export const X25519_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
/** RFC 5869 section 2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_BYTES = 255 * 32;

export interface KeyPair {
  /** X25519: the 32-byte scalar. Ed25519: the 32-byte seed (RFC 8032 section 5.1.5). */
  readonly secretKey: Uint8Array;
  /** 32 bytes. */
  readonly publicKey: Uint8Array;
}

export interface CryptoProvider {
  /** For logs and benches ("noble", "node"). */
  readonly name: string;
  /** A fresh X25519 key pair (RFC 7748) from the provider's random source. */
  x25519KeyPair(): KeyPair;
  /**
   * X25519(secretKey, peerPublicKey). Null when the peer key is not 32 bytes or the result
   * is all zero (a low-order peer key, RFC 7748 section 6.1); never throws for a bad peer
   * key. Throws InvalidConfig when `secretKey` is not 32 bytes.
   */
  x25519Shared(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null;
  /** An Ed25519 key pair from `seed32`, or from 32 random bytes when omitted. */
  ed25519KeyPair(seed32?: Uint8Array): KeyPair;
  /** The 64-byte Ed25519 signature of `msg` (RFC 8032, deterministic). */
  ed25519Sign(secretKey: Uint8Array, msg: Uint8Array): Uint8Array;
  /**
   * RFC 8032 verification (canonical S required). False for a bad signature and for a
   * malformed key or signature of any length; never throws.
   */
  ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
  /** ChaCha20-Poly1305 (RFC 8439): ciphertext || 16-byte tag. Throws on a bad key or nonce length. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** The plaintext, or null when the tag does not verify or any input is malformed; never throws. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null;
  /** HKDF-SHA256 (RFC 5869). Throws InvalidConfig when length is outside [0, 8160]. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** `n` bytes from the provider's random source. */
  randomBytes(n: number): Uint8Array;
}

/** A source of random bytes. Must be cryptographically strong in production. */
export type RandomBytes = (n: number) => Uint8Array;

/**
 * Adapts the core's `Random` (lib/rng.ts) to a byte source. Key material is only as good
 * as the Random: SeededRandom is for tests and simulations; a production host passes a
 * CSPRNG-backed Random (platform/node/crypto-random.ts, or the embedded host's source).
 */
export function randomBytesFrom(random: Random): RandomBytes {
  return (n: number): Uint8Array => {
    checkLength("randomBytes length", n, 0, 0x7fffffff);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const w = random.nextU32();
      out[i] = w & 0xff;
      if (i + 1 < n) out[i + 1] = (w >>> 8) & 0xff;
      if (i + 2 < n) out[i + 2] = (w >>> 16) & 0xff;
      if (i + 3 < n) out[i + 3] = w >>> 24;
    }
    return out;
  };
}

/** Throws InvalidConfig unless n is an integer in [min, max] (a caller mistake). */
export function checkLength(name: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      min === max ? `${name} must be ${min}, got ${String(n)}` : `${name} must be an integer from ${min} to ${max}, got ${String(n)}`,
    );
  }
}

/** Throws InvalidConfig unless `bytes` is exactly `n` bytes long. */
export function checkBytes(name: string, bytes: Uint8Array, n: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `${name} must be ${n} bytes, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`,
    );
  }
}

/** True when every byte is zero (constant time in the length). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}
