/**
 * Joining a grid (claims 26-33) and per-peer limits (claim 9): real Peers and a real Lobby
 * on the simulated network. Latencies from the joining peer to each member are set apart
 * so that arrival order and response times are known: a member at one-way latency L
 * answers after 2L.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { arrivalOrderConnectionRules, defaultConnectionRules, type Response } from "../lib/peer/connection-rules.ts";
import { DEFAULT_JOIN_WINDOW_MS } from "../lib/peer/config.ts";
import { DisconnectReason } from "../wire/index.ts";
import {
  capture,
  Kind,
  forceIntoFullK5,
  K5_JOINER_LATENCY_MS,
  linksOf,
  mesh,
  nextAddress,
  ofKind,
  SpyRules,
  watchLimits,
} from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

/** Members that all have room (limit 8 in a mesh of 6) and never seek on their own. */
const ROOMY = { connectionLimit: 8, seekIntervalMs: 600_000 } as const;

/**
 * A mesh of `oneWay.length` roomy members, then a joining peer whose link to member i has
 * one-way latency oneWay[i]. Returns once the joiner has `links` links.
 */
function joinWithLatencies(seed: number, oneWay: readonly number[], joiner: { connectionLimit: number; rules: SpyRules }, links: number) {
  const g = new SimGrid({ seed });
  const members = mesh(g, oneWay.length, ROOMY);
  const addr = nextAddress(g);
  members.forEach((m, i) => g.sim.setLink(addr, m.address, { latencyMs: oneWay[i] as number }));
  const log = capture(g, [Kind.Join, Kind.JoinReply, Kind.Connect, Kind.Force]);
  const j = g.addPeer({ connectionLimit: joiner.connectionLimit, connectionRules: joiner.rules });
  g.runUntil(() => j.endpoint.linkPeers.length >= links, 5_000, 10);
  return { g, members, j, log };
}

const peersOf = (rs: readonly Response[]): number[] => rs.map((r) => r.peer);

test("claims 34, 35: the first peer creates the grid with the lobby; the next opens a session, gets the grid list, selects the grid, gets the members' addresses, and reports its connection", () => {
  const g = new SimGrid({ seed: 34 });
  const log = capture(g, [
    Kind.Hello,
    Kind.Retry,
    Kind.Welcome,
    Kind.CreateGrid,
    Kind.GridCreated,
    Kind.ListGrids,
    Kind.GridList,
    Kind.SelectGrid,
    Kind.Members,
    Kind.ConnUpdate,
  ]);
  const first = g.addPeer({ connectionLimit: 5 });
  g.runUntil(() => first.endpoint.phase === "member", 1_000, 5);
  const kindsOf = (address: string): number[] => log.filter((c) => c.from === address || c.to === address).map((c) => c.msg.kind);
  // Claim 35: open a session (address validation, then the signed handshake), create
  // request, registration, creation confirmation.
  assert.equal(kindsOf(first.address), [
    Kind.Hello,
    Kind.Retry,
    Kind.Hello,
    Kind.Welcome,
    Kind.CreateGrid,
    Kind.GridCreated,
    Kind.SelectGrid,
    Kind.Members,
  ]);
  const create = ofKind(log, Kind.CreateGrid)[0];
  assert.equal([create?.msg.name, create?.msg.limit], ["arena", 5], "the grid's name and the creator's connection limit");
  const created = ofKind(log, Kind.GridCreated)[0];
  assert.is(created?.msg.grid, first.endpoint.grid);
  assert.is(g.lobby.endpoint.grids()[0]?.name, "arena");
  assert.equal(first.endpoint.linkPeers, [], "a grid of one: joined with no links");
  // Claim 34: session, grid information, grid selection, member addresses, connection update.
  const second = g.addPeer({}, "arena", false);
  g.runUntil(() => second.endpoint.linkPeers.length === 1, 2_000, 5);
  g.sim.runFor(100);
  const toLobby = log.filter((c) => c.from === second.address).map((c) => c.msg.kind);
  assert.equal(toLobby, [Kind.Hello, Kind.Hello, Kind.ListGrids, Kind.SelectGrid, Kind.ConnUpdate]);
  const list = ofKind(log, Kind.GridList).find((c) => c.to === second.address);
  assert.equal(list?.msg.grids.map((x) => [x.name, x.grid]), [["arena", first.endpoint.grid]]);
  const select = ofKind(log, Kind.SelectGrid).find((c) => c.from === second.address);
  assert.is(select?.msg.grid, first.endpoint.grid);
  const members = ofKind(log, Kind.Members).find((c) => c.to === second.address);
  assert.equal(members?.msg.members.map((m) => [m.peer, m.addr]), [[first.endpoint.id, first.address]]);
  const update = ofKind(log, Kind.ConnUpdate).find((c) => c.from === second.address);
  assert.equal([update?.msg.peer, update?.msg.other, update?.msg.open], [second.endpoint.id, first.endpoint.id, true]);
  assert.equal(g.lobbyGraph().get(first.endpoint.id), [second.endpoint.id]);
});

