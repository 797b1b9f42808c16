/**
 * Writes the wire test vectors (PROTOCOL.md, "Test vectors"):
 *
 *   test/vectors/messages.json  valid datagrams: { name, kind, msg, hex }
 *   test/vectors/invalid.json   malformed datagrams: { name, hex, code, why }
 *
 * The hex of a valid vector is @msgpack/msgpack's encode() of the positional array
 * `[version, kind, ...fields]`, an encoder independent of wire/codec.ts and of the
 * hand-written relay envelope, so test/wire-vectors.test.ts checks our codec against a
 * reference rather than against itself. In `msg`, a Uint8Array is written {"$bin": "<hex>"}.
 * Payload bytes come from a fixed seed, so the files are the same on every run:
 * test/wire-vectors.test.ts fails when they are stale.
 *
 *   npx tsx scripts/gen-vectors.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom } from "../lib/rng.ts";
import { DecodeErrorCode } from "../wire/decode-error.ts";
import type { FieldDef } from "../wire/fields.ts";
import { DisconnectReason, Kind, kindName, LinkStatus, LobbyErrorCode } from "../wire/kinds.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION } from "../wire/limits.ts";
import { type Message, schemaOf } from "../wire/messages.ts";

export interface Vector {
  readonly name: string;
  readonly kind: string;
  readonly msg: Message;
  readonly hex: string;
}

export interface InvalidVector {
  readonly name: string;
  readonly hex: string;
  readonly code: DecodeErrorCode;
  readonly why: string;
}

const U32_MAX = 0xffffffff;

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, "0");
  return s;
}

/** Seeded bytes, so a payload is the same on every run. */
function bytes(n: number, seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}

/** An ASCII string of exactly `n` bytes. */
function ascii(n: number, fill = "x"): string {
  return fill.repeat(n).slice(0, n);
}

/** The positional array `[version, kind, ...fields]`: list entries become arrays too. */
export function positional(msg: Message): unknown[] {
  const schema = schemaOf(msg.kind);
  if (schema === undefined) throw new Error(`no schema for kind ${msg.kind}`);
  const fields = msg as unknown as Record<string, unknown>;
  return [
    PROTOCOL_VERSION,
    msg.kind,
    ...schema.map(([name, spec]: FieldDef) => {
      const v = fields[name];
      if (spec.t !== "list") return v;
      return (v as Record<string, unknown>[]).map((entry) => spec.of.map(([k]) => entry[k]));
    }),
  ];
}

function vector(name: string, msg: Message): Vector {
  return { name, kind: kindName(msg.kind), msg, hex: toHex(referenceEncode(positional(msg))) };
}

/** A Members message of exactly `DEFAULT_MAX_DATAGRAM_BYTES`: lists are bounded by bytes too. */
function fullMembers(): Message {
  const members: { peer: number; addr: string; links: number }[] = [];
  const msg = { kind: Kind.Members, req: 9, grid: 70000, peer: 4242, part: 0, parts: 3, members };
  const size = (): number => referenceEncode(positional(msg)).length;
  for (let i = 0; ; i++) {
    members.push({ peer: 1000 + i, addr: `[2001:db8:${i.toString(16)}::17]:${40000 + i}`.padEnd(64, "0"), links: i % 9 });
    if (size() >= DEFAULT_MAX_DATAGRAM_BYTES) break;
  }
  const last = members[members.length - 1] as { addr: string };
  for (let len = 64; len >= 0; len--) {
    last.addr = last.addr.slice(0, len);
    if (size() === DEFAULT_MAX_DATAGRAM_BYTES) return msg;
  }
  throw new Error("cannot size a Members message to exactly 1200 bytes");
}

