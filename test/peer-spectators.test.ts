/**
 * Spectators (US 7,610,402; PROTOCOL.md 4.1.3, lib/relay/spectators.ts): the lobby grants the
 * role in the peer id; a spectator receives and relays everyone's data, and what it originates
 * is delivered to nobody and relayed by no one: every member drops it on receive
 * (spectator-origin), so a hostile spectator that bypasses its own send() check and injects
 * envelopes under its own id still reaches nobody.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode } from "../lib/errors.ts";
import { isSpectator } from "../lib/relay/spectators.ts";
import { Kind } from "../wire/index.ts";
import { broadcastFrom, notExactlyOnce, sealAs } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

function grid(seed: number): { g: SimGrid; players: PeerNode[]; spectators: PeerNode[] } {
  const g = new SimGrid({ seed, link: { latencyMs: 10, jitterMs: 4 }, peer: { connectionLimit: 3 } });
  g.keepEvents = false;
  const players = [g.addPeer()];
  g.sim.runFor(500);
  for (let i = 0; i < 7; i++) players.push(g.addPeer({}, "arena", false));
  const spectators = [0, 1, 2].map((i) => g.addPeerAt(`spec-${i}`, { localAddresses: [`spec-${i}`] }, "arena", false, undefined, "spectator"));
  g.settle(2);
  g.sim.runFor(3_000);
  return { g, players, spectators };
}

test("the lobby grants the spectator role in the id; spectators get every player's broadcast exactly once", () => {
  const { g, players, spectators } = grid(0x5ec7);
  for (const s of spectators) {
    assert.ok(isSpectator(s.endpoint.id), `spectator id ${s.endpoint.id}`);
    assert.is(s.endpoint.role, "spectator");
  }
  for (const p of players) assert.is(p.endpoint.role, "player");
  const sent = players.map((p) => broadcastFrom(p));
  g.sim.runFor(2_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("a spectator's send() and broadcast() throw RelayGridError spectator", () => {
  const { spectators } = grid(0x5ec8);
  const s = spectators[0] as PeerNode;
  assert.throws(() => s.with((p, now) => p.broadcast(now, new Uint8Array([1]))), (e: { code?: string }) => e.code === ErrorCode.Spectator);
  assert.throws(() => s.with((p, now) => p.send(now, new Uint8Array([1]), { reliable: false, to: 1 })), (e: { code?: string }) => e.code === ErrorCode.Spectator);
});

test("a hostile spectator injecting Data, Message and Routed envelopes under its own id reaches nobody: 0 deliveries, counted drops", () => {
  const { g, players, spectators } = grid(0x5ec9);
  let delivered = 0;
  const hostileIds = new Set(spectators.map((s) => s.endpoint.id));
  g.listeners.push((_a, e) => {
    if (e.type === "data" && hostileIds.has(e.origin)) delivered++;
  });
  let injected = 0;
  for (const s of spectators) {
    const peer = s.endpoint;
    for (const [i, kind] of ([Kind.Data, Kind.Message, Kind.Routed] as const).entries()) {
      // A Message's payload is never parsed: the origin check comes first.
      const target = kind === Kind.Routed ? (players[0] as PeerNode).endpoint.id : null;
      const bytes = sealAs(s, { kind, hops: 0, grid: peer.grid, origin: peer.id, seq: 1000 + i, target, payload: new Uint8Array(16).fill(i), tag: new Uint8Array(9) });
      for (const l of peer.stats().links) {
        const to = g.live().find((p) => p.address === l.address) as PeerNode;
        to.with((p, now) => p.handleDatagram(now, s.address, bytes.slice()));
        injected++;
      }
    }
  }
  g.sim.runFor(1_000);
  assert.ok(injected > 0);
  assert.is(delivered, 0);
  let drops = 0;
  for (const p of g.live()) drops += p.endpoint.stats().drops["spectator-origin"] ?? 0;
  assert.is(drops, injected, "every injected copy is dropped by the link it reached, none relayed on");
});

test.run();
