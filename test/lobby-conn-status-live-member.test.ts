/**
 * Regression (issue 11, bug 1): the lobby never answered a ConnStatus (claim 50) about a
 * live member. It computed ConnStatusReply.silentMs as now - lastHeardMs on the driver's
 * clock, and a real clock (performance.now()) is fractional: silentMs was not an integer,
 * encode() threw on the uint field, and the lobby's catch-all counted `internal-error` once
 * per retransmission and sent nothing. Only a non-member (Gone, silentMs 0) got an answer.
 *
 * The simulated tests did not see it for two reasons: virtual time moved in whole
 * milliseconds (every link latency was an integer), so every difference of two times was
 * an integer too; and the swallowed exception was only a drop counter that no grid test
 * looked at. Now links may have fractional latencies (these runs use them), and an
 * exception the lobby swallows is an `internalError` event that fails every SimGrid run
 * and every lobby-harness test (test/support/sim-grid.ts, test/lobby-harness.ts).
 * The same bug on real UDP: test/node-peer-unresponsive-link.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby } from "../lib/lobby/lobby.ts";
import { SeededRandom } from "../lib/rng.ts";
import { fromHex } from "../scripts/gen-vectors.ts";
import { decode, encode, LinkStatus } from "../wire/index.ts";
import { Client, expectKind, Harness, helloMessage, joinMany } from "./lobby-harness.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";
import { capture, Kind, linkEvents, mesh, ofKind } from "./support/peer-scenarios.ts";
import { LOBBY, SimGrid, type PeerNode } from "./support/sim-grid.ts";

/** A settled mesh of `n` peers on links whose latencies are not whole milliseconds. */
function fractionalGrid(seed: number, n: number): { g: SimGrid; peers: PeerNode[] } {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4 }, link: { latencyMs: 10.3 } });
  const peers = mesh(g, n);
  // Each peer's path to the lobby differs, like real paths: heartbeats land at unrelated fractions of a ms.
  peers.forEach((p, i) => g.sim.setLink(LOBBY, p.address, { latencyMs: 3.17 + 1.61 * i }));
  g.sim.runFor(3_000);
  return { g, peers };
}

test("bug 11.1 (simulator): a peer whose neighbour stops answering pings gets a ConnStatusReply Alive for it, not silence", () => {
  const { g, peers } = fractionalGrid(1101, 4);
  const [a, b] = peers as [PeerNode, PeerNode];
  const log = capture(g, [Kind.ConnStatus, Kind.ConnStatusReply]);
  const closes = linkEvents(g);
  // a and b no longer hear each other; both still talk to the lobby, so b is a live member.
  g.sim.partition([a.address], [b.address]);
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 1);
  g.sim.runFor(200);
  assert.ok(closes.some((e) => e.address === a.address && e.peer === b.endpoint.id && e.reason === "unresponsive"));
  const ask = ofKind(log, Kind.ConnStatus).find((c) => c.from === a.address && c.msg.other === b.endpoint.id);
  assert.ok(ask !== undefined, "a asks the lobby about b");
  const replies = ofKind(log, Kind.ConnStatusReply).filter((c) => c.to === a.address && c.msg.req === ask.msg.req);
  assert.is(replies.length, 1, "answered once: no retransmission was needed");
  const reply = replies[0]?.msg;
  assert.is(reply?.status, LinkStatus.Alive, "b heartbeats, so the link broke, not the peer");
  assert.ok(Number.isInteger(reply?.silentMs) && (reply?.silentMs ?? -1) >= 0, `silentMs ${String(reply?.silentMs)} is a whole number`);
  assert.ok(!Number.isInteger(replies[0]?.now), `the lobby answered at ${String(replies[0]?.now)} ms: the run really was on fractional times`);
  assert.is(g.lobby.endpoint.stats().drops["internal-error"], undefined);
});

