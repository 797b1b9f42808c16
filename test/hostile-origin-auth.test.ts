/**
 * Hostile members, origins with `originAuth: "ed25519"` (issue 15 item 1, PROTOCOL.md 4.1.4,
 * lib/peer/origin-auth.ts). Without it, any member delivers data under any origin id (the
 * grid key proves membership, not origin): each forgery below is delivered without it (the
 * test runs the same forgeries in a grid without the option, same seed, and prints both:
 * 1 of 4, the member it was sent to, whose neighbours pruned that origin from it; 4 of 4 when
 * grids flooded by default). With it, the origin signs each envelope with its link key and
 * shows the lobby's ticket that binds its id to that key; every forgery is delivered 0 times
 * and counted as a drop, and honest broadcasts still reach everyone once.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { insiderOf } from "../lib/peer/insider.ts";
import { SeededRandom } from "../lib/rng.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { writeTag } from "../lib/security/grid-keys.ts";
import { Kind, relaySizeBound, RELAY_HOPS_OFFSET, TAG_FIELD_BYTES, writeRelay } from "../wire/index.ts";
import { ORIGIN_TICKET_BYTES, ORIGIN_TRAILER_BYTES, OriginClass, originSignedMessage } from "../wire/origin-signature.ts";
import { figure } from "./support/figures.ts";
import { broadcastFrom, notExactlyOnce } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const NO_TAG = new Uint8Array(9);
const SIGNER = new NobleCrypto(new SeededRandom(15));

function authGrid(seed: number, originAuth: "off" | "ed25519" = "ed25519"): { g: SimGrid; mallory: PeerNode; victim: PeerNode; honest: PeerNode } {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4, originAuth } });
  for (let i = 0; i < 5; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(500); // the key-bound tickets (Registered) are in
  const mallory = g.at("peer-5");
  const victim = g.live().find((p) => p !== mallory && p.endpoint.linkPeers.includes(mallory.endpoint.id)) as PeerNode;
  const honest = g.live().find((p) => p !== mallory && p !== victim) as PeerNode;
  return { g, mallory, victim, honest };
}

/** A Data envelope `by` tags with the grid key: `payload` as it is (a trailer or not). */
function tagged(by: PeerNode, origin: number, seq: number, payload: Uint8Array, grid: number): Uint8Array {
  const buf = new Uint8Array(relaySizeBound(payload.length));
  const n = writeRelay(buf, 0, 1, grid, origin, seq, null, payload, NO_TAG, Kind.Data);
  const d = buf.slice(0, n);
  writeTag(insiderOf(by.endpoint).keyring, d, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
  return d;
}

/** `app` || `ticket` || Ed25519(secret, the 4.1.4 message for (grid, origin, seq)). */
function trailered(g: SimGrid, secret: Uint8Array, ticket: Uint8Array, origin: number, seq: number, app: Uint8Array): Uint8Array {
  const out = new Uint8Array(app.length + ORIGIN_TRAILER_BYTES);
  out.set(app, 0);
  out.set(ticket, app.length);
  const msg = originSignedMessage(OriginClass.Data, g.gridId, origin, seq, null, out.subarray(0, app.length + ORIGIN_TICKET_BYTES));
  out.set(SIGNER.ed25519Sign(secret, msg), app.length + ORIGIN_TICKET_BYTES);
  return out;
}

function drops(p: PeerNode, reason: string): number {
  return p.endpoint.stats().drops[reason] ?? 0;
}

test("originAuth: honest broadcasts reach every member once, signed and verified", () => {
  const { g } = authGrid(0x15d0);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, sent), []);
  const verified = g.live().reduce((n, p) => n + p.endpoint.stats().originAuth.verified, 0);
  figure("originAuth on: 5 broadcasts in a grid of 5, deliveries", `${sent.length * 4 - notExactlyOnce(g, sent).length} of ${sent.length * 4}, ${verified} signatures verified`);
  assert.ok(verified >= 20);
});

