/**
 * Lobby.topologyOf(): the read-only picture the dashboard draws (issue 17). Scripted members
 * report links; the topology must show confirmed pairs once, one-sided pairs by reporter,
 * components as componentsOf() has them, and counts that agree with grids() and stats().
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Client, Harness, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";

function grid6(): { h: Harness; grid: number; p: Joined[] } {
  const h = new Harness({}, 17);
  const owner = new Client(h, "10.7.0.1:4000");
  owner.hello();
  const grid = owner.create("topology", 0, 4);
  const p = joinMany(h, grid, 6, 3);
  // 1-2-3 confirmed, 4-5 confirmed, 6 alone; 3 reports 4 (one-sided), 6 reports 99 (no such member).
  linkBoth(grid, p[0] as Joined, p[1] as Joined);
  linkBoth(grid, p[1] as Joined, p[2] as Joined);
  linkBoth(grid, p[3] as Joined, p[4] as Joined);
  p[2]?.client.link(grid, 3, 4);
  p[5]?.client.heartbeat(grid, 6, [99]);
  return { h, grid, p };
}

test("topology: members, confirmed and one-sided links, components", () => {
  const { h, grid } = grid6();
  const t = h.lobby.topologyOf(grid);
  assert.ok(t !== undefined);
  assert.is(t.name, "topology");
  assert.is(t.memberCount, 6);
  assert.is(t.truncated, false);
  assert.equal(
    t.members.map((m) => [m.peer, m.limit, m.links, m.reported]),
    [
      [1, 3, 1, 1],
      [2, 3, 2, 2],
      [3, 3, 1, 2],
      [4, 3, 1, 1],
      [5, 3, 1, 1],
      [6, 3, 0, 1],
    ],
  );
  assert.equal(
    t.edges.map((e) => [e.a, e.b, e.confirmed]),
    [
      [1, 2, true],
      [2, 3, true],
      [4, 5, true],
      [3, 4, false],
    ],
  );
  assert.equal(t.components, h.lobby.componentsOf(grid));
  assert.equal(t.components, [[1, 2, 3], [4, 5], [6]]);
  assert.equal(t.members.map((m) => m.component), [0, 0, 0, 1, 1, 2]);
  // The counts agree with the other getters.
  const summary = h.lobby.grids().find((g) => g.grid === grid);
  assert.is(t.edges.filter((e) => e.confirmed).length, summary?.links);
  assert.is(t.components.length, summary?.components);
  assert.is(t.edges.filter((e) => !e.confirmed).length, h.lobby.footprint().pendingEdges, "one-sided pairs are the pairs being checked");
  const members = h.lobby.membersOf(grid) ?? [];
  assert.equal(t.members.map((m) => m.addr), members.map((m) => m.addr));
  assert.equal(t.members.map((m) => m.lastHeardMs), members.map((m) => m.lastHeardMs));
});

test("topology: maxMembers keeps the lowest ids and the pairs among them, and says it cut", () => {
  const { h, grid } = grid6();
  const t = h.lobby.topologyOf(grid, 3);
  assert.ok(t !== undefined);
  assert.is(t.truncated, true);
  assert.is(t.memberCount, 6);
  assert.equal(t.members.map((m) => m.peer), [1, 2, 3]);
  assert.equal(t.edges.map((e) => [e.a, e.b]), [[1, 2], [2, 3]], "3-4 leaves with member 4");
  assert.is(t.members[2]?.reported, 2, "link counts stay whole");
  assert.is(t.components.length, 3, "components are of the whole grid");
  assert.is(h.lobby.topologyOf(grid, 0)?.members.length, 0);
});

test("topology: unknown and empty grids", () => {
  const h = new Harness({}, 18);
  const owner = new Client(h, "10.7.0.9:4000");
  owner.hello();
  const grid = owner.create("empty");
  assert.is(h.lobby.topologyOf(grid + 1), undefined);
  const t = h.lobby.topologyOf(grid);
  assert.equal([t?.memberCount, t?.members, t?.edges, t?.components, t?.splitSinceMs], [0, [], [], [], undefined]);
});

test("topology: a split grid says since when", () => {
  const { h, grid, p } = grid6();
  for (let i = 0; i < 3; i++) {
    h.advance(1000);
    for (const m of p) {
      const mine = h.lobby.membersOf(grid)?.find((x) => x.peer === m.peer);
      m.client.heartbeat(grid, m.peer, mine?.reported ?? []);
    }
  }
  const t = h.lobby.topologyOf(grid);
  assert.ok(t?.splitSinceMs !== undefined && t.splitSinceMs <= h.nowMs);
});

test.run();
