/**
 * test/vectors/admission.json (PROTOCOL.md 6.1-6.4): known answers for the handshake, a
 * ticket and the two sealed grants, checked both ways. Forward: every output is recomputed
 * from the inputs by hand, from the formulas of PROTOCOL.md, with the primitives taken
 * straight from @noble (not through lib/security). Backward: lib/security verifies and opens
 * them as a peer and a lobby do, under two providers (NobleCrypto, and NodeCrypto, which uses
 * OpenSSL), and the datagrams decode, re-encode, and fail as every strict prefix (truncated)
 * and with one byte more (trailing-bytes).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode as referenceEncode } from "@msgpack/msgpack";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SeededRandom } from "../lib/rng.ts";
import { decodeGrant } from "../lib/security/admission.ts";
import type { CryptoProvider } from "../lib/security/crypto.ts";
import { checkTag, GridKeyring } from "../lib/security/grid-keys.ts";
import { Direction, finishHandshake, openFrom } from "../lib/security/handshake.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { readJoinToken, verifyJoinToken } from "../lib/security/join-token.ts";
import { readTicket, verifyTicket } from "../lib/security/ticket.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";
import { DecodeErrorCode, decode, encode, Kind, MAX_SEALED_BYTES, MAX_TICKET_BYTES, MIN_HELLO_BYTES, type Message } from "../wire/index.ts";
import { fromHex, positional, readVectorFiles, toHex, vectorFiles } from "../scripts/gen-vectors.ts";
import { checkSessionVectors } from "./support/session-vectors.ts";

const { text, admission: v } = readVectorFiles();
const { inputs } = v;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const u32be = (x: number): Uint8Array => Uint8Array.of(x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
const u16be = (x: number): Uint8Array => Uint8Array.of(x >>> 8, x & 0xff);
const providers: [string, CryptoProvider][] = [
  ["noble", new NobleCrypto(new SeededRandom(1))],
  ["node", new NodeCrypto()],
];
const [P, L, I] = [fromHex(inputs.peerEph), fromHex(inputs.lobbyEph), fromHex(inputs.identity)];
const K = fromHex(v.handshake.sessionKey);

test("admission.json is what scripts/gen-vectors.ts writes", () => {
  assert.ok(vectorFiles().admission === text.admission, "test/vectors/admission.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("6.1 forward: the RFC keys, the transcript, its signature and the session key, recomputed by hand", () => {
  assert.is(toHex(x25519.getPublicKey(fromHex(inputs.peerEphSecret))), inputs.peerEph);
  assert.is(toHex(x25519.getPublicKey(fromHex(inputs.lobbyEphSecret))), inputs.lobbyEph);
  const shared = x25519.getSharedSecret(fromHex(inputs.peerEphSecret), L);
  assert.is(toHex(shared), inputs.shared, "RFC 7748 6.1's shared secret");
  assert.is(toHex(x25519.getSharedSecret(fromHex(inputs.lobbyEphSecret), P)), inputs.shared, "the same from the lobby's side");
  assert.is(toHex(ed25519.getPublicKey(fromHex(inputs.identitySeed))), inputs.identity, "RFC 8032 7.1 test 1's public key");
  const transcript = cat(ascii("relaygrid-welcome-v1"), P, L, u32be(inputs.session));
  assert.is(transcript.length, 88);
  assert.is(toHex(transcript), v.handshake.transcript);
  assert.is(toHex(ed25519.sign(transcript, fromHex(inputs.identitySeed))), v.handshake.signature, "Ed25519 is deterministic");
  const info = cat(ascii("session v1"), P, L);
  assert.is(toHex(info), v.handshake.sessionKeyInfo);
  assert.is(toHex(hkdf(sha256, shared, ascii("relaygrid"), info, 32)), v.handshake.sessionKey);
});

test("6.1 backward: a peer holding the RFC key verifies the Welcome and derives the same session key", () => {
  for (const [name, crypto] of providers) {
    const eph = { secretKey: fromHex(inputs.peerEphSecret), publicKey: P };
    const welcome = { lobbyEph: L, signature: fromHex(v.handshake.signature), session: inputs.session };
    const r = finishHandshake(crypto, eph, welcome, I);
    assert.ok(r.ok && toHex(r.sessionKey) === v.handshake.sessionKey, `${name}: ${JSON.stringify(r)}`);
    // One flipped bit anywhere in what the signature covers: refused.
    assert.not.ok(finishHandshake(crypto, eph, { ...welcome, session: inputs.session ^ 1 }, I).ok, `${name}: another session id`);
    const sig = fromHex(v.handshake.signature);
    sig[10] = (sig[10] as number) ^ 0x01;
    assert.not.ok(finishHandshake(crypto, eph, { ...welcome, signature: sig }, I).ok, `${name}: a flipped signature bit`);
  }
});

test("6.1: the Hello and Welcome datagrams carry exactly these keys and signature", () => {
  const hello = v.handshake.hello.msg as Message & { kind: typeof Kind.Hello };
  assert.is(toHex(hello.eph), inputs.peerEph);
  assert.is(toHex(hello.cookie), inputs.cookie);
  assert.is(v.handshake.hello.hex.length / 2, MIN_HELLO_BYTES, "padded to MIN_HELLO_BYTES");
  const w = v.handshake.welcome.msg as Message & { kind: typeof Kind.Welcome };
  assert.equal([toHex(w.eph), toHex(w.identity), toHex(w.signature), w.session, w.heartbeatMs], [inputs.lobbyEph, inputs.identity, v.handshake.signature, inputs.session, inputs.heartbeatMs]);
  assert.is(w.req, hello.req, "Welcome echoes the Hello's req");
});

test("6.3 forward: the ticket's bytes and its signature, recomputed by hand", () => {
  const t = v.ticket;
  const addr = ascii(t.address);
  const unsigned = cat(Uint8Array.of(1), u32be(t.grid), u32be(t.peer), u32be(t.epoch), Uint8Array.of(addr.length), addr);
  const signedMessage = cat(ascii("relaygrid-ticket-v1"), unsigned);
  assert.is(toHex(signedMessage), t.signedMessage);
  const sig = ed25519.sign(signedMessage, fromHex(inputs.identitySeed));
  assert.is(toHex(sig), t.signature);
  assert.is(toHex(cat(unsigned, sig)), t.ticket);
  assert.is(t.ticket.length / 2, 78 + addr.length);
  assert.ok(t.ticket.length / 2 <= MAX_TICKET_BYTES);
});

test("6.3 backward: a member verifies the ticket; any other expectation, a flipped bit, a strict prefix or one byte more fails", () => {
  const t = v.ticket;
  const bytes = fromHex(t.ticket);
  const expect = { grid: t.grid, peer: t.peer, address: t.address, minEpoch: t.epoch };
  assert.equal(readTicket(bytes), { grid: t.grid, peer: t.peer, epoch: t.epoch, address: t.address });
  for (const [name, crypto] of providers) {
    assert.is(verifyTicket(crypto, I, bytes, expect), "ok", name);
    assert.is(verifyTicket(crypto, I, bytes, { ...expect, address: "203.0.113.3:7001" }), "wrong-address", name);
    assert.is(verifyTicket(crypto, I, bytes, { ...expect, minEpoch: t.epoch + 1 }), "expired", name);
    const flipped = bytes.slice();
    flipped[bytes.length - 1] = (flipped[bytes.length - 1] as number) ^ 0x80;
    assert.is(verifyTicket(crypto, I, flipped, expect), "bad-signature", name);
  }
  for (let n = 0; n < bytes.length; n++) assert.is(readTicket(bytes.subarray(0, n)), null, `prefix ${n}`);
  assert.is(readTicket(cat(bytes, Uint8Array.of(0))), null, "one byte more");
});

test("6.3 + 6.6: the Connect that shows the ticket carries a tag that verifies under security.json's grid key", () => {
  const c = v.ticket.connect;
  const bytes = fromHex(c.hex);
  assert.is(toHex((c.msg as { ticket: Uint8Array }).ticket), v.ticket.ticket);
  const ring = new GridKeyring(new NobleCrypto(new SeededRandom(1)));
  ring.add(inputs.epoch, fromHex(inputs.gridKey));
  assert.is(checkTag(ring, bytes, -1), "ok");
  bytes[6] = (bytes[6] as number) ^ 1;
  assert.is(checkTag(ring, bytes, -1), "bad-tag");
});

/** The 6.4 plaintext layout, by hand. */
function grantPlaintext(activeEpoch: number, keys: [number, Uint8Array][], ticket: Uint8Array): Uint8Array {
  return cat(u32be(activeEpoch), Uint8Array.of(keys.length), ...keys.flatMap(([e, k]) => [u32be(e), k]), u16be(ticket.length), ticket);
}