test("claim 26: a joining peer sends a join message to each member, gets an answer from each, and connects to the members it selected", () => {
  const g = new SimGrid({ seed: 26 });
  // Members with limit 6 keep free links after they settle, so the joiner gets positive answers.
  for (let i = 0; i < 12; i++) g.addPeer({ connectionLimit: 6 });
  g.settle(2);
  g.sim.runFor(1_500);
  const log = capture(g, [Kind.Join, Kind.JoinReply, Kind.Connect, Kind.Force]);
  const spy = new SpyRules(defaultConnectionRules);
  const j = g.addPeer({ connectionRules: spy });
  g.runUntil(() => j.endpoint.phase === "member", 5_000, 10);
  g.sim.runFor(300);
  const joins = ofKind(log, Kind.Join).filter((c) => c.from === j.address);
  const asked = new Set(joins.map((c) => c.to));
  assert.is(asked.size, 12, "every member gets a join message");
  assert.ok(joins.every((c) => c.msg.from === j.endpoint.id && c.msg.grid === g.gridId));
  const answered = new Set(ofKind(log, Kind.JoinReply).filter((c) => c.to === j.address).map((c) => c.from));
  assert.equal([...answered].sort(), [...asked].sort(), "every member answers, positive or negative");
  const call = spy.positiveCalls[0];
  assert.ok(call !== undefined, "the connection rules were consulted");
  const firstConnects = ofKind(log, Kind.Connect).filter((c) => c.from === j.address).map((c) => g.at(c.to).endpoint.id);
  assert.equal(firstConnects.slice(0, call.chosen.length), peersOf(call.chosen), "a connection is opened with each selected member, in the rules' order");
  assert.ok(call.chosen.length > 0 && call.chosen.length <= 4);
  for (const id of peersOf(call.chosen)) assert.ok(j.endpoint.linkPeers.includes(id), `linked to selected member ${id}`);
});

test("claim 26: in a grid larger than joinSample the join message goes to a random sample of joinSample members", () => {
  const g = new SimGrid({ seed: 126 });
  for (let i = 0; i < 12; i++) g.addPeer();
  g.settle(2);
  const log = capture(g, [Kind.Join]);
  const a = g.addPeer({ joinSample: 5 });
  const b = g.addPeer({ joinSample: 5 });
  g.runUntil(() => a.endpoint.phase === "member" && b.endpoint.phase === "member", 5_000, 10);
  const firstRound = (p: PeerNode): string[] => {
    const sent = ofKind(log, Kind.Join).filter((c) => c.from === p.address);
    const t0 = sent[0]?.now;
    return sent.filter((c) => c.now === t0).map((c) => c.to);
  };
  const sa = firstRound(a);
  const sb = firstRound(b);
  assert.is(sa.length, 5);
  assert.is(new Set(sa).size, 5, "five distinct members");
  assert.is(sb.length, 5);
  assert.not.equal([...sa].sort(), [...sb].sort(), "two joiners draw different samples");
});

