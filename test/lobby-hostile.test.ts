/**
 * Hostile input (STYLE.md 6, 10, 15): every bound is a typed reply or a counted drop; seeded
 * random and one-byte-corrupted datagrams never throw, every one is counted
 * (datagramsIn === accepted + sum of drops), and the lobby still serves an honest peer.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby, MIN_MAX_DATAGRAM_BYTES, type LobbyStats } from "../lib/lobby/index.ts";
import { randomInt, SeededRandom, type Random } from "../lib/rng.ts";
import { encode } from "../wire/codec.ts";
import type { FieldDef, Spec } from "../wire/fields.ts";
import { Kind, LobbyErrorCode, type KindValue } from "../wire/kinds.ts";
import { type Message, SCHEMAS } from "../wire/messages.ts";
import { RelayGridError } from "../wire/errors.ts";
import { MIN_HELLO_BYTES, TAG_BYTES } from "../wire/limits.ts";
import { Client, expectKind, Harness, helloMessage, joinMany } from "./lobby-harness.ts";

function counted(s: LobbyStats): void {
  const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
  assert.is(s.datagramsIn, s.accepted + drops, "every datagram is accepted or dropped by reason");
  assert.is(s.drops["internal-error"], undefined, "no handler threw");
}

/** An honest peer can still do everything afterwards. */
function stillServes(h: Harness, addr: string): void {
  const c = new Client(h, addr);
  c.hello("honest");
  const grid = c.create(`honest-${addr}`);
  const m = c.select(grid);
  assert.is(c.heartbeat(grid, m.peer, []).members, 1);
}

test("bound: maxSessions evicts the least recently used idle session, else refuses Hello", () => {
  const h = new Harness({ maxSessions: 3 });
  const [a, b, c, d] = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1"].map((x) => new Client(h, x)) as Client[] as [Client, Client, Client, Client];
  a.hello();
  const grid = a.create("g");
  a.select(grid);
  b.hello();
  b.select(grid);
  c.hello(); // idle: no membership
  d.hello(); // evicts c
  assert.is(h.lobby.footprint().sessions, 3);
  expectKind(c.send(Kind.ListGrids, { filter: "", offset: 0 })[0], Kind.UnknownSession);
  d.select(grid);
  // Every session now holds a membership: nothing can be evicted (the Retry still comes: it needs no state).
  assert.equal(c.tryHello("c", 99), []);
  assert.is(h.lobby.stats().drops["sessions-full"], 1);
  // Idle sessions are also forgotten after sessionIdleMs.
  const h2 = new Harness({ sessionIdleMs: 5000 });
  new Client(h2, "10.0.0.1:1").hello();
  h2.advance(5000);
  assert.is(h2.lobby.footprint().sessions, 0);
});

test("bound: requests per second per session (token bucket, charged after the frame authenticated)", () => {
  const h = new Harness({ requestsPerSecondPerSession: 10, requestBurstPerSession: 5 });
  const c = new Client(h, "10.0.0.1:1");
  c.hello(); // the handshake takes no session token
  const replies = [];
  for (let i = 0; i < 8; i++) replies.push(...c.send(Kind.ListGrids, { filter: "", offset: 0 }));
  const kinds = [Kind.GridList, Kind.GridList, Kind.GridList, Kind.GridList, Kind.GridList, Kind.Error];
  assert.equal(replies.map((r) => r.kind), kinds);
  assert.is(expectKind(replies[5], Kind.Error).code, LobbyErrorCode.RateLimited);
  assert.is(h.lobby.stats().drops["rate-limited"], 3);
  // Another session is not affected; the bucket refills with time.
  stillServes(h, "10.0.0.2:1");
  h.advance(300);
  assert.is(c.send(Kind.ListGrids, { filter: "", offset: 0 })[0]?.kind, Kind.GridList);
});

test("bound: members per grid, links per peer, datagram size, queues", () => {
  const h = new Harness({ maxMembersPerGrid: 3 });
  const c = new Client(h, "10.0.0.1:1");
  c.hello();
  const grid = c.create("g", 1000);
  assert.is(h.lobby.grids()[0]?.capacity, 3);
  const [p] = joinMany(h, grid, 1);
  for (let other = 100; other < 164; other++) p?.client.link(grid, p.peer, other);
  const err = expectKind(p?.client.call(Kind.ConnUpdate, { grid, peer: p.peer, other: 164, open: true }), Kind.Error);
  assert.match(err.detail, /64 links/);
  assert.is(h.lobby.membersOf(grid)?.[0]?.reported.length, 64);
  assert.equal(h.deliverBytes("10.0.0.9:1", new Uint8Array(1201)), []);
  assert.is(h.lobby.stats().drops.oversized, 1);

  // A driver that never drains: output and events stop growing at their bounds.
  const lobby = new Lobby({ random: new SeededRandom(1), maxQueuedTransmits: 10, maxQueuedEvents: 2 });
  for (let i = 0; i < 50; i++) lobby.handleDatagram(0, `10.1.0.${i}:1`, encode(helloMessage(i, "x")));
  assert.is(lobby.footprint().queuedTransmits, 10);
  assert.is(lobby.stats().transmitsDropped, 40);
});

