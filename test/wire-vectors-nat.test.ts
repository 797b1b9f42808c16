/**
 * test/vectors/nat.json (PROTOCOL.md 4.7, 6.3 key-bound tickets, 6.9): the NAT traversal
 * datagrams both ways, and the known answers recomputed by hand from the formulas with
 * @noble's primitives (forward), then checked by lib/security under two providers as a
 * member and a lobby do (backward). Also: a receiver that does not speak 4.7 (decode()
 * without natTraversal, the reference peer today) drops every NAT kind as unknown-kind.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { decode as referenceDecode } from "@msgpack/msgpack";
import { ed25519 } from "@noble/curves/ed25519.js";
import { SeededRandom } from "../lib/rng.ts";
import type { CryptoProvider } from "../lib/security/crypto.ts";
import { checkTag, GridKeyring } from "../lib/security/grid-keys.ts";
import { openLinkKey, punchProofMessage, verifyPunchProof } from "../lib/security/link-key.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { readTicket, readTicketV2, TICKET_V2_BYTES, ticketVersion, verifyTicketV2, verifyTicketV2Signature } from "../lib/security/ticket.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";
import { DecodeErrorCode, decode, encode, kindName, MAX_TICKET_BYTES, NatKind } from "../wire/index.ts";
import { fromHex, positional, readVectorFiles, toHex, vectorFiles } from "../scripts/gen-vectors.ts";

const { text, nat: v } = readVectorFiles();
const { inputs } = v;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const u32be = (x: number): Uint8Array => Uint8Array.of(x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
const providers: [string, CryptoProvider][] = [
  ["noble", new NobleCrypto(new SeededRandom(1))],
  ["node", new NodeCrypto()],
];
const I = fromHex(inputs.identity);
const LINK = fromHex(inputs.linkKey);
const NAT = { natTraversal: true } as const;

test("nat.json is what scripts/gen-vectors.ts writes", () => {
  assert.ok(vectorFiles().nat === text.nat, "test/vectors/nat.json is stale: npx tsx scripts/gen-vectors.ts");
});

test("4.7: a vector for every NAT kind; each encodes to its hex and decodes back (with the NAT kinds)", () => {
  const covered = new Set(v.messages.map((m) => m.msg.kind));
  for (const [name, kind] of Object.entries(NatKind)) assert.ok(covered.has(kind), `no vector for ${name}`);
  for (const m of v.messages) {
    assert.is(m.kind, kindName(m.msg.kind), m.name);
    assert.is(toHex(encode(m.msg)), m.hex, m.name);
    const r = decode(fromHex(m.hex), 1200, NAT);
    if (!r.ok) assert.unreachable(`${m.name}: ${r.code} ${r.detail}`);
    else assert.equal(r.msg, m.msg, m.name);
    assert.equal(referenceDecode(fromHex(m.hex)), positional(m.msg), `${m.name}: any MessagePack library reads it`);
  }
});

test("8: a receiver that does not speak 4.7 drops every NAT kind as unknown-kind (the default decode)", () => {
  for (const m of v.messages) {
    const r = decode(fromHex(m.hex));
    assert.ok(!r.ok && r.code === DecodeErrorCode.UnknownKind, `${m.name}: ${JSON.stringify(r)}`);
  }
});

test("every strict prefix of a NAT vector is truncated, one byte more is trailing-bytes", () => {
  for (const m of v.messages) {
    const bytes = fromHex(m.hex);
    for (let n = 1; n < bytes.length; n++) {
      const r = decode(bytes.subarray(0, n), 1200, NAT);
      assert.ok(!r.ok && r.code === DecodeErrorCode.Truncated, `${m.name} prefix ${n}: ${JSON.stringify(r)}`);
    }
    const r = decode(cat(bytes, Uint8Array.of(0)), 1200, NAT);
    assert.ok(!r.ok && r.code === DecodeErrorCode.TrailingBytes, m.name);
  }
});

test("invalid NAT datagrams are rejected with their code", () => {
  assert.ok(v.invalid.length >= 10);
  for (const x of v.invalid) {
    const r = decode(fromHex(x.hex), 1200, NAT);
    assert.ok(!r.ok, `${x.name} decoded: ${x.why}`);
    assert.is(r.ok ? undefined : r.code, x.code, `${x.name}: ${x.why}`);
  }
});

test("6.3 forward: the key-bound ticket and its signature, by hand", () => {
  const t = v.ticketV2;
  const unsigned = cat(Uint8Array.of(2), u32be(t.grid), u32be(t.peer), u32be(t.epoch), LINK);
  assert.is(unsigned.length, 45);
  const msg = cat(ascii("relaygrid-ticket-v2"), unsigned);
  assert.is(toHex(msg), t.signedMessage);
  const sig = ed25519.sign(msg, fromHex(inputs.identitySeed));
  assert.is(toHex(sig), t.signature);
  assert.is(toHex(cat(unsigned, sig)), t.ticket);
  assert.is(t.ticket.length / 2, TICKET_V2_BYTES);
  assert.ok(TICKET_V2_BYTES <= MAX_TICKET_BYTES, "fits every ticket field");
});

test("6.3 backward: the key must be the one the source proved; every other expectation fails in order", () => {
  const t = v.ticketV2;
  const bytes = fromHex(t.ticket);
  assert.is(ticketVersion(bytes), 2);
  assert.equal(readTicketV2(bytes), { grid: t.grid, peer: t.peer, epoch: t.epoch, key: LINK });
  assert.is(readTicket(bytes), null, "a version 1 reader finds it malformed");
  const expect = { grid: t.grid, peer: t.peer, minEpoch: t.epoch, provenKey: LINK };
  for (const [name, crypto] of providers) {
    assert.is(verifyTicketV2(crypto, I, bytes, expect), "ok", name);
    assert.ok(verifyTicketV2Signature(crypto, I, bytes), name);
    assert.is(verifyTicketV2(crypto, I, bytes, { ...expect, grid: 8 }), "wrong-grid", name);
    assert.is(verifyTicketV2(crypto, I, bytes, { ...expect, peer: 4 }), "wrong-peer", name);
    assert.is(verifyTicketV2(crypto, I, bytes, { ...expect, provenKey: undefined }), "unproven-key", `${name}: a source that proved nothing`);
    const other = LINK.slice();
    other[0] = (other[0] as number) ^ 1;
    assert.is(verifyTicketV2(crypto, I, bytes, { ...expect, provenKey: other }), "unproven-key", `${name}: a source that proved another key`);
    assert.is(verifyTicketV2(crypto, I, bytes, { ...expect, minEpoch: t.epoch + 1 }), "expired", name);
    const flipped = bytes.slice();
    flipped[20] = (flipped[20] as number) ^ 0x80; // inside the key: it is signed too
    assert.is(verifyTicketV2(crypto, I, flipped, { ...expect, provenKey: flipped.slice(13, 45) }), "bad-signature", name);
    assert.not.ok(verifyTicketV2Signature(crypto, I, flipped), name);
    assert.is(verifyTicketV2(crypto, I, fromHex(readVectorFiles().admission.ticket.ticket), expect), "malformed", `${name}: a version 1 ticket`);
  }
  for (let n = 0; n < bytes.length; n++) assert.is(readTicketV2(bytes.subarray(0, n)), null, `prefix ${n}`);
  assert.is(readTicketV2(cat(bytes, Uint8Array.of(0))), null, "one byte more");
});

test("6.9 forward and backward: the punch proof, by hand; bound to the grid, both ids and the challenge", () => {
  const p = v.punchProof;
  const challenge = fromHex(p.challenge);
  const msg = cat(ascii("relaygrid-punch-v1"), u32be(p.grid), u32be(p.prover), u32be(p.verifier), challenge);
  assert.is(toHex(msg), p.message);
  assert.is(toHex(punchProofMessage(p.grid, p.prover, p.verifier, challenge)), p.message);
  assert.is(toHex(ed25519.sign(msg, fromHex(inputs.linkSeed))), p.proof);
  const proof = fromHex(p.proof);
  for (const [name, crypto] of providers) {
    assert.ok(verifyPunchProof(crypto, LINK, proof, p.grid, p.prover, p.verifier, challenge), name);
    assert.not.ok(verifyPunchProof(crypto, LINK, proof, p.grid, p.prover, p.verifier + 1, challenge), `${name}: relayed to another verifier`);
    assert.not.ok(verifyPunchProof(crypto, LINK, proof, p.grid, p.prover + 1, p.verifier, challenge), `${name}: claimed by another prover`);
    assert.not.ok(verifyPunchProof(crypto, LINK, proof, p.grid + 1, p.prover, p.verifier, challenge), `${name}: another grid`);
    const c2 = challenge.slice();
    c2[0] = (c2[0] as number) ^ 1;
    assert.not.ok(verifyPunchProof(crypto, LINK, proof, p.grid, p.prover, p.verifier, c2), `${name}: an old challenge`);
    assert.not.ok(verifyPunchProof(crypto, LINK, proof.subarray(1), p.grid, p.prover, p.verifier, challenge), `${name}: 63 bytes`);
  }
  // The PunchReply carries the proof and the ticket, under a tag that verifies.
  const reply = fromHex(p.punchReply.hex);
  const d = decode(reply, 1200, NAT);
  assert.ok(d.ok && d.msg.kind === NatKind.PunchReply);
  if (d.ok && d.msg.kind === NatKind.PunchReply) {
    assert.is(toHex(d.msg.proof), p.proof);
    assert.is(toHex(d.msg.ticket), v.ticketV2.ticket);
  }
  const ring = new GridKeyring(new NobleCrypto(new SeededRandom(1)));
  ring.add(inputs.epoch, fromHex(inputs.gridKey));
  assert.is(checkTag(ring, reply, -1), "ok");
});

test("6.9: Register seals the link key as specified; the lobby opens it only for that membership", () => {
  const r = v.register;
  const aad = cat(ascii("relaygrid-linkkey-v1"), u32be(r.grid), u32be(r.peer));
  assert.is(toHex(aad), r.aad);
  const nonce = cat(Uint8Array.of(0), new Uint8Array(7), u32be(r.req));
  assert.is(toHex(nonce), r.nonce);
  const K = fromHex(inputs.sessionKey);
  assert.is(toHex(chacha20poly1305(K, nonce, aad).encrypt(LINK)), r.sealed);
  const sealed = fromHex(r.sealed);
  for (const [name, crypto] of providers) {
    assert.equal(openLinkKey(crypto, K, r.req, r.grid, r.peer, sealed), LINK, name);
    assert.is(openLinkKey(crypto, K, r.req, r.grid, r.peer + 1, sealed), null, `${name}: another membership`);
    assert.is(openLinkKey(crypto, K, r.req + 1, r.grid, r.peer, sealed), null, `${name}: another req (nonce)`);
  }
  const d = decode(fromHex(r.datagram.hex), 1200, NAT);
  assert.ok(d.ok && d.msg.kind === NatKind.Register && toHex(d.msg.sealed) === r.sealed);
});

test.run();
