/**
 * Maintenance (claims 45-51): pings on every link, pongs judged against a time limit,
 * links closed after repeated misses, the lobby asked for the connection's status and told
 * of the close. Real Peers and a real Lobby on the simulated network, default timings:
 * ping every 1000 ms, pong due within 800 ms, 3 misses in a row close the link.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_MAX_MISSED_PINGS, DEFAULT_PING_INTERVAL_MS, DEFAULT_PONG_TIMEOUT_MS } from "../lib/peer/config.ts";
import { LinkStatus } from "../wire/index.ts";
import { capture, Kind, linkEvents, mesh, ofKind } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const PING = DEFAULT_PING_INTERVAL_MS;
const PONG = DEFAULT_PONG_TIMEOUT_MS;
const MISSES = DEFAULT_MAX_MISSED_PINGS;

/** A settled grid of `n` limit-4 peers, quiet for a while (every link has had pongs). */
function grid(seed: number, n: number, latencyMs = 10): SimGrid {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4 }, link: { latencyMs } });
  if (n <= 5) mesh(g, n);
  else {
    for (let i = 0; i < n; i++) g.addPeer();
    g.settle(2);
  }
  g.sim.runFor(3_000);
  return g;
}

/** peer-1 and its lowest-numbered neighbour. */
function pairOf(g: SimGrid): { a: PeerNode; b: PeerNode } {
  const a = g.at("peer-1");
  const bId = Math.min(...a.endpoint.linkPeers);
  return { a, b: g.byId(bId) };
}

test("claims 45, 46: every peer pings each of its links every pingIntervalMs, and each ping is answered by a pong", () => {
  const g = grid(46, 8, 25);
  const log = capture(g, [Kind.Ping, Kind.Pong]);
  const start = g.sim.now;
  g.sim.runFor(5_000);
  const pings = ofKind(log, Kind.Ping);
  const pongs = ofKind(log, Kind.Pong);
  for (const p of g.live()) {
    for (const other of p.endpoint.linkPeers) {
      const to = g.byId(other).address;
      const mine = pings.filter((c) => c.from === p.address && c.to === to);
      assert.ok(mine.length >= 4 && mine.length <= 6, `${p.address} pinged ${to} ${mine.length} times in 5 s`);
      for (let i = 1; i < mine.length; i++) assert.is((mine[i]?.now as number) - (mine[i - 1]?.now as number), PING, "one ping per interval");
      for (const ping of mine) {
        const pong = pongs.find((c) => c.from === to && c.to === p.address && c.msg.req === ping.msg.req);
        assert.ok(pong !== undefined, `${to} answered ping ${ping.msg.req}`);
        assert.is(pong.now - ping.now, 25, "answered on arrival");
        assert.is(pong.msg.links, g.byId(other).endpoint.linkPeers.length, "the pong carries the neighbour's link count");
      }
    }
    for (const l of p.endpoint.stats().links) assert.is(l.srttMs, 50, "smoothed RTT of a 25 ms link");
  }
  assert.ok(pings.every((c) => c.now >= start));
  assert.equal(g.events.filter((e) => e.now > start && e.event.type === "linkClosed"), [], "nothing unacceptable, nothing closed");
});

test("claims 45, 47: a pong that comes back later than pongTimeoutMs is unacceptable; the link is closed although the neighbour answers", () => {
  const g = grid(47, 5);
  const { a, b } = pairOf(g);
  const log = capture(g, [Kind.Ping, Kind.Pong, Kind.ConnStatus]);
  const events = linkEvents(g);
  // 450 ms each way: every pong arrives after 900 ms, past the 800 ms limit but before the next ping.
  g.sim.setLink(a.address, b.address, { latencyMs: 450 });
  const start = g.sim.now;
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 10);
  const pongs = ofKind(log, Kind.Pong).filter((c) => c.from === b.address && c.to === a.address);
  assert.ok(pongs.length >= MISSES - 1, `${b.address} kept answering (${pongs.length} pongs)`);
  assert.ok((a.endpoint.stats().drops["late-pong"] ?? 0) >= 1, "late pongs are counted and ignored");
  const closes = events.filter((e) => e.type === "closed" && ((e.address === a.address && e.peer === b.endpoint.id) || (e.address === b.address && e.peer === a.endpoint.id)));
  assert.ok(closes.some((e) => e.reason === "unresponsive"), JSON.stringify(closes));
  const closedAt = Math.min(...closes.map((e) => e.now));
  assert.ok(closedAt - start > (MISSES - 1) * PING, `not before ${MISSES} slow pongs (closed after ${closedAt - start} ms)`);
  // Claim 50 follows: the closing side asks the lobby about the connection.
  const closer = closes.find((e) => e.reason === "unresponsive");
  assert.ok(ofKind(log, Kind.ConnStatus).some((c) => c.from === closer?.address));
});