test("replies to unvalidated sources are at most 3x the request; a short Hello is not answered", () => {
  const h = new Harness();
  // The largest Retry (a 5-byte req) against the smallest Hello the lobby answers.
  const hello = encode(helloMessage(0xffffffff, ""));
  assert.is(hello.length, MIN_HELLO_BYTES);
  const [retry] = h.deliverRaw("10.0.0.1:1", hello);
  assert.ok(retry !== undefined && retry.msg.kind === Kind.Retry);
  assert.ok(retry.bytes.length <= 3 * hello.length, `Retry ${retry.bytes.length} bytes for a ${hello.length}-byte Hello`);
  // One byte short: dropped unanswered, whatever it carries.
  const padded = helloMessage(1, "");
  const short = encode({ ...padded, pad: padded.pad.subarray(1) });
  assert.is(short.length, MIN_HELLO_BYTES - 1);
  assert.equal(h.deliverBytes("10.0.0.1:1", short), []);
  assert.is(h.lobby.stats().drops["short-hello"], 1);
  const leave = encode({ kind: Kind.Leave, req: 0xffffffff, session: 1, grid: 0, peer: 0 });
  const [unknown] = h.deliverRaw("10.0.0.2:1", leave);
  assert.ok(unknown !== undefined && unknown.bytes.length <= 3 * leave.length);
});

test("out-of-order requests get typed answers and change nothing", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:1");
  c.session = 5; // before any Hello (so no session key: the request goes bare)
  expectKind(c.sendBare(Kind.SelectGrid, { grid: 1, limit: 4, part: 0, role: 0 })[0], Kind.UnknownSession);
  c.hello();
  const grid = c.create("g");
  // Reports before selecting the grid: the session holds no peer there.
  const early = expectKind(c.call(Kind.ConnUpdate, { grid, peer: 1, other: 2, open: true }), Kind.Error);
  assert.is(early.code, LobbyErrorCode.BadRequest);
  assert.is(expectKind(c.call(Kind.Heartbeat, { grid: 999, peer: 1, links: [] }), Kind.Error).code, LobbyErrorCode.UnknownGrid);
  assert.is(expectKind(c.call(Kind.ConnStatus, { grid, peer: 1, other: 2 }), Kind.Error).code, LobbyErrorCode.BadRequest);
  // A ProbeReply before any Probe, and a Leave before joining.
  assert.equal(c.send(Kind.ProbeReply, { grid, peer: 1, other: 2, linked: true }), []);
  assert.is(h.lobby.stats().drops["not-member"], 1);
  expectKind(c.call(Kind.Leave, { grid, peer: 1 }), Kind.Ack);
  assert.is(h.lobby.stats().peers, 0);
  // Asking for a later part first still admits, and says how many parts there are.
  const late = c.select(grid, 4, 3);
  assert.equal([late.peer, late.part, late.parts, late.members], [1, 3, 1, []]);
  assert.is(h.lobby.stats().peers, 1);
});

test("PROTOCOL.md 6.10: a session request outside a frame gets Error Unauthenticated, at most 3x its size and once a second, and changes nothing", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:1");
  c.hello();
  const bare = encode({ kind: Kind.CreateGrid, req: 7, session: c.session, name: "g", capacity: 0, limit: 4, meta: "" });
  const [first] = h.deliverRaw(c.addr, bare);
  assert.ok(first !== undefined && first.bytes.length <= 3 * bare.length, `${first?.bytes.length} bytes for ${bare.length}`);
  assert.is(expectKind(first.msg, Kind.Error).code, LobbyErrorCode.Unauthenticated);
  for (let i = 0; i < 10; i++) assert.equal(h.deliverRaw(c.addr, bare), [], "once a second");
  h.advance(1_000);
  assert.is(h.deliverRaw(c.addr, bare).length, 1);
  assert.equal(h.lobby.grids(), [], "no grid was created");
  assert.is(h.lobby.stats().drops.unframed, 12);
  // A frame whose tag does not verify, or a replayed one, is dropped unanswered.
  const f = c.frame({ kind: Kind.ListGrids, req: 8, session: c.session, filter: "", offset: 0 });
  const forged = f.slice();
  forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
  assert.equal(h.deliverRaw(c.addr, forged), []);
  assert.is(h.deliverRaw(c.addr, f).length, 1);
  assert.equal(h.deliverRaw(c.addr, f), [], "a replay");
  assert.equal([h.lobby.stats().drops["bad-mac"], h.lobby.stats().drops.replay], [1, 1]);
});