const sealed: [string, typeof v.grant | typeof v.rejoinGrant, number, Uint8Array][] = [
  ["Members grant", v.grant, Direction.LobbyToPeer, fromHex(v.ticket.ticket)],
  ["Rejoin grant", v.rejoinGrant, Direction.PeerToLobby, new Uint8Array(0)],
];

test("6.4 forward: both grants' plaintext, nonce and ciphertext, recomputed by hand", () => {
  for (const [name, g, direction, ticket] of sealed) {
    assert.is(toHex(grantPlaintext(inputs.epoch, [[inputs.epoch, fromHex(inputs.gridKey)]], ticket)), g.plaintext, name);
    const nonce = cat(Uint8Array.of(direction), new Uint8Array(7), u32be(g.nonceCounter));
    assert.is(toHex(nonce), g.nonce, name);
    assert.is(toHex(chacha20poly1305(K, nonce).encrypt(fromHex(g.plaintext))), g.sealed, name);
    assert.is(g.sealed.length / 2, g.plaintext.length / 2 + 16, `${name}: ciphertext and the 16-byte tag`);
    assert.ok(g.sealed.length / 2 <= MAX_SEALED_BYTES);
  }
  assert.is(v.grant.nonceCounter, (v.grant.members.msg as { nonce: number }).nonce, "Members.nonce is the counter");
  assert.is(v.rejoinGrant.nonceCounter, (v.rejoinGrant.rejoin.msg as { req: number }).req, "a Rejoin grant's counter is Rejoin.req");
});

