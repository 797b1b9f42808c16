/**
 * Messages against a hostile member (docs/SECURITY.md: an insider holds the grid key and can
 * make any Message it likes): malformed headers and fragments that disagree are counted drops
 * and never relayed; a flood of unfinished large messages or of ordered messages waiting for
 * seqs that never come stays within the reassembly and hold bounds, is reported as
 * message-lost, and never crashes a member or costs the others a message.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_MAX_HELD_MESSAGES } from "../lib/peer/message-config.ts";
import { DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN } from "../lib/relay/reassembly.ts";
import { Kind, MAX_FRAGMENT_BYTES, MAX_FRAGMENTS, MessageFlag, messageHeaderBytes, writeMessageHeader } from "../wire/index.ts";
import { broadcastFrom, notExactlyOnce, sealAs } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

function grid(seed: number, n = 8): SimGrid {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4, redundancy: "prune" } });
  g.keepEvents = false;
  for (let i = 0; i < n; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  return g;
}

/** `mallory`'s Message envelope of `origin` with `payload`, sealed under the grid key. */
function envelope(g: SimGrid, mallory: PeerNode, seq: number, payload: Uint8Array, origin = mallory.endpoint.id): Uint8Array {
  return sealAs(mallory, { kind: Kind.Message, hops: 0, grid: g.gridId, origin, seq, target: null, payload, tag: new Uint8Array(9) });
}

function header(flags: number, prev: number, index: number, count: number, body: number): Uint8Array {
  const b = new Uint8Array(messageHeaderBytes(flags) + body);
  writeMessageHeader(b, 0, flags, prev, index, count, 0);
  return b;
}

const inject = (to: PeerNode, from: PeerNode, bytes: Uint8Array): void => to.with((p, now) => p.handleDatagram(now, from.address, bytes));

function balanced(g: SimGrid): string[] {
  return g.peers
    .map((p) => p.endpoint.stats())
    .filter((s) => s.datagramsIn !== s.accepted + Object.values(s.drops).reduce((a, b) => a + b, 0) || (s.drops["internal-error"] ?? 0) > 0)
    .map((s) => `${s.peer}: in ${s.datagramsIn} accepted ${s.accepted} drops ${JSON.stringify(s.drops)}`);
}

function pair(g: SimGrid): [PeerNode, PeerNode] {
  const mallory = g.live()[2] as PeerNode;
  return [mallory, g.byId(mallory.endpoint.linkPeers[0] as number)];
}

test("hostile: Messages with malformed headers (every rule of PROTOCOL.md 4.1.1) are dropped as bad-message and not relayed", () => {
  const g = grid(0xbad14);
  const [mallory, victim] = pair(g);
  const bad = [[], [0x10, 1], [0x02, 0, 0, 0, 1, 9], [0x01, 0, 0], [0x04, 0, 0, 0, 1, 9], [0x04, 0, 5, 0, 2, 9], [0x04, 0, 0, 0, 2], [0x08, 0, 0, 0, 0, 1]];
  let relayed = 0;
  g.taps.push((_n, from, _t, bytes) => {
    if (from === victim.address && bytes[2] === Kind.Message) relayed++;
  });
  bad.forEach((p, i) => inject(victim, mallory, envelope(g, mallory, 1_000 + i, Uint8Array.from(p))));
  g.sim.runFor(200);
  assert.is(victim.endpoint.stats().drops["bad-message"], bad.length);
  assert.is(relayed, 0);
  assert.equal(balanced(g), []);
});

test("hostile: fragments of one message that disagree (count, flags) drop the message as bad-message", () => {
  const g = grid(0xbad15);
  const [mallory, victim] = pair(g);
  const F = MessageFlag.Fragment;
  inject(victim, mallory, envelope(g, mallory, 500, header(F, 0, 0, 3, 10)));
  inject(victim, mallory, envelope(g, mallory, 501, header(F, 0, 1, 4, 10))); // count 4, not 3
  inject(victim, mallory, envelope(g, mallory, 502, header(F | MessageFlag.Reliable, 0, 2, 3, 10))); // now reliable
  g.sim.runFor(200);
  assert.ok((victim.endpoint.stats().drops["bad-message"] ?? 0) >= 1);
  assert.ok(victim.endpoint.footprint().reassembling <= 1);
  assert.equal(balanced(g), []);
});

test("hostile: a flood of unfinished 256 KiB messages stays within reassemblyBytesPerOrigin, each dropped one is counted, and the grid still delivers everything else", () => {
  const g = grid(0xbad16);
  const [mallory, victim] = pair(g);
  const members = g.live().filter((p) => p !== mallory);
  let peak = 0;
  for (let k = 0; k < 600; k++) {
    // Fragment 0 and 1 of a new 231-fragment message, never finished.
    const seq = 10_000 + k * MAX_FRAGMENTS;
    for (const i of [0, 1]) inject(victim, mallory, envelope(g, mallory, seq + i, header(MessageFlag.Fragment | MessageFlag.Reliable, 0, i, MAX_FRAGMENTS, MAX_FRAGMENT_BYTES)));
    peak = Math.max(peak, victim.endpoint.footprint().reassemblyBytes);
    if (k % 50 === 0) g.sim.runFor(10);
  }
  assert.ok(peak <= DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN, `peak ${peak}`);
  assert.ok(victim.endpoint.stats().messages.reassemblyDropped > 100);
  const sent = [];
  for (let t = 0; t < 1_000; t += 100) {
    for (const p of members) sent.push(broadcastFrom(p));
    g.sim.runFor(100);
  }
  g.sim.runFor(12_000); // past reassemblyTimeoutMs: whatever is left unfinished is dropped
  assert.is(victim.endpoint.footprint().reassemblyBytes, 0);
  assert.equal(notExactlyOnce(g, sent, members), []);
  assert.equal(balanced(g), []);
});

test("hostile: ordered messages naming a prev that never comes are held at most maxHeldMessages, reported message-lost, then released; memory returns to 0", () => {
  const g = grid(0xbad17);
  const [mallory, victim] = pair(g);
  const lost: string[] = [];
  g.listeners.push((address, e) => {
    if (address === victim.address && e.type === "error" && e.code === "message-lost") lost.push(e.message);
  });
  const O = MessageFlag.Reliable | MessageFlag.Ordered;
  let peak = 0;
  for (let k = 0; k < 2_000; k++) {
    // Each names a prev two seqs back, whose seq in between is never sent.
    const seq = 50_000 + 2 * k;
    inject(victim, mallory, envelope(g, mallory, seq, header(O, seq - 1, 0, 1, 8)));
    peak = Math.max(peak, victim.endpoint.footprint().held);
    if (k % 100 === 0) g.sim.runFor(10);
  }
  assert.ok(peak <= DEFAULT_MAX_HELD_MESSAGES, `peak held ${peak}`);
  assert.ok(lost.length > 0, "the receiver reported it fell behind");
  g.sim.runFor(15_000);
  assert.is(victim.endpoint.footprint().held, 0);
  assert.is(victim.endpoint.footprint().heldBytes, 0);
  assert.equal(balanced(g), []);
});

test.run();