test("claim 27: a member answers positive only when it has fewer open connections than its limit", () => {
  const g = new SimGrid({ seed: 27, peer: { connectionLimit: 4 } });
  const log = capture(g, [Kind.JoinReply, Kind.AvailableReply]);
  for (let i = 0; i < 30; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  let positives = 0;
  let negatives = 0;
  for (const c of log) {
    if (c.msg.kind !== Kind.JoinReply && c.msg.kind !== Kind.AvailableReply) continue;
    const limit = c.msg.kind === Kind.JoinReply ? c.msg.limit : 4;
    if (c.msg.positive) {
      positives++;
      assert.ok(c.msg.links < limit, `${c.from} answered positive with ${c.msg.links} links, limit ${limit}`);
    } else {
      negatives++;
      // A negative with a free link is possible (the slot is held by a connect in flight).
    }
    if (c.msg.links >= limit) assert.not.ok(c.msg.positive, `${c.from} is full and must answer negative`);
  }
  assert.ok(positives > 20 && negatives > 20, `${positives} positive and ${negatives} negative answers seen`);
  const full = ofKind(log, Kind.JoinReply).filter((c) => c.msg.links === c.msg.limit);
  assert.ok(full.length > 0 && full.every((c) => !c.msg.positive), "full members answered negative");
});

test("claim 28: every join response is stored with its response time", () => {
  const oneWay = [20, 35, 50, 65, 80, 95];
  const spy = new SpyRules(defaultConnectionRules);
  const { g, members, log } = joinWithLatencies(28, oneWay, { connectionLimit: 4, rules: spy }, 4);
  const call = spy.positiveCalls[0];
  assert.ok(call !== undefined);
  const sentAt = ofKind(log, Kind.Join)[0]?.now as number;
  assert.equal(peersOf(call.positives), members.map((m) => m.endpoint.id), "in arrival order");
  assert.equal(call.positives.map((r) => r.responseTimeMs), oneWay.map((l) => 2 * l), "response time = round trip");
  assert.equal(call.positives.map((r) => r.receivedAt - r.responseTimeMs), oneWay.map(() => sentAt), "measured from when the join message went out");
  assert.equal(call.positives.map((r) => r.order), [0, 1, 2, 3, 4, 5]);
  assert.ok(g.sim.now > sentAt);
});

test("claim 29: the first and the last positive response inside the time limit are selected", () => {
  // The sixth member answers after 300 ms, past the 250 ms join time limit.
  assert.is(DEFAULT_JOIN_WINDOW_MS, 250);
  const oneWay = [20, 35, 50, 65, 80, 150];
  const spy = new SpyRules(defaultConnectionRules);
  const { g, members, j, log } = joinWithLatencies(29, oneWay, { connectionLimit: 2, rules: spy }, 2);
  g.sim.runFor(1_000);
  const ids = members.map((m) => m.endpoint.id);
  const call = spy.positiveCalls[0];
  assert.ok(call !== undefined);
  assert.equal(peersOf(call.positives), ids.slice(0, 5), "the late answer is not among the responses");
  assert.equal(peersOf(call.chosen), [ids[0], ids[4]], "first, then last inside the time limit");
  assert.equal(linksOf(j), [ids[0] as number, ids[4] as number].sort((a, b) => a - b));
  const late = ofKind(log, Kind.JoinReply).filter((c) => c.from === members[5]?.address);
  assert.ok(late.length > 0 && late.every((c) => c.msg.positive), "the slow member did answer positive, too late");
  assert.ok((j.endpoint.stats().drops["unmatched-reply"] ?? 0) >= 1, "its late reply is dropped, counted");
  assert.is(spy.positiveCalls.length, 1);
});

test("claim 30: after first and last, the remaining links go to positive responders drawn at random", () => {
  const oneWay = [20, 35, 50, 65, 80, 95];
  const extras = new Set<string>();
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const spy = new SpyRules(defaultConnectionRules);
    const { members, j, log } = joinWithLatencies(seed, oneWay, { connectionLimit: 4, rules: spy }, 4);
    const ids = members.map((m) => m.endpoint.id);
    const links = linksOf(j);
    assert.is(links.length, 4);
    assert.ok(links.includes(ids[0] as number) && links.includes(ids[5] as number), `seed ${seed}: first and last`);
    const connects = ofKind(log, Kind.Connect).filter((c) => c.from === j.address).map((c) => c.to);
    assert.equal(connects.slice(0, 2), [members[0]?.address, members[5]?.address], "first and last are asked first");
    extras.add(links.filter((id) => id !== ids[0] && id !== ids[5]).join(","));
  }
  assert.ok(extras.size >= 2, `the two extra links vary with the seed: ${[...extras].join(" | ")}`);
});

