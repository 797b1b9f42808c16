/**
 * Hostile members, link control (issue 15, point 2: links that cannot be stolen or cut;
 * PROTOCOL.md 6.13). What broke (issue 15's run on 127.0.0.1): the grid-key tag proves a
 * datagram came from some member, not which one nor for which link, so a member forging
 * Disconnects "from" each neighbour of a victim, at the neighbours' addresses, took it from
 * 11 links to 0 in 8 s; one captured Force replayed to every member dropped an honest link
 * at each and linked them to a dead address; colluders could fill a fresh peer's free slots
 * by Force before its own seeker did.
 *
 * Now: every control message names its receiver (`to`: wrong-receiver elsewhere); Connect,
 * Force and their replies exchange nonces from which both ends derive a per-link key; Ping,
 * Pong, Disconnect, Prune, Graft and RepairRequest carry a per-link counter and a SipHash tag
 * under it (link-auth, and link-replay in a 32-counter window); a Force or Connect is acted on
 * once per (sender, nonce) (request-replay); forced links hold at most half the slots on every
 * peer, free slots too; and the drop a Force causes believes a neighbour's reported link count
 * only once it has delivered data first (lib/peer/links.ts neighbours).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mostConnectedNeighbour } from "../lib/peer/connection-rules.ts";
import { forcedLinkCap } from "../lib/peer/links.ts";
import type { Address } from "../lib/endpoint.ts";
import { DisconnectReason, Kind, peekKind } from "../wire/index.ts";
import { figure } from "./support/figures.ts";
import { broadcastFrom, captureRaw, linkEvents, NO_AUTH, notExactlyOnce, sealAs } from "./support/peer-scenarios.ts";
import { act, scriptedJoin } from "./support/scripted-member.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

const NO_TAG = new Uint8Array(9);

function inject(p: PeerNode, from: Address, bytes: Uint8Array): void {
  p.with((x, now) => x.handleDatagram(now, from, bytes.slice()));
}

function drops(p: PeerNode, reason: string): number {
  return p.endpoint.stats().drops[reason] ?? 0;
}

test("link cutting: Disconnects forged \"from\" each of a victim's neighbours, at their addresses, by a member holding the grid key, cut none of its links", () => {
  const g = new SimGrid({ seed: 0x15c1, peer: { connectionLimit: 8 } });
  for (let i = 0; i < 12; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(3_000);
  const victim = g.at("peer-1");
  const mallory = g.live().find((p) => p !== victim && !victim.endpoint.linkPeers.includes(p.endpoint.id)) as PeerNode;
  const before = [...victim.endpoint.linkPeers].sort((a, b) => a - b);
  const authDrops = drops(victim, "link-auth");
  // Mallory's best guesses: counters 1..20 (a fresh link starts low), auth bytes it cannot compute.
  let forged = 0;
  for (const id of before) {
    const at = g.byId(id).address;
    for (let ctr = 1; ctr <= 20; ctr++) {
      const auth = new Uint8Array(8).fill(ctr);
      inject(victim, at, sealAs(mallory, { kind: Kind.Disconnect, req: 9_000 + ctr, grid: g.gridId, from: id, to: victim.endpoint.id, reason: DisconnectReason.Leave, ctr, auth, tag: NO_TAG }));
      forged++;
    }
  }
  g.sim.runFor(8_000); // the 8 s
  const kept = before.filter((id) => victim.endpoint.linkPeers.includes(id)).length;
  figure("forged Disconnects from each neighbour's address", `${kept} of ${before.length} links kept (issue 15's run: 11 links to 0 in 8 s; last session's suite before the fix: 1 of 8)`);
  assert.is(kept, before.length, "every link survives");
  assert.is(drops(victim, "link-auth") - authDrops, forged, "each forgery is a counted link-auth drop");
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(2_000);
  assert.equal(notExactlyOnce(g, sent), [], "the grid still delivers every broadcast exactly once");
});

test("Force replay: one captured Force replayed at 7 other members changes no link (wrong-receiver); replayed at its receiver, it is refused (request-replay)", () => {
  const g = new SimGrid({ seed: 0x15c2, peer: { connectionLimit: 3 } });
  for (let i = 0; i < 8; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(3_000);
  const members = g.live();
  const receiver = members[0] as PeerNode;
  const others = members.slice(1, 8);
  const eve = scriptedJoin(g, "eve", g.gridId, 3, 0xe7a, { answerPings: true });
  const force = eve.linkRequest(Kind.Force, receiver.endpoint.id);
  act(g, eve, (e) => e.sendBytes(receiver.address, force));
  g.runUntil(() => receiver.endpoint.linkPeers.includes(eve.id), 2_000, 1);
  assert.ok(receiver.endpoint.linkPeers.includes(eve.id), "the Force itself worked");

  g.sim.runFor(2_000); // the receiver's forced drop settles
  const events = linkEvents(g);
  const wrongBefore = others.map((p) => drops(p, "wrong-receiver"));
  for (const p of others) inject(p, eve.address, force);
  g.sim.runFor(2_000);
  // What a taken Force does: a link dropped as "forced" to make room, a link opened to eve.
  const addresses = new Set(others.map((p) => p.address));
  const changed = new Set(events.filter((e) => addresses.has(e.address) && ((e.type === "closed" && e.reason === "forced") || (e.type === "open" && e.peer === eve.id))).map((e) => e.address)).size;
  const wrong = others.reduce((n, p, i) => n + drops(p, "wrong-receiver") - (wrongBefore[i] as number), 0);
  figure("a captured Force replayed to 7 members", `${changed} of 7 changed a link (before: 7 of 7; issue 15: each dropped an honest link)`);
  assert.is(changed, 0);
  assert.is(wrong, 7, "each counted it as wrong-receiver");
  assert.ok(others.every((p) => !p.endpoint.linkPeers.includes(eve.id)), "nobody linked to eve");

  // At its receiver: while linked it is a retransmission (same nonce, same address): the same
  // yes, nothing changes. Once the link closed, the same bytes are a replay: refused.
  const linked = [...receiver.endpoint.linkPeers];
  inject(receiver, eve.address, force);
  assert.equal(receiver.endpoint.linkPeers, linked, "a retransmission changes nothing");
  act(g, eve, (e) => e.sendBytes(receiver.address, e.onLink(receiver.endpoint.id, { kind: Kind.Disconnect, req: e.req(), grid: g.gridId, from: e.id, to: receiver.endpoint.id, reason: DisconnectReason.Leave, ctr: 0, auth: NO_AUTH, tag: NO_TAG })));
  g.runUntil(() => !receiver.endpoint.linkPeers.includes(eve.id), 1_000, 1);
  assert.not.ok(receiver.endpoint.linkPeers.includes(eve.id), "eve's own Disconnect, under the link key, closes the link");
  const mark = events.length;
  const replays = drops(receiver, "request-replay");
  const answers = captureRaw(g, (from, to, b) => from === receiver.address && to === eve.address && peekKind(b) === Kind.ForceReply);
  for (let i = 0; i < 5; i++) inject(receiver, eve.address, force);
  g.sim.runFor(500);
  figure("a Force replayed 5 times at its receiver after its link closed", `${drops(receiver, "request-replay") - replays} refused (request-replay), ${answers.length} answered, links unchanged`);
  assert.is(drops(receiver, "request-replay") - replays, 5);
  assert.is(answers.length, 0, "a replay is never answered");
  const taken = events.slice(mark).filter((e) => e.address === receiver.address && ((e.type === "closed" && e.reason === "forced") || (e.type === "open" && e.peer === eve.id)));
  assert.equal(taken, [], "no link dropped for it, none opened to eve");
});

test("Ping replay: a captured Ping replayed 50 times is 50 link-replay drops and no Pong", () => {
  const g = new SimGrid({ seed: 0x15c3, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 5; i++) g.addPeer();
  g.settle(2);
  const victim = g.at("peer-1");
  const nb = g.byId(victim.endpoint.linkPeers[0] as number);
  const pings = captureRaw(g, (from, to, b) => from === nb.address && to === victim.address && peekKind(b) === Kind.Ping);
  g.runUntil(() => pings.length > 0, 5_000, 1);
  g.sim.runFor(200); // the original is delivered and answered
  const ping = (pings[0] as { bytes: Uint8Array }).bytes;
  const replayDrops = drops(victim, "link-replay");
  const pongs = captureRaw(g, (from, to, b) => from === victim.address && to === nb.address && peekKind(b) === Kind.Pong);
  for (let i = 0; i < 50; i++) inject(victim, nb.address, ping);
  const replayed = drops(victim, "link-replay") - replayDrops;
  figure("a captured Ping replayed 50 times", `${replayed} link-replay drops, ${pongs.length} Pongs (before: 50 Pongs)`);
  assert.is(replayed, 50);
  assert.is(pongs.length, 0);
  g.sim.runFor(3_000);
  assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), "the link itself is fine");
});

test("Force flood on free slots: colluders forcing a peer that has room hold at most forcedLinkCap of its links", () => {
  const limit = 8;
  const g = new SimGrid({ seed: 0x15c4, peer: { connectionLimit: limit } });
  for (let i = 0; i < 3; i++) g.addPeer();
  g.settle(2);
  const victim = g.at("peer-1");
  assert.ok(victim.endpoint.linkPeers.length < limit, "the victim has free slots");
  const evil = Array.from({ length: limit }, (_, i) => scriptedJoin(g, `evil-${i}`, g.gridId, limit, 0xf10 + i, { answerPings: true }));
  const evilIds = new Set(evil.map((e) => e.id));
  for (let round = 0; round < 2; round++) {
    for (const e of evil) {
      act(g, e, (x) => x.sendBytes(victim.address, x.linkRequest(Kind.Force, victim.endpoint.id)));
      g.sim.runFor(100);
    }
  }
  g.sim.runFor(2_000);
  const held = victim.endpoint.linkPeers.filter((p) => evilIds.has(p)).length;
  const cap = forcedLinkCap(limit);
  figure(`${limit} colluders forcing a peer with free slots (limit ${limit})`, `${held} links held by them, cap ${cap} (by the rule before, the cap held only when full: every free slot)`);
  assert.ok(held <= cap, `${held} > ${cap}`);
  const honest = g.live();
  const sent = honest.filter((p) => p !== victim).map((p) => broadcastFrom(p));
  g.sim.runFor(1_500);
  assert.equal(notExactlyOnce(g, sent, [victim]), [], "it still hears the honest members");
});

test("drop choice: a Force that makes a full member drop a link drops one that relayed nothing, not an honest one, whatever link counts the colluders report", () => {
  const g = new SimGrid({ seed: 0x15c5, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 8; i++) g.addPeer();
  g.settle(2);
  const victim = g.at("peer-1");
  // Room for two colluders, which ask by Connect (links the victim accepts, not forced),
  // report 0 links in every Pong (a count-trusting policy spares them) and relay nothing.
  const evil = [0, 1].map((i) => scriptedJoin(g, `liar-${i}`, g.gridId, 4, 0x11a0 + i, { answerPings: true }));
  const asks = evil.map((e) => e.linkRequest(Kind.Connect, victim.endpoint.id));
  // Two more slots, taken by the two Connects at once (before its own seeker could fill them).
  victim.with((p, now) => {
    p.setConnectionLimit(now, victim.endpoint.linkPeers.length + 2);
    evil.forEach((e, i) => p.handleDatagram(now, e.address, asks[i] as Uint8Array));
  });
  g.runUntil(() => evil.every((e) => victim.endpoint.linkPeers.includes(e.id)), 2_000, 1);
  const evilIds = new Set(evil.map((e) => e.id));
  // The grid plays for a while: the honest links deliver data first, the colluders' never.
  for (let i = 0; i < 40; i++) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(100);
  }
  const honestLinks = victim.endpoint.linkPeers.filter((p) => !evilIds.has(p));
  const reported = victim.endpoint.stats().links.map((l) => ({ peer: l.peer, links: l.neighbourLinks, rttMs: l.srttMs }));
  // What the rule before chose on the same links: the most connected by their own reports.
  const before = mostConnectedNeighbour(reported);
  const closed = linkEvents(g);
  const forcer = scriptedJoin(g, "forcer", g.gridId, 4, 0x11af, { answerPings: true });
  act(g, forcer, (x) => x.sendBytes(victim.address, x.linkRequest(Kind.Force, victim.endpoint.id)));
  g.runUntil(() => victim.endpoint.linkPeers.includes(forcer.id), 2_000, 1);
  const dropped = closed.filter((e) => e.address === victim.address && e.type === "closed" && e.reason === "forced").map((e) => e.peer);
  const droppedEvil = dropped.filter((p) => evilIds.has(p)).length;
  figure(
    "drop choice under a Force, 2 silent colluders reporting 0 links beside honest links",
    `dropped ${dropped.length === 0 ? "none" : evilIds.has(dropped[0] as number) ? "a colluder" : "an honest link"} (the rule before, on the same reports: ${before === undefined ? "refused" : evilIds.has(before.peer) ? "a colluder" : "an honest link"})`,
  );
  assert.is(dropped.length, 1, "one link made room");
  assert.is(droppedEvil, 1, "the dropped link is a colluder's");
  assert.ok(honestLinks.every((p) => victim.endpoint.linkPeers.includes(p)), "every honest link is kept");
});

test.run();