test("6.4 backward: the session key opens each grant in its own direction only; a strict prefix or a flipped bit does not open", () => {
  for (const [pname, crypto] of providers) {
    for (const [name, g, direction, ticket] of sealed) {
      const box = fromHex(g.sealed);
      const plain = openFrom(crypto, K, direction as Direction, g.nonceCounter, box);
      assert.is(plain === null ? null : toHex(plain), g.plaintext, `${pname} ${name}`);
      const grant = plain === null ? null : decodeGrant(plain);
      assert.equal(grant, { activeEpoch: inputs.epoch, keys: [{ epoch: inputs.epoch, key: fromHex(inputs.gridKey) }], ticket }, `${pname} ${name}`);
      assert.is(openFrom(crypto, K, (1 - direction) as Direction, g.nonceCounter, box), null, `${pname} ${name}: the other direction`);
      assert.is(openFrom(crypto, K, direction as Direction, g.nonceCounter + 1, box), null, `${pname} ${name}: another counter`);
      for (let n = 0; n < box.length; n += 7) assert.is(openFrom(crypto, K, direction as Direction, g.nonceCounter, box.subarray(0, n)), null, `${name} prefix ${n}`);
      box[0] = (box[0] as number) ^ 1;
      assert.is(openFrom(crypto, K, direction as Direction, g.nonceCounter, box), null, `${pname} ${name}: a flipped bit`);
    }
  }
  const plain = fromHex(v.grant.plaintext);
  for (let n = 0; n < plain.length; n++) assert.is(decodeGrant(plain.subarray(0, n)), null, `grant plaintext prefix ${n}`);
  assert.is(decodeGrant(cat(plain, Uint8Array.of(0))), null, "grant plaintext with one byte more");
});

const jt = v.joinToken;

