/**
 * CryptoProvider conformance (lib/security/crypto.ts): the portable NobleCrypto and the
 * native NodeCrypto run the same cases (RFC 8032, 7748, 8439 and 5869 vectors, round
 * trips, tampering, hostile inputs), and each verifies, decrypts and agrees with what the
 * other produced, so a lobby on one and a peer on the other interoperate.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import type { CryptoProvider } from "../lib/security/crypto.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const noble = new NobleCrypto(new SeededRandom(1));
const node = new NodeCrypto();
const nodeAllNoble = new NodeCrypto({ native: {} });
const PROVIDERS: readonly CryptoProvider[] = [noble, node];

// RFC 8032 section 7.1, TEST 1 and TEST 2.
const ED_SEED = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const ED_PUB = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const ED_SIG_EMPTY = hex(
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
);
// RFC 7748 section 6.1.
const ALICE = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const ALICE_PUB = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const BOB = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const BOB_PUB = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
const SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
// Points of small order on Curve25519 (and non-canonical encodings of them).
const LOW_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map(hex);

for (const c of PROVIDERS) {
  test(`${c.name}: Ed25519 matches RFC 8032 test 1 and round-trips`, () => {
    const kp = c.ed25519KeyPair(ED_SEED);
    assert.is(toHex(kp.publicKey), toHex(ED_PUB));
    assert.is(toHex(c.ed25519Sign(ED_SEED, new Uint8Array(0))), toHex(ED_SIG_EMPTY));
    assert.ok(c.ed25519Verify(ED_PUB, new Uint8Array(0), ED_SIG_EMPTY));
    const fresh = c.ed25519KeyPair();
    assert.is(fresh.secretKey.length, 32);
    assert.is(fresh.publicKey.length, 32);
    const msg = ascii("relaygrid");
    const sig = c.ed25519Sign(fresh.secretKey, msg);
    assert.is(sig.constructor, Uint8Array);
    assert.ok(c.ed25519Verify(fresh.publicKey, msg, sig));
    assert.not.ok(c.ed25519Verify(ED_PUB, msg, sig), "another key");
    assert.not.ok(c.ed25519Verify(fresh.publicKey, ascii("relaygriD"), sig), "another message");
  });

  test(`${c.name}: X25519 matches RFC 7748 section 6.1 and agrees both ways`, () => {
    assert.is(toHex(c.x25519Shared(ALICE, BOB_PUB) ?? new Uint8Array()), SHARED);
    assert.is(toHex(c.x25519Shared(BOB, ALICE_PUB) ?? new Uint8Array()), SHARED);
    const a = c.x25519KeyPair();
    const b = c.x25519KeyPair();
    const ab = c.x25519Shared(a.secretKey, b.publicKey);
    assert.ok(ab !== null && ab.length === 32);
    assert.equal(ab, c.x25519Shared(b.secretKey, a.publicKey));
  });

  test(`${c.name}: ChaCha20-Poly1305 matches RFC 8439 section 2.8.2, rejects every flipped bit`, () => {
    const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    const nonce = hex("070000004041424344454647");
    const aad = hex("50515253c0c1c2c3c4c5c6c7");
    const pt = ascii(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const ct = c.aeadSeal(key, nonce, pt, aad);
    assert.is(ct.length, pt.length + 16);
    assert.is(toHex(ct.subarray(0, 16)), "d31a8d34648e60db7b86afbc53ef7ec2");
    assert.is(toHex(ct.subarray(pt.length)), "1ae10b594f09e26a7e902ecbd0600691");
    assert.equal(c.aeadOpen(key, nonce, ct, aad), pt);
    for (let bit = 0; bit < ct.length * 8; bit += 7) {
      const bad = ct.slice();
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      assert.is(c.aeadOpen(key, nonce, bad, aad), null, `ciphertext bit ${bit}`);
    }
    for (const [name, k, n, a] of [
      ["key", key.map((x, i) => (i === 0 ? x ^ 1 : x)), nonce, aad],
      ["nonce", key, nonce.map((x, i) => (i === 11 ? x ^ 0x80 : x)), aad],
      ["aad", key, nonce, aad.map((x, i) => (i === 5 ? x ^ 4 : x))],
      ["aad removed", key, nonce, new Uint8Array(0)],
    ] as const) {
      assert.is(c.aeadOpen(k, n, ct, a), null, name);
    }
    const empty = c.aeadSeal(key, nonce, new Uint8Array(0), new Uint8Array(0));
    assert.is(empty.length, 16);
    assert.equal(c.aeadOpen(key, nonce, empty, new Uint8Array(0)), new Uint8Array(0));
  });

  test(`${c.name}: HKDF-SHA256 matches RFC 5869 test case 1`, () => {
    const okm = c.hkdfSha256(hex("0b".repeat(22)), hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    assert.is(toHex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    assert.is(c.hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(2000), 16).length, 16, "long info");
  });

  test(`${c.name}: hostile inputs give false or null, never an exception`, () => {
    const msg = ascii("m");
    const sig = c.ed25519Sign(ED_SEED, msg);
    const junk: unknown[] = [undefined, null, 7, "x", [], new Uint8Array(0), new Uint8Array(31), new Uint8Array(33), new Uint16Array(32)];
    for (const j of junk) {
      assert.is(c.ed25519Verify(j as Uint8Array, msg, sig), false, `public key ${String(j)}`);
      assert.is(c.ed25519Verify(ED_PUB, msg, j as Uint8Array), false, `signature ${String(j)}`);
      assert.is(c.ed25519Verify(ED_PUB, j as Uint8Array, sig), false, `message ${String(j)}`);
      assert.is(c.x25519Shared(ALICE, j as Uint8Array), null, `peer key ${String(j)}`);
      assert.is(c.aeadOpen(new Uint8Array(32), new Uint8Array(12), j as Uint8Array, new Uint8Array(0)), null);
      assert.is(c.aeadOpen(new Uint8Array(32), j as Uint8Array, new Uint8Array(16), new Uint8Array(0)), null);
      assert.is(c.aeadOpen(j as Uint8Array, new Uint8Array(12), new Uint8Array(16), new Uint8Array(0)), null);
    }
    // Not a point on the curve; non-canonical S (S + L); a random 64 bytes.
    const notPoint = hex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    assert.is(c.ed25519Verify(notPoint, msg, sig), false);
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i] as number);
    s += L;
    const malleated = sig.slice();
    for (let i = 0; i < 32; i++, s >>= 8n) malleated[32 + i] = Number(s & 0xffn);
    assert.is(c.ed25519Verify(ED_PUB, msg, malleated), false, "S >= L is rejected (RFC 8032 5.1.7)");
    assert.is(c.ed25519Verify(ED_PUB, msg, c.randomBytes(64)), false);
    for (const p of LOW_ORDER) assert.is(c.x25519Shared(ALICE, p), null, `low-order ${toHex(p)}`);
    assert.is(c.aeadOpen(new Uint8Array(32), new Uint8Array(12), new Uint8Array(15), new Uint8Array(0)), null, "shorter than a tag");
  });

  test(`${c.name}: caller mistakes throw RelayGridError`, () => {
    assert.throws(() => c.ed25519Sign(new Uint8Array(64), ascii("m")), /32 bytes/);
    assert.throws(() => c.ed25519KeyPair(new Uint8Array(31)), /32 bytes/);
    assert.throws(() => c.x25519Shared(new Uint8Array(31), BOB_PUB), /32 bytes/);
    assert.throws(() => c.aeadSeal(new Uint8Array(16), new Uint8Array(12), ascii("m"), new Uint8Array(0)), /32 bytes/);
    assert.throws(() => c.aeadSeal(new Uint8Array(32), new Uint8Array(24), ascii("m"), new Uint8Array(0)), /12 bytes/);
    assert.throws(() => c.hkdfSha256(ascii("k"), ascii(""), ascii(""), 255 * 32 + 1), /8160/);
    assert.throws(() => c.randomBytes(-1), /randomBytes/);
    assert.is(c.randomBytes(0).length, 0);
    assert.is(c.randomBytes(33).length, 33);
  });
}

test("cross-provider: each verifies, decrypts and agrees with what the other produced", () => {
  for (const [a, b] of [[noble, node], [node, noble], [nodeAllNoble, node]] as const) {
    const kp = a.ed25519KeyPair();
    assert.equal(b.ed25519KeyPair(kp.secretKey).publicKey, kp.publicKey, "same public key from the seed");
    const msg = a.randomBytes(100);
    const sig = a.ed25519Sign(kp.secretKey, msg);
    assert.equal(b.ed25519Sign(kp.secretKey, msg), sig, "deterministic signatures agree");
    assert.ok(b.ed25519Verify(kp.publicKey, msg, sig));
    const xa = a.x25519KeyPair();
    const xb = b.x25519KeyPair();
    assert.equal(a.x25519Shared(xa.secretKey, xb.publicKey), b.x25519Shared(xb.secretKey, xa.publicKey));
    const key = a.randomBytes(32);
    const nonce = a.randomBytes(12);
    const aad = a.randomBytes(9);
    const ct = a.aeadSeal(key, nonce, msg, aad);
    assert.equal(b.aeadSeal(key, nonce, msg, aad), ct);
    assert.equal(b.aeadOpen(key, nonce, ct, aad), msg);
    assert.equal(a.hkdfSha256(key, nonce, aad, 77), b.hkdfSha256(key, nonce, aad, 77));
  }
});

test("NobleCrypto takes its randomness from the injected source: one seed, one key", () => {
  const one = new NobleCrypto(new SeededRandom(42));
  const two = new NobleCrypto(new SeededRandom(42));
  assert.equal(one.x25519KeyPair(), two.x25519KeyPair());
  assert.equal(one.ed25519KeyPair(), two.ed25519KeyPair());
  const fixed = new NobleCrypto((n) => new Uint8Array(n).fill(9));
  assert.equal(fixed.randomBytes(5), new Uint8Array(5).fill(9));
  assert.throws(() => new NobleCrypto(() => new Uint8Array(3)).randomBytes(4), /random source output/);
});

test("NodeCrypto runs the measured winners natively on this Node (the construction probe passed)", () => {
  assert.equal(node.nativeOps(), { ed25519: true, x25519: true, aead: true, hkdf: false });
  const allNative = new NodeCrypto({ native: { ed25519: true, x25519: true, aead: true, hkdf: true } });
  assert.equal(allNative.nativeOps(), { ed25519: true, x25519: true, aead: true, hkdf: true });
  const okm = allNative.hkdfSha256(hex("0b".repeat(22)), hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  assert.is(toHex(okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", "native HKDF");
  assert.is(allNative.hkdfSha256(okm, okm, new Uint8Array(2000), 8).length, 8, "info over 1024 bytes falls back to noble");
  assert.equal(allNative.hkdfSha256(okm, okm, okm, 0), new Uint8Array(0));
  assert.equal(nodeAllNoble.nativeOps(), { ed25519: false, x25519: false, aead: false, hkdf: false });
});

test.run();
