/**
 * A Sybil clique against island repair (issue 15, point 4: "island repair that a Sybil
 * clique cannot steer"). What broke: six colluders, admitted members who linked only among
 * themselves and said they were full, were the grid's largest component, so the lobby sent
 * the honest members RepairHints to join *them*, with force: an honest member that is full
 * drops one of its own links to make room. Measured on the code before the fix (lobby
 * harness, honest K5 of limit 4 against the clique): 34 RepairHints to honest members in
 * 20 s, every one with force. Now the main component is the one holding the grid's
 * longest-standing member, free slots are used first, and a forced repair is capped.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FORCED_REPAIR_EVERY_CHECKS, mainComponent, planRepair, type RepairView } from "../lib/lobby/islands.ts";
import { SeededRandom } from "../lib/rng.ts";
import { Kind } from "../wire/index.ts";
import { figure } from "./support/figures.ts";
import { broadcastFrom, capture, linkEvents, mesh, notExactlyOnce, ofKind } from "./support/peer-scenarios.ts";
import { act, scriptedJoin, type ScriptedMember } from "./support/scripted-member.ts";
import { SimGrid } from "./support/sim-grid.ts";

/** Six colluders that report a clique of themselves (limit 5: full), accept any link, relay nothing. */
function sybils(g: SimGrid, grid: number): ScriptedMember[] {
  const out = Array.from({ length: 6 }, (_, i) => scriptedJoin(g, `sybil-${i}`, grid, 5, 0x5b1 + i, { acceptLinks: true, answerPings: true }));
  return out;
}

function heartbeat(g: SimGrid, clique: ScriptedMember[], grid: number): void {
  for (const s of clique) {
    const links = clique.filter((o) => o !== s).map((o) => o.id);
    act(g, s, (x) => x.ask({ kind: Kind.Heartbeat, req: x.req(), session: x.session, grid, peer: x.id, links }));
  }
}

test("islands: a Sybil clique larger than the honest grid is never the one honest members are told to join, and tears no honest link", () => {
  const g = new SimGrid({ seed: 0x15d1, peer: { connectionLimit: 4 } });
  const honest = mesh(g, 5); // K5 of limit 4: every honest member is full
  const grid = g.gridId;
  const clique = sybils(g, grid);
  const hints = capture(g, [Kind.RepairHint]);
  const events = linkEvents(g);
  const links = honest.map((p) => [...p.endpoint.linkPeers].sort());
  for (let s = 0; s < 20; s++) {
    heartbeat(g, clique, grid);
    g.sim.runFor(1_000);
  }
  assert.equal(g.lobby.endpoint.componentsOf(grid)?.map((c) => c.length), [6, 5], "the clique is the largest component");
  const honestAddrs = new Set(honest.map((p) => p.address));
  const toHonest = ofKind(hints, Kind.RepairHint).filter((c) => honestAddrs.has(c.to));
  const toSybils = ofKind(hints, Kind.RepairHint).filter((c) => c.to.startsWith("sybil"));
  const torn = events.filter((e) => e.type === "closed" && honestAddrs.has(e.address)).length;
  figure("RepairHints to honest members in 20 s against a Sybil clique", `${toHonest.length} (was 34, all with force); honest links torn: ${torn}`);
  figure("RepairHints to the clique, forced at most every 4 checks", `${toSybils.length}, ${toSybils.filter((c) => c.msg.force).length} with force`);
  assert.is(toHonest.length, 0);
  assert.is(torn, 0);
  assert.equal(honest.map((p) => [...p.endpoint.linkPeers].sort()), links, "every honest link is where it was");
  // The clique's members are the ones pointed at the honest grid, at most once per 4 checks (the honest grid is full).
  assert.ok(toSybils.length >= 3 && toSybils.length <= 20 / FORCED_REPAIR_EVERY_CHECKS + 1, `${toSybils.length} hints to the clique`);
  const sent = honest.map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent, honest), []);
});

test("islands: with free slots on the honest side, the clique is pointed at them and nothing is forced", () => {
  const g = new SimGrid({ seed: 0x15d2, peer: { connectionLimit: 6 } });
  const honest = mesh(g, 4); // K4 of limit 6: two free slots each
  const grid = g.gridId;
  const clique = sybils(g, grid);
  const hints = capture(g, [Kind.RepairHint]);
  for (let s = 0; s < 8; s++) {
    heartbeat(g, clique, grid);
    g.sim.runFor(1_000);
  }
  const all = ofKind(hints, Kind.RepairHint);
  assert.ok(all.length > 0);
  assert.ok(all.every((c) => c.to.startsWith("sybil") && !c.msg.force), JSON.stringify(all.map((c) => [c.to, c.msg.force])));
  const honestIds = new Set(honest.map((p) => p.endpoint.id));
  assert.ok(all.every((c) => c.msg.targets.every((t) => honestIds.has(t.peer))), "targets are honest members with room");
});

const view = (free: readonly number[], admitted: Record<number, number> = {}): RepairView => ({
  hasFreeLink: (p) => free.includes(p),
  admittedMs: (p) => admitted[p] ?? p * 10,
});

test("islands: planRepair: the main component holds the longest-standing member; free slots before force; force capped", () => {
  const rng = new SeededRandom(1);
  // 1 is the oldest: its component of 2 is main, though {3..8} is larger.
  const comps = [[3, 4, 5, 6, 7, 8], [1, 2]];
  assert.is(mainComponent(comps, view([])), 1);
  assert.is(mainComponent(comps, view([], { 7: 0 })), 0, "the earliest admission wins, not the lowest id");
  // Both sides have room: up to 2 recipients with room, no force.
  const easy = planRepair(comps, view([2, 3, 4, 5]), rng, true);
  assert.ok(easy.length === 2 && easy.every((p) => !p.force && [3, 4, 5].includes(p.recipient) && p.targets.every((t) => t === 2)));
  // Only the main side has room: one recipient, which makes room among its own links.
  const mine = planRepair(comps, view([1]), rng, true);
  assert.equal(mine.map((p) => [p.force, p.targets]), [[false, [1]]]);
  // The main side is full: force, to one recipient (one with room first), and only when allowed.
  const forced = planRepair(comps, view([6]), rng, true);
  assert.equal(forced.map((p) => [p.recipient, p.force]), [[6, true]]);
  assert.equal(planRepair(comps, view([6]), rng, false), [], "a forced repair is capped");
  assert.equal(planRepair([[1, 2, 3]], view([1]), rng, true), [], "one component: nothing to repair");
});

test.run();
