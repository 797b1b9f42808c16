/** Grid-level behaviour of real Peers and a real Lobby on the simulated network. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimGrid } from "./support/sim-grid.ts";

const payload = (i: number): Uint8Array => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 1, 2, 3]);

function broadcastFromAll(g: SimGrid, rounds: number): { origin: number; seq: number }[] {
  const sent: { origin: number; seq: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of g.live()) {
      const seq = p.with((peer, now) => peer.broadcast(now, payload(r)));
      sent.push({ origin: p.endpoint.id, seq });
    }
    g.sim.runFor(50);
  }
  g.sim.runFor(2000);
  return sent;
}

test("claims 1, 26: 12 peers join with limit 4; no peer exceeds its limit; one component", () => {
  const g = new SimGrid({ seed: 1, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 12; i++) g.addPeer();
  g.settle(2);
  for (const p of g.live()) assert.ok(p.endpoint.linkPeers.length <= 4, `${p.address} has ${p.endpoint.linkPeers.length}`);
  assert.is(g.components().length, 1);
});

test("claims 2-4, 14-19: every broadcast reaches every member exactly once, relay rules hold on every transmit", () => {
  const g = new SimGrid({ seed: 2, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 30; i++) g.addPeer();
  g.settle(2);
  const sent = broadcastFromAll(g, 3);
  for (const p of g.live()) {
    for (const s of sent) {
      if (s.origin === p.endpoint.id) continue;
      assert.is(g.delivered(p.address, s.origin, s.seq), 1, `${p.address} got ${s.origin}:${s.seq}`);
    }
  }
  assert.ok(g.inspector.checked > sent.length * 29);
});

test.run();
