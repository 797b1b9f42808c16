/**
 * Admission tickets (issue 6, point 1): a ticket is bound to its grid, peer, address and
 * key epoch and to the lobby's identity; truncated, extended or bit-flipped tickets are
 * rejected without throwing; the TicketCache verifies each ticket once and stays bounded.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { sipKeyFrom } from "../lib/security/siphash.ts";
import { TicketCache } from "../lib/security/ticket-cache.ts";
import {
  issueTicket,
  readTicket,
  TICKET_MAX_BYTES,
  type TicketExpectation,
  type TicketFields,
  verifyTicket,
} from "../lib/security/ticket.ts";
import { utf8Decode, utf8Encode } from "../lib/security/utf8.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";

// Ed25519 verification in pure JS costs milliseconds; the sweeps use the native provider
// (the conformance suite shows both accept exactly the same signatures).
const crypto = new NodeCrypto();
const noble = new NobleCrypto(new SeededRandom(3));
const lobby = crypto.ed25519KeyPair(new Uint8Array(32).fill(1));
const other = crypto.ed25519KeyPair(new Uint8Array(32).fill(2));
const FIELDS: TicketFields = { grid: 7, peer: 0xdeadbeef, address: "203.0.113.9:40000", epoch: 3 };
const EXPECT: TicketExpectation = { grid: 7, peer: 0xdeadbeef, address: "203.0.113.9:40000", minEpoch: 3 };

test("layout: version, grid, peer, epoch, address length, address, signature", () => {
  const t = issueTicket(crypto, lobby.secretKey, FIELDS);
  const addr = FIELDS.address.length;
  assert.is(t.length, 14 + addr + 64);
  assert.equal([...t.subarray(0, 14)], [1, 0, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 3, addr]);
  assert.is(utf8Decode(t, 14, 14 + addr), FIELDS.address);
  assert.equal(readTicket(t), FIELDS);
  assert.is(verifyTicket(crypto, lobby.publicKey, t, EXPECT), "ok");
  assert.is(verifyTicket(noble, lobby.publicKey, t, EXPECT), "ok", "pure-JS verification agrees");
  assert.equal(issueTicket(noble, lobby.secretKey, FIELDS), t, "deterministic across providers");
});

test("a ticket is bound to grid, peer, address, epoch and the lobby's key", () => {
  const t = issueTicket(crypto, lobby.secretKey, FIELDS);
  const v = (e: Partial<TicketExpectation>, key = lobby.publicKey): string => verifyTicket(crypto, key, t, { ...EXPECT, ...e });
  assert.is(v({ grid: 8 }), "wrong-grid");
  assert.is(v({ peer: 1 }), "wrong-peer");
  assert.is(v({ address: "203.0.113.9:40001" }), "wrong-address");
  assert.is(v({ minEpoch: 4 }), "expired");
  assert.is(v({ minEpoch: 2 }), "ok", "issued after the minimum epoch");
  assert.is(v({}, other.publicKey), "bad-signature");
  const forged = issueTicket(crypto, other.secretKey, FIELDS);
  assert.is(verifyTicket(crypto, lobby.publicKey, forged, EXPECT), "bad-signature");
});

test("addresses: multi-byte UTF-8 up to 64 bytes; longer or empty is a caller mistake", () => {
  for (const address of ["[2001:db8::1]:7000", "héllo-wörld:1", "😀".repeat(16), "x".repeat(64)]) {
    const t = issueTicket(crypto, lobby.secretKey, { ...FIELDS, address });
    assert.is(readTicket(t)?.address, address);
    assert.is(verifyTicket(crypto, lobby.publicKey, t, { ...EXPECT, address }), "ok");
  }
  assert.is(issueTicket(crypto, lobby.secretKey, { ...FIELDS, address: "x".repeat(64) }).length, TICKET_MAX_BYTES);
  assert.throws(() => issueTicket(crypto, lobby.secretKey, { ...FIELDS, address: "x".repeat(65) }), /65 UTF-8 bytes/);
  assert.throws(() => issueTicket(crypto, lobby.secretKey, { ...FIELDS, address: "é".repeat(33) }), /66 UTF-8 bytes/);
  assert.throws(() => issueTicket(crypto, lobby.secretKey, { ...FIELDS, address: "" }), /1 to 64/);
  assert.throws(() => issueTicket(crypto, lobby.secretKey, { ...FIELDS, grid: -1 }), /grid must be a u32/);
  assert.throws(() => issueTicket(crypto, lobby.secretKey, { ...FIELDS, epoch: 2 ** 32 }), /epoch must be a u32/);
});

test("every strict prefix and every extension is malformed", () => {
  const t = issueTicket(crypto, lobby.secretKey, FIELDS);
  for (let n = 0; n < t.length; n++) {
    assert.is(readTicket(t.subarray(0, n)), null);
    assert.is(verifyTicket(crypto, lobby.publicKey, t.subarray(0, n), EXPECT), "malformed", `prefix ${n}`);
  }
  const longer = new Uint8Array(t.length + 1);
  longer.set(t);
  assert.is(verifyTicket(crypto, lobby.publicKey, longer, EXPECT), "malformed", "one trailing byte");
});

test("every flipped bit is rejected, never thrown", () => {
  const t = issueTicket(crypto, lobby.secretKey, FIELDS);
  const seen = new Set<string>();
  for (let bit = 0; bit < t.length * 8; bit++) {
    const bad = t.slice();
    bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
    const verdict = verifyTicket(crypto, lobby.publicKey, bad, EXPECT);
    assert.is.not(verdict, "ok", `bit ${bit}`);
    seen.add(verdict);
  }
  // Header bits change a field or break the layout; address and signature bits fail later.
  assert.equal([...seen].sort(), ["bad-signature", "expired", "malformed", "wrong-address", "wrong-grid", "wrong-peer"]);
});

test("hostile bytes: random, invalid UTF-8, non-arrays never throw", () => {
  const rng = new SeededRandom(11);
  for (let i = 0; i < 3000; i++) {
    const n = rng.nextU32() % 160;
    const bytes = Uint8Array.from({ length: n }, () => rng.nextU32() & 0xff);
    if (n > 14 && i % 2 === 0) {
      bytes[0] = 1;
      bytes[13] = n - 78; // a plausible length byte
    }
    assert.is.not(verifyTicket(crypto, lobby.publicKey, bytes, EXPECT), "ok");
  }
  const t = issueTicket(crypto, lobby.secretKey, { ...FIELDS, address: "abc" });
  for (const bad of [[0xc0, 0x80, 0x41], [0xed, 0xa0, 0x80], [0xe2, 0x82, 0x41], [0xf4, 0x90, 0x80]]) {
    const copy = t.slice();
    copy.set(bad.slice(0, 3), 14);
    assert.is(readTicket(copy), null, `invalid UTF-8 ${bad.join(" ")}`);
  }
  for (const junk of [undefined, null, "ticket", [1, 2, 3], new Uint16Array(80)]) {
    assert.is(verifyTicket(crypto, lobby.publicKey, junk as unknown as Uint8Array, EXPECT), "malformed");
  }
  assert.is(verifyTicket(crypto, new Uint8Array(3), t, { ...EXPECT, address: "abc" }), "bad-signature");
});

test("utf8 helpers match TextEncoder and reject what a strict decoder must", () => {
  const rng = new SeededRandom(5);
  const te = new TextEncoder();
  for (let i = 0; i < 500; i++) {
    let s = "";
    for (let k = rng.nextU32() % 20; k > 0; k--) s += String.fromCharCode(rng.nextU32() % 0x10000);
    const bytes = utf8Encode(s);
    assert.equal(bytes, te.encode(s));
    assert.is(utf8Decode(bytes, 0, bytes.length), new TextDecoder().decode(bytes));
  }
  for (const bad of [[0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82]]) {
    assert.is(utf8Decode(Uint8Array.from(bad), 0, bad.length), null, bad.join(" "));
  }
  assert.is(utf8Decode(Uint8Array.from([0x41]), 0, 2), null, "range outside the array");
});

test("TicketCache verifies each ticket once, still checks fields on a hit, stays bounded (LRU)", () => {
  let verifies = 0;
  const counting = new Proxy(crypto, {
    get(target, prop, receiver) {
      if (prop === "ed25519Verify") {
        return (...args: Parameters<typeof crypto.ed25519Verify>) => {
          verifies++;
          return target.ed25519Verify(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const cache = new TicketCache({ lobbyPublicKey: lobby.publicKey, hashKey: sipKeyFrom(crypto.randomBytes(16)), maxEntries: 4 });
  const t = issueTicket(crypto, lobby.secretKey, FIELDS);
  assert.is(cache.verify(counting, t, EXPECT), "ok");
  assert.is(cache.verify(counting, t.slice(), EXPECT), "ok");
  assert.is(verifies, 1, "the second presentation is a cache hit");
  assert.is(cache.verify(counting, t, { ...EXPECT, minEpoch: 4 }), "expired", "a hit is still checked against the expectation");
  assert.is(cache.verify(counting, t, { ...EXPECT, peer: 9 }), "wrong-peer");
  assert.is(verifies, 1);
  const forged = issueTicket(crypto, other.secretKey, FIELDS);
  assert.is(cache.verify(counting, forged, EXPECT), "bad-signature");
  assert.is(cache.verify(counting, forged, EXPECT), "bad-signature", "failures are not cached");
  assert.is(verifies, 3);
  const tickets = [1, 2, 3, 4, 5].map((peer) => issueTicket(crypto, lobby.secretKey, { ...FIELDS, peer }));
  tickets.forEach((x, i) => assert.is(cache.verify(counting, x, { ...EXPECT, peer: i + 1 }), "ok"));
  assert.is(cache.size, 4);
  assert.equal(cache.stats(), { hits: 3, misses: 8, evictions: 2 });
  verifies = 0;
  assert.is(cache.verify(counting, tickets[4] as Uint8Array, { ...EXPECT, peer: 5 }), "ok");
  assert.is(verifies, 0, "recent ticket still cached");
  assert.is(cache.verify(counting, t, EXPECT), "ok");
  assert.is(verifies, 1, "the oldest ticket was evicted");
  assert.is(cache.verify(counting, new Uint8Array(TICKET_MAX_BYTES + 1), EXPECT), "malformed");
  cache.clear();
  assert.is(cache.size, 0);
});

test.run();
