import { test } from "uvu";
import * as assert from "uvu/assert";
import { LobbyTimer } from "../lib/lobby/index.ts";
import { Kind, LinkStatus } from "../wire/kinds.ts";
import { Client, expectKind, Harness, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";

function setup(n: number, config = {}): { h: Harness; grid: number; peers: Joined[] } {
  const h = new Harness(config);
  const owner = new Client(h, "10.1.0.1:4000");
  owner.hello();
  const grid = owner.create("g");
  const peers = joinMany(h, grid, n);
  h.takeEvents();
  return { h, grid, peers };
}

/** Every listed peer heartbeats with its current reported set (keeps it alive, changes nothing). */
function heartbeat(h: Harness, grid: number, peers: Joined[]): void {
  const members = h.lobby.membersOf(grid) ?? [];
  for (const p of peers) p.client.heartbeat(grid, p.peer, members.find((m) => m.peer === p.peer)?.reported ?? []);
}

test("claim 44/51: connection updates maintain the graph", () => {
  const { h, grid, peers } = setup(4);
  const [a, b, c, d] = peers as [Joined, Joined, Joined, Joined];
  linkBoth(grid, a, b);
  linkBoth(grid, b, c);
  a.client.link(grid, a.peer, c.peer); // only a reports a-c: not confirmed
  assert.equal(h.lobby.graphOf(grid), new Map([[a.peer, [b.peer]], [b.peer, [a.peer, c.peer]], [c.peer, [b.peer]], [d.peer, []]]));
  assert.is(h.lobby.stats().links, 2);
  assert.equal(h.lobby.componentsOf(grid), [[a.peer, b.peer, c.peer], [d.peer]]);
  // The Members reply carries each member's confirmed link count.
  const view = d.client.select(grid);
  assert.equal(view.members.map((m) => [m.peer, m.links]), [[a.peer, 1], [b.peer, 2], [c.peer, 1]]);
  // Claim 51: a closed link leaves the graph when either end reports it closed.
  c.client.link(grid, c.peer, b.peer, false);
  assert.is(h.lobby.stats().links, 1);
  // A heartbeat's link list replaces the reported set wholesale.
  const ack = d.client.heartbeat(grid, d.peer, [a.peer, b.peer, d.peer]);
  assert.is(ack.members, 4);
  a.client.heartbeat(grid, a.peer, [d.peer]);
  assert.equal(h.lobby.graphOf(grid)?.get(a.peer), [d.peer]);
  assert.equal(h.lobby.membersOf(grid)?.find((m) => m.peer === d.peer)?.reported, [a.peer, b.peer], "self-links are ignored");
  // Reports about a peer the session does not hold are refused with a hint to Rejoin.
  const err = expectKind(a.client.call(Kind.ConnUpdate, { grid, peer: b.peer, other: c.peer, open: true }), Kind.Error);
  assert.match(err.detail, /Rejoin/);
});

test("contradictory reports are reconciled by probe", () => {
  const { h, grid, peers } = setup(2);
  const [a, b] = peers as [Joined, Joined];
  // a says open, b says closed.
  a.client.link(grid, a.peer, b.peer, true);
  b.client.link(grid, b.peer, a.peer, false);
  assert.is(h.lobby.stats().links, 0);
  h.take();
  h.advance(2000);
  heartbeat(h, grid, peers);
  assert.equal(h.takeOf(b.client.addr, Kind.Probe), [], "no probe before unconfirmedEdgeMs");
  h.advance(2000);
  const probe = expectKind(h.takeOf(b.client.addr, Kind.Probe)[0], Kind.Probe);
  assert.equal({ ...probe, req: 0 }, { kind: Kind.Probe, req: 0, grid, peer: b.peer, other: a.peer });
  // A lost probe is sent again one interval later.
  heartbeat(h, grid, peers);
  h.advance(4000);
  const again = expectKind(h.takeOf(b.client.addr, Kind.Probe)[0], Kind.Probe);
  assert.is.not(again.req, probe.req);
  // b, the silent end, settles it: not linked, so a's one-sided report is dropped too.
  assert.equal(b.client.send(Kind.ProbeReply, { grid, peer: b.peer, other: a.peer, linked: false }, again.req), []);
  assert.equal(h.lobby.membersOf(grid)?.find((m) => m.peer === a.peer)?.reported, []);
  heartbeat(h, grid, peers);
  h.advance(4000);
  assert.equal(h.takeOf(b.client.addr, Kind.Probe), [], "settled: no more probes");

  // The other way: b's report was stale, and its answer confirms the link.
  a.client.link(grid, a.peer, b.peer, true);
  heartbeat(h, grid, peers);
  h.advance(4000);
  const third = expectKind(h.takeOf(b.client.addr, Kind.Probe)[0], Kind.Probe);
  b.client.send(Kind.ProbeReply, { grid, peer: b.peer, other: a.peer, linked: true }, third.req);
  assert.is(h.lobby.stats().links, 1);
  // A reply to no probe changes nothing and is counted.
  b.client.send(Kind.ProbeReply, { grid, peer: b.peer, other: a.peer, linked: false }, 999_999);
  assert.is(h.lobby.stats().links, 1);
  assert.is(h.lobby.stats().drops["unsolicited-probe-reply"], 1);
});

test("claim 50: connection status tells a dead peer from a broken link", () => {
  const { h, grid, peers } = setup(3);
  const [a, b, c] = peers as [Joined, Joined, Joined];
  linkBoth(grid, a, b);
  linkBoth(grid, a, c);
  h.advance(1000);
  heartbeat(h, grid, [a, b]);
  // b is alive: the link a-b broke, not b.
  const alive = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: b.peer }), Kind.ConnStatusReply);
  assert.equal([alive.status, alive.silentMs, alive.other], [LinkStatus.Alive, 0, b.peer]);
  assert.equal(h.lobby.graphOf(grid)?.get(a.peer), [c.peer], "the edge is removed from the asking side");
  // c has been silent for 3500 ms (> 1.5 heartbeats): the lobby checks with it.
  h.advance(2500);
  heartbeat(h, grid, [a, b]);
  const checking = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: c.peer }), Kind.ConnStatusReply);
  assert.equal([checking.status, checking.silentMs], [LinkStatus.Checking, 3500]);
  const probe = expectKind(h.takeOf(c.client.addr, Kind.Probe)[0], Kind.Probe);
  assert.equal([probe.peer, probe.other], [c.peer, a.peer]);
  // c never answers: it expires at expireAfterMs (7000 ms after it was last heard) like any silent peer.
  h.advance(3000);
  heartbeat(h, grid, [a, b]);
  h.advance(500);
  assert.ok(h.takeEvents().some((e) => e.type === "peerExpired" && e.peer === c.peer));
  const gone = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: c.peer }), Kind.ConnStatusReply);
  assert.is(gone.status, LinkStatus.Gone);
});