test("bug 11.1 (simulator): a crashed neighbour gets a ConnStatusReply Checking and a Probe on fractional times too", () => {
  const { g, peers } = fractionalGrid(1102, 4);
  const [a, b] = peers as [PeerNode, PeerNode];
  const log = capture(g, [Kind.ConnStatus, Kind.ConnStatusReply, Kind.Probe]);
  g.sim.crash(b.address);
  g.runUntil(() => !a.endpoint.linkPeers.includes(b.endpoint.id), 6_000, 1);
  g.sim.runFor(200);
  const ask = ofKind(log, Kind.ConnStatus).find((c) => c.from === a.address && c.msg.other === b.endpoint.id);
  assert.ok(ask !== undefined);
  const reply = ofKind(log, Kind.ConnStatusReply).find((c) => c.to === a.address && c.msg.req === ask.msg.req);
  assert.is(reply?.msg.status, LinkStatus.Checking);
  assert.ok(Number.isInteger(reply?.msg.silentMs) && (reply?.msg.silentMs ?? 0) > 0);
  assert.ok(ofKind(log, Kind.Probe).some((c) => c.to === b.address), "the lobby probes the silent end");
  assert.is(g.lobby.endpoint.stats().drops["internal-error"], undefined);
});

test("bug 11.1 (lobby): every ConnStatusReply status is sent on a fractional clock, with silentMs in whole ms", () => {
  const h = new Harness({ heartbeatMs: 1000 });
  const creator = new Client(h, "10.9.0.1:4000");
  creator.hello();
  const grid = creator.create("frac");
  const [a, b, c] = joinMany(h, grid, 3);
  if (a === undefined || b === undefined || c === undefined) throw new Error("three members");
  h.advance(0.375);
  b.client.heartbeat(grid, b.peer, []);
  h.advance(1.25);
  const alive = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: b.peer }), Kind.ConnStatusReply);
  assert.equal([alive.status, alive.silentMs], [LinkStatus.Alive, 1]);
  h.advance(2_000.5);
  const checking = expectKind(a.client.call(Kind.ConnStatus, { grid, peer: a.peer, other: c.peer }), Kind.ConnStatusReply);
  assert.is(checking.status, LinkStatus.Checking);
  assert.is(checking.silentMs, 2002, "floor of 2002.125 ms");
  assert.is(h.lobby.stats().drops["internal-error"], undefined);
});

test("bug 11.1: an exception the lobby swallows is an internalError event (kind, message) and fails the harness", () => {
  // A crypto provider that breaks on sealing makes every SelectGrid handler throw.
  const crypto = new SeededNodeCrypto(9);
  crypto.aeadSeal = () => {
    throw new RangeError("sealing broke");
  };
  const h = new Harness({ crypto }, 9);
  const c = new Client(h, "10.9.1.1:4000");
  c.hello();
  const grid = c.create("boom");
  assert.throws(() => c.send(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /swallowed an exception handling a datagram of kind 35: RangeError: sealing broke/);
  assert.is(h.lobby.stats().drops["internal-error"], 1);
  // The event itself, as a driver sees it: a handshake whose key agreement throws.
  const broken = new SeededNodeCrypto(10);
  broken.x25519KeyPair = () => {
    throw new TypeError("no X25519 here");
  };
  const lobby = new Lobby({ random: new SeededRandom(10), crypto: broken });
  const eph = new SeededNodeCrypto(11).x25519KeyPair().publicKey;
  lobby.handleDatagram(0, "10.9.1.2:4000", encode(helloMessage(1, "x", new Uint8Array(0), eph)));
  const retry = decode(lobby.pollTransmit()?.bytes ?? new Uint8Array(0));
  assert.ok(retry.ok && retry.msg.kind === Kind.Retry);
  lobby.handleDatagram(0, "10.9.1.2:4000", encode(helloMessage(2, "x", retry.msg.cookie, eph)));
  const e = lobby.pollEvent();
  assert.ok(e?.type === "internalError", JSON.stringify(e));
  assert.equal([e.kind, e.message, e.error instanceof TypeError], [Kind.Hello, "TypeError: no X25519 here", true]);
  assert.is(lobby.pollTransmit(), undefined, "nothing sent");
  assert.is(lobby.stats().drops["internal-error"], 1);
  // A hostile datagram is a counted drop, never an internal error.
  lobby.handleDatagram(0, "10.9.1.3:4000", fromHex("9301ff00"));
  assert.is(lobby.pollEvent(), undefined);
});

test.run();
