/**
 * Issue 18, item 7, attacked with bytes: malformed JoinToken datagrams, tokens that are not
 * tokens, every one-byte change to a real token, and an admission policy that throws. Each is
 * a counted drop or a typed refusal (Error NotAdmitted / BadRequest), never a crash, a hang
 * (a request left unanswered), or a change to the lobby's grids.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { joinTokenAdmission } from "../lib/lobby/admission.ts";
import { Direction, sealFor } from "../lib/security/handshake.ts";
import { createJoinToken, readJoinToken, verifyJoinToken } from "../lib/security/join-token.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { SeededRandom } from "../lib/rng.ts";
import { decode, encode, Kind, LobbyErrorCode, MAX_JOIN_TOKEN_BYTES } from "../wire/index.ts";
import type { AnyMessage } from "../wire/messages.ts";
import { fromHex, readVectorFiles } from "../scripts/gen-vectors.ts";
import { Client, expectKind, Harness } from "./lobby-harness.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";

const crypto = new SeededNodeCrypto(91);
const backend = crypto.ed25519KeyPair();
const NOW_S = 1_800_000_000;
const { invalid } = readVectorFiles();

/** The per-source rate limit raised: these tests send hundreds of datagrams from one address in one virtual instant. */
const UNLIMITED = { requestsPerSecondPerSession: 1_000_000, requestBurstPerSession: 1_000_000 };

function tokenLobby(): Harness {
  return new Harness({ ...UNLIMITED, admission: joinTokenAdmission({ publicKeys: [backend.publicKey], crypto, unixTimeMs: () => NOW_S * 1000 }) }, 33);
}

let nonceSeq = 0;
function token(grid: string, player = ""): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, ++nonceSeq);
  return createJoinToken(crypto, backend.secretKey, { grid, player, expiresAt: NOW_S + 60, nonce });
}

function joinTokenBytes(c: Client, t: Uint8Array, req: number): Uint8Array {
  const sealed = sealFor(crypto, c.sessionKey as Uint8Array, Direction.PeerToLobby, req, t);
  return encode({ kind: Kind.JoinToken, req, session: c.session, sealed });
}

/** Every inbound datagram is accepted or dropped for a named reason, and no handler threw. */
function assertAccounted(h: Harness): void {
  const s = h.lobby.stats();
  const dropped = Object.values(s.drops).reduce((a, b) => a + b, 0);
  assert.is(s.datagramsIn, s.accepted + dropped, JSON.stringify(s.drops));
  assert.is(s.drops["internal-error"] ?? 0, 0);
}

test("issue 18 item 7: malformed JoinToken datagrams (every strict prefix, a byte more, the invalid vectors) are counted drops, unanswered, and the session still admits", () => {
  const h = tokenLobby();
  const c = new Client(h, "10.3.0.1:4000");
  c.hello();
  // A session request travels in a session frame (PROTOCOL.md 6.10): cut the frame.
  const good = c.frame(joinTokenBytes(c, token("arena"), 77));
  const before = h.lobby.stats().accepted;
  for (let n = 0; n < good.length; n++) assert.equal(h.deliverBytes(c.addr, good.subarray(0, n)), [], `prefix ${n}`);
  assert.equal(h.deliverBytes(c.addr, Uint8Array.from([...good, 0])), [], "one byte more");
  const vectors = invalid.filter((v) => v.name.includes("join-token"));
  assert.ok(vectors.length >= 1, "invalid.json has JoinToken cases");
  for (const v of vectors) {
    const bytes = fromHex(v.hex);
    const d = decode(bytes, 1200);
    assert.is(d.ok ? "ok" : d.code, v.code, v.name);
    assert.equal(h.deliverBytes(c.addr, bytes), [], v.name);
    assert.ok((h.lobby.stats().drops[v.code] ?? 0) >= 1, v.name);
  }
  assert.is(h.lobby.stats().accepted, before, "nothing reached a handler");
  assertAccounted(h);
  // The session was not disturbed: the good datagram is still accepted, and admits.
  expectKind(h.deliverBytes(c.addr, good)[0], Kind.Ack);
  expectKind(c.call(Kind.CreateGrid, { name: "arena", capacity: 0, limit: 4, meta: "" }), Kind.GridCreated);
  assertAccounted(h);
});