test("claim 50: a probed peer that answers is alive again", () => {
  const { h, grid, peers } = setup(2);
  const [a, b] = peers as [Joined, Joined];
  linkBoth(grid, a, b);
  h.advance(4000);
  heartbeat(h, grid, [a]);
  expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: b.peer }), Kind.ConnStatusReply);
  const probe = expectKind(h.takeOf(b.client.addr, Kind.Probe)[0], Kind.Probe);
  b.client.send(Kind.ProbeReply, { grid, peer: b.peer, other: a.peer, linked: false }, probe.req);
  const alive = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: b.peer }), Kind.ConnStatusReply);
  assert.is(alive.status, LinkStatus.Alive);
  assert.is(h.lobby.stats().links, 0);
});

test("silent peer expires with its edges", () => {
  const { h, grid, peers } = setup(3);
  const [a, b, c] = peers as [Joined, Joined, Joined];
  linkBoth(grid, a, b);
  linkBoth(grid, b, c);
  assert.is(h.lobby.stats().links, 2);
  for (let t = 0; t < 6; t++) {
    h.advance(1000);
    heartbeat(h, grid, [a, b]);
  }
  assert.is(h.lobby.nextTimer()?.name, LobbyTimer.PeerExpiry);
  assert.is(h.lobby.pollTimeout(), 7000, "c's deadline: last heard at 0 + expireAfterMs");
  h.advance(999);
  assert.is(h.lobby.membersOf(grid)?.length, 3);
  h.advance(1);
  assert.equal(h.takeEvents(), [{ type: "peerExpired", grid, peer: c.peer, silentMs: 7000 }]);
  assert.equal(h.lobby.graphOf(grid), new Map([[a.peer, [b.peer]], [b.peer, [a.peer]]]));
  assert.equal(h.lobby.membersOf(grid)?.find((m) => m.peer === b.peer)?.reported, [a.peer]);
  // Its session no longer holds it: a heartbeat from it is told to Rejoin.
  const err = expectKind(c.client.call(Kind.Heartbeat, { grid, peer: c.peer, links: [] }), Kind.Error);
  assert.match(err.detail, /Rejoin/);
});

test("empty grid removed after grace", () => {
  const { h, grid, peers } = setup(1);
  const [a] = peers as [Joined];
  h.advance(500);
  expectKind(a.client.call(Kind.Leave, { grid, peer: a.peer }), Kind.Ack);
  assert.equal(h.takeEvents(), [{ type: "peerLeft", grid, peer: a.peer, reason: "leave" }]);
  h.advance(29_999);
  assert.is(h.lobby.grids().length, 1);
  h.advance(1);
  assert.equal(h.takeEvents(), [{ type: "gridRemoved", grid, name: "g" }]);
  assert.equal(h.lobby.grids(), []);
  // A grid nobody selects goes sooner, after unselectedGridGraceMs (5000: issue 15, a host
  // creating grids it never uses must not hold the grid table); one selected in time stays.
  const c = new Client(h, "10.2.0.1:4000");
  c.hello();
  const lonely = c.create("lonely");
  const kept = c.create("kept");
  h.advance(4_999);
  c.select(kept);
  assert.is(h.lobby.grids().length, 2);
  h.advance(1);
  assert.equal(h.lobby.grids().map((g) => g.grid), [kept]);
  h.advance(30_000);
  assert.equal(h.lobby.grids().map((g) => g.grid), [kept]);
  assert.ok(h.takeEvents().some((e) => e.type === "gridRemoved" && e.grid === lonely));
});

test.run();
