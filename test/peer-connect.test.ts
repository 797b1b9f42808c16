/**
 * Staying connected (claims 36-44) and changing the connection limit at runtime (claim 10):
 * real Peers and a real Lobby on the simulated network.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultConnectionRules } from "../lib/peer/connection-rules.ts";
import { DEFAULT_MAX_ATTEMPTS } from "../lib/peer/config.ts";
import { DisconnectReason } from "../wire/index.ts";
import {
  capture,
  forceIntoFullK5,
  K5_JOINER_LATENCY_MS,
  Kind,
  linkEvents,
  linksOf,
  mesh,
  nextAddress,
  ofKind,
  SpyRules,
  watchLimits,
  watchSplits,
} from "./support/peer-scenarios.ts";
import { SimGrid } from "./support/sim-grid.ts";

test("claims 36, 40, 41: the neighbour dropped for a force connection seeks a link with connection-available, takes the first positive, and skips the member that dropped it", () => {
  const { g, j, log, joinedAt } = forceIntoFullK5(36, new SpyRules(defaultConnectionRules));
  const p4 = g.at("peer-4");
  g.runUntil(() => p4.endpoint.linkPeers.length === 4, 5_000, 10);
  g.sim.runFor(3_000);
  const fromP4 = log.filter((c) => c.from === "peer-4" && c.now > joinedAt);
  const asks = ofKind(fromP4, Kind.Available);
  assert.ok(asks.length > 0, "it sent connection-available messages");
  assert.is(ofKind(fromP4, Kind.Join).length, 0, "a member seeks with connection-available, not join");
  const closedAt = log.find((c) => c.msg.kind === Kind.Disconnect && c.from === "peer-2")?.now as number;
  assert.ok(asks.every((c) => c.now > closedAt), "only once it was below its limit");
  // Claim 41: peer 2 dropped it; within disconnectPeriodMs it is never asked nor picked.
  assert.ok(g.sim.now - closedAt < 10_000);
  assert.equal(fromP4.filter((c) => c.to === "peer-2"), [], "no message at all to peer 2");
  // Claim 40: the first positive answer is the one taken.
  const firstRound = asks.filter((c) => c.now === asks[0]?.now).map((c) => c.to);
  const positive = ofKind(log, Kind.AvailableReply).find((c) => c.to === "peer-4" && c.msg.positive && firstRound.includes(c.from));
  assert.is(positive?.from, j.address, "the newcomer is the one member with room");
  assert.ok(p4.endpoint.linkPeers.includes(j.endpoint.id));
  assert.is(g.components().length, 1);
});

test("claims 10, 36, 40: raising the limit of a full peer makes it send connection-available and link with the first positive responder", () => {
  // Six roomy members that never seek themselves; the seventh's links to them have one-way
  // latencies 20..95 ms. With limit 2 it joins the first and the last (claim 29).
  const g = new SimGrid({ seed: 40 });
  const members = mesh(g, 6, { connectionLimit: 8, seekIntervalMs: 600_000 });
  const oneWay = [20, 35, 50, 65, 80, 95];
  const addr = nextAddress(g);
  members.forEach((m, i) => g.sim.setLink(addr, m.address, { latencyMs: oneWay[i] as number }));
  const j = g.addPeer({ connectionLimit: 2 });
  g.runUntil(() => j.endpoint.linkPeers.length === 2, 5_000, 10);
  g.sim.runFor(3_000);
  assert.equal(linksOf(j), [1, 6]);
  const log = capture(g, [Kind.Available, Kind.AvailableReply, Kind.Connect]);
  j.with((p, now) => p.setConnectionLimit(now, 3));
  g.runUntil(() => j.endpoint.linkPeers.length === 3, 3_000, 5);
  const asked = ofKind(log, Kind.Available).filter((c) => c.from === j.address).map((c) => c.to).sort();
  assert.equal(asked, ["peer-2", "peer-3", "peer-4", "peer-5"], "every member it is not linked to");
  const answers = ofKind(log, Kind.AvailableReply).filter((c) => c.to === j.address);
  assert.ok(answers.length >= 1 && answers.every((c) => c.msg.positive));
  assert.equal(ofKind(log, Kind.Connect).filter((c) => c.from === j.address).map((c) => c.to), ["peer-2"], "the 35 ms member answered first");
  assert.equal(linksOf(j), [1, 2, 6]);
  // Regression: the lobby used to keep the old limit (setConnectionLimit did not tell it).
  assert.is(g.lobby.endpoint.membersOf(g.gridId)?.find((m) => m.peer === j.endpoint.id)?.limit, 3);
});

test("claim 37: a peer closes a link with a close handshake; a dead neighbour that never confirms is closed anyway", () => {
  const g = new SimGrid({ seed: 37, peer: { connectionLimit: 4 } });
  g.sim.setLink("peer-1", "peer-2", { latencyMs: 30 }); // peer 1's slowest neighbour: dropped first
  g.sim.setLink("peer-1", "peer-3", { latencyMs: 25 }); // then this one
  mesh(g, 5);
  g.sim.runFor(1_500);
  const log = capture(g, [Kind.Disconnect, Kind.DisconnectAck, Kind.ConnUpdate]);
  const events = linkEvents(g);
  const a = g.at("peer-1");
  a.with((p, now) => p.setConnectionLimit(now, 3));
  g.sim.runFor(200);
  const bye = ofKind(log, Kind.Disconnect).filter((c) => c.from === "peer-1");
  assert.equal(bye.map((c) => [c.to, c.msg.reason]), [["peer-2", DisconnectReason.LimitLowered]]);
  assert.equal(ofKind(log, Kind.DisconnectAck).map((c) => [c.from, c.to]), [["peer-2", "peer-1"]], "the neighbour confirms");
  const told = events.find((e) => e.address === "peer-2" && e.type === "closed");
  assert.equal([told?.peer, told?.reason, told?.remoteReason], [1, "remote", DisconnectReason.LimitLowered]);
  const updates = ofKind(log, Kind.ConnUpdate).map((c) => [c.msg.peer, c.msg.other, c.msg.open]);
  assert.equal(updates.sort(), [[1, 2, false], [2, 1, false]], "both ends tell the lobby");
  assert.is(a.endpoint.stats().retransmits, 0, "the confirmation ended the close request");
  assert.not.ok(g.lobbyGraph().get(1)?.includes(2), "the lobby's graph lost the edge");

  // A neighbour that is dead cannot confirm: the link is closed locally at once, and the
  // close request is retransmitted maxAttempts times, then given up.
  g.sim.crash("peer-3");
  a.with((p, now) => p.setConnectionLimit(now, 2));
  assert.not.ok(a.endpoint.linkPeers.includes(3), "closed locally without waiting");
  g.sim.runFor(15_000); // 8 sends: 200, 400, 800, 1600, then every 2000 ms
  const toDead = ofKind(log, Kind.Disconnect).filter((c) => c.from === "peer-1" && c.to === "peer-3");
  assert.is(toDead.length, DEFAULT_MAX_ATTEMPTS);
  assert.ok(toDead.every((c) => c.msg.req === toDead[0]?.msg.req), "one request, retransmitted");
  assert.ok(a.endpoint.linkPeers.length <= 2);
});

test("claim 38: a member answers a connection-available message positive only when it has a free link", () => {
  const g = new SimGrid({ seed: 38 });
  const log = capture(g, [Kind.AvailableReply]);
  const limits = [3, 4, 6, 8];
  for (let i = 0; i < 24; i++) g.addPeer({ connectionLimit: limits[i % 4] as number });
  g.settle(2);
  // Raise and lower limits so that members move between having room and being full.
  for (const p of g.peers.slice(0, 6)) p.with((peer, now) => peer.setConnectionLimit(now, peer.connectionLimit === 8 ? 3 : 8));
  g.sim.runFor(5_000);
  let positives = 0;
  let negatives = 0;
  // The tap runs when the reply is sent, so the member's limit is the one it answered with.
  for (const c of ofKind(log, Kind.AvailableReply)) {
    const limit = g.at(c.from).endpoint.connectionLimit;
    if (c.msg.positive) positives++;
    else negatives++;
    if (c.msg.positive) assert.ok(c.msg.links < limit, `${c.from}: positive with ${c.msg.links} links, limit ${limit}`);
  }
  assert.ok(positives > 0 && negatives > 0, `${positives} positive, ${negatives} negative`);
});

test("claims 39, 42, 43: a peer left with one link and nobody with room forces a connection, choosing among the negative responses by their response times", () => {
  const spy = new SpyRules(defaultConnectionRules);
  const { g, j, log, splits, over, joinedAt } = forceIntoFullK5(42, spy);
  // The member dropped by the joiner's force (peer 4) would take the joiner's free slots:
  // make it full at its new link count before it seeks, so that nobody has room.
  const p4 = g.at("peer-4");
  g.runUntil(() => p4.endpoint.linkPeers.length === 3, 1_000, 1);
  p4.with((p, now) => p.setConnectionLimit(now, 3));
  g.runUntil(() => j.endpoint.linkPeers.length >= 2, 5_000, 5);
  const asks = ofKind(log, Kind.Available).filter((c) => c.from === j.address);
  assert.equal(asks.map((c) => c.to).sort(), ["peer-1", "peer-3", "peer-4", "peer-5"], "a connection-available round");
  const replies = ofKind(log, Kind.AvailableReply).filter((c) => c.to === j.address);
  assert.ok(replies.length === 4 && replies.every((c) => !c.msg.positive), "every answer negative");
  // Claim 39: each response recorded with its response time (what the rules were given).
  const call = spy.forceCalls[1];
  assert.ok(call !== undefined, "the rules chose a force connection peer a second time");
  const rt = new Map(call.negatives.map((r) => [r.peer, r.responseTimeMs]));
  for (const id of [1, 3, 4, 5]) assert.is(rt.get(id), 2 * (K5_JOINER_LATENCY_MS[id - 1] as number), `response time of ${id}`);
  // Claim 43: the default rules force the fastest negative responder, peer 4 (25 ms).
  assert.is(call.chosen?.peer, 4);
  // Claim 42: force request, the member closes a link and confirms.
  const forces = ofKind(log, Kind.Force).filter((c) => c.from === j.address);
  assert.equal(forces.map((c) => c.to), ["peer-2", "peer-4"], "one force when joining, one from the connection-available round");
  assert.ok(ofKind(log, Kind.ForceReply).filter((c) => c.from === "peer-4").every((c) => c.msg.ok));
  assert.ok(j.endpoint.linkPeers.includes(4));
  assert.is(j.endpoint.stats().forcedConnections, 2);
  assert.ok(asks.every((c) => c.now > joinedAt));
  g.settle(2, 10_000);
  assert.equal(splits, []);
  assert.equal(over, []);
});

test("claim 41: a peer does not choose a member it disconnected from until the disconnection time period has passed", () => {
  const g = new SimGrid({ seed: 41, peer: { connectionLimit: 4, disconnectPeriodMs: 4_000 } });
  g.sim.setLink("peer-1", "peer-2", { latencyMs: 30 }); // so peer 1 drops peer 2
  mesh(g, 5);
  g.sim.runFor(1_500);
  const a = g.at("peer-1");
  const log = capture(g, [Kind.Available, Kind.Connect, Kind.Force, Kind.SelectGrid]);
  a.with((p, now) => p.setConnectionLimit(now, 3));
  const closedAt = g.sim.now;
  a.with((p, now) => p.setConnectionLimit(now, 4));
  // Peers 1 and 2 each have a free link and are the only pair not linked, but each is in
  // the other's cooldown: nobody asks anybody until it ends.
  g.sim.runFor(3_900);
  const pair = (c: { from: string; to: string }): boolean => (c.from === "peer-1" && c.to === "peer-2") || (c.from === "peer-2" && c.to === "peer-1");
  assert.equal(log.filter((c) => pair(c) && c.msg.kind !== Kind.SelectGrid), []);
  assert.equal(linksOf(a), [3, 4, 5]);
  g.runUntil(() => a.endpoint.linkPeers.length === 4, 3_000, 10);
  const first = log.find((c) => pair(c));
  assert.ok(first !== undefined && first.now >= closedAt + 4_000, `first asked at ${String(first?.now)} after closing at ${closedAt}`);
  assert.equal(linksOf(a), [2, 3, 4, 5]);
  // Regression: a member below its limit with nobody to ask used to spin SelectGrid ->
  // Members -> round -> SelectGrid at network speed (~75 requests/s until the lobby's rate
  // limit cut in). Now it refreshes the member list about once per seek interval.
  const selects = ofKind(log, Kind.SelectGrid).filter((c) => c.from === "peer-1");
  assert.ok(selects.length <= 8, `${selects.length} SelectGrid in ~4 s`);
  assert.is(g.lobby.endpoint.stats().drops["rate-limited"] ?? 0, 0);
});

test("claim 44: every link a peer opens is reported to the lobby, and the lobby's graph matches the peers' links", () => {
  const g = new SimGrid({ seed: 44 });
  const log = capture(g, [Kind.ConnUpdate]);
  const events = linkEvents(g);
  for (let i = 0; i < 30; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(500);
  const updates = ofKind(log, Kind.ConnUpdate);
  const opened = events.filter((e) => e.type === "open");
  assert.ok(opened.length >= 60);
  for (const e of opened) {
    const self = g.at(e.address).endpoint.id;
    const u = updates.find((c) => c.from === e.address && c.now === e.now && c.msg.peer === self && c.msg.other === e.peer && c.msg.open);
    assert.ok(u !== undefined, `${e.address} reported its link to ${e.peer}`);
  }
  assert.equal(g.lobbyDisagreements(), []);
  assert.is(g.lobby.endpoint.componentsOf(g.gridId)?.length, 1);
});

test("claims 9, 10: mixed limits 3, 4, 6, 8; a quarter of the peers lower 6 -> 3 at runtime: the grid stays connected and within every limit", () => {
  const g = new SimGrid({ seed: 10, inspect: false });
  g.keepEvents = false;
  const over = watchLimits(g);
  const limits = [3, 4, 6, 8];
  for (let i = 0; i < 40; i++) g.addPeer({ connectionLimit: limits[i % 4] as number });
  g.settle(2);
  g.sim.runFor(2_000);
  const splits = watchSplits(g);
  const sixes = g.peers.filter((p) => p.endpoint.connectionLimit === 6);
  assert.is(sixes.length, 10);
  for (const p of sixes) p.with((peer, now) => peer.setConnectionLimit(now, 3));
  for (const p of sixes) assert.ok(p.endpoint.linkPeers.length <= 3, "surplus links closed at once");
  for (let t = 0; t < 10_000; t += 250) {
    g.sim.runFor(250);
    assert.is(g.components().length, 1, `one component ${t} ms after the change`);
  }
  assert.equal(splits, [], "no close ever split the grid");
  assert.equal(over, []);
  for (const p of g.live()) {
    assert.ok(p.endpoint.linkPeers.length <= p.endpoint.connectionLimit);
    assert.ok(p.endpoint.linkPeers.length >= 2, `${p.address} has ${p.endpoint.linkPeers.length} links`);
  }
  const lobbyLimits = new Map((g.lobby.endpoint.membersOf(g.gridId) ?? []).map((m) => [m.peer, m.limit]));
  for (const p of sixes) assert.is(lobbyLimits.get(p.endpoint.id), 3, "the lobby knows the new limit");
  // Raising a limit makes the peer seek more links.
  const raised = sixes.slice(0, 5);
  for (const p of raised) p.with((peer, now) => peer.setConnectionLimit(now, 8));
  g.sim.runFor(5_000);
  for (const p of raised) assert.ok(p.endpoint.linkPeers.length > 3, `${p.address} grew to ${p.endpoint.linkPeers.length} links`);
  assert.equal(over, []);
  assert.is(g.components().length, 1);
  assert.equal(g.lobbyDisagreements(), []);
});

test.run();
