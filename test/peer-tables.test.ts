/**
 * The Peer's three tables (lib/peer/phases.ts, timers.ts, drops.ts), as the Lobby's are
 * tested: every datagram is accepted or dropped under one named reason (datagramsIn ===
 * accepted + sum(drops)), outbound failures are counted apart, a kind the phase does not
 * accept is dropped as unexpected-in-state, setPhase refuses a move the table does not
 * list, and pollTimeout() is always the deadline of the timer nextTimer() names.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby } from "../lib/lobby/lobby.ts";
import { resolvePeerConfig } from "../lib/peer/config.ts";
import { PeerCore } from "../lib/peer/core.ts";
import { PeerDrop } from "../lib/peer/drops.ts";
import { insiderOf } from "../lib/peer/insider.ts";
import { Peer } from "../lib/peer/peer.ts";
import { canMove, PHASE_TABLE, type Phase } from "../lib/peer/phases.ts";
import { PeerTimer } from "../lib/peer/timers.ts";
import { SeededRandom } from "../lib/rng.ts";
import { DecodeErrorCode, encode, Kind, relaySizeBound, writeRelay } from "../wire/index.ts";
import { peerAccounting } from "./support/fuzz/bounds.ts";
import { broadcastFrom } from "./support/peer-scenarios.ts";
import { LOBBY, seededCrypto, SimGrid } from "./support/sim-grid.ts";

const MALLORY = "mallory";
const NAMED = new Set<string>([...Object.values(PeerDrop), ...Object.values(DecodeErrorCode)]);

function lonePeer(): Peer {
  return new Peer({ lobby: LOBBY, random: new SeededRandom(7) });
}

test("drop table: through joins, relaying, a crash, a leave and a lobby restart, every datagram each peer took was accepted or dropped under one named reason", () => {
  // Loss and duplicates break the relay inspector's "first sent is first received", so it is off.
  const g = new SimGrid({ seed: 0x7ab1e, peer: { connectionLimit: 3 }, link: { lossPercent: 5, duplicatePercent: 5 }, inspect: false });
  for (let i = 0; i < 10; i++) g.addPeer();
  g.settle(2, 30_000);
  for (const p of g.live()) broadcastFrom(p);
  g.sim.runFor(1_000);
  g.sim.crash("peer-4");
  g.at("peer-6").with((p, now) => p.leave(now));
  g.sim.runFor(4_000);
  g.sim.restart(LOBBY, new Lobby({ random: new SeededRandom(3), crypto: seededCrypto(3) }));
  g.sim.runFor(8_000);
  for (const p of g.peers) {
    assert.equal(peerAccounting(p), [], p.address);
    const s = p.endpoint.stats();
    assert.ok(s.accepted > 0, `${p.address} accepted ${s.accepted}`);
    for (const reason of Object.keys(s.drops)) assert.ok(NAMED.has(reason), `${p.address}: "${reason}" is in the drop table`);
  }
  // Lost and duplicated datagrams did happen: the accounting held under them.
  assert.ok(g.peers.some((p) => Object.keys(p.endpoint.stats().drops).length > 0));
});

test("drop table: outbound failures are counted apart from inbound drops (a peer without a grid key refuses to tag)", () => {
  const p = lonePeer();
  assert.is(insiderOf(p).seal({ kind: Kind.Ping, req: 1, grid: 1, from: 1, to: 2, ctr: 1, auth: new Uint8Array(8), tag: new Uint8Array(9) }), undefined);
  const s = p.stats();
  assert.equal(s.failures, { "no-grid-key": 1 });
  assert.equal([s.datagramsIn, s.accepted, s.drops], [0, 0, {}]);
});

test("phase table: a peer still talking to the lobby drops grid traffic as unexpected-in-state, takes lobby messages only from the lobby and (after the handshake) only in a session frame, and after leave() drops everything as closed", () => {
  const p = lonePeer();
  p.join(0, { grid: "g" });
  assert.is(p.phase, "lobby");
  const feed = (from: string, bytes: Uint8Array): void => p.handleDatagram(1, from, bytes);
  feed(LOBBY, encode({ kind: Kind.Probe, req: 1, grid: 0, peer: 0, other: 2 }));
  feed(LOBBY, encode({ kind: Kind.RepairHint, grid: 0, peer: 0, force: false, targets: [] }));
  feed(MALLORY, encode({ kind: Kind.Hello, req: 1, name: "", cookie: new Uint8Array(0), eph: new Uint8Array(32), pad: new Uint8Array(0) }));
  const buf = new Uint8Array(relaySizeBound(3));
  feed(MALLORY, buf.subarray(0, writeRelay(buf, 0, 0, 1, 2, 3, null, new Uint8Array(3), new Uint8Array(9))));
  feed(MALLORY, encode({ kind: Kind.LobbyClosing, reason: "forged" }));
  feed(LOBBY, encode({ kind: Kind.LobbyClosing, reason: "bye" }));
  let s = p.stats();
  // Probe and RepairHint in the lobby phase, and Data before admission: unexpected-in-state.
  // From mallory, the Hello and the LobbyClosing: not-from-lobby. The bare LobbyClosing from
  // the lobby's address: unauthenticated (every lobby notice is framed, PROTOCOL.md 6.10).
  assert.equal(s.drops, { "unexpected-in-state": 3, "not-from-lobby": 2, unauthenticated: 1 });
  assert.is(s.accepted, 0);
  p.leave(2);
  p.handleTimeout(2); // nothing outstanding: the close is done at once
  assert.is(p.phase, "closed");
  feed(LOBBY, encode({ kind: Kind.LobbyClosing, reason: "bye" }));
  s = p.stats();
  assert.is(s.drops.closed, 1);
  assert.is(s.datagramsIn, s.accepted + Object.values(s.drops).reduce((a, b) => a + b, 0));
});

test("phase table: setPhase is the only writer and refuses a move the table does not list", () => {
  const core = new PeerCore(resolvePeerConfig({ lobby: LOBBY, random: new SeededRandom(1) }));
  assert.throws(() => core.setPhase("member"), /idle -> member/);
  assert.is(core.phase, "idle");
  const path: Phase[] = ["lobby", "joining", "member", "leaving", "closed"];
  for (const to of path) core.setPhase(to);
  assert.is(core.phase, "closed");
  assert.equal(PHASE_TABLE.closed, { accepts: [], next: [] });
  // Every phase can be left for leaving (leave() works at any time) except the last two.
  for (const from of ["idle", "lobby", "joining", "member"] as const) assert.ok(canMove(from, "leaving"), from);
  // A joining peer already takes what a member does: it answers its future neighbours and
  // follows island repairs (a joiner the lobby still sees alone after the grace, issue 18).
  assert.equal([...PHASE_TABLE.joining.accepts].sort(), [...PHASE_TABLE.member.accepts].sort());
  assert.ok(PHASE_TABLE.joining.accepts.includes(Kind.RepairHint) && PHASE_TABLE.joining.accepts.includes(Kind.GridStatus));
});

test("timer table: pollTimeout() is always the deadline nextTimer() names, through a peer's whole life", () => {
  const g = new SimGrid({ seed: 0x71e, peer: { connectionLimit: 3 } });
  for (let i = 0; i < 5; i++) g.addPeer();
  const p = g.at("peer-5");
  const seen = new Set<string>();
  const check = (): void => {
    const next = p.endpoint.nextTimer();
    assert.is(p.endpoint.pollTimeout(), next?.atMs);
    if (next !== undefined) seen.add(next.name);
  };
  for (let t = 0; t < 8_000; t += 5) {
    g.sim.runFor(5);
    check();
  }
  g.at("peer-4").with((x, now) => x.setConnectionLimit(now, 2)); // peer 5 may lose a link and seek
  for (let t = 0; t < 3_000; t += 5) {
    g.sim.runFor(5);
    check();
  }
  p.with((x, now) => x.leave(now));
  check();
  for (let t = 0; t < 2_000; t += 5) {
    g.sim.runFor(5);
    check();
  }
  assert.is(p.endpoint.phase, "closed");
  assert.is(p.endpoint.nextTimer(), undefined);
  // Each of these was the earliest at some point (heartbeats fall on ping ticks, which fire first).
  const names = new Set<string>(Object.values(PeerTimer));
  assert.ok([...seen].every((n) => names.has(n)), [...seen].join());
  for (const n of [PeerTimer.Retransmit, PeerTimer.PingTick, PeerTimer.PongDeadline, PeerTimer.SeekTick, PeerTimer.CloseDeadline]) {
    assert.ok(seen.has(n), `${n} was next at some point (seen: ${[...seen].join(", ")})`);
  }
});

test.run();
