/**
 * A CryptoProvider over node:crypto (OpenSSL) where it measured faster than the pure-JS
 * default, and over NobleCrypto everywhere else (issue 6, point 1: "where Node has a faster
 * native primitive, the Node driver may inject it behind the same interface"). Randomness
 * comes from crypto.randomBytes. The same module runs on Deno and Bun through their
 * node:crypto layers; `native` switches single operations back to noble.
 *
 * Raw 32-byte keys become KeyObjects through JWK ({ kty: "OKP", crv, x[, d] }, RFC 8037):
 * on Node 20 / OpenSSL 3 importing DER (RFC 8410 PKCS#8) costs ~470 us against ~45-85 us
 * for JWK. Node's JWK parser wants `x` beside `d` but builds the private key from `d`
 * alone; we pass a placeholder `x`, and a probe at construction checks that the key
 * derived from `d` is the right one (RFC 8032 and RFC 7748 test keys), else every
 * private-key operation goes to noble. Keys a process uses again and again (the lobby
 * identity it verifies tickets with, its own signing key, an ephemeral key between
 * x25519KeyPair and x25519Shared) stay in small bounded caches.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from "node:crypto";
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
  X25519_KEY_BYTES,
} from "../../lib/security/crypto.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";

/** Which operations run on node:crypto; the others go to noble. */
export interface NodeCryptoNative {
  readonly ed25519?: boolean;
  readonly x25519?: boolean;
  readonly aead?: boolean;
  readonly hkdf?: boolean;
}

/**
 * What measured faster natively on Node 20 (median of runs; issue 6 primitives report):
 * Ed25519 sign ~20x, verify ~13x, X25519 ~8-20x, ChaCha20-Poly1305 ~1.5-2x. HKDF-SHA256
 * is a tie (~11-13 us both: the native call's overhead eats the hashing gain), so it stays
 * on noble.
 */
export const DEFAULT_NODE_CRYPTO_NATIVE: NodeCryptoNative = { ed25519: true, x25519: true, aead: true, hkdf: false };

/** Entries in each KeyObject cache. Defaults to 32. */
export const DEFAULT_KEY_OBJECT_CACHE_ENTRIES = 32;

/** node:crypto's hkdfSync refuses info longer than this; longer goes to noble. */
const NODE_HKDF_MAX_INFO_BYTES = 1024;
const PLACEHOLDER_X = "A".repeat(43); // base64url of 32 zero bytes

type Curve = "Ed25519" | "X25519";

function b64(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("base64url");
}

/** A plain Uint8Array copy (a Buffer may be a view into a shared pool). */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function importPrivate(crv: Curve, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: "OKP", crv, d: b64(raw), x: PLACEHOLDER_X }, format: "jwk" });
}

function importPublic(crv: Curve, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv, x: b64(raw) }, format: "jwk" });
}

function rawPublic(key: KeyObject): Uint8Array {
  const x = createPublicKey(key).export({ format: "jwk" }).x;
  return plain(Buffer.from(x ?? "", "base64url"));
}

/** A bounded first-in-first-out cache of KeyObjects keyed by the raw key bytes. */
class KeyObjectCache {
  private readonly map = new Map<string, KeyObject>();
  private readonly maxEntries: number;
  private readonly make: (raw: Uint8Array) => KeyObject;

  constructor(maxEntries: number, make: (raw: Uint8Array) => KeyObject) {
    this.maxEntries = maxEntries;
    this.make = make;
  }

  get(raw: Uint8Array): KeyObject {
    const id = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("latin1");
    let key = this.map.get(id);
    if (key === undefined) {
      key = this.make(raw);
      this.put(id, key);
    }
    return key;
  }

  remember(raw: Uint8Array, key: KeyObject): void {
    this.put(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString("latin1"), key);
  }

  private put(id: string, key: KeyObject): void {
    if (this.map.size >= this.maxEntries && !this.map.has(id)) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(id, key);
  }
}