export function buildVectors(): Vector[] {
  const K = Kind;
  const v: Vector[] = [];
  const add = (name: string, msg: Message): void => {
    v.push(vector(name, msg));
  };

  // 4.1 Data: every uint boundary in grid/origin/seq/target, nil vs 0 target, bin8 vs bin16.
  add("data-broadcast-hello", { kind: K.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: new TextEncoder().encode("hello") });
  add("data-all-zero-empty-payload", { kind: K.Data, hops: 0, grid: 0, origin: 0, seq: 0, target: null, payload: new Uint8Array(0) });
  add("data-target-zero-is-not-nil", { kind: K.Data, hops: 1, grid: 1, origin: 2, seq: 3, target: 0, payload: bytes(1, 1) });
  add("data-hops-127-fixint-boundaries", { kind: K.Data, hops: 127, grid: 127, origin: 128, seq: 255, target: 256, payload: bytes(16, 2) });
  add("data-uint16-uint32-boundaries", { kind: K.Data, hops: 5, grid: 65535, origin: 65536, seq: U32_MAX, target: U32_MAX, payload: bytes(3, 3) });
  add("data-payload-255-bin8-max", { kind: K.Data, hops: 2, grid: 300, origin: 70000, seq: 1, target: null, payload: bytes(255, 4) });
  add("data-payload-256-bin16", { kind: K.Data, hops: 3, grid: 300, origin: 70000, seq: 2, target: 12, payload: bytes(256, 5) });
  add("data-payload-1150-max", { kind: K.Data, hops: 126, grid: U32_MAX, origin: U32_MAX, seq: U32_MAX, target: U32_MAX, payload: bytes(MAX_PAYLOAD_BYTES, 6) });

  // 4.2 Peer <-> peer control.
  add("join", { kind: K.Join, req: 1, grid: 7, from: 3 });
  add("join-uint-boundaries", { kind: K.Join, req: U32_MAX, grid: 65536, from: 255 });
  add("join-reply-positive", { kind: K.JoinReply, req: 1, grid: 7, from: 4, positive: true, links: 1, limit: 4 });
  add("join-reply-negative-u8-max", { kind: K.JoinReply, req: 128, grid: 7, from: 256, positive: false, links: 255, limit: 255 });
  add("connect", { kind: K.Connect, req: 2, grid: 7, from: 3 });
  add("connect-uint-boundaries", { kind: K.Connect, req: 256, grid: 0xffffffff, from: 127 });
  add("connect-reply-accepted", { kind: K.ConnectReply, req: 2, grid: 7, from: 4, accepted: true });
  add("connect-reply-refused", { kind: K.ConnectReply, req: 65535, grid: 7, from: 4, accepted: false });
  add("force", { kind: K.Force, req: 3, grid: 7, from: 3 });
  add("force-uint-boundaries", { kind: K.Force, req: 0, grid: 128, from: 65536 });
  add("force-reply-ok", { kind: K.ForceReply, req: 3, grid: 7, from: 5, ok: true });
  add("force-reply-refused", { kind: K.ForceReply, req: 3, grid: 7, from: 5, ok: false });
  add("available", { kind: K.Available, req: 4, grid: 7, from: 3 });
  add("available-uint-boundaries", { kind: K.Available, req: 65535, grid: 255, from: U32_MAX });
  add("available-reply-positive", { kind: K.AvailableReply, req: 4, grid: 7, from: 6, positive: true, links: 2 });
  add("available-reply-negative", { kind: K.AvailableReply, req: 4, grid: 7, from: 6, positive: false, links: 128 });
  add("ping", { kind: K.Ping, req: 5, grid: 7, from: 3 });
  add("ping-uint32", { kind: K.Ping, req: 65536, grid: U32_MAX, from: 65535 });
  add("pong", { kind: K.Pong, req: 5, grid: 7, from: 4, links: 3 });
  add("pong-links-0", { kind: K.Pong, req: 5, grid: 7, from: 4, links: 0 });
  add("disconnect-leave", { kind: K.Disconnect, req: 6, grid: 7, from: 3, reason: DisconnectReason.Leave });
  add("disconnect-forced", { kind: K.Disconnect, req: 7, grid: 7, from: 3, reason: DisconnectReason.Forced });
  add("disconnect-misbehaving", { kind: K.Disconnect, req: 8, grid: 7, from: 3, reason: DisconnectReason.Misbehaving });
  add("disconnect-not-linked", { kind: K.Disconnect, req: 9, grid: 7, from: 4, reason: DisconnectReason.NotLinked });
  add("disconnect-ack", { kind: K.DisconnectAck, req: 6, grid: 7, from: 4 });
  add("disconnect-ack-uint-boundaries", { kind: K.DisconnectAck, req: U32_MAX, grid: 65535, from: 128 });

  // 4.3 Peer -> lobby.
  add("hello", { kind: K.Hello, req: 1, name: "alice" });
  add("hello-empty-name", { kind: K.Hello, req: 0, name: "" });
  add("hello-name-31-fixstr-max", { kind: K.Hello, req: 1, name: ascii(31, "a") });
  add("hello-name-32-str8-limit", { kind: K.Hello, req: 1, name: ascii(32, "b") });
  add("hello-name-utf8", { kind: K.Hello, req: 1, name: "Zoë ✓ 🎮" });
  add("list-grids", { kind: K.ListGrids, req: 2, session: 0xdeadbeef, filter: "", offset: 0 });
  add("list-grids-filter-page", { kind: K.ListGrids, req: 3, session: 0xdeadbeef, filter: "deathmatch", offset: 64 });
  add("create-grid", { kind: K.CreateGrid, req: 4, session: 0xdeadbeef, name: "lobby-1", capacity: 64, limit: 4, meta: "" });
  add("create-grid-limits", {
    kind: K.CreateGrid, req: 5, session: U32_MAX, name: ascii(32, "n"), capacity: 65535, limit: 255, meta: ascii(200, "m"),
  });
  add("select-grid", { kind: K.SelectGrid, req: 6, session: 0xdeadbeef, grid: 7, limit: 4, part: 0 });
  add("select-grid-part-2", { kind: K.SelectGrid, req: 9, session: 0xdeadbeef, grid: 7, limit: 2, part: 2 });
  add("conn-update-open", { kind: K.ConnUpdate, req: 10, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, open: true });
  add("conn-update-closed", { kind: K.ConnUpdate, req: 11, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, open: false });
  add("conn-status", { kind: K.ConnStatus, req: 12, session: 0xdeadbeef, grid: 7, peer: 3, other: 4 });
  add("conn-status-uint-boundaries", { kind: K.ConnStatus, req: 0, session: 0, grid: 65536, peer: 255, other: 256 });
  add("probe-reply-linked", { kind: K.ProbeReply, req: 40, session: 0xcafe, grid: 7, peer: 4, other: 3, linked: true });
  add("probe-reply-not-linked", { kind: K.ProbeReply, req: 41, session: 0xcafe, grid: 7, peer: 4, other: 3, linked: false });
  add("heartbeat-no-links", { kind: K.Heartbeat, req: 13, session: 0xdeadbeef, grid: 7, peer: 3, links: [] });
  add("heartbeat", { kind: K.Heartbeat, req: 14, session: 0xdeadbeef, grid: 7, peer: 3, links: [4, 5, 9] });
  add("heartbeat-64-links-array16", {
    kind: K.Heartbeat, req: 15, session: 0xdeadbeef, grid: 7, peer: 3,
    links: Array.from({ length: 64 }, (_, i) => [0, 127, 128, 255, 256, 65535, 65536, U32_MAX][i % 8] as number),
  });
  add("leave", { kind: K.Leave, req: 16, session: 0xdeadbeef, grid: 7, peer: 3 });
  add("leave-uint-boundaries", { kind: K.Leave, req: 127, session: 128, grid: 65535, peer: U32_MAX });
  add("rejoin", { kind: K.Rejoin, req: 1, session: 0xbeef, grid: 7, name: "lobby-1", peer: 3, limit: 4, links: [4, 5] });
  add("rejoin-no-links", { kind: K.Rejoin, req: 2, session: 0xbeef, grid: 65536, name: "", peer: U32_MAX, limit: 2, links: [] });

  // 4.4 Lobby -> peer.
  add("welcome", { kind: K.Welcome, req: 1, session: 0xdeadbeef, heartbeatMs: 5000 });
  add("welcome-uint-boundaries", { kind: K.Welcome, req: 0, session: 0, heartbeatMs: U32_MAX });
  add("grid-list-empty", { kind: K.GridList, req: 2, total: 0, offset: 0, grids: [] });
  add("grid-list", {
    kind: K.GridList, req: 3, total: 41, offset: 32,
    grids: [
      { grid: 7, name: "lobby-1", members: 12, capacity: 64, limit: 4, meta: "mode=ctf" },
      { grid: 300, name: "Zoë's", members: 0, capacity: 8, limit: 2, meta: "" },
    ],
  });
  add("grid-list-4-worst-case-entries", {
    kind: K.GridList, req: U32_MAX, total: U32_MAX, offset: U32_MAX,
    grids: Array.from({ length: 4 }, (_, i) => ({
      grid: U32_MAX - i, name: ascii(32, "g"), members: 65535, capacity: 65535, limit: 255, meta: ascii(200, String(i)),
    })),
  });
  add("grid-list-16-entries-array16", {
    kind: K.GridList, req: 4, total: 16, offset: 0,
    grids: Array.from({ length: 16 }, (_, i) => ({ grid: i, name: `g${i}`, members: i, capacity: 16, limit: 3, meta: "" })),
  });
  add("grid-created", { kind: K.GridCreated, req: 4, grid: 7, name: "lobby-1" });
  add("grid-created-name-32", { kind: K.GridCreated, req: 5, grid: 65536, name: ascii(32, "n") });
  add("members-only-peer", { kind: K.Members, req: 6, grid: 7, peer: 1, part: 0, parts: 1, members: [] });
  add("members-part-0-of-2", {
    kind: K.Members, req: 7, grid: 7, peer: 9, part: 0, parts: 2,
    members: [
      { peer: 1, addr: "203.0.113.7:7000", links: 4 },
      { peer: 2, addr: "[2001:db8::1]:7001", links: 0 },
      { peer: 300, addr: "host-handle-42", links: 255 },
    ],
  });
  add("members-32-entries-max-items", {
    kind: K.Members, req: 8, grid: 7, peer: 40, part: 1, parts: 2,
    members: Array.from({ length: 32 }, (_, i) => ({ peer: i, addr: `10.0.0.${i}:7000`, links: i % 5 })),
  });
  add("members-exactly-1200-bytes", fullMembers());
  add("ack", { kind: K.Ack, req: 0 });
  add("ack-127", { kind: K.Ack, req: 127 });
  add("ack-128", { kind: K.Ack, req: 128 });
  add("ack-255", { kind: K.Ack, req: 255 });
  add("ack-256", { kind: K.Ack, req: 256 });
  add("ack-65535", { kind: K.Ack, req: 65535 });
  add("ack-65536", { kind: K.Ack, req: 65536 });
  add("ack-4294967295", { kind: K.Ack, req: U32_MAX });
  add("conn-status-reply-gone", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Gone, silentMs: 0 });
  add("conn-status-reply-alive", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Alive, silentMs: 800 });
  add("conn-status-reply-checking", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Checking, silentMs: 65536 });
  add("probe", { kind: K.Probe, req: 40, grid: 7, peer: 4, other: 3 });
  add("probe-uint-boundaries", { kind: K.Probe, req: U32_MAX, grid: 0, peer: 65536, other: 255 });
  add("heartbeat-ack", { kind: K.HeartbeatAck, req: 14, members: 12 });
  add("heartbeat-ack-u16-max", { kind: K.HeartbeatAck, req: 14, members: 65535 });
  add("unknown-session", { kind: K.UnknownSession, req: 13 });
  add("unknown-session-u32-max", { kind: K.UnknownSession, req: U32_MAX });
  add("repair-hint-connect", { kind: K.RepairHint, grid: 7, peer: 3, force: false, targets: [{ peer: 12, addr: "198.51.100.2:7000" }] });
  add("repair-hint-force-8-targets", {
    kind: K.RepairHint, grid: 7, peer: 3, force: true,
    targets: Array.from({ length: 8 }, (_, i) => ({ peer: 100 + i, addr: `[2001:db8::${i}]:7000` })),
  });
  add("repair-hint-no-targets", { kind: K.RepairHint, grid: 7, peer: 3, force: false, targets: [] });
  add("lobby-closing", { kind: K.LobbyClosing, reason: "restarting" });
  add("lobby-closing-empty", { kind: K.LobbyClosing, reason: "" });
  add("lobby-closing-128", { kind: K.LobbyClosing, reason: ascii(128, "r") });
  add("error-unknown-grid", { kind: K.Error, req: 6, code: LobbyErrorCode.UnknownGrid, detail: "no grid 7" });
  add("error-grid-full", { kind: K.Error, req: 6, code: LobbyErrorCode.GridFull, detail: "" });
  add("error-name-taken-detail-128", { kind: K.Error, req: 4, code: LobbyErrorCode.NameTaken, detail: ascii(128, "d") });
  return v;
}

