/**
 * Checks a set of session frame vectors (PROTOCOL.md 6.10; security.json's and
 * admission.json's) both ways. Forward: the MAC keys recomputed with HKDF from
 * @noble/hashes, every frame re-encoded by @msgpack/msgpack from [1, 0x70, session, body,
 * auth], and every tag recomputed with the BigInt reference SipHash, from the formulas of
 * the document. Backward: lib/security's framers open them as a peer and a lobby do, a
 * replay and a flipped bit are refused, and the replay window gives the vectors' verdicts.
 */
import * as assert from "uvu/assert";
import { encode as referenceEncode } from "@msgpack/msgpack";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SeededRandom } from "../../lib/rng.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { deriveSessionMacKeys, ReplayWindow, SessionFramer } from "../../lib/security/session-frame.ts";
import { decode, Kind } from "../../wire/index.ts";
import { fromHex, positional, toHex } from "../../scripts/gen-vectors.ts";
import type { FrameVector, SessionVectors } from "../../scripts/vectors/session.ts";
import { referenceSipHash } from "./reference-siphash.ts";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function forward(v: SessionVectors, f: FrameVector, key: Uint8Array, where: string): void {
  const body = fromHex(f.body.hex);
  assert.is(toHex(referenceEncode(positional(f.body.msg))), f.body.hex, `${where}: body bytes`);
  const counter = Uint8Array.of(f.counter >>> 24, (f.counter >>> 16) & 0xff, (f.counter >>> 8) & 0xff, f.counter & 0xff);
  const unsigned = referenceEncode([1, Kind.SessionFrame, v.session, body, new Uint8Array([...counter, 0, 0, 0, 0, 0, 0, 0, 0])]);
  const macInput = unsigned.subarray(0, unsigned.length - 8);
  assert.is(toHex(macInput), f.macInput, `${where}: macInput`);
  const tag = referenceSipHash(key, macInput);
  assert.is(f.auth, toHex(counter) + toHex(tag), `${where}: auth = u32be(counter) || SipHash-2-4`);
  assert.is(toHex(macInput) + toHex(tag), f.hex, `${where}: the datagram`);
  const d = decode(fromHex(f.hex));
  assert.ok(d.ok && d.msg.kind === Kind.SessionFrame && d.msg.session === v.session && toHex(d.msg.body) === f.body.hex, `${where}: decodes`);
}

export function checkSessionVectors(v: SessionVectors): void {
  const okm = hkdf(sha256, fromHex(v.sessionKey), ascii("relaygrid"), ascii("session mac v1"), 32);
  assert.equal([toHex(okm.subarray(0, 16)), toHex(okm.subarray(16))], [v.toLobby, v.toPeer], "toLobby || toPeer = HKDF(K, relaygrid, session mac v1, 32)");
  forward(v, v.request, fromHex(v.toLobby), "request");
  forward(v, v.retransmit, fromHex(v.toLobby), "retransmit");
  forward(v, v.reply, fromHex(v.toPeer), "reply");
  assert.equal([v.request.counter, v.retransmit.counter, v.reply.counter], [1, 2, 1]);

  const keys = deriveSessionMacKeys(new NobleCrypto(new SeededRandom(1)), fromHex(v.sessionKey));
  const lobby = SessionFramer.forLobby(keys, v.session);
  const peer = SessionFramer.forPeer(keys, v.session);
  assert.is(lobby.open(fromHex(v.request.hex)), "fresh");
  assert.is(lobby.open(fromHex(v.retransmit.hex)), "fresh");
  assert.is(lobby.open(fromHex(v.request.hex)), "replay", "the same frame again is a replay");
  assert.is(peer.open(fromHex(v.reply.hex)), "fresh");
  assert.is(peer.open(fromHex(v.request.hex)), "bad-mac", "a frame is never taken in the other direction");
  const flipped = fromHex(v.reply.hex);
  for (let i = 0; i < flipped.length; i++) {
    const b = flipped.slice();
    b[i] = (b[i] as number) ^ 0x01;
    const r = SessionFramer.forPeer(keys, v.session).open(b);
    const header = i === b.length - 14 || i === b.length - 13;
    assert.is(r, header ? "missing" : "bad-mac", `reply byte ${i} flipped`);
  }
  const w = new ReplayWindow();
  assert.equal(v.window.counters.map((c) => w.take(c)), v.window.verdicts);
}
