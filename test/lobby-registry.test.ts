import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind, LobbyErrorCode } from "../wire/kinds.ts";
import type { MessageOf } from "../wire/messages.ts";
import { Client, expectKind, Harness, joinMany } from "./lobby-harness.ts";

test("claim 25/35: create grid is registered and confirmed", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:4000");
  const w = c.hello("creator");
  assert.ok(w.session !== 0);
  assert.is(w.heartbeatMs, 2000);
  const created = expectKind(c.call(Kind.CreateGrid, { name: "arena", capacity: 16, limit: 3, meta: "map=dust" }), Kind.GridCreated);
  assert.ok(created.grid !== 0);
  assert.is(created.name, "arena");
  assert.equal(h.lobby.grids(), [
    { grid: created.grid, name: "arena", capacity: 16, limit: 3, meta: "map=dust", members: 0, links: 0, components: 0 },
  ]);
  assert.equal(h.takeEvents(), [{ type: "gridCreated", grid: created.grid, name: "arena", restored: false }]);
  // The creator is not a member until it selects the grid (claim 24 follows claim 25).
  assert.equal(h.lobby.membersOf(created.grid), []);
  const list = expectKind(c.call(Kind.ListGrids, { filter: "", offset: 0 }), Kind.GridList);
  assert.equal(list.grids, [{ grid: created.grid, name: "arena", members: 0, capacity: 16, limit: 3, meta: "map=dust" }]);
  // Capacity 0 (or above the bound) means maxMembersPerGrid.
  assert.is(h.lobby.grids().length, 1);
  const g2 = c.create("open", 0);
  assert.is(h.lobby.grids().find((g) => g.grid === g2)?.capacity, 256);
});

test("claim 24: list grids pages at the datagram limit", () => {
  const h = new Harness({ maxGridsPerHost: 60 }); // one client creates them all
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  const ids: number[] = [];
  for (let i = 0; i < 60; i++) ids.push(c.create(i % 3 === 0 ? `Arena-${i}` : `room-${i}`, 8, 4, "m".repeat(200)));
  const seen: number[] = [];
  let offset = 0;
  let pages = 0;
  for (;;) {
    const replies = c.send(Kind.ListGrids, { filter: "", offset });
    const sent = expectKind(replies[0], Kind.GridList);
    assert.is(sent.total, 60);
    assert.is(sent.offset, offset);
    pages++;
    if (sent.grids.length === 0) break;
    seen.push(...sent.grids.map((g) => g.grid));
    offset += sent.grids.length;
  }
  // Every grid exactly once, in creation order, over several datagrams (the harness checks each fits 1200 bytes).
  assert.equal(seen, ids);
  assert.ok(pages > 3, `${pages} pages`);
  const filtered = expectKind(c.call(Kind.ListGrids, { filter: "arena", offset: 0 }), Kind.GridList);
  assert.is(filtered.total, 20);
  assert.ok(filtered.grids.every((g) => g.name.startsWith("Arena-")));
  const past = expectKind(c.call(Kind.ListGrids, { filter: "", offset: 1000 }), Kind.GridList);
  assert.equal([past.total, past.offset, past.grids.length], [60, 60, 0]);
});

test("claim 24: select admits and returns member addresses split over parts", () => {
  // the whole list up to 100 other members (the default is 64); 80 members in one /64
  const h = new Harness({ memberListLimit: 100, maxSessionsPerHost: 100, maxMembersPerGridPerHost: 100, handshakeBurstPerHost: 100 });
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("big", 200);
  const joined: { addr: string; peer: number }[] = [];
  for (let i = 0; i < 80; i++) {
    const c = new Client(h, `[2001:db8:aaaa:bbbb:cccc:dddd:eeee:${(i + 1).toString(16)}]:40000`);
    c.hello();
    const m = c.select(grid, 4);
    assert.is(m.peer, i + 1, "peer ids count up from 1");
    assert.is(m.grid, grid);
    joined.push({ addr: c.addr, peer: m.peer });
  }
  const late = new Client(h, "10.0.0.99:4000");
  late.hello();
  const first = late.select(grid, 4, 0);
  assert.is(first.peer, 81);
  assert.ok(first.parts > 1, `${first.parts} parts`);
  const all = [...first.members];
  for (let part = 1; part < first.parts; part++) {
    const m = late.select(grid, 4, part);
    assert.is(m.peer, 81, "selecting again keeps the id");
    assert.is(m.part, part);
    all.push(...m.members);
  }
  assert.equal(all, joined.map((j) => ({ peer: j.peer, addr: j.addr, links: 0 })));
  assert.is(h.lobby.membersOf(grid)?.length, 81);
  const beyond = late.select(grid, 4, first.parts);
  assert.equal(beyond.members, []);
});

