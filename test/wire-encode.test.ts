/**
 * The caller's mistakes (STYLE 7, 14): encoding a field outside its schema throws a
 * RelayGridError with code "invalid-config" and a message that names the field and the numbers.
 * Nothing is written to the caller's buffer when it throws.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  encode,
  encodeInto,
  ErrorCode,
  Kind,
  MAX_SEALED_BYTES,
  MAX_TICKET_BYTES,
  RelayGridError,
  TAG_BYTES,
  type Message,
} from "../wire/index.ts";

function throwsNaming(msg: unknown, ...parts: string[]): void {
  for (const run of [() => encode(msg as Message), () => encodeInto(msg as Message, new Uint8Array(4096).fill(0xee), 0)]) {
    try {
      run();
      assert.unreachable(`encoded ${JSON.stringify(msg)}`);
    } catch (e) {
      assert.instance(e, RelayGridError);
      const err = e as RelayGridError;
      assert.is(err.code, ErrorCode.InvalidConfig);
      for (const p of parts) assert.ok(err.message.includes(p), `"${err.message}" does not mention "${p}"`);
    }
  }
}

const NO_TAG = new Uint8Array(TAG_BYTES);
const join = { kind: Kind.JoinReply, req: 1, grid: 7, from: 4, to: 3, positive: true, links: 1, limit: 4, tag: NO_TAG };
/** A Hello with the handshake fields filled in; tests override name. */
const hello = { kind: Kind.Hello, req: 1, name: "alice", cookie: new Uint8Array(0), eph: new Uint8Array(32), pad: new Uint8Array(0) };

test("u8 = 256, u16 = 65536, u32 = 2^32 are rejected, naming the field and its maximum", () => {
  throwsNaming({ ...join, links: 256 }, "JoinReply", "links", "255", "256");
  throwsNaming({ kind: Kind.HeartbeatAck, req: 1, members: 65536, epoch: 1, latest: 1 }, "HeartbeatAck", "members", "65535", "65536");
  throwsNaming({ kind: Kind.Ack, req: 2 ** 32 }, "Ack", "req", "4294967295", "4294967296");
});

test("negative, fractional, NaN and non-number uints are rejected", () => {
  throwsNaming({ ...join, req: -1 }, "req", "-1");
  throwsNaming({ ...join, req: 1.5 }, "req", "1.5");
  throwsNaming({ ...join, grid: Number.NaN }, "grid", "NaN");
  throwsNaming({ ...join, from: "4" }, "from", "string");
  throwsNaming({ ...join, from: undefined }, "from", "undefined");
});

test("a missing field is named", () => {
  const { limit: _limit, ...noLimit } = join;
  throwsNaming(noLimit, "JoinReply", "limit");
});

test("bool fields take only booleans", () => {
  throwsNaming({ ...join, positive: 1 }, "positive", "bool");
  throwsNaming({ kind: Kind.ConnUpdate, req: 1, session: 2, grid: 3, peer: 4, other: 5, open: null }, "open", "nil");
});

test("a string over its byte limit is rejected in UTF-8 bytes, not characters", () => {
  throwsNaming({ ...hello, name: "a".repeat(33) }, "Hello", "name", "33", "32");
  // 11 characters, 33 bytes.
  throwsNaming({ ...hello, name: "€".repeat(11) }, "name", "33 bytes", "32");
  throwsNaming({ kind: Kind.LobbyClosing, reason: "r".repeat(129) }, "reason", "129", "128");
  throwsNaming({ kind: Kind.CreateGrid, req: 1, session: 2, name: "g", capacity: 8, limit: 2, meta: "m".repeat(201) }, "meta", "201", "200");
  // At the limit is fine.
  encode({ ...hello, name: "€".repeat(10) + "ab" });
});

test("a list over its item limit, and a bad field inside a list entry, are named with their path", () => {
  throwsNaming(
    { kind: Kind.Heartbeat, req: 1, session: 2, grid: 3, peer: 4, links: Array.from({ length: 65 }, (_, i) => i) },
    "Heartbeat", "links", "65 items", "64",
  );
  throwsNaming({ kind: Kind.Heartbeat, req: 1, session: 2, grid: 3, peer: 4, links: [1, -2] }, "links[1]", "-2");
  const member = { peer: 1, addr: "10.0.0.1:7000", links: 2 };
  throwsNaming(
    { kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: Array.from({ length: 33 }, () => member), nonce: 0, sealed: new Uint8Array(0) },
    "members", "33 items", "32",
  );
  throwsNaming(
    { kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: [member, member, member, { ...member, addr: "a".repeat(65) }], nonce: 0, sealed: new Uint8Array(0) },
    "members[3].addr", "65", "64",
  );
  throwsNaming(
    { kind: Kind.GridList, req: 1, total: 1, offset: 0, grids: [{ grid: 1, name: "g", members: 1, capacity: 2, limit: 300, meta: "" }] },
    "grids[0].limit", "300",
  );
  throwsNaming({ kind: Kind.RepairHint, grid: 1, peer: 2, force: true, targets: [null] }, "targets[0].peer");
  throwsNaming({ kind: Kind.RepairHint, grid: 1, peer: 2, force: true, targets: "x" }, "targets", "string");
});

