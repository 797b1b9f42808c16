/**
 * Island detection and repair (SPEC: the lobby "notices a grid that has split into islands and
 * tells peers how to repair it"; 7,596,633). A 40-peer grid is built from scripted reports as
 * a ring (every peer has 2 links, limit 4), then cut in two.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind } from "../wire/kinds.ts";
import type { MessageOf } from "../wire/messages.ts";
import { Client, type Harness as H, Harness, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";

const N = 40;

function ring(limit = 4): { h: Harness; grid: number; peers: Joined[] } {
  const h = new Harness({}, 7);
  const owner = new Client(h, "10.9.0.1:4000");
  owner.hello();
  const grid = owner.create("ring");
  const peers = joinMany(h, grid, N, limit);
  for (let i = 0; i < N; i++) linkBoth(grid, peers[i] as Joined, peers[(i + 1) % N] as Joined);
  // The component check tells every member it is in the main component: an established grid, not newcomers.
  h.advance(100);
  h.takeEvents();
  h.take();
  return { h, grid, peers };
}

function unlink(grid: number, a: Joined, b: Joined): void {
  a.client.link(grid, a.peer, b.peer, false);
  b.client.link(grid, b.peer, a.peer, false);
}

/** Every peer heartbeats its current reported links, then time moves on by `ms`. */
function live(h: H, grid: number, peers: Joined[], ms: number): void {
  for (let t = 0; t < ms; t += 1000) {
    const members = h.lobby.membersOf(grid) ?? [];
    for (const p of peers) p.client.heartbeat(grid, p.peer, members.find((m) => m.peer === p.peer)?.reported ?? []);
    h.advance(1000);
  }
}

function hints(h: H, peers: Joined[]): { to: Joined; hint: MessageOf<typeof Kind.RepairHint> }[] {
  return peers.flatMap((p) => h.takeOf(p.client.addr, Kind.RepairHint).map((hint) => ({ to: p, hint })));
}

/** Cuts the ring between 24|25 and 40|1: components {1..24} (largest) and {25..40}. */
function cut(grid: number, peers: Joined[]): { large: Joined[]; small: Joined[] } {
  unlink(grid, peers[23] as Joined, peers[24] as Joined);
  unlink(grid, peers[39] as Joined, peers[0] as Joined);
  return { large: peers.slice(0, 24), small: peers.slice(24) };
}

test("islands: no hints while the grid is connected", () => {
  const { h, grid, peers } = ring();
  live(h, grid, peers, 10_000);
  assert.is(h.lobby.stats().islands, 0);
  assert.equal(h.lobby.componentsOf(grid)?.length, 1);
  assert.equal(hints(h, peers), []);
  assert.not.ok(h.takeEvents().some((e) => e.type === "islandsDetected"));
});

test("islands: a cut grid is detected after the grace and the smaller island is pointed at free links", () => {
  const { h, grid, peers } = ring();
  const { large, small } = cut(grid, peers);
  assert.equal(h.lobby.componentsOf(grid)?.map((c) => c.length), [24, 16]);
  assert.is(h.lobby.stats().islands, 1);
  live(h, grid, peers, 2000);
  assert.equal(hints(h, peers), [], "nothing during islandGraceMs");
  live(h, grid, peers, 2000);
  assert.ok(h.takeEvents().some((e) => e.type === "islandsDetected" && e.grid === grid && e.count === 2));
  const sent = hints(h, peers);
  assert.ok(sent.length >= 1 && sent.length <= 2, `${sent.length} hints at one check`);
  const largeIds = new Set(large.map((p) => p.peer));
  for (const { to, hint } of sent) {
    assert.ok(small.includes(to), "hints go to the smaller component");
    assert.is(hint.peer, to.peer);
    assert.is(hint.force, false);
    assert.ok(hint.targets.length >= 1 && hint.targets.length <= 4);
    for (const t of hint.targets) {
      assert.ok(largeIds.has(t.peer), "targets are in the largest component");
      const m = h.lobby.membersOf(grid)?.find((x) => x.peer === t.peer);
      assert.is(t.addr, m?.addr);
      assert.ok((m?.reported.length ?? 0) < (m?.limit ?? 0), "targets have a free link");
    }
  }
  // Hints repeat at each check while the islands persist.
  live(h, grid, peers, 1000);
  assert.ok(hints(h, peers).length >= 1);

  // The recipient follows its hint (claims 36-44: it connects and both ends report the link): one component again.
  live(h, grid, peers, 1000);
  const [first] = hints(h, peers);
  assert.ok(first !== undefined);
  const target = large.find((p) => p.peer === first.hint.targets[0]?.peer) as Joined;
  linkBoth(grid, first.to, target);
  assert.equal(h.lobby.componentsOf(grid)?.length, 1);
  live(h, grid, peers, 1000);
  h.take();
  live(h, grid, peers, 5000);
  assert.equal(hints(h, peers), [], "no hints once reunited");
  assert.is(h.lobby.stats().islands, 0);
});