test("issue 16 item 4: a grid above memberListLimit hands each joiner a sample in one part: members with a free link first, the main component's before the rest, never itself", () => {
  const h = new Harness({ memberListLimit: 20 });
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("big", 300);
  const ps = joinMany(h, grid, 120, 2);
  // 1..100 in pairs (each at its limit of 2 once linked twice: a ring of 100); 101..120 free.
  for (let i = 0; i < 100; i++) {
    const a = ps[i] as (typeof ps)[number];
    const b = ps[(i + 1) % 100] as (typeof ps)[number];
    a.client.link(grid, a.peer, b.peer);
    b.client.link(grid, b.peer, a.peer);
  }
  // 101..110 joined to the ring by one link each, through members that raise their limit.
  for (let i = 100; i < 110; i++) {
    const hub = ps[i - 100] as (typeof ps)[number];
    const leaf = ps[i] as (typeof ps)[number];
    hub.client.select(grid, 3);
    hub.client.link(grid, hub.peer, leaf.peer);
    leaf.client.link(grid, leaf.peer, hub.peer);
  }
  h.advance(100); // the component check labels the main component
  const late = new Client(h, "10.0.9.9:4000");
  late.hello();
  const m = late.select(grid, 4);
  assert.is(m.parts, 1);
  assert.ok(m.members.length === 32, `${m.members.length} entries`);
  const ids = m.members.map((e) => e.peer);
  assert.is(new Set(ids).size, ids.length, "no member twice");
  assert.not.ok(ids.includes(m.peer), "not itself");
  // Free links first: 101..120 (20 of them, 10 in the main component) come before any full member.
  const free = new Set(ps.slice(100).map((p) => p.peer));
  const firstFull = ids.findIndex((id) => !free.has(id));
  assert.is(firstFull, 20, `the 20 members with a free link lead the sample: ${ids}`);
  const mainFree = new Set(ps.slice(100, 110).map((p) => p.peer));
  assert.ok(ids.slice(0, 10).every((id) => mainFree.has(id)), "and of those, the main component's first");
  // A part past the first is empty, as for any list.
  assert.equal(late.select(grid, 4, 1).members, []);
  // The whole list up to the limit: 20 other members are listed in full, by id.
  const h2 = new Harness({ memberListLimit: 20 });
  const o2 = new Client(h2, "10.0.0.1:4000");
  o2.hello();
  const g2 = o2.create("small");
  const few = joinMany(h2, g2, 21);
  const full = (few[20] as (typeof few)[number]).client.select(g2);
  assert.equal(full.members.map((e) => e.peer), few.slice(0, 20).map((p) => p.peer));
});

