/**
 * Hostile members, keys (issue 15, point 3: "a departed member loses access at the first
 * rotation"). What broke: after 4 departures rotated the grid key once, a departed member's
 * old key and ticket still opened a link, and its Data was delivered: every member accepted
 * the previous epoch until the next rotation, and tickets one epoch old. Measured against
 * the code before the fix: its Connect was accepted and 10 of its Data were delivered 40
 * times (to each of 4 members).
 *
 * Now: tickets of an epoch before the one a member sends under open no link, and a member
 * forgets the key it switched from previousKeyGraceMs (2 heartbeats) after the switch.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { insiderOf } from "../lib/peer/insider.ts";
import { writeTag } from "../lib/security/grid-keys.ts";
import { encode, Kind, relaySizeBound, RELAY_HOPS_OFFSET, TAG_FIELD_BYTES, writeRelay } from "../wire/index.ts";
import { figure } from "./support/figures.ts";
import { Sink } from "./support/sink.ts";
import { broadcastFrom, notExactlyOnce, ticketOf } from "./support/peer-scenarios.ts";
import { act, scriptedJoin } from "./support/scripted-member.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const NO_TAG = new Uint8Array(9);


function deliveredTotal(g: SimGrid): number {
  return g.live().reduce((n, p) => n + p.endpoint.stats().delivered, 0);
}

test("keys: a member that left loses access at the first rotation: its old ticket opens no link, its old key is refused after the grace", () => {
  const g = new SimGrid({ seed: 0x15a3, peer: { connectionLimit: 4 }, lobby: { rotateAfterDepartures: 4 } });
  for (let i = 0; i < 7; i++) g.addPeer();
  g.settle(2);
  // The victim stays; peers 5, 6 and 7 will leave.
  const stay = ["peer-1", "peer-2", "peer-3", "peer-4"].map((a) => g.at(a));
  const victim = stay[0] as PeerNode;
  victim.with((p, now) => p.setConnectionLimit(now, 8)); // room for Eve
  const gridId = g.gridId;
  // Eve: a member that will leave the lobby but keep its link to the victim, answering pings.
  const eve = scriptedJoin(g, "eve", gridId, 4, 0xe7e, { answerPings: true });
  act(g, eve, (e) => e.sendBytes(victim.address, e.linkRequest(Kind.Connect, victim.endpoint.id)));
  g.runUntil(() => victim.endpoint.linkPeers.includes(eve.id), 2_000, 1);
  // Mallory: a real member that leaves gracefully; it keeps what it held.
  const mallory = g.at("peer-7");
  const oldKeys = insiderOf(mallory.endpoint).keyring;
  const oldTicket = ticketOf(mallory).slice();
  const malloryId = mallory.endpoint.id;
  const epochBefore = oldKeys.currentEpoch as number;

  // Four departures: Eve tells the lobby she leaves (and does not), Mallory and two more leave.
  act(g, eve, (e) => e.ask({ kind: Kind.Leave, req: e.req(), session: e.session, grid: gridId, peer: e.id }));
  for (const p of [mallory, g.at("peer-5"), g.at("peer-6")]) p.with((x, now) => x.leave(now));
  g.sim.crash(mallory.address);
  const listener = new Sink();
  g.sim.restart(mallory.address, listener);
  g.runUntil(() => g.lobby.endpoint.keyEpochsOf(gridId)?.epoch === epochBefore + 1, 10_000, 10);
  // Every member switches within a heartbeat of the lobby's activation.
  g.sim.runFor(2_200);
  assert.ok(g.live().every((p) => insiderOf(p.endpoint).keyring.currentEpoch === epochBefore + 1), "every member sends under the new key");

  const connect = (req: number): Uint8Array => {
    const b = encode({ kind: Kind.Connect, req, grid: gridId, from: malloryId, to: victim.endpoint.id, nonce: new Uint8Array(8).fill(req & 0xff), ticket: oldTicket, tag: NO_TAG });
    writeTag(oldKeys, b, b.length - TAG_FIELD_BYTES, -1);
    return b;
  };
  const eveData = (seq: number): Uint8Array => {
    const payload = new Uint8Array([0xe, 0x7, 0xe]);
    const buf = new Uint8Array(relaySizeBound(payload.length));
    const n = writeRelay(buf, 0, 0, gridId, eve.id, seq, null, payload, NO_TAG);
    const d = buf.slice(0, n);
    writeTag(eve.keyring, d, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    return d;
  };
  // Within the grace: Mallory's old ticket is refused (its tag still checks).
  victim.with((p, now) => p.handleDatagram(now, mallory.address, connect(1)));
  g.sim.runFor(50);
  const reply = listener.got.find((m) => m.kind === Kind.ConnectReply);
  assert.ok(reply !== undefined && reply.kind === Kind.ConnectReply && !reply.accepted, "refused");
  assert.is(victim.endpoint.stats().drops["ticket-expired"], 1);
  assert.not.ok(victim.endpoint.linkPeers.includes(malloryId));
  // Within the grace, Eve's Data over her old link is still taken (members that switch late
  // must still be understood); after it, none is.
  const during = deliveredTotal(g);
  for (let s = 1; s <= 5; s++) act(g, eve, (e) => e.sendBytes(victim.address, eveData(s)));
  g.sim.runFor(200);
  const inGrace = deliveredTotal(g) - during;
  g.sim.runFor(4_000);
  const after = deliveredTotal(g);
  const refusedBefore = (victim.endpoint.stats().drops["tag-unknown-epoch"] ?? 0) + (victim.endpoint.stats().drops["not-linked"] ?? 0);
  for (let s = 6; s <= 15; s++) act(g, eve, (e) => e.sendBytes(victim.address, eveData(s)));
  victim.with((p, now) => p.handleDatagram(now, mallory.address, connect(2)));
  g.sim.runFor(200);
  const lateDeliveries = deliveredTotal(g) - after;
  figure("departed member, after the rotation and the grace: deliveries of its 10 Data", `${lateDeliveries} (was 40 of 40)`);
  figure("departed member's Connect with its old ticket", "refused (was accepted)");
  assert.is(lateDeliveries, 0, "nothing a departed member sends is delivered once the grace is over");
  // Its Data fails the tag check (or, once its pongs failed that check three times, finds no link); so does its Connect.
  const refused = (victim.endpoint.stats().drops["tag-unknown-epoch"] ?? 0) + (victim.endpoint.stats().drops["not-linked"] ?? 0) - refusedBefore;
  assert.ok(refused >= 11, `${refused} refused`);
  assert.ok(inGrace > 0, `during the grace its Data was still taken (${inGrace} deliveries)`);
  // Eve's link dies: her pongs are under a key the victim no longer holds.
  g.runUntil(() => !victim.endpoint.linkPeers.includes(eve.id), 6_000, 10);
  // The grid keeps working under the new key.
  g.runUntil(() => g.components().length === 1 && g.live().every((p) => p.endpoint.linkPeers.length >= 2), 20_000);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("keys: a grant sealed before a switch and delivered after it does not bring the retired key back", () => {
  const g = new SimGrid({ seed: 0x15a4, peer: { connectionLimit: 3 }, lobby: { rotateAfterDepartures: 1 } });
  for (let i = 0; i < 4; i++) g.addPeer();
  g.settle(2);
  const keep = g.at("peer-1");
  const keyring = insiderOf(keep.endpoint).keyring;
  const first = keyring.currentEpoch as number;
  g.at("peer-4").with((p, now) => p.leave(now));
  g.runUntil(() => keyring.currentEpoch === first + 1, 10_000, 10);
  g.sim.runFor(5_000); // past the grace
  assert.equal(keyring.epochs(), [first + 1], "the previous key is gone");
  assert.is(keyring.add(first, new Uint8Array(32).fill(1)), false, "and refused for good");
  assert.equal(keyring.epochs(), [first + 1]);
});

test.run();