test("kinds the lobby never accepts are dropped as unexpected-kind, unanswered", () => {
  const h = new Harness();
  const rng = new SeededRandom(5);
  // Lobby-bound requests are Hello..Rejoin, JoinToken and the session frame (PROTOCOL.md 3); everything else is foreign to it.
  const foreign = (Object.values(Kind) as KindValue[]).filter((k) => (k < Kind.Hello || k > Kind.Rejoin) && k !== Kind.SessionFrame && k !== Kind.JoinToken);
  for (const kind of foreign) assert.equal(h.deliverBytes("10.0.0.1:1", encode(sample(kind, rng, 0))), [], `kind ${kind}`);
  assert.is(h.lobby.stats().drops["unexpected-kind"], foreign.length);
});

test("close tells every session, clips the reason, and stops serving", () => {
  const h = new Harness();
  const clients = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"].map((a) => new Client(h, a));
  for (const c of clients) c.hello();
  h.lobby.close(h.nowMs, "é".repeat(100));
  h.drain();
  const sent = h.take();
  assert.equal(sent.map((s) => s.to).sort(), clients.map((c) => c.addr).sort());
  for (const s of sent) assert.equal(s.msg, { kind: Kind.LobbyClosing, reason: "é".repeat(64) });
  assert.equal(h.deliver("10.0.0.1:1", helloMessage(50, "late")), []);
  assert.is(h.lobby.stats().drops.closed, 1);
  assert.is(h.lobby.pollTimeout(), undefined);
});

test("time going backwards is ignored", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:1");
  c.hello();
  const grid = c.create("g");
  const p = c.select(grid).peer;
  h.advance(6000);
  c.heartbeat(grid, p, []);
  h.nowMs = 1000; // the driver's clock jumps back
  h.lobby.handleTimeout(1000);
  h.nowMs = 12_000;
  h.lobby.handleTimeout(12_000);
  assert.is(h.lobby.membersOf(grid)?.length, 1, "heard at 6000, expires at 13000");
});