test("idempotent retransmitted requests", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:4000");
  const w1 = c.hello("p", 7);
  // The Hello retransmitted (same bytes: req, key, cookie): the same Welcome, byte for byte, and no second handshake.
  const first = h.lobby.stats().handshakes;
  const [resent] = h.deliverRaw(c.addr, c.lastHello as Uint8Array);
  assert.is(expectKind(resent?.msg, Kind.Welcome).session, w1.session, "a repeated Hello gets the same session");
  const [third] = h.deliverRaw(c.addr, c.lastHello as Uint8Array);
  assert.equal(third?.bytes, resent?.bytes);
  assert.is(h.lobby.stats().handshakes, first);
  const other = new Client(h, "10.0.0.2:4000");
  assert.is.not(other.hello("p", 7).session, w1.session);
  const w3 = c.hello("p", 8);
  assert.is.not(w3.session, w1.session, "a new Hello req opens a new session");

  const create = { name: "arena", capacity: 8, limit: 4, meta: "" };
  const g1 = expectKind(c.call(Kind.CreateGrid, create, 100), Kind.GridCreated);
  const g2 = expectKind(c.call(Kind.CreateGrid, create, 100), Kind.GridCreated);
  assert.is(g2.grid, g1.grid);
  assert.is(h.lobby.grids().length, 1);
  const again = expectKind(c.call(Kind.CreateGrid, create, 101), Kind.Error);
  assert.is(again.code, LobbyErrorCode.NameTaken);

  const s1 = c.select(g1.grid);
  const s2 = c.select(g1.grid);
  assert.is(s2.peer, s1.peer);
  assert.is(h.lobby.membersOf(g1.grid)?.length, 1);

  other.hello("q", 9);
  const o = other.select(g1.grid);
  for (let i = 0; i < 3; i++) c.link(g1.grid, s1.peer, o.peer);
  other.link(g1.grid, o.peer, s1.peer);
  other.link(g1.grid, o.peer, s1.peer);
  assert.is(h.lobby.stats().links, 1);

  const leave = { grid: g1.grid, peer: s1.peer };
  expectKind(c.call(Kind.Leave, leave, 200), Kind.Ack);
  expectKind(c.call(Kind.Leave, leave, 200), Kind.Ack);
  assert.is(h.lobby.membersOf(g1.grid)?.length, 1);
  assert.is(h.lobby.stats().links, 0);
});

test("unknown session -> UnknownSession", () => {
  const h = new Harness();
  const replies = h.deliver("10.0.0.1:4000", { kind: Kind.ListGrids, req: 42, session: 12345, filter: "", offset: 0 });
  assert.equal(replies, [{ kind: Kind.UnknownSession, req: 42 }]);
  assert.is(h.lobby.stats().drops["unknown-session"], 1);

  // A session used from another address is dropped without a reply.
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  const stolen = h.deliver("10.0.0.66:4000", { kind: Kind.ListGrids, req: 1, session: c.session, filter: "", offset: 0 });
  assert.equal(stolen, []);
  assert.is(h.lobby.stats().drops["address-mismatch"], 1);
});

test("grid full", () => {
  const h = new Harness();
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("duo", 2);
  joinMany(h, grid, 2);
  const third = new Client(h, "10.9.9.9:4000");
  third.hello();
  const err = expectKind(third.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), Kind.Error);
  assert.is(err.code, LobbyErrorCode.GridFull);
  assert.match(err.detail, /capacity 2/);
  const unknown = expectKind(third.call(Kind.SelectGrid, { grid: (grid ^ 1) >>> 0, limit: 4, part: 0, role: 0 }), Kind.Error);
  assert.is(unknown.code, LobbyErrorCode.UnknownGrid);
});

test("name taken", () => {
  const h = new Harness();
  const a = new Client(h, "10.0.0.1:4000");
  const b = new Client(h, "10.0.0.2:4000");
  a.hello();
  b.hello();
  a.create("arena");
  const err: MessageOf<typeof Kind.Error> = expectKind(
    b.call(Kind.CreateGrid, { name: "arena", capacity: 0, limit: 4, meta: "" }),
    Kind.Error,
  );
  assert.is(err.code, LobbyErrorCode.NameTaken);
  assert.match(err.detail, /arena/);
  const empty = expectKind(b.call(Kind.CreateGrid, { name: "", capacity: 0, limit: 4, meta: "" }), Kind.Error);
  assert.is(empty.code, LobbyErrorCode.BadRequest);
});

test("max grids", () => {
  const h = new Harness({ maxGrids: 3 });
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  for (let i = 0; i < 3; i++) c.create(`g${i}`);
  const err = expectKind(c.call(Kind.CreateGrid, { name: "g3", capacity: 0, limit: 4, meta: "" }), Kind.Error);
  assert.is(err.code, LobbyErrorCode.TooManyGrids);
  assert.match(err.detail, /maxGrids 3/);
  assert.is(h.lobby.stats().errorsSent.TooManyGrids, 1);
});

test.run();
