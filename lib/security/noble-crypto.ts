/**
 * The default CryptoProvider: pure JavaScript over @noble/curves, @noble/ciphers and
 * @noble/hashes, so it runs unchanged on Node, Deno, Bun, browsers and QuickJS.
 *
 * Randomness is injected (the core never touches globalThis.crypto): pass a byte source or
 * a `Random`. Key pairs are only as unpredictable as that source, so a production host must
 * pass a cryptographically strong one (platform/node/crypto-random.ts `CryptoRandom`, or
 * the embedded host's CSPRNG); SeededRandom is for tests and simulations only.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Random } from "../rng.ts";
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  AEAD_TAG_BYTES,
  checkBytes,
  checkLength,
  type CryptoProvider,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  HKDF_SHA256_MAX_BYTES,
  isAllZero,
  type KeyPair,
  randomBytesFrom,
  type RandomBytes,
  X25519_KEY_BYTES,
} from "./crypto.ts";

function isBytes(v: unknown, n?: number): v is Uint8Array {
  return v instanceof Uint8Array && (n === undefined || v.length === n);
}

export class NobleCrypto implements CryptoProvider {
  readonly name: string = "noble";
  private readonly random: RandomBytes;

  /** @param random a byte source or a Random; must be a CSPRNG in production (see above). */
  constructor(random: RandomBytes | Random) {
    this.random = typeof random === "function" ? random : randomBytesFrom(random);
  }

  randomBytes(n: number): Uint8Array {
    checkLength("randomBytes length", n, 0, 0x7fffffff);
    const out = this.random(n);
    checkBytes("random source output", out, n);
    return out;
  }

  x25519KeyPair(): KeyPair {
    const secretKey = this.randomBytes(X25519_KEY_BYTES);
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  }

  x25519Shared(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
    checkBytes("X25519 secret key", secretKey, X25519_KEY_BYTES);
    if (!isBytes(peerPublicKey, X25519_KEY_BYTES)) return null;
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(secretKey, peerPublicKey);
    } catch {
      return null; // noble rejects low-order points itself
    }
    return isAllZero(shared) ? null : shared;
  }

  ed25519KeyPair(seed32?: Uint8Array): KeyPair {
    const secretKey = seed32 === undefined ? this.randomBytes(ED25519_SEED_BYTES) : seed32.slice();
    checkBytes("Ed25519 seed", secretKey, ED25519_SEED_BYTES);
    return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  }

  ed25519Sign(secretKey: Uint8Array, msg: Uint8Array): Uint8Array {
    checkBytes("Ed25519 secret key", secretKey, ED25519_SEED_BYTES);
    return ed25519.sign(msg, secretKey);
  }

  ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    if (!isBytes(publicKey, ED25519_PUBLIC_KEY_BYTES) || !isBytes(sig, ED25519_SIGNATURE_BYTES) || !isBytes(msg)) {
      return false;
    }
    try {
      // zip215: false = RFC 8032 strict rules, the ones OpenSSL (node:crypto) applies, so
      // both providers accept the same signatures.
      return ed25519.verify(sig, msg, publicKey, { zip215: false });
    } catch {
      return false;
    }
  }

  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    checkBytes("AEAD key", key, AEAD_KEY_BYTES);
    checkBytes("AEAD nonce", nonce, AEAD_NONCE_BYTES);
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  }

  aeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null {
    if (
      !isBytes(key, AEAD_KEY_BYTES) ||
      !isBytes(nonce, AEAD_NONCE_BYTES) ||
      !isBytes(ciphertext) ||
      ciphertext.length < AEAD_TAG_BYTES ||
      !isBytes(aad)
    ) {
      return null;
    }
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
    } catch {
      return null;
    }
  }

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkLength("HKDF-SHA256 length", length, 0, HKDF_SHA256_MAX_BYTES);
    return hkdf(sha256, ikm, salt, info, length);
  }
}