test("claims 45, 48, 49: a neighbour that stops answering is closed after maxMissedPings pings go unanswered, not before", () => {
  const g = grid(49, 8);
  const { a, b } = pairOf(g);
  const log = capture(g, [Kind.Ping, Kind.Pong]);
  const events = linkEvents(g);
  g.sim.runFor(1_500);
  const crashedAt = g.sim.now;
  g.sim.crash(b.address);
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 1);
  const close = events.find((e) => e.address === a.address && e.peer === b.endpoint.id);
  assert.is(close?.reason, "unresponsive");
  const pings = ofKind(log, Kind.Ping).filter((c) => c.from === a.address && c.to === b.address);
  const answered = new Set(ofKind(log, Kind.Pong).filter((c) => c.from === b.address).map((c) => c.msg.req));
  const unanswered = pings.filter((c) => !answered.has(c.msg.req));
  // The ping in flight when it crashed counts too: it never gets its pong.
  assert.is(unanswered.length, MISSES, `${MISSES} pings unanswered in a row, then the close`);
  assert.ok(pings.slice(0, pings.length - MISSES).every((c) => answered.has(c.msg.req)));
  const first = unanswered[0]?.now as number;
  assert.ok(first > crashedAt - PING && first <= crashedAt + PING);
  assert.is(close?.now, first + (MISSES - 1) * PING + PONG, "closed when the last of them was due");
  const took = (close?.now as number) - crashedAt;
  assert.ok(took > (MISSES - 2) * PING + PONG && took <= MISSES * PING + PONG, `closed ${took} ms after the crash`);
  // Every other neighbour of the crashed peer closes its link too.
  g.sim.runFor(1_500);
  for (const p of g.live()) assert.not.ok(p.endpoint.linkPeers.includes(b.endpoint.id), `${p.address} still linked to the dead peer`);
});

test("claim 49: fewer than maxMissedPings unacceptable responses in a row do not close the link", () => {
  const g = grid(149, 5);
  const { a, b } = pairOf(g);
  const events = linkEvents(g);
  const log = capture(g, [Kind.Ping]);
  // Twice: a 1500 ms cut loses at most two pings (or their pongs) in a row; a good pong in
  // between resets the count, so four misses in all never close the link.
  for (let round = 0; round < 2; round++) {
    g.sim.partition([a.address], [b.address]);
    g.sim.runFor(1_500);
    g.sim.heal();
    g.sim.runFor(2_000);
  }
  assert.ok(a.endpoint.linkPeers.includes(b.endpoint.id) && b.endpoint.linkPeers.includes(a.endpoint.id));
  assert.equal(events.filter((e) => e.type === "closed"), []);
  assert.ok(ofKind(log, Kind.Ping).filter((c) => c.from === a.address && c.to === b.address).length >= 6);
  // A cut long enough for maxMissedPings misses does close it.
  g.sim.partition([a.address], [b.address]);
  g.sim.runFor(MISSES * PING + PONG + 100);
  assert.not.ok(a.endpoint.linkPeers.includes(b.endpoint.id));
  assert.ok(events.some((e) => e.address === a.address && e.peer === b.endpoint.id && e.reason === "unresponsive"));
});

