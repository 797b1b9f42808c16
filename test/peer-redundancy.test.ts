/**
 * Redundancy lists (US 7,685,301) and repair in running grids (PROTOCOL.md 4.2.1): after an
 * origin's first message each member gets its messages once, over one path, and what the grid
 * loses (lost datagrams, a pruned path that became the only one, a neighbour that died, a link
 * that closed and opened again) is repaired, each broadcast delivered exactly once. The relay
 * inspector checks claims 15-17 on every Data and Repair transmit.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind, newRelayHeader, readRelay } from "../wire/index.ts";
import { broadcastFrom, capture, mesh, notExactlyOnce, ofKind } from "./support/peer-scenarios.ts";
import { settledGrid } from "./support/settled-grid.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

type Sent = { origin: number; seq: number };

/** Every member in `from` broadcasts once per `everyMs` for `ms`; returns what was sent. */
function play(g: SimGrid, from: readonly PeerNode[], ms: number, everyMs = 100): Sent[] {
  const sent: Sent[] = [];
  for (let t = 0; t < ms; t += everyMs) {
    for (const p of from) if (p.alive && p.endpoint.phase === "member") sent.push(broadcastFrom(p));
    g.sim.runFor(everyMs);
  }
  return sent;
}

/** Data datagrams sent per (origin, seq). */
function countData(g: SimGrid): Map<string, number> {
  const h = newRelayHeader();
  const m = new Map<string, number>();
  g.taps.push((_now, _from, _to, bytes) => {
    if (bytes[2] !== Kind.Data || readRelay(bytes, h) !== null) return;
    const k = `${h.origin}:${h.seq}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  });
  return m;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

test("US 7,685,301: after every origin's first message, each broadcast crosses N-1 links (one copy per member), nothing arrives twice, and each member's parents are links it did not prune", () => {
  const g = settledGrid(0x7685, 16, 4, { latencyMs: 10, jitterMs: 4 });
  const members = g.live();
  play(g, members, 500); // the first messages flood; the copies from a second link are pruned
  const data = countData(g);
  const dup0 = sum(members.map((p) => p.endpoint.stats().duplicates));
  const sent = play(g, members, 1_000);
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, sent), []);
  assert.is(sum(members.map((p) => p.endpoint.stats().duplicates)) - dup0, 0, "no copy arrived twice");
  for (const s of sent) assert.is(data.get(`${s.origin}:${s.seq}`), members.length - 1, `${s.origin}:${s.seq}`);
  for (const p of members) {
    for (const o of members) {
      if (o === p) continue;
      const r = p.endpoint.redundancyOf(o.endpoint.id);
      assert.ok(p.endpoint.linkPeers.includes(r.parent), `${p.address}: parent ${r.parent} for ${o.endpoint.id} is a link`);
      assert.not.ok(r.pruned.includes(r.parent));
    }
  }
  const pruned = sum(members.map((p) => p.endpoint.stats().redundancy.listed));
  assert.ok(pruned > 0, `${pruned} (origin, neighbour) pairs skipped`);
});

test("redundancy \"flood\" keeps claim 2's flooding: every link but the sender's carries every message, no Prune is ever sent", () => {
  const g = new SimGrid({ seed: 0xf100d, peer: { connectionLimit: 4, redundancy: "flood", repair: false } });
  g.keepEvents = false;
  for (let i = 0; i < 12; i++) g.addPeer();
  g.settle(2);
  const log = capture(g, [Kind.Prune, Kind.Graft, Kind.RepairRequest, Kind.Repair]);
  const data = countData(g);
  const members = g.live();
  const sent = play(g, members, 500);
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, sent), []);
  assert.is(log.length, 0);
  const links = sum(members.map((p) => p.endpoint.linkPeers.length));
  for (const s of sent) assert.ok((data.get(`${s.origin}:${s.seq}`) ?? 0) > members.length, "flooded: more copies than members");
  assert.ok(links > 0);
});

test("repair: with 10% loss on every link a pruned grid still delivers every broadcast exactly once, by RepairRequest and Repair", () => {
  const g = settledGrid(0x10e, 16, 4, { latencyMs: 15, jitterMs: 5 });
  const members = g.live();
  play(g, members, 500);
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 5, lossPercent: 10 });
  const sent = play(g, members, 2_000);
  play(g, members, 500); // successors of the last ones (a lost last message shows no gap)
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 5 });
  g.sim.runFor(5_000);
  assert.equal(notExactlyOnce(g, sent, members.filter((p) => p.alive)), []);
  const repaired = sum(members.map((p) => p.endpoint.stats().repair.repaired));
  assert.ok(repaired > 50, `${repaired} seqs repaired`);
  assert.ok(g.inspector.resent > 0, "repairs are copies sent again on request, and the inspector allowed them");
});

test("repair: a lost last message (no later seq shows the gap) is found when its origin goes quiet, by the Graft's catch-up", () => {
  const g = settledGrid(0x7a11, 10, 3);
  const members = g.live();
  play(g, members, 500);
  const origin = members[0] as PeerNode;
  const victim = members.find((p) => p !== origin && !p.endpoint.linkPeers.includes(origin.endpoint.id)) as PeerNode;
  const parent = g.byId(victim.endpoint.redundancyOf(origin.endpoint.id).parent);
  // The last message of the origin never crosses parent -> victim.
  g.sim.setDirectedLink(parent.address, victim.address, { lossPercent: 100 });
  const last = broadcastFrom(origin);
  g.sim.runFor(200);
  g.sim.setDirectedLink(parent.address, victim.address, { lossPercent: 0 });
  assert.is(g.delivered(victim.address, last.origin, last.seq), 0, "lost");
  g.sim.runFor(3_000);
  assert.is(g.delivered(victim.address, last.origin, last.seq), 1, "found by the quiet origin's catch-up");
  assert.ok(victim.endpoint.stats().redundancy.quiet >= 1);
  assert.equal(notExactlyOnce(g, [last]), []);
});

test("repair, the pruned path becomes the only path: a member's parent stops delivering while their link stays up; the member grafts its pruned links and misses nothing", () => {
  const g = settledGrid(0x9a7, 12, 4);
  const members = g.live();
  const origin = members[0] as PeerNode;
  play(g, [origin], 500);
  const victim = members.find((p) => p !== origin && !p.endpoint.linkPeers.includes(origin.endpoint.id) && p.endpoint.redundancyOf(origin.endpoint.id).pruned.length >= 1) as PeerNode;
  const before = victim.endpoint.redundancyOf(origin.endpoint.id);
  // Nothing crosses parent <-> victim (the link itself stays open until its pings fail).
  g.sim.partition([victim.address], [g.byId(before.parent).address]);
  const sent = play(g, [origin], 2_000);
  g.sim.heal();
  play(g, [origin], 300);
  g.sim.runFor(3_000);
  assert.equal(notExactlyOnce(g, sent), []);
  const after = victim.endpoint.redundancyOf(origin.endpoint.id);
  assert.is.not(after.parent, before.parent, "a formerly pruned link is the parent now");
  assert.ok(victim.endpoint.stats().redundancy.quiet + victim.endpoint.stats().redundancy.parentsLost >= 1);
});

test("repair, a neighbour dies: the parent of a subtree crashes; the subtree reattaches over its pruned links and the broadcasts it missed meanwhile are repaired from the buffers", () => {
  const g = settledGrid(0xdead, 16, 4);
  const members = g.live();
  const origin = members[0] as PeerNode;
  play(g, members, 500);
  // A member that is the parent of others for `origin` (not the origin itself).
  const hub = members.find((p) => p !== origin && members.some((q) => q !== p && q.endpoint.redundancyOf(origin.endpoint.id).parent === p.endpoint.id)) as PeerNode;
  g.sim.crash(hub.address);
  const live = members.filter((p) => p !== hub);
  const sent = play(g, live, 3_000);
  play(g, live, 300);
  g.sim.runFor(4_000);
  assert.equal(notExactlyOnce(g, sent, live), []);
  const lost = sum(live.map((p) => p.endpoint.stats().redundancy.parentsLost + p.endpoint.stats().redundancy.quiet));
  assert.ok(lost >= 1, "members noticed their parent stopped");
});

test("repair, a link reopens: two members lose their link (3 missed pings) and open it again; it starts unpruned both ways, is pruned again where redundant, and no broadcast is lost or doubled", () => {
  const g = new SimGrid({ seed: 0x2e09, peer: { connectionLimit: 4, disconnectPeriodMs: 0, redundancy: "prune" } });
  g.keepEvents = false;
  const k5 = mesh(g, 5); // every member linked to every other, each at its limit
  g.sim.runFor(1_500);
  play(g, k5, 300);
  const [a, b] = [k5[1] as PeerNode, k5[2] as PeerNode];
  const opened: string[] = [];
  g.listeners.push((address, e) => {
    if (e.type === "linkOpen" && (address === a.address || address === b.address)) opened.push(address);
  });
  g.sim.partition([a.address], [b.address]);
  const sent = play(g, k5, 4_500); // the link closes, the others relay meanwhile
  assert.not.ok(a.endpoint.linkPeers.includes(b.endpoint.id), "closed");
  g.sim.heal();
  g.runUntil(() => a.endpoint.linkPeers.includes(b.endpoint.id), 10_000, 20);
  assert.ok(opened.length >= 1);
  sent.push(...play(g, k5, 1_000));
  // The reopened link was pruned again where it is redundant: each of the two now keeps one
  // parent per origin among its links, and lists only links.
  for (const p of [a, b]) {
    for (const o of k5) {
      if (o === p) continue;
      const r = p.endpoint.redundancyOf(o.endpoint.id);
      assert.ok(p.endpoint.linkPeers.includes(r.parent), `${p.address}: parent for ${o.endpoint.id}`);
      for (const x of [...r.pruned, ...r.listed]) assert.ok(p.endpoint.linkPeers.includes(x), `${p.address}: ${x} listed for ${o.endpoint.id} is a link`);
    }
  }
  play(g, k5, 300);
  g.sim.runFor(3_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("Prunes and Grafts cross only links, batched: one datagram carries many origins", () => {
  const g = settledGrid(0xba7c, 20, 4);
  const log = capture(g, [Kind.Prune, Kind.Graft]);
  play(g, g.live(), 300);
  const prunes = ofKind(log, Kind.Prune);
  assert.ok(prunes.length > 0);
  assert.ok(prunes.some((p) => p.msg.origins.length > 1), "several origins in one Prune");
  for (const p of prunes) {
    const sender = g.at(p.from).endpoint;
    assert.is(p.msg.from, sender.id);
    assert.ok(sender.linkPeers.includes(g.at(p.to).endpoint.id), "to a link");
  }
});

test.run();
