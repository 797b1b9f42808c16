/**
 * Hostile members, origins (issue 15, point 1). What broke: the duplicate filter evicted the
 * least recently heard origin for any new origin id, and any member can write any origin id
 * under a valid grid-key tag. So ~4,100 Data under fake origin ids pushed a real member's
 * window out, and a captured message of that member replayed afterwards was delivered a
 * second time. Measured against the code before the fix: the victim took the replay as new
 * and relayed it again (the simulator's claim-16 inspector stopped the run: "peer-1 sent 2:1
 * to peer-3 twice, unasked").
 *
 * Now: the origins the lobby named or a ticket proved ("vouched", lib/peer/core.ts) keep their
 * windows; fake ids evict only each other (lib/relay/origin-table.ts).
 *
 * The one-packet mute: one Data under another member's origin id with a seq 2^31 - 2 ahead
 * slid every member's window for that origin there, and its next broadcasts were stale
 * everywhere (0/0/0 of 4, measured on the code before). Now a seq more than half a window
 * ahead is delivered once from an aside window and moves the window only at its second new
 * seq after the origin's own traffic was quiet for 1 s (lib/relay/origin-window.ts).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { insiderOf } from "../lib/peer/insider.ts";
import { writeTag } from "../lib/security/grid-keys.ts";
import { relaySizeBound, RELAY_HOPS_OFFSET, TAG_FIELD_BYTES, writeRelay } from "../wire/index.ts";
import { figure } from "./support/figures.ts";
import { broadcastFrom, notExactlyOnce } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const NO_TAG = new Uint8Array(9);

/** A Data envelope as `by` (a member holding the grid key) can make it for any origin id. */
function dataAs(by: PeerNode, grid: number, origin: number, seq: number, hops = 1): Uint8Array {
  const payload = new Uint8Array([0xba, 0xd]);
  const buf = new Uint8Array(relaySizeBound(payload.length));
  const n = writeRelay(buf, 0, hops, grid, origin, seq, null, payload, NO_TAG);
  const d = buf.slice(0, n);
  writeTag(insiderOf(by.endpoint).keyring, d, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
  return d;
}

/** A member and a victim it is linked to, in a settled grid of five. */
function linkedPair(seed: number): { g: SimGrid; mallory: PeerNode; victim: PeerNode; honest: PeerNode } {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 5; i++) g.addPeer();
  g.settle(2);
  const mallory = g.at("peer-5");
  const victim = g.live().find((p) => p !== mallory && p.endpoint.linkPeers.includes(mallory.endpoint.id)) as PeerNode;
  const honest = g.live().find((p) => p !== mallory && p !== victim) as PeerNode;
  return { g, mallory, victim, honest };
}

test("replay after eviction: 4,100 fake origin ids do not evict a member's window, so its replayed message is not delivered again", () => {
  const { g, mallory, victim, honest } = linkedPair(0x15b1);
  const sent = broadcastFrom(honest);
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, [sent], [victim]), []);
  // Mallory floods fake origin ids over her link, within its data budget (2,000 a second).
  let fake = 0x2000_0000; // player ids (below the spectator range, lib/relay/spectators.ts): what a spectator originates is dropped before the table
  for (let batch = 0; batch < 5; batch++) {
    victim.with((p, now) => {
      for (let i = 0; i < 1_000; i++) p.handleDatagram(now, mallory.address, dataAs(mallory, g.gridId, fake++, 1));
    });
    g.sim.runFor(1_000);
  }
  const origins = victim.endpoint.footprint().origins;
  // Then replays the honest member's message (any member can capture and re-tag it).
  victim.with((p, now) => p.handleDatagram(now, mallory.address, dataAs(mallory, g.gridId, sent.origin, sent.seq)));
  g.sim.runFor(500);
  const times = g.delivered(victim.address, sent.origin, sent.seq);
  figure("replay after 5,000 fake origin ids: deliveries of the replayed message at the victim", `${times} (was 2: taken as new and relayed again)`);
  assert.is(origins, 4096, "the fake ids filled the origin table");
  assert.is(times, 1, "delivered once, not again");
  // The grid still delivers the honest member's next message exactly once.
  const next = broadcastFrom(honest);
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, [next]), []);
});

/** Each message's deliveries over the live members but its origin, as "k/k/k of N". */
function reach(g: SimGrid, sent: readonly { origin: number; seq: number }[]): string {
  const others = g.live().filter((p) => p.endpoint.id !== sent[0]?.origin);
  const counts = sent.map((s) => others.filter((p) => g.delivered(p.address, s.origin, s.seq) === 1).length);
  return `${counts.join("/")} of ${others.length}`;
}

test("one-packet mute: one Data under another member's origin id with seq + 2^31 - 2 does not stop its next broadcasts", () => {
  const { g, mallory, victim, honest } = linkedPair(0x15c1);
  const before = broadcastFrom(honest);
  g.sim.runFor(200);
  // Mallory writes the honest member's origin id with a seq as far ahead as the order allows.
  const forged = (before.seq + 0x7fffffff - 1) >>> 0;
  victim.with((p, now) => p.handleDatagram(now, mallory.address, dataAs(mallory, g.gridId, honest.endpoint.id, forged)));
  g.sim.runFor(200);
  const after = [];
  for (let i = 0; i < 3; i++) {
    after.push(broadcastFrom(honest));
    g.sim.runFor(300);
  }
  const figureNow = reach(g, after);
  figure("one-packet mute: members reached by the origin's next 3 broadcasts", `${figureNow} (was 0/0/0: every window had jumped)`);
  assert.equal(notExactlyOnce(g, after), []);
  // The forged copy itself went round once (the grid key cannot tell it from a real jump).
  for (const p of g.live()) if (p !== honest) assert.ok(g.delivered(p.address, honest.endpoint.id, forged) <= 1);
});

test("one-packet mute: a forger who keeps sending ahead while the origin talks never moves its window", () => {
  const { g, mallory, victim, honest } = linkedPair(0x15c2);
  const sent = [];
  let forged = 0x4000_0000;
  for (let i = 0; i < 20; i++) {
    sent.push(broadcastFrom(honest));
    victim.with((p, now) => p.handleDatagram(now, mallory.address, dataAs(mallory, g.gridId, honest.endpoint.id, forged++)));
    g.sim.runFor(100);
  }
  g.sim.runFor(300);
  figure("20 forged jumps interleaved with 20 broadcasts: members reached by each broadcast", `${reach(g, sent)} (was 3/0/0/...: the first forged jump moved every window)`);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("an origin whose messages a member missed for a while (a real jump of 600) reaches it again", () => {
  const { g, victim, honest } = linkedPair(0x15c3);
  broadcastFrom(honest);
  g.sim.runFor(200);
  // The victim hears nothing for 1.5 s while the origin sends 600 messages.
  const rest = g.live().filter((p) => p !== victim).map((p) => p.address);
  g.sim.partition([victim.address], rest);
  for (let i = 0; i < 6; i++) {
    honest.with((p, now) => {
      for (let k = 0; k < 100; k++) p.broadcast(now, new Uint8Array([k]));
    });
    g.sim.runFor(250);
  }
  g.sim.heal();
  g.sim.runFor(200);
  const after = [];
  for (let i = 0; i < 3; i++) {
    after.push(broadcastFrom(honest));
    g.sim.runFor(300);
  }
  figure("after missing 600 messages: deliveries at that member of the origin's next 3", after.map((s) => g.delivered(victim.address, s.origin, s.seq)).join("/"));
  assert.equal(notExactlyOnce(g, after), []);
});

test.run();