test("claim 50: a peer whose neighbour's response is unacceptable sends the lobby a connection status request for that connection", () => {
  const g = grid(50, 8);
  const { a, b } = pairOf(g);
  const log = capture(g, [Kind.ConnStatus, Kind.ConnStatusReply, Kind.Probe]);
  const probesBefore = g.lobby.endpoint.stats().probesSent;
  const neighbours = b.endpoint.linkPeers.map((id) => g.byId(id).address);
  g.sim.crash(b.address);
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 1);
  g.sim.runFor(100);
  const asks = ofKind(log, Kind.ConnStatus).filter((c) => c.from === a.address);
  assert.is(asks.length, 1);
  assert.equal([asks[0]?.to, asks[0]?.msg.peer, asks[0]?.msg.other, asks[0]?.msg.grid], ["lobby", a.endpoint.id, b.endpoint.id, g.gridId]);
  const reply = ofKind(log, Kind.ConnStatusReply).find((c) => c.to === a.address && c.msg.req === asks[0]?.msg.req);
  assert.ok(reply !== undefined, "the lobby answers");
  assert.is(reply.msg.other, b.endpoint.id);
  // The crashed peer last heartbeated up to 2 s before the crash and the close came ~3 s
  // after it: more than aliveWithinMs (3 s), so the lobby is checking with it.
  assert.is(reply.msg.status, LinkStatus.Checking);
  assert.ok(reply.msg.silentMs > 3_000);
  assert.ok(ofKind(log, Kind.Probe).some((c) => c.to === b.address && c.msg.peer === b.endpoint.id), "the lobby probes the silent end");
  assert.ok(g.lobby.endpoint.stats().probesSent > probesBefore);
  // Every neighbour of the dead peer asks about its own connection to it.
  g.sim.runFor(1_500);
  const askers = new Set(ofKind(log, Kind.ConnStatus).filter((c) => c.msg.other === b.endpoint.id).map((c) => c.from));
  assert.equal([...askers].sort(), neighbours.sort());
});

test("claim 51: the peer tells the lobby the connection closed, and the lobby's graph loses the edge", () => {
  const g = grid(51, 8);
  const { a, b } = pairOf(g);
  assert.ok(g.lobbyGraph().get(a.endpoint.id)?.includes(b.endpoint.id), "a confirmed edge before");
  const log = capture(g, [Kind.ConnUpdate]);
  g.sim.crash(b.address);
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 1);
  const update = ofKind(log, Kind.ConnUpdate).find((c) => c.from === a.address);
  assert.equal([update?.msg.peer, update?.msg.other, update?.msg.open], [a.endpoint.id, b.endpoint.id, false]);
  g.sim.runFor(50);
  assert.not.ok(g.lobbyGraph().get(a.endpoint.id)?.includes(b.endpoint.id), "the lobby's graph lost the edge");
});

test("claim 51: every link closed, for whatever reason, is reported closed to the lobby", () => {
  const g = grid(151, 12);
  const log = capture(g, [Kind.ConnUpdate]);
  const events = linkEvents(g);
  const [p1, p2, p3, p4] = [g.at("peer-1"), g.at("peer-2"), g.at("peer-3"), g.at("peer-4")];
  p1.with((p, now) => p.setConnectionLimit(now, 2)); // limit-lowered, and remote at the other end
  p2.with((p, now) => p.leave(now)); // leave
  g.sim.crash(p3.address); // unresponsive at its neighbours
  g.sim.setLink(p4.address, g.byId(Math.max(...p4.endpoint.linkPeers)).address, { latencyMs: 450 }); // slow pongs
  for (let i = 0; i < 3; i++) g.addPeer(); // joins, maybe forced
  g.sim.runFor(8_000);
  const closes = events.filter((e) => e.type === "closed" && g.sim.isAlive(e.address));
  const reasons = new Set(closes.map((e) => e.reason));
  for (const r of ["limit-lowered", "leave", "unresponsive", "remote"]) assert.ok(reasons.has(r), `a close with reason ${r}`);
  for (const e of closes) {
    const self = g.at(e.address).endpoint.id;
    const u = ofKind(log, Kind.ConnUpdate).find((c) => c.from === e.address && c.now === e.now && c.msg.peer === self && c.msg.other === e.peer && !c.msg.open);
    assert.ok(u !== undefined, `${e.address} reported closing ${e.peer} (${e.reason})`);
  }
  g.sim.runFor(5_000); // the crashed peer expires at the lobby
  assert.equal(g.lobbyDisagreements(), []);
});

test.run();