/** Mallory's four forgeries under the honest member's origin id, each fed to the victim over her link. */
function forge(originAuth: "off" | "ed25519") {
  const { g, mallory, victim, honest } = authGrid(0x15d1, originAuth);
  const real = broadcastFrom(honest);
  g.sim.runFor(300);
  const m = insiderOf(mallory.endpoint);
  const h = insiderOf(honest.endpoint);
  const honestTicket = h.ticket2 as Uint8Array; // on the wire in every broadcast of the honest member
  const ownTicket = m.ticket2 as Uint8Array;
  const id = honest.endpoint.id;
  const app = new Uint8Array([0xba, 0xd]);
  let seq = real.seq + 1;
  const forgeries: { name: string; seq: number; bytes: Uint8Array }[] = [];
  const add = (name: string, make: (s: number) => Uint8Array): void => {
    const s = seq++;
    forgeries.push({ name, seq: s, bytes: tagged(mallory, id, s, make(s), g.gridId) });
  };
  add("wrong key", (s) => trailered(g, m.linkSecret, honestTicket, id, s, app));
  add("another origin's ticket", (s) => trailered(g, m.linkSecret, ownTicket, id, s, app));
  // Signed by the honest member itself (as it would be in transit), one payload byte changed.
  add("tampered payload", (s) => {
    const t = trailered(g, h.linkSecret, honestTicket, id, s, app);
    t[0] = (t[0] as number) ^ 0xff;
    return t;
  });
  add("missing trailer", () => app);
  for (const f of forgeries) victim.with((p, now) => p.handleDatagram(now, mallory.address, f.bytes));
  g.sim.runFor(500);
  const others = g.live().filter((p) => p !== honest);
  const times = forgeries.map((f) => others.reduce((n, p) => n + g.delivered(p.address, id, f.seq), 0));
  return { g, mallory, victim, honest, forgeries, times, others, id, app, next: seq, signAsHonest: (s: number) => trailered(g, h.linkSecret, honestTicket, id, s, app) };
}

test("originAuth: forgeries under another member's origin id are delivered 0 times (wrong key, another's ticket, tampered payload, no trailer)", () => {
  const before = forge("off");
  const now = forge("ed25519");
  const { g, mallory, victim, honest, id } = now;
  const lines = now.forgeries.map((f, i) => `${f.name}: ${now.times[i]} (was ${before.times[i]})`);
  figure(`originAuth: deliveries of each forgery over ${now.others.length} members, with it (without it, same seed)`, lines.join("; "));
  for (const [i, f] of now.forgeries.entries()) {
    assert.is(now.times[i], 0, f.name);
    assert.ok((before.times[i] as number) >= 1, `${f.name} is delivered without originAuth (the attack works)`);
  }
  const d = victim.endpoint.stats().drops;
  assert.equal([d["origin-forged"], d["origin-bad-ticket"], d["origin-unsigned"]], [2, 1, 1], "each a counted drop");
  // The control: the same construction, untampered and signed by the honest key, is delivered
  // (at the victim: with redundancy lists its neighbours may have pruned this origin from it).
  const ok = now.next;
  victim.with((p, t) => p.handleDatagram(t, mallory.address, tagged(mallory, id, ok, now.signAsHonest(ok), g.gridId)));
  g.sim.runFor(500);
  assert.is(g.delivered(victim.address, id, ok), 1, "a correctly signed envelope is delivered");
  const next = broadcastFrom(honest);
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, [next]), []);
});

test("originAuth: a forged seq jump is refused before it reaches any window", () => {
  const { g, mallory, victim, honest } = authGrid(0x15d2);
  const first = broadcastFrom(honest);
  g.sim.runFor(300);
  const m = insiderOf(mallory.endpoint);
  const forged = (first.seq + 0x7fffffff - 1) >>> 0;
  const ticket = insiderOf(honest.endpoint).ticket2 as Uint8Array;
  for (let i = 0; i < 3; i++) {
    const s = (forged + i) >>> 0;
    victim.with((p, now) => p.handleDatagram(now, mallory.address, tagged(mallory, honest.endpoint.id, s, trailered(g, m.linkSecret, ticket, honest.endpoint.id, s, new Uint8Array(1)), g.gridId)));
  }
  g.sim.runFor(1_500); // past the quiet time: without signatures two such packets would now move the window
  const after = [broadcastFrom(honest), broadcastFrom(honest), broadcastFrom(honest)];
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, after), []);
  // Two are refused as forged; the one exactly 2^31 ahead is stale by the window's order (RFC 1982's undefined case).
  const st = victim.endpoint.stats();
  assert.ok(st.originAuth.refused >= 2, JSON.stringify([st.originAuth, st.drops]));
  const forgedDeliveries = g.live().reduce((n, p) => n + [0, 1, 2].reduce((k, i) => k + g.delivered(p.address, honest.endpoint.id, (forged + i) >>> 0), 0), 0);
  figure("originAuth: deliveries of 3 signed-by-the-wrong-key seq jumps, then the origin's next 3 broadcasts", `${forgedDeliveries}; ${after.map((s) => g.live().filter((p) => g.delivered(p.address, s.origin, s.seq) === 1).length).join("/")} of ${g.live().length - 1}`);
  assert.is(forgedDeliveries, 0);
});

test.run();