test("islands: force = true when no member of the largest island has room", () => {
  const { h, grid, peers } = ring();
  const { large, small } = cut(grid, peers);
  // Claim 10: each peer of the large island lowers its limit to the links it has (selecting again updates it).
  for (const p of large) {
    const links = h.lobby.membersOf(grid)?.find((m) => m.peer === p.peer)?.reported.length ?? 0;
    p.client.select(grid, links);
  }
  h.take();
  live(h, grid, peers, 4000);
  const sent = hints(h, peers);
  assert.ok(sent.length >= 1);
  const largeIds = new Set(large.map((p) => p.peer));
  for (const { to, hint } of sent) {
    assert.ok(small.includes(to));
    assert.is(hint.force, true);
    assert.is(hint.targets.length, 4);
    assert.ok(hint.targets.every((t) => largeIds.has(t.peer)));
  }
  assert.ok(h.takeEvents().some((e) => e.type === "repairHintSent" && e.force));
  assert.is(h.lobby.stats().hintsSent, sent.length);
});

test("islands: a split whose main component is full gets its forced repair at the first check, not after islandGraceMs (issue 12: partition heal)", () => {
  const { h, grid, peers } = ring();
  const { large, small } = cut(grid, peers);
  for (const p of large) {
    const links = h.lobby.membersOf(grid)?.find((m) => m.peer === p.peer)?.reported.length ?? 0;
    p.client.select(grid, links);
  }
  h.take();
  live(h, grid, peers, 1000);
  const sent = hints(h, peers);
  // Before: nothing until the grace (3 s) ran out, though no member of the main component
  // would ever look for the island (they are full) and the island's asks are refused.
  assert.is(sent.length, 1, "one forced hint at the first check");
  assert.ok(small.includes((sent[0] as { to: Joined }).to));
  assert.is(sent[0]?.hint.force, true);
  assert.not.ok(h.takeEvents().some((e) => e.type === "islandsDetected"), "the islands are still reported after the grace only");
  // Still capped: no second forced repair within FORCED_REPAIR_EVERY_CHECKS checks.
  live(h, grid, peers, 3000);
  assert.equal(hints(h, peers).filter((s) => s.hint.force), []);
});

test("islands: an isolated peer is one more island", () => {
  const { h, grid, peers } = ring();
  const lone = new Client(h, "10.8.0.1:4000");
  lone.hello();
  const peer = lone.select(grid).peer;
  const all = [...peers, { client: lone, peer }];
  live(h, grid, all, 4000);
  const sent = hints(h, all);
  assert.ok(sent.length >= 1, "the lone member gets a hint once its grace is over");
  assert.ok(sent.every((s) => s.to.peer === peer), "and nobody else does");
  assert.equal(h.lobby.componentsOf(grid)?.map((c) => c.length), [40, 1]);
});

test.run();
