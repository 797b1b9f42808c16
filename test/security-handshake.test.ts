/**
 * The lobby session handshake (issue 6, point 1) and address-validation cookies (point 3):
 * a peer with the lobby's key pinned derives the same session key as the lobby and
 * rejects a welcome signed by anyone else or altered in any bit; without a pin it trusts
 * on first use and reports the key; sealed session messages bind key, direction and
 * counter; cookies are accepted for the current and the previous time bucket only.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import type { CryptoProvider } from "../lib/security/crypto.ts";
import {
  acceptHandshake,
  beginHandshake,
  checkCookie,
  Direction,
  finishHandshake,
  makeCookie,
  openFrom,
  sealFor,
  sessionNonce,
  welcomeTranscript,
} from "../lib/security/handshake.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { sipKeyFrom } from "../lib/security/siphash.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";

const noble = new NobleCrypto(new SeededRandom(21));
const node = new NodeCrypto();
const identity = node.ed25519KeyPair(new Uint8Array(32).fill(7));
const impostor = node.ed25519KeyPair(new Uint8Array(32).fill(8));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

for (const [lobbyCrypto, peerCrypto] of [[node, noble], [noble, node]] as [CryptoProvider, CryptoProvider][]) {
  test(`handshake, lobby on ${lobbyCrypto.name} and peer on ${peerCrypto.name}: one session key`, () => {
    const eph = beginHandshake(peerCrypto);
    const welcome = acceptHandshake(lobbyCrypto, identity.secretKey, eph.publicKey, 0xfeedf00d);
    assert.ok(welcome !== null);
    assert.ok(lobbyCrypto.ed25519Verify(identity.publicKey, welcomeTranscript(eph.publicKey, welcome.lobbyEph, 0xfeedf00d), welcome.signature));
    const done = finishHandshake(peerCrypto, eph, welcome, identity.publicKey);
    assert.ok(done.ok);
    if (!done.ok) return;
    assert.equal(done.sessionKey, welcome.sessionKey);
    assert.is(done.sessionKey.length, 32);
    assert.is(done.trustedOnFirstUse, false);
    const sealed = sealFor(peerCrypto, done.sessionKey, Direction.PeerToLobby, 17, text("select grid 3"));
    assert.equal(openFrom(lobbyCrypto, welcome.sessionKey, Direction.PeerToLobby, 17, sealed), text("select grid 3"));
  });
}

test("a pinned key rejects a welcome signed by another identity, even if that identity is sent", () => {
  const eph = beginHandshake(node);
  const welcome = acceptHandshake(node, impostor.secretKey, eph.publicKey, 1);
  assert.ok(welcome !== null);
  assert.equal(finishHandshake(node, eph, welcome, identity.publicKey, impostor.publicKey), { ok: false, reason: "bad-signature" });
});

test("trust on first use: without a pin the sent key is used and returned; with neither, refused", () => {
  const eph = beginHandshake(node);
  const welcome = acceptHandshake(node, identity.secretKey, eph.publicKey, 1);
  assert.ok(welcome !== null);
  const done = finishHandshake(node, eph, welcome, undefined, identity.publicKey);
  assert.ok(done.ok && done.trustedOnFirstUse);
  assert.equal(done.ok && done.lobbyPublicKey, identity.publicKey);
  assert.equal(finishHandshake(node, eph, welcome, undefined), { ok: false, reason: "no-lobby-key" });
});

test("every flipped bit of the welcome, and a replay to another peer, is rejected without throwing", () => {
  const eph = beginHandshake(node);
  const welcome = acceptHandshake(node, identity.secretKey, eph.publicKey, 77);
  assert.ok(welcome !== null);
  for (const field of ["lobbyEph", "signature"] as const) {
    for (let bit = 0; bit < welcome[field].length * 8; bit++) {
      const bad = welcome[field].slice();
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      const r = finishHandshake(node, eph, { ...welcome, [field]: bad }, identity.publicKey);
      assert.not.ok(r.ok, `${field} bit ${bit}`);
    }
  }
  for (let bit = 0; bit < 32; bit++) {
    assert.not.ok(finishHandshake(node, eph, { ...welcome, session: (77 ^ (1 << bit)) >>> 0 }, identity.publicKey).ok);
  }
  const otherPeer = beginHandshake(node);
  assert.equal(finishHandshake(node, otherPeer, welcome, identity.publicKey), { ok: false, reason: "bad-signature" });
  for (const junk of [new Uint8Array(31), new Uint8Array(0), undefined, "x"]) {
    assert.not.ok(finishHandshake(node, eph, { ...welcome, lobbyEph: junk as Uint8Array }, identity.publicKey).ok);
    assert.not.ok(finishHandshake(node, eph, { ...welcome, signature: junk as Uint8Array }, identity.publicKey).ok);
  }
  assert.not.ok(finishHandshake(node, eph, { ...welcome, session: -1 }, identity.publicKey).ok);
});

test("the lobby refuses a peer ephemeral key of the wrong length or of low order", () => {
  for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
    assert.is(acceptHandshake(node, identity.secretKey, bad, 1), null);
    assert.is(acceptHandshake(noble, identity.secretKey, bad, 1), null);
  }
  assert.throws(() => acceptHandshake(node, identity.secretKey, beginHandshake(node).publicKey, 2 ** 32), /u32/);
});

test("session messages bind the key, the direction, the counter and the associated data", () => {
  const key = node.randomBytes(32);
  const msg = text("grid key epoch 4");
  const aad = text("kind 9");
  const sealed = sealFor(node, key, Direction.LobbyToPeer, 5, msg, aad);
  assert.equal(openFrom(noble, key, Direction.LobbyToPeer, 5, sealed, aad), msg);
  assert.is(openFrom(node, key, Direction.PeerToLobby, 5, sealed, aad), null, "reflected back to its sender");
  assert.is(openFrom(node, key, Direction.LobbyToPeer, 6, sealed, aad), null, "another counter");
  assert.is(openFrom(node, key, Direction.LobbyToPeer, 5, sealed), null, "without the aad");
  assert.is(openFrom(node, node.randomBytes(32), Direction.LobbyToPeer, 5, sealed, aad), null, "another session");
  assert.is(openFrom(node, key, Direction.LobbyToPeer, -1, sealed, aad), null);
  assert.is(openFrom(node, key, 7 as Direction, 5, sealed, aad), null);
  assert.is(openFrom(node, key, Direction.LobbyToPeer, 5, sealed.subarray(0, 10), aad), null);
  assert.equal([...sessionNonce(Direction.LobbyToPeer, 0x01020304)], [1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
  assert.is.not(
    Buffer.from(sealFor(node, key, Direction.PeerToLobby, 5, msg)).toString("hex"),
    Buffer.from(sealFor(node, key, Direction.LobbyToPeer, 5, msg)).toString("hex"),
    "the two directions never share a nonce",
  );
  assert.throws(() => sealFor(node, key, Direction.PeerToLobby, 2 ** 32, msg), /u32/);
});

test("cookies: valid for the current and the previous bucket, bound to the address and the secret", () => {
  const secret = sipKeyFrom(node.randomBytes(16));
  const addr = "198.51.100.4:5000";
  const c = makeCookie(secret, addr, 1000);
  assert.is(c.length, 8);
  assert.ok(checkCookie(secret, addr, c, 1000));
  assert.ok(checkCookie(secret, addr, c, 1001), "one bucket later");
  assert.not.ok(checkCookie(secret, addr, c, 1002), "two buckets later");
  assert.not.ok(checkCookie(secret, addr, c, 999), "from the future");
  assert.not.ok(checkCookie(secret, "198.51.100.4:5001", c, 1000), "another address");
  assert.not.ok(checkCookie(sipKeyFrom(node.randomBytes(16)), addr, c, 1000), "another lobby secret");
  assert.ok(checkCookie(secret, addr, makeCookie(secret, addr, 0xffffffff), 0), "the bucket wraps");
  for (let bit = 0; bit < 64; bit++) {
    const bad = c.slice();
    bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
    assert.not.ok(checkCookie(secret, addr, bad, 1000), `bit ${bit}`);
  }
  for (const junk of [new Uint8Array(7), new Uint8Array(9), undefined, "cookie"]) {
    assert.not.ok(checkCookie(secret, addr, junk as Uint8Array, 1000));
  }
  const long = "h".repeat(300);
  assert.ok(checkCookie(secret, long, makeCookie(secret, long, 5), 5), "addresses longer than the scratch buffer");
  assert.throws(() => makeCookie(secret, addr, -1), /u32/);
  assert.throws(() => checkCookie(secret, addr, c, 1.5), /u32/);
});

test.run();