/** True when a JWK private import derives the RFC test vectors' public keys from `d`. */
/**
 * Whether this runtime's node:crypto has ChaCha20-Poly1305 (Node does; Bun 1.x answers
 * "Unknown cipher"), checked once at construction by a seal and open round trip.
 */
function probeAead(): boolean {
  try {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12).fill(1);
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: AEAD_TAG_BYTES });
    const body = c.update(new Uint8Array([1, 2, 3]));
    c.final();
    const tag = c.getAuthTag();
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: AEAD_TAG_BYTES });
    d.setAuthTag(tag);
    const back = d.update(body);
    d.final();
    return back.length === 3 && back[2] === 3;
  } catch {
    return false;
  }
}

function probePrivateImport(): boolean {
  try {
    const ed = importPrivate("Ed25519", Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"));
    const x = importPrivate("X25519", Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"));
    return (
      Buffer.from(rawPublic(ed)).toString("hex") === "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a" &&
      Buffer.from(rawPublic(x)).toString("hex") === "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    );
  } catch {
    return false;
  }
}

export interface NodeCryptoOptions {
  /**
   * Where key material comes from. Defaults to node:crypto's randomBytes (use that in
   * production); a simulation passes a seeded source so one seed gives one run.
   */
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Which operations use node:crypto. Defaults to DEFAULT_NODE_CRYPTO_NATIVE. */
  readonly native?: NodeCryptoNative;
  /** Entries in each KeyObject cache. Defaults to DEFAULT_KEY_OBJECT_CACHE_ENTRIES. */
  readonly keyCacheEntries?: number;
}

export class NodeCrypto implements CryptoProvider {
  readonly name: string = "node";
  private readonly noble = new NobleCrypto((n) => this.randomBytes(n));
  private readonly ed: boolean;
  private readonly x: boolean;
  private readonly aead: boolean;
  private readonly hkdf: boolean;
  private readonly edPublic: KeyObjectCache;
  private readonly edPrivate: KeyObjectCache;
  private readonly xPrivate: KeyObjectCache;

  private readonly source: ((n: number) => Uint8Array) | undefined;

  constructor(options: NodeCryptoOptions = {}) {
    this.source = options.randomBytes;
    const native = options.native ?? DEFAULT_NODE_CRYPTO_NATIVE;
    const entries = options.keyCacheEntries ?? DEFAULT_KEY_OBJECT_CACHE_ENTRIES;
    checkLength("keyCacheEntries", entries, 1, 1 << 16);
    const privateOk = (native.ed25519 === true || native.x25519 === true) && probePrivateImport();
    this.ed = native.ed25519 === true && privateOk;
    this.x = native.x25519 === true && privateOk;
    this.aead = native.aead === true && probeAead();
    this.hkdf = native.hkdf === true;
    this.edPublic = new KeyObjectCache(entries, (raw) => importPublic("Ed25519", raw));
    this.edPrivate = new KeyObjectCache(entries, (raw) => importPrivate("Ed25519", raw));
    this.xPrivate = new KeyObjectCache(entries, (raw) => importPrivate("X25519", raw));
  }

  /** Which operations actually run natively (after the construction probe). */
  nativeOps(): Required<NodeCryptoNative> {
    return { ed25519: this.ed, x25519: this.x, aead: this.aead, hkdf: this.hkdf };
  }

  randomBytes(n: number): Uint8Array {
    checkLength("randomBytes length", n, 0, 0x7fffffff);
    return this.source !== undefined ? this.source(n) : plain(nodeRandomBytes(n));
  }

  x25519KeyPair(): KeyPair {
    if (!this.x) return this.noble.x25519KeyPair();
    const secretKey = this.randomBytes(X25519_KEY_BYTES);
    const priv = importPrivate("X25519", secretKey);
    this.xPrivate.remember(secretKey, priv); // x25519Shared with it usually follows
    return { secretKey, publicKey: rawPublic(priv) };
  }

  x25519Shared(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
    if (!this.x) return this.noble.x25519Shared(secretKey, peerPublicKey);
    checkBytes("X25519 secret key", secretKey, X25519_KEY_BYTES);
    if (!(peerPublicKey instanceof Uint8Array) || peerPublicKey.length !== X25519_KEY_BYTES) return null;
    const privateKey = this.xPrivate.get(secretKey);
    let shared: Uint8Array;
    try {
      shared = diffieHellman({ privateKey, publicKey: importPublic("X25519", peerPublicKey) });
    } catch {
      return null; // OpenSSL refuses an all-zero result (a low-order peer key)
    }
    return isAllZero(shared) ? null : plain(shared);
  }

  ed25519KeyPair(seed32?: Uint8Array): KeyPair {
    if (!this.ed) return this.noble.ed25519KeyPair(seed32);
    const secretKey = seed32 === undefined ? this.randomBytes(ED25519_SEED_BYTES) : seed32.slice();
    checkBytes("Ed25519 seed", secretKey, ED25519_SEED_BYTES);
    return { secretKey, publicKey: rawPublic(this.edPrivate.get(secretKey)) };
  }

  ed25519Sign(secretKey: Uint8Array, msg: Uint8Array): Uint8Array {
    if (!this.ed) return this.noble.ed25519Sign(secretKey, msg);
    checkBytes("Ed25519 secret key", secretKey, ED25519_SEED_BYTES);
    return plain(nodeSign(null, msg, this.edPrivate.get(secretKey)));
  }

  ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    if (!this.ed) return this.noble.ed25519Verify(publicKey, msg, sig);
    if (
      !(publicKey instanceof Uint8Array) ||
      publicKey.length !== ED25519_PUBLIC_KEY_BYTES ||
      !(sig instanceof Uint8Array) ||
      sig.length !== ED25519_SIGNATURE_BYTES ||
      !(msg instanceof Uint8Array)
    ) {
      return false;
    }
    try {
      return nodeVerify(null, msg, this.edPublic.get(publicKey), sig);
    } catch {
      return false;
    }
  }

  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    if (!this.aead) return this.noble.aeadSeal(key, nonce, plaintext, aad);
    checkBytes("AEAD key", key, AEAD_KEY_BYTES);
    checkBytes("AEAD nonce", nonce, AEAD_NONCE_BYTES);
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: AEAD_TAG_BYTES });
    c.setAAD(aad, { plaintextLength: plaintext.length });
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    const body = c.update(plaintext);
    out.set(body, 0);
    const tail = c.final();
    out.set(tail, body.length);
    out.set(c.getAuthTag(), body.length + tail.length);
    return out;
  }

  aeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | null {
    if (!this.aead) return this.noble.aeadOpen(key, nonce, ciphertext, aad);
    if (
      !(key instanceof Uint8Array) ||
      key.length !== AEAD_KEY_BYTES ||
      !(nonce instanceof Uint8Array) ||
      nonce.length !== AEAD_NONCE_BYTES ||
      !(ciphertext instanceof Uint8Array) ||
      ciphertext.length < AEAD_TAG_BYTES ||
      !(aad instanceof Uint8Array)
    ) {
      return null;
    }
    const n = ciphertext.length - AEAD_TAG_BYTES;
    try {
      const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: AEAD_TAG_BYTES });
      d.setAAD(aad, { plaintextLength: n });
      d.setAuthTag(ciphertext.subarray(n));
      const out = new Uint8Array(n);
      const body = d.update(ciphertext.subarray(0, n));
      out.set(body, 0);
      out.set(d.final(), body.length); // throws when the tag does not verify
      return out;
    } catch {
      return null;
    }
  }

  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    if (!this.hkdf || info.length > NODE_HKDF_MAX_INFO_BYTES) return this.noble.hkdfSha256(ikm, salt, info, length);
    checkLength("HKDF-SHA256 length", length, 0, HKDF_SHA256_MAX_BYTES);
    return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
  }
}