test("config: a bad option throws invalid-config saying which", () => {
  assert.throws(() => new Lobby({ random: new SeededRandom(1), maxGrids: 0 }), (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config" && /maxGrids/.test(e.message));
  assert.throws(
    () => new Lobby({ random: new SeededRandom(1), maxDatagramBytes: 100 }),
    new RegExp(`maxDatagramBytes must be an integer from ${MIN_MAX_DATAGRAM_BYTES}`),
  );
  assert.throws(() => new Lobby({} as never), /random is required/);
});

/** A random value for one field spec. */
function value(spec: Spec, rng: Random, session: number): unknown {
  switch (spec.t) {
    case "uint":
      return rng.next() < 0.5 ? randomInt(rng, Math.min(spec.max, 20) + 1) : randomInt(rng, spec.max + 1);
    case "optUint":
      return rng.next() < 0.3 ? null : randomInt(rng, spec.max + 1);
    case "bool":
      return rng.next() < 0.5;
    case "str":
      return "abcdefghij".slice(0, randomInt(rng, Math.min(spec.maxBytes, 10) + 1));
    case "bin":
      return new Uint8Array(randomInt(rng, Math.min(spec.maxBytes, 40) + 1));
    case "uints":
      return Array.from({ length: randomInt(rng, 5) }, () => randomInt(rng, 12));
    case "list":
      return Array.from({ length: randomInt(rng, 3) }, () =>
        Object.fromEntries(spec.of.map(([name, s]: FieldDef) => [name, value(s, rng, session)])),
      );
  }
}

/** A valid message of `kind` with random fields; `session` (when nonzero) is used for the session field. */
function sample(kind: KindValue, rng: Random, session: number): Message {
  const msg: Record<string, unknown> = { kind };
  for (const [name, spec] of SCHEMAS[kind] as readonly FieldDef[]) {
    msg[name] =
      name === "session" && session !== 0
        ? session
        : name === "grid" || name === "peer" || name === "other"
          ? randomInt(rng, 4)
          : name === "tag"
            ? new Uint8Array(TAG_BYTES) // the grid-key tag is exactly TAG_BYTES (Data's encoder insists)
            : value(spec, rng, session);
  }
  return msg as unknown as Message;
}

test("seeded random and one-byte-corrupted datagrams never throw, are counted, and leave a working lobby", () => {
  // No rate limit here: the sweep is about what reaches the decoder and the handlers.
  const h = new Harness({ requestsPerSecondPerSession: 1_000_000, requestBurstPerSession: 1_000_000 }, 21);
  const rng = new SeededRandom(2024);
  // Honest traffic to corrupt: real sessions, a grid, members and links.
  const owner = new Client(h, "10.0.0.1:1");
  owner.hello();
  const grid = owner.create("g");
  const peers = joinMany(h, grid, 3);
  const valid: { from: string; bytes: Uint8Array }[] = [];
  const kinds = Object.values(Kind) as KindValue[];
  for (const p of peers) {
    const base = { session: p.client.session, grid, peer: p.peer };
    const msgs: Message[] = [
      helloMessage(1, "p"),
      { kind: Kind.ListGrids, req: 2, session: base.session, filter: "", offset: 0 },
      { kind: Kind.CreateGrid, req: 3, session: base.session, name: `x${p.peer}`, capacity: 4, limit: 3, meta: "m" },
      { kind: Kind.SelectGrid, req: 4, ...base, grid, limit: 4, part: 0, role: 0 },
      { kind: Kind.ConnUpdate, req: 5, ...base, other: 1, open: true },
      { kind: Kind.ConnStatus, req: 6, ...base, other: 2 },
      { kind: Kind.ProbeReply, req: 7, ...base, other: 3, linked: true },
      { kind: Kind.Heartbeat, req: 8, ...base, links: [1, 2, 3] },
      { kind: Kind.Leave, req: 9, ...base },
      { kind: Kind.Rejoin, req: 10, ...base, name: "g", limit: 4, links: [1], epoch: 1, sealed: new Uint8Array(0) },
      ...kinds.map((k) => sample(k, rng, p.client.session)),
    ];
    for (const m of msgs) valid.push({ from: p.client.addr, bytes: encode(m) });
    // The Hello that opened its session, cookie and all (valid until the sweep's clock moves past it).
    valid.push({ from: p.client.addr, bytes: p.client.lastHello as Uint8Array });
  }
  const before = h.lobby.stats().datagramsIn;
  // Valid samples of every kind first, then one-byte corruptions.
  for (const v of valid) h.deliverBytes(v.from, v.bytes);
  for (let i = 0; i < 20_000; i++) {
    const v = valid[randomInt(rng, valid.length)] as { from: string; bytes: Uint8Array };
    const bytes = v.bytes.slice();
    const at = randomInt(rng, bytes.length);
    bytes[at] = ((bytes[at] as number) + 1 + randomInt(rng, 255)) & 0xff;
    h.deliverBytes(v.from, bytes);
    if (i % 100 === 0) h.advance(50);
  }
  const s = h.lobby.stats();
  counted(s);
  assert.is(s.datagramsIn, before + valid.length + 20_000);
  stillServes(h, "10.9.9.9:1");
});

test("memory stays bounded after 100k garbage datagrams from 10k addresses", () => {
  const limits = { maxSessions: 500, maxTrackedSources: 2000, maxGrids: 50 };
  const h = new Harness(limits, 5);
  const rng = new SeededRandom(99);
  const kinds = Object.values(Kind) as KindValue[];
  for (let i = 0; i < 100_000; i++) {
    const from = `172.16.${randomInt(rng, 40)}.${randomInt(rng, 250)}:${1000 + randomInt(rng, 1)}`;
    const roll = rng.next();
    let bytes: Uint8Array;
    if (roll < 0.4) {
      bytes = new Uint8Array(randomInt(rng, 1300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rng.nextU32() & 0xff;
    } else if (roll < 0.7) {
      // Plausible headers, random rest.
      bytes = new Uint8Array(3 + randomInt(rng, 60));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rng.nextU32() & 0xff;
      bytes[0] = 0x90 | randomInt(rng, 16);
      bytes[1] = 1;
      bytes[2] = kinds[randomInt(rng, kinds.length)] as number;
    } else {
      bytes = encode(sample(kinds[randomInt(rng, kinds.length)] as KindValue, rng, 0));
    }
    h.lobby.handleDatagram(h.nowMs, from, bytes);
    if (i % 64 === 0) h.advance(5);
    for (let t = h.lobby.pollTransmit(); t !== undefined; t = h.lobby.pollTransmit());
    for (let e = h.lobby.pollEvent(); e !== undefined; e = h.lobby.pollEvent());
  }
  const f = h.lobby.footprint();
  assert.ok(f.sessions <= limits.maxSessions, `sessions ${f.sessions}`);
  assert.ok(f.sources <= limits.maxTrackedSources, `sources ${f.sources}`);
  assert.ok(f.grids <= limits.maxGrids, `grids ${f.grids}`);
  assert.is(f.peers, 0, "garbage cannot join: it never learns a session");
  assert.equal([f.pendingEdges, f.probes, f.timers, f.queuedTransmits, f.queuedEvents], [0, 0, f.timers, 0, 0]);
  assert.ok(f.timers <= limits.maxGrids);
  counted(h.lobby.stats());
  stillServes(h, "10.9.9.9:1");
});

test.run();
