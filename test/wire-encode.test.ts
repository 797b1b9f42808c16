/**
 * The caller's mistakes (STYLE 7, 14): encoding a field outside its schema throws a
 * RelayGridError with code "invalid-config" and a message that names the field and the numbers.
 * Nothing is written to the caller's buffer when it throws.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode, encodeInto, ErrorCode, Kind, RelayGridError, type Message } from "../wire/index.ts";

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

const join = { kind: Kind.JoinReply, req: 1, grid: 7, from: 4, positive: true, links: 1, limit: 4 };

test("u8 = 256, u16 = 65536, u32 = 2^32 are rejected, naming the field and its maximum", () => {
  throwsNaming({ ...join, links: 256 }, "JoinReply", "links", "255", "256");
  throwsNaming({ kind: Kind.HeartbeatAck, req: 1, members: 65536 }, "HeartbeatAck", "members", "65535", "65536");
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
  throwsNaming({ kind: Kind.Hello, req: 1, name: "a".repeat(33) }, "Hello", "name", "33", "32");
  // 11 characters, 33 bytes.
  throwsNaming({ kind: Kind.Hello, req: 1, name: "€".repeat(11) }, "name", "33 bytes", "32");
  throwsNaming({ kind: Kind.LobbyClosing, reason: "r".repeat(129) }, "reason", "129", "128");
  throwsNaming({ kind: Kind.CreateGrid, req: 1, session: 2, name: "g", capacity: 8, limit: 2, meta: "m".repeat(201) }, "meta", "201", "200");
  // At the limit is fine.
  encode({ kind: Kind.Hello, req: 1, name: "€".repeat(10) + "ab" });
});

test("a list over its item limit, and a bad field inside a list entry, are named with their path", () => {
  throwsNaming(
    { kind: Kind.Heartbeat, req: 1, session: 2, grid: 3, peer: 4, links: Array.from({ length: 65 }, (_, i) => i) },
    "Heartbeat", "links", "65 items", "64",
  );
  throwsNaming({ kind: Kind.Heartbeat, req: 1, session: 2, grid: 3, peer: 4, links: [1, -2] }, "links[1]", "-2");
  const member = { peer: 1, addr: "10.0.0.1:7000", links: 2 };
  throwsNaming(
    { kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: Array.from({ length: 33 }, () => member) },
    "members", "33 items", "32",
  );
  throwsNaming(
    { kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: [member, member, member, { ...member, addr: "a".repeat(65) }] },
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
  throwsNaming({ kind: Kind.Members, req: 1, grid: 2, peer: 3, part: 0, parts: 1, members: [null] }, "members[0].peer");
});

test("Data: hops over MAX_HOPS, target out of range, payload not bytes", () => {
  const data = { kind: Kind.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new Uint8Array(1) };
  throwsNaming({ ...data, hops: 128 }, "Data", "hops", "127", "128");
  throwsNaming({ ...data, target: -1 }, "target", "-1");
  throwsNaming({ ...data, target: 2 ** 32 }, "target", "4294967296");
  throwsNaming({ ...data, payload: [1, 2] }, "payload", "bin");
  throwsNaming({ ...data, payload: new Uint8Array(1151) }, "payload", "1151", "1150");
});

test("an unknown kind is rejected", () => {
  throwsNaming({ kind: 0x7e, req: 1 }, "kind", "126");
});

test("encodeInto: a buffer too small for the message throws and leaves the buffer alone", () => {
  const buf = new Uint8Array(10).fill(0xee);
  try {
    encodeInto({ kind: Kind.Hello, req: 1, name: "a long enough name" }, buf, 2);
    assert.unreachable("encoded into 8 bytes");
  } catch (e) {
    assert.instance(e, RelayGridError);
    assert.is((e as RelayGridError).code, ErrorCode.InvalidConfig);
    assert.match((e as RelayGridError).message, "8 bytes");
  }
  assert.ok(buf.every((b) => b === 0xee));
});

test.run();