// Regression: an undefined list entry made toArray read a property of undefined, so encode
// threw a bare TypeError instead of RelayGridError invalid-config (fixed in wire/codec.ts).
test("an undefined or null list entry is a RelayGridError naming its path, not a TypeError", () => {
  throwsNaming({ kind: Kind.RepairHint, grid: 1, peer: 2, force: true, targets: [undefined] }, "targets[0].peer");
  throwsNaming({ kind: Kind.GridList, req: 1, total: 1, offset: 0, grids: [undefined] }, "grids[0].grid");
  throwsNaming({ kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: [null], nonce: 0, sealed: new Uint8Array(0) }, "members[0].peer");
});

test("Data: hops over MAX_HOPS, target out of range, payload not bytes", () => {
  const data = { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(1), tag: NO_TAG };
  throwsNaming({ ...data, hops: 128 }, "Data", "hops", "127", "128");
  throwsNaming({ ...data, target: -1 }, "target", "-1");
  throwsNaming({ ...data, target: 2 ** 32 }, "target", "4294967296");
  throwsNaming({ ...data, payload: [1, 2] }, "payload", "bin");
  throwsNaming({ ...data, payload: new Uint8Array(1151) }, "payload", "1151", "1150");
  throwsNaming({ ...data, tag: new Uint8Array(10) }, "Data", "tag", "10", "9");
  throwsNaming({ ...data, tag: null }, "Data", "tag", "nil");
  const { tag: _tag, ...untagged } = data;
  throwsNaming(untagged, "Data", "tag", "undefined");
});

test("security fields: tag, ticket, cookie, handshake keys, signature and sealed grant are bounded and named", () => {
  const connect = { kind: Kind.Connect, req: 1, grid: 7, from: 3, to: 4, nonce: new Uint8Array(8), ticket: new Uint8Array(94), tag: NO_TAG };
  encode(connect);
  encode({ ...connect, ticket: new Uint8Array(MAX_TICKET_BYTES) });
  throwsNaming({ ...connect, ticket: new Uint8Array(MAX_TICKET_BYTES + 1) }, "Connect", "ticket", "143", "142");
  throwsNaming({ ...connect, tag: new Uint8Array(TAG_BYTES + 1) }, "Connect", "tag", "10", "9");
  throwsNaming({ ...connect, nonce: new Uint8Array(9) }, "Connect", "nonce", "9", "8");
  throwsNaming({ kind: Kind.Ping, req: 1, grid: 7, from: 3, to: 4, ctr: 1, auth: new Uint8Array(8) }, "Ping", "tag", "undefined");
  throwsNaming({ kind: Kind.Ping, req: 1, grid: 7, from: 3, to: 4, ctr: 1, auth: new Uint8Array(9), tag: NO_TAG }, "Ping", "auth", "9", "8");
  throwsNaming({ kind: Kind.ForceReply, req: 1, grid: 7, from: 3, to: 4, ok: true, nonce: new Uint8Array(8), ticket: "t", tag: NO_TAG }, "ForceReply", "ticket", "string");
  throwsNaming({ ...hello, cookie: new Uint8Array(17) }, "Hello", "cookie", "17", "16");
  throwsNaming({ ...hello, eph: new Uint8Array(33) }, "Hello", "eph", "33", "32");
  throwsNaming({ ...hello, pad: new Uint8Array(1025) }, "Hello", "pad", "1025", "1024");
  throwsNaming({ kind: Kind.Hello, req: 1, name: "a" }, "Hello", "cookie");
  const welcome = { kind: Kind.Welcome, req: 1, session: 2, heartbeatMs: 2000, eph: new Uint8Array(32), identity: new Uint8Array(32), signature: new Uint8Array(64) };
  encode(welcome);
  throwsNaming({ ...welcome, signature: new Uint8Array(65) }, "Welcome", "signature", "65", "64");
  throwsNaming({ ...welcome, identity: new Uint8Array(33) }, "Welcome", "identity", "33", "32");
  const members = { kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: [], nonce: 0, sealed: new Uint8Array(MAX_SEALED_BYTES) };
  encode(members);
  throwsNaming({ ...members, sealed: new Uint8Array(MAX_SEALED_BYTES + 1) }, "Members", "sealed", String(MAX_SEALED_BYTES + 1), String(MAX_SEALED_BYTES));
  throwsNaming({ ...members, nonce: 2 ** 32 }, "Members", "nonce", "4294967296");
  throwsNaming({ kind: Kind.HeartbeatAck, req: 1, members: 2, epoch: -1, latest: 1 }, "HeartbeatAck", "epoch", "-1");
  throwsNaming({ kind: Kind.HeartbeatAck, req: 1, members: 2, epoch: 1 }, "HeartbeatAck", "latest", "undefined");
  throwsNaming({ kind: Kind.Rejoin, req: 1, session: 2, grid: 3, name: "g", peer: 4, limit: 2, links: [] }, "Rejoin", "epoch", "undefined");
  throwsNaming({ kind: Kind.Retry, req: 1, cookie: new Uint8Array(17) }, "Retry", "cookie", "17", "16");
});

test("an unknown kind is rejected", () => {
  throwsNaming({ kind: 0x7e, req: 1 }, "kind", "126");
});

test("encodeInto: a buffer too small for the message throws and leaves the buffer alone", () => {
  const buf = new Uint8Array(10).fill(0xee);
  try {
    encodeInto({ ...hello, name: "a long enough name" }, buf, 2);
    assert.unreachable("encoded into 8 bytes");
  } catch (e) {
    assert.instance(e, RelayGridError);
    assert.is((e as RelayGridError).code, ErrorCode.InvalidConfig);
    assert.match((e as RelayGridError).message, "8 bytes");
  }
  assert.ok(buf.every((b) => b === 0xee));
});

test.run();
