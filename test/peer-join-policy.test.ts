/**
 * The join policy is data (lib/peer/connection-rules.ts): the seeker asks ConnectionRules for
 * every choice of claims 26-33 and 36-43 and hard-codes none. Claim 40's pick in a
 * connection-available round goes through selectAvailable, claims 32 and 42's "force only
 * below so many links" is forceBelowLinks, and a malformed policy is refused at config.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { defaultConnectionRules, type ConnectionRules } from "../lib/peer/connection-rules.ts";
import { Peer } from "../lib/peer/peer.ts";
import { SeededRandom } from "../lib/rng.ts";
import { capture, Kind, mesh, ofKind, SpyRules } from "./support/peer-scenarios.ts";
import { assertInvalidConfig } from "./support/invalid-config.ts";
import { LOBBY, SimGrid } from "./support/sim-grid.ts";

test("claim 40 through the rules: a member below its limit sends Connect to exactly whom ConnectionRules.selectAvailable picks from a connection-available round", () => {
  const spies = new Map<string, SpyRules>();
  const g = new SimGrid({ seed: 0x40 });
  for (let i = 0; i < 8; i++) {
    const spy = new SpyRules(defaultConnectionRules);
    spies.set(g.addPeer({ connectionLimit: 3, connectionRules: spy }).address, spy);
  }
  g.settle(2);
  g.sim.runFor(2_000);
  const raised = g.peers.slice(0, 5);
  const before = new Map(raised.map((p) => [p.address, (spies.get(p.address) as SpyRules).availableCalls.length]));
  const joins = new Map(raised.map((p) => [p.address, (spies.get(p.address) as SpyRules).positiveCalls.length]));
  const connects = capture(g, [Kind.Connect]);
  // Room for three more links each: they seek (claim 36) and answer each other positive.
  for (const p of raised) p.with((x, now) => x.setConnectionLimit(now, 6));
  g.sim.runFor(5_000);
  let picks = 0;
  for (const p of raised) {
    const spy = spies.get(p.address) as SpyRules;
    assert.is(spy.positiveCalls.length, joins.get(p.address), "selectPositive is the join round's (claims 29-31), not these");
    const chosen = spy.availableCalls.slice(before.get(p.address)).flatMap((c) => {
      assert.ok(c.chosen.every((r) => c.positives.includes(r)), "picked among the positives");
      return c.chosen.map((r) => r.addr);
    });
    picks += chosen.length;
    const sent = ofKind(connects, Kind.Connect).filter((c) => c.from === p.address).map((c) => c.to);
    // Every pick got a Connect (retransmits aside: each address once), and no Connect went elsewhere.
    assert.equal([...new Set(sent)].sort(), [...new Set(chosen)].sort(), p.address);
  }
  assert.ok(picks >= 1, "at least one round had a positive answer to pick");
});

test("claims 32, 42 through the rules: forceBelowLinks 0 turns force connection off, so a peer joining a full mesh waits instead of forcing", () => {
  const g = new SimGrid({ seed: 0x32, peer: { connectionLimit: 4 } });
  mesh(g, 5); // K5: everyone at its limit of 4
  const log = capture(g, [Kind.Force, Kind.JoinReply]);
  const never: ConnectionRules = { ...defaultConnectionRules, name: "never-force", forceBelowLinks: 0 };
  const j = g.addPeer({ connectionRules: never });
  g.sim.runFor(5_000);
  assert.ok(ofKind(log, Kind.JoinReply).filter((c) => c.to === j.address).every((c) => !c.msg.positive), "everyone answered negative");
  assert.equal(ofKind(log, Kind.Force), []);
  assert.equal([j.endpoint.phase, j.endpoint.linkPeers.length], ["joining", 0]);
});

test("a malformed join policy is refused when the Peer is built", () => {
  const make = (rules: ConnectionRules) => () => new Peer({ lobby: LOBBY, random: new SeededRandom(1), connectionRules: rules });
  assertInvalidConfig(make({ ...defaultConnectionRules, forceBelowLinks: -1 }), /forceBelowLinks/);
  assertInvalidConfig(make({ ...defaultConnectionRules, selectDrop: undefined } as unknown as ConnectionRules), /selectDrop/);
  assertInvalidConfig(make({ ...defaultConnectionRules, selectAvailable: 3 } as unknown as ConnectionRules), /selectAvailable/);
  // Left out, the optional parts take their defaults.
  const { selectAvailable: _a, forceBelowLinks: _f, ...minimal } = defaultConnectionRules;
  assert.ok(make(minimal)() instanceof Peer);
});

test.run();