test("6.12 forward: the join token's bytes, its signature under RFC 8032 test 2's key, and the JoinToken seal, recomputed by hand", () => {
  assert.is(toHex(ed25519.getPublicKey(fromHex(inputs.backendSeed))), inputs.backend, "RFC 8032 7.1 test 2's public key");
  const grid = ascii(jt.grid);
  const player = ascii(jt.player);
  const unsigned = cat(Uint8Array.of(1, grid.length), grid, Uint8Array.of(player.length), player, u32be(jt.expiresAt), fromHex(jt.nonceBytes));
  const message = cat(ascii("relaygrid-join-token-v1"), unsigned);
  assert.is(toHex(message), jt.signedMessage);
  const signature = ed25519.sign(message, fromHex(inputs.backendSeed));
  assert.is(toHex(signature), jt.signature);
  assert.is(toHex(cat(unsigned, signature)), jt.token);
  assert.is(jt.token.length / 2, 79 + grid.length + player.length);
  assert.is(jt.plaintext, jt.token, "JoinToken seals the token as it is");
  const nonce = cat(Uint8Array.of(Direction.PeerToLobby), new Uint8Array(7), u32be(jt.nonceCounter));
  assert.is(toHex(nonce), jt.nonce);
  assert.is(toHex(chacha20poly1305(K, nonce).encrypt(fromHex(jt.token))), jt.sealed);
  assert.is(jt.nonceCounter, (jt.datagram.msg as { req: number }).req, "the counter is JoinToken.req");
});

test("6.12 backward: the token verifies under the backend key (both providers), not under another; its claims read back; the seal opens in direction 0 only", () => {
  const token = fromHex(jt.token);
  const key = fromHex(inputs.backend);
  for (const [pname, crypto] of providers) {
    const r = verifyJoinToken(crypto, [key], token);
    assert.ok(r.ok, pname);
    if (r.ok) assert.equal(r.claims, { grid: jt.grid, player: jt.player, expiresAt: jt.expiresAt, nonce: fromHex(jt.nonceBytes) });
    assert.equal(verifyJoinToken(crypto, [I], token), { ok: false, reason: "bad-signature" }, `${pname}: the lobby identity is not the backend`);
    const flipped = token.slice();
    flipped[3] = (flipped[3] as number) ^ 1;
    assert.equal(verifyJoinToken(crypto, [key], flipped), { ok: false, reason: "bad-signature" }, `${pname}: a flipped byte in the grid name`);
    const plain = openFrom(crypto, K, Direction.PeerToLobby, jt.nonceCounter, fromHex(jt.sealed));
    assert.is(plain === null ? null : toHex(plain), jt.token, pname);
    assert.is(openFrom(crypto, K, Direction.LobbyToPeer, jt.nonceCounter, fromHex(jt.sealed)), null, `${pname}: the other direction`);
  }
  for (let n = 0; n < token.length; n++) assert.is(readJoinToken(token.subarray(0, n)), null, `prefix ${n}`);
  assert.is(readJoinToken(cat(token, Uint8Array.of(0))), null, "one byte more");
});

test("6.10: the first session frames after this handshake, under its session key, recomputed by hand", () => {
  assert.is(v.frames.sessionKey, v.handshake.sessionKey);
  assert.is(v.frames.session, inputs.session);
  checkSessionVectors(v.frames);
});

test("the vectors' datagrams: reference bytes both ways, every strict prefix truncated, one byte more trailing-bytes", () => {
  const all = [v.handshake.hello, v.handshake.welcome, v.ticket.connect, v.grant.members, v.rejoinGrant.rejoin, v.joinToken.datagram];
  assert.equal(all.map((d) => d.msg.kind), [Kind.Hello, Kind.Welcome, Kind.Connect, Kind.Members, Kind.Rejoin, Kind.JoinToken]);
  for (const d of all) {
    const bytes = fromHex(d.hex);
    assert.is(toHex(referenceEncode(positional(d.msg))), d.hex, "an independent encoder");
    assert.is(toHex(encode(d.msg)), d.hex);
    assert.equal(decode(bytes), { ok: true, msg: d.msg });
    for (let n = 0; n < bytes.length; n++) {
      const r = decode(bytes.subarray(0, n));
      assert.ok(!r.ok && r.code === DecodeErrorCode.Truncated, `${d.msg.kind} prefix ${n}`);
    }
    const r = decode(cat(bytes, Uint8Array.of(0xc0)));
    assert.ok(!r.ok && r.code === DecodeErrorCode.TrailingBytes);
  }
});

test.run();