test("claim 31: with arrival-order rules the remaining links follow the order the positive responses arrived", () => {
  const oneWay = [20, 35, 50, 65, 80, 95];
  for (const seed of [1, 2, 3]) {
    const spy = new SpyRules(arrivalOrderConnectionRules);
    const { members, j, log } = joinWithLatencies(seed, oneWay, { connectionLimit: 4, rules: spy }, 4);
    const byAddr = ofKind(log, Kind.Connect).filter((c) => c.from === j.address).map((c) => c.to);
    const m = members.map((x) => x.address);
    assert.equal(byAddr, [m[0], m[5], m[1], m[2]], `seed ${seed}`);
    assert.equal(linksOf(j), [1, 2, 3, 6]);
  }
});

test("claims 32, 33: a peer joining a grid in which everyone is full gets in by force connection to the fastest negative responder", () => {
  const spy = new SpyRules(defaultConnectionRules);
  const { g, j, log, events, splits, over } = forceIntoFullK5(32, spy);
  const oneWay = [...K5_JOINER_LATENCY_MS];
  const replies = ofKind(log, Kind.JoinReply).filter((c) => c.to === j.address);
  assert.is(replies.length, 5);
  assert.ok(replies.every((c) => !c.msg.positive && c.msg.links === 4), "everyone is full");
  // Claim 33: the connection rules are applied to the negative responders.
  const call = spy.forceCalls[0];
  assert.ok(call !== undefined);
  assert.equal(call.negatives.map((r) => r.responseTimeMs).sort((a, b) => a - b), oneWay.map((l) => 2 * l).sort((a, b) => a - b));
  assert.is(call.chosen?.peer, 2);
  // Claim 32: one force connection request, to that member, which closes one link and confirms.
  const forces = ofKind(log, Kind.Force);
  assert.equal(forces.map((c) => c.to), ["peer-2"]);
  const confirm = ofKind(log, Kind.ForceReply);
  assert.ok(confirm.length >= 1 && confirm.every((c) => c.from === "peer-2" && c.msg.ok));
  const forced = events.filter((e) => e.type === "closed" && e.reason === "forced");
  assert.equal(forced.map((e) => [e.address, e.peer]), [["peer-2", 4]], "peer 2 dropped exactly one link: its slowest, to peer 4");
  g.sim.runFor(100); // the Disconnect crosses the 30 ms link
  const told = events.find((e) => e.address === "peer-4" && e.type === "closed");
  assert.equal([told?.peer, told?.reason, told?.remoteReason], [2, "remote", DisconnectReason.Forced], "the dropped neighbour is told why");
  assert.ok(j.endpoint.linkPeers.includes(2));
  assert.ok(j.endpoint.stats().forcedConnections >= 1 && g.at("peer-2").endpoint.stats().forcedConnections === 1);
  // The grid stayed whole and within its limits, then settled with two links each.
  g.settle(2, 10_000);
  assert.equal(splits, []);
  assert.equal(over, []);
});

test("claim 33: the force connection peer is whichever negative responder the peer's own connection rules pick", () => {
  const slowest = (negatives: readonly Response[]): Response | undefined =>
    negatives.reduce<Response | undefined>((a, b) => (a === undefined || b.responseTimeMs > a.responseTimeMs ? b : a), undefined);
  const spy = new SpyRules(defaultConnectionRules, slowest);
  const { j, log } = forceIntoFullK5(33, spy);
  assert.equal(ofKind(log, Kind.Force).map((c) => c.to), ["peer-5"], "the 50 ms member, as the custom rule says");
  assert.ok(j.endpoint.linkPeers.includes(5));
});

test("claim 9: every peer has its own connection limit and keeps to it; the lobby records each one", () => {
  const g = new SimGrid({ seed: 9 });
  const over = watchLimits(g);
  const limits = [2, 3, 4, 5, 6, 8];
  for (let i = 0; i < 24; i++) g.addPeer({ connectionLimit: limits[i % limits.length] as number });
  g.settle(2);
  g.sim.runFor(3_000);
  assert.equal(over, [], "no linkOpen ever took a peer past its own limit");
  for (const p of g.live()) assert.ok(p.endpoint.linkPeers.length <= p.endpoint.connectionLimit);
  assert.ok(g.live().some((p) => p.endpoint.linkPeers.length > 4), "limits above the grid's default are used");
  const members = g.lobby.endpoint.membersOf(g.gridId) ?? [];
  assert.is(members.length, 24);
  for (const m of members) assert.is(m.limit, g.byId(m.peer).endpoint.connectionLimit, `lobby's limit for ${m.peer}`);
  assert.is(g.components().length, 1);
});

test.run();
