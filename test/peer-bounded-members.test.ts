/**
 * Issue 16 item 4: members keep a bounded sample of the member list, not all of it. What was
 * wrong: every peer stored the whole member list (up to 4,096 addresses) and a joiner of an
 * N-member grid fetched ceil(N/32) sealed Members parts, so 10,000 simulated members did not
 * fit the bench. Now a grid above memberListLimit hands each joiner one sampled part, and a
 * peer keeps at most maxKnownMembers addresses; the grid must still join into one component
 * and deliver every broadcast exactly once.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind } from "../wire/kinds.ts";
import { broadcastFrom, capture, notExactlyOnce, ofKind } from "./support/peer-scenarios.ts";
import { SimGrid } from "./support/sim-grid.ts";

const PEERS = 120;
const KNOWN = 16;

test(`issue 16 item 4: ${PEERS} peers that keep at most ${KNOWN} members each, fed samples by the lobby, join one grid and deliver exactly once`, () => {
  const g = new SimGrid({ seed: 1604, lobby: { memberListLimit: 24 }, peer: { connectionLimit: 4, maxKnownMembers: KNOWN }, inspect: false });
  const members = capture(g, [Kind.Members]);
  g.addPeer();
  g.runUntil(() => g.allJoined(), 10_000);
  let most = 0;
  for (let i = 1; i < PEERS; i++) {
    g.addPeer({}, "arena", false);
    if (i % 10 === 0) g.sim.runFor(100); // players arrive in batches of 10 every 100 ms
    for (const p of g.peers) most = Math.max(most, p.endpoint.footprint().members);
  }
  g.settle(1, 60_000, 100);
  for (const p of g.peers) most = Math.max(most, p.endpoint.footprint().members);
  assert.ok(most === KNOWN, `the bound is reached (samples and Join messages bring more): ${most}`);
  assert.ok(most <= KNOWN, `a peer knew ${most} members > maxKnownMembers ${KNOWN}`);
  // Joiners of the grid past 24 other members got one part (a sample of at most 32), never the whole list.
  const late = ofKind(members, Kind.Members).filter((c) => c.msg.peer > 26);
  assert.ok(late.length > 0);
  for (const c of late) {
    assert.is(c.msg.parts, 1, `peer ${c.msg.peer}`);
    assert.ok(c.msg.members.length <= 32);
  }
  assert.is(g.components().length, 1);
  const sent = g.live().slice(0, 10).map((p) => broadcastFrom(p));
  g.sim.runFor(1000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test.run();