test("issue 18 item 7: arbitrary bytes sealed as a token are kept, then refused NotAdmitted at CreateGrid and SelectGrid; no grid, no member, no exception", () => {
  const h = tokenLobby();
  const owner = new Client(h, "10.3.0.1:4000");
  owner.hello();
  expectKind(owner.call(Kind.JoinToken, { sealed: sealFor(crypto, owner.sessionKey as Uint8Array, Direction.PeerToLobby, 1000, token("arena")) }, 1000), Kind.Ack);
  const grid = expectKind(owner.call(Kind.CreateGrid, { name: "arena", capacity: 0, limit: 4, meta: "" }), Kind.GridCreated).grid;
  owner.select(grid);
  const c = new Client(h, "10.3.0.2:4000");
  c.hello();
  const refusedWith = (m: AnyMessage | undefined): string => {
    const e = expectKind(m, Kind.Error);
    assert.is(e.code, LobbyErrorCode.NotAdmitted, e.detail);
    return e.detail;
  };
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: MAX_JOIN_TOKEN_BYTES }), (bytes) => {
      const req = c.req();
      expectKind(h.deliverBytes(c.addr, c.frame(joinTokenBytes(c, bytes, req)))[0], Kind.Ack);
      assert.match(refusedWith(c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 })), /malformed|signature does not verify/);
      refusedWith(c.call(Kind.CreateGrid, { name: "elsewhere", capacity: 0, limit: 4, meta: "" }));
    }),
    { numRuns: 150, seed: 18_7 },
  );
  assert.equal(h.lobby.grids().map((g) => g.name), ["arena"]);
  assert.is(h.lobby.membersOf(grid)?.length, 1);
  assertAccounted(h);
});

test("issue 18 item 7: every one-byte change to a real token stops it verifying (both crypto providers); no byte string makes the reader throw", () => {
  const good = token("arena-7", "player-1");
  const rng = new SeededRandom(7);
  for (const provider of [crypto, new NobleCrypto(rng)]) {
    assert.ok(verifyJoinToken(provider, [backend.publicKey], good).ok);
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] = (bad[i] as number) ^ (1 << (i % 8));
      const r = verifyJoinToken(provider, [backend.publicKey], bad);
      assert.is(r.ok, false, `byte ${i}`);
    }
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      readJoinToken(bytes);
      assert.is(verifyJoinToken(crypto, [backend.publicKey], bytes).ok, false);
    }),
    { numRuns: 500, seed: 187 },
  );
});

test("issue 18 item 7: an admission policy that throws refuses (NotAdmitted, fail closed) and tells the application, instead of leaving the request unanswered", () => {
  const h = new Harness({
    admission: (req) => {
      if (req.name === "boom") throw new TypeError("backend unreachable");
      return { ok: true };
    },
  });
  const c = new Client(h, "10.3.0.9:4000");
  c.hello("boom");
  const e = expectKind(c.call(Kind.CreateGrid, { name: "arena", capacity: 0, limit: 4, meta: "" }), Kind.Error);
  assert.is(e.code, LobbyErrorCode.NotAdmitted);
  assert.is(e.detail, "the lobby's admission policy failed", "the exception's text stays in the lobby");
  const events = h.takeEvents().filter((x) => x.type === "admissionError");
  assert.equal(events.map((x) => (x.type === "admissionError" ? [x.grid, x.name, x.message] : [])), [[0, "arena", "admission policy threw: TypeError: backend unreachable"]]);
  assert.equal(h.lobby.grids(), []);
  assert.is(h.lobby.stats().notAdmitted, 1);
  const ok = new Client(h, "10.3.0.10:4000");
  ok.hello("fine");
  expectKind(ok.call(Kind.CreateGrid, { name: "arena", capacity: 0, limit: 4, meta: "" }), Kind.GridCreated);
  assertAccounted(h);
});

test.run();