/** Hex of a MessagePack value built by the reference encoder. */
function ref(value: unknown): string {
  return toHex(referenceEncode(value));
}

export function buildInvalid(valid: readonly Vector[]): InvalidVector[] {
  const C = DecodeErrorCode;
  const out: InvalidVector[] = [];
  const bad = (name: string, hex: string, code: DecodeErrorCode, why: string): void => {
    out.push({ name, hex: hex.replace(/\s+/g, ""), code, why });
  };
  const hexOf = (name: string): string => {
    const found = valid.find((x) => x.name === name);
    if (found === undefined) throw new Error(`no vector ${name}`);
    return found.hex;
  };
  // A small Data envelope to corrupt: 98 01 01 | hops | grid | origin | seq | target | bin8 payload.
  const data = hexOf("data-broadcast-hello"); // 98 01 01 00 01 02 03 c0 c4 05 68656c6c6f
  const dataTail = data.slice(8); // everything after hops
  const ack = "930144"; // [1, Ack, ...] header: fixarray(3), version 1, kind 0x44

  // Section 5 step 1-2: size.
  bad("empty", "", C.Truncated, "no bytes at all");
  bad("oversized-1201-bytes", "98" + "c1".repeat(1200), C.Oversized, "1201 bytes > 1200: rejected before any byte is read");
  bad("oversized-data-1201-bytes", ref([1, 1, 0, 1, 2, 3, null, new Uint8Array(1190)]), C.Oversized, "a well-formed Data envelope of 1201 bytes (payload 1190)");

  // Step 3: the first byte must be a fixarray header.
  bad("not-array-fixint", "01", C.NotArray, "a positive fixint");
  bad("not-array-nil", "c0", C.NotArray, "nil");
  bad("not-array-reserved-c1", "c1", C.NotArray, "0xc1 as the first byte");
  bad("not-array-str", ref("hello"), C.NotArray, "a fixstr");
  bad("not-array-map", ref({ v: 1, k: 0x44 }), C.NotArray, "a map where the array is expected");
  bad("not-array-empty-map", "80", C.NotArray, "an empty fixmap");
  bad("not-array-array16", "dc0003 01 44 00", C.NotArray, "[1, Ack, 0] as array16: senders must use fixarray");
  bad("not-array-array32-4gib", "dd ffffffff", C.NotArray, "array32 header declaring 4 GiB elements");

  // Step 4: fewer than 3 bytes.
  bad("truncated-header-only", "93", C.Truncated, "fixarray header only");
  bad("truncated-no-kind", "9301", C.Truncated, "header and version only");

  // Steps 5-6: version and kind bytes.
  bad("unknown-version-0", "930044 00", C.UnknownVersion, "version 0");
  bad("unknown-version-2", "930244 00", C.UnknownVersion, "version 2 (a future version)");
  bad("unknown-version-uint8", "93cc01 44 00", C.UnknownVersion, "version 1 as uint8: byte 1 must be exactly 0x01");
  bad("unknown-kind-0", "930100 00", C.UnknownKind, "kind 0x00");
  bad("unknown-kind-0x4e", "93014e 00", C.UnknownKind, "kind 0x4e, a gap in the lobby -> peer range");
  bad("unknown-kind-0x7f", "93017f 00", C.UnknownKind, "kind 0x7f");
  bad("unknown-kind-uint8", "9301cc44 00", C.UnknownKind, "Ack's kind as uint8: byte 2 must be the kind itself");

  // Step 7: element count.
  bad("wrong-arity-ack-2", "920144", C.WrongArity, "Ack has 3 elements, got 2");
  bad("wrong-arity-ack-4", "940144 00 00", C.WrongArity, "Ack has 3 elements, got 4");
  bad("wrong-arity-join-4", "940110 01 07", C.WrongArity, "Join has 5 elements, got 4");
  bad("wrong-arity-data-7", "97" + data.slice(2), C.WrongArity, "Data has 8 elements, got 7");
  bad("wrong-arity-data-9", "99" + data.slice(2) + "00", C.WrongArity, "Data has 8 elements, got 9");

  // Step 8a: the Data envelope (PROTOCOL.md 4.1).
  bad("data-truncated-before-hops", "980101", C.Truncated, "Data header without hops");
  bad("data-truncated-in-grid", "98010100 ce0000", C.Truncated, "grid's uint32 cut short");
  bad("data-truncated-payload", data.slice(0, -2), C.Truncated, "payload one byte short of its bin8 length");
  bad("data-trailing-byte", data + "00", C.TrailingBytes, "one byte after the payload");
  bad("data-hops-128", "980101 80" + dataTail, C.WrongType, "hops 0x80 is not a positive fixint (<= 127)");
  bad("data-hops-uint8", "980101 cc05" + dataTail, C.WrongType, "hops 5 as uint8: hops must be a positive fixint at offset 3");
  bad("data-hops-negative", "980101 ff" + dataTail, C.WrongType, "hops -1 (negative fixint)");
  bad("data-grid-str", "98010100 a131 02 03 c0 c400", C.WrongType, "grid as a string");
  bad("data-grid-float", "98010100 cb3ff0000000000000 02 03 c0 c400", C.WrongType, "grid 1.0 as float 64");
  bad("data-grid-uint64", "98010100 cf0000000000000001 02 03 c0 c400", C.WrongType, "grid as uint64: not accepted in Data");
  bad("data-grid-int8", "98010100 d001 02 03 c0 c400", C.WrongType, "grid as int8");
  bad("data-origin-c1", "98010100 01 c1 03 c0 c400", C.WrongType, "0xc1 where origin is: Data reports wrong-type, not malformed");
  bad("data-target-bool", "98010100 01 02 03 c2 c400", C.WrongType, "target false: nil or uint only");
  bad("data-payload-str", "98010100 01 02 03 c0 a0", C.WrongType, "payload as a string");
  bad("data-payload-bin32", "98010100 01 02 03 c0 c600000000", C.WrongType, "payload as bin32: only bin8 and bin16");
  bad("data-payload-bin32-4gib", "98010100 01 02 03 c0 c6ffffffff", C.WrongType, "bin32 declaring 4 GiB: rejected by its type byte");
  bad("data-payload-1151", "98010100 01 02 03 c0 c5047f" + "00".repeat(1151), C.WrongType, "payload 1151 bytes > 1150");
  bad("data-payload-bin16-65535", "98010100 01 02 03 c0 c5ffff", C.WrongType, "bin16 declaring 65535 bytes: over the limit before the length is checked");

  // Step 8b: MessagePack structure of every other kind.
  bad("truncated-ack-no-req", ack, C.Truncated, "Ack without its req");
  bad("truncated-ack-uint16", ack + "cd00", C.Truncated, "req's uint16 cut short");
  bad("truncated-hello-name", "940120 01 a5616c69", C.Truncated, "fixstr of 5 with 3 bytes");
  bad("trailing-ack", ack + "00 00", C.TrailingBytes, "one byte after a complete Ack");
  bad("trailing-nil", ack + "00 c0", C.TrailingBytes, "a nil after a complete Ack");
  bad("malformed-c1-in-ack", ack + "c1", C.Malformed, "reserved type byte 0xc1");
  bad("malformed-c1-in-join-reply", "980111 01 07 04 c1 01 04", C.Malformed, "0xc1 in JoinReply's positive");
  bad("malformed-map-in-field", ack + "81 00 00", C.Malformed, "a non-empty map: maps are never used");
  bad("malformed-fixext1", ack + "d4 01 02", C.Malformed, "ext type: fixext 1");
  bad("malformed-ext8-timestamp-empty", ack + "c7 00 ff", C.Malformed, "ext type -1 (timestamp) with no data");
  bad("malformed-str32-4gib", "940120 01 dbffffffff", C.Malformed, "Hello.name as str32 declaring 4 GiB");
  bad("malformed-str16-over-1200", "940120 01 da04b1", C.Malformed, "str16 declaring 1201 bytes");
  bad("malformed-bin32-4gib", "940120 01 c6ffffffff", C.Malformed, "bin32 declaring 4 GiB");
  bad("malformed-array32-4gib", "970127 01 02 07 03 ddffffffff", C.Malformed, "Heartbeat.links as array32 declaring 4 GiB");
  bad("malformed-array16-129-items", "970127 01 02 07 03 dc0081", C.Malformed, "array of 129 > 128 items, rejected at its header");

  // Step 9: field types and limits.
  bad("wrong-type-ack-req-nil", ack + "c0", C.WrongType, "req nil");
  bad("wrong-type-ack-req-true", ack + "c3", C.WrongType, "req true");
  bad("wrong-type-ack-req-str", ack + "a0", C.WrongType, "req as empty string");
  bad("wrong-type-negative-int", ack + "ff", C.WrongType, "req -1 (negative fixint)");
  bad("wrong-type-negative-int8", ack + "d080", C.WrongType, "req -128 (int8)");
  bad("wrong-type-float", ack + "cb3ff8000000000000", C.WrongType, "req 1.5 (float 64)");
  bad("wrong-type-float32-nan", ack + "ca7fc00000", C.WrongType, "req NaN (float 32)");
  bad("wrong-type-uint64-2pow32", ack + "cf0000000100000000", C.WrongType, "req 2^32 > u32");
  bad("wrong-type-empty-map", ack + "80", C.WrongType, "req as an empty map");
  bad("wrong-type-empty-array", ack + "90", C.WrongType, "req as an empty array");
  bad("wrong-type-ext8-empty", ack + "c70005", C.WrongType, "req as an empty ext of type 5");
  bad("wrong-type-bool-as-int", "980111 01 07 04 01 01 04", C.WrongType, "JoinReply.positive 1: bool expected");
  bad("wrong-type-u8-256", "980111 01 07 04 c3 cd0100 04", C.WrongType, "JoinReply.links 256 > 255");
  bad("wrong-type-u16-65536", "980122 01 02 a0 ce00010000 04 a0", C.WrongType, "CreateGrid.capacity 65536 > 65535");
  bad("wrong-type-str-33-bytes", "940120 01 d921" + "61".repeat(33), C.WrongType, "Hello.name 33 bytes > 32");
  bad("wrong-type-str-utf8-33-bytes", "940120 01 " + ref("€".repeat(11)), C.WrongType, "Hello.name 11 x U+20AC = 33 bytes > 32");
  bad("wrong-type-name-as-bin", "940120 01 c40161", C.WrongType, "Hello.name as bin");
  bad("wrong-type-list-65-links", ref([1, 0x27, 1, 2, 7, 3, Array.from({ length: 65 }, (_, i) => i)]), C.WrongType, "Heartbeat.links: 65 items > 64");
  bad("wrong-type-links-item-str", ref([1, 0x27, 1, 2, 7, 3, [1, "2"]]), C.WrongType, "Heartbeat.links[1] a string");
  bad("wrong-type-links-not-array", ref([1, 0x27, 1, 2, 7, 3, 4]), C.WrongType, "Heartbeat.links a uint");
  bad("wrong-type-members-33", ref([1, 0x43, 1, 7, 3, 0, 1, Array.from({ length: 33 }, (_, i) => [i, "a", 0])]), C.WrongType, "Members.members: 33 items > 32");
  bad("wrong-type-members-entry-arity", ref([1, 0x43, 1, 7, 3, 0, 1, [[1, "a"]]]), C.WrongType, "Members.members[0] has 2 elements, PeerEntry has 3");
  bad("wrong-type-members-addr-65", ref([1, 0x43, 1, 7, 3, 0, 1, [[1, "a".repeat(65), 0]]]), C.WrongType, "Members.members[0].addr 65 bytes > 64");
  bad("wrong-type-repair-hint-9-targets", ref([1, 0x49, 7, 3, true, Array.from({ length: 9 }, (_, i) => [i, "a"])]), C.WrongType, "RepairHint.targets: 9 items > 8");
  bad("wrong-type-grid-entry-meta-201", ref([1, 0x41, 1, 1, 0, [[1, "g", 0, 8, 2, "m".repeat(201)]]]), C.WrongType, "GridList.grids[0].meta 201 bytes > 200");
  bad("wrong-type-status-str", ref([1, 0x45, 1, 7, 4, "1", 0]), C.WrongType, "ConnStatusReply.status as a string");
  return out;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new Error(`bad hex: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const VECTOR_DIR = resolve(fileURLToPath(import.meta.url), "../../test/vectors");

/** The vector files as they are on disk, with {"$bin": hex} turned back into Uint8Array. */
export function readVectorFiles(): { text: { messages: string; invalid: string }; valid: Vector[]; invalid: InvalidVector[] } {
  const text = {
    messages: readFileSync(resolve(VECTOR_DIR, "messages.json"), "utf8"),
    invalid: readFileSync(resolve(VECTOR_DIR, "invalid.json"), "utf8"),
  };
  const reviver = (_key: string, value: unknown): unknown => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === "$bin" && typeof o.$bin === "string") return fromHex(o.$bin);
    }
    return value;
  };
  return {
    text,
    valid: JSON.parse(text.messages, reviver) as Vector[],
    invalid: JSON.parse(text.invalid) as InvalidVector[],
  };
}

/** The two files' contents, exactly as written (test/wire-vectors.test.ts compares them). */
export function vectorFiles(): { messages: string; invalid: string } {
  const valid = buildVectors();
  const replacer = (_key: string, value: unknown): unknown => (value instanceof Uint8Array ? { $bin: toHex(value) } : value);
  return {
    messages: JSON.stringify(valid, replacer, 2) + "\n",
    invalid: JSON.stringify(buildInvalid(valid), null, 2) + "\n",
  };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  const files = vectorFiles();
  writeFileSync(resolve(VECTOR_DIR, "messages.json"), files.messages);
  writeFileSync(resolve(VECTOR_DIR, "invalid.json"), files.invalid);
  console.log(`wrote ${VECTOR_DIR}/messages.json and invalid.json`);
}
