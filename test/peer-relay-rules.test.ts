/**
 * Claim 14 at the level of a running grid: a Peer applies the relay rules its game gives it
 * (lib/relay/rules.ts, decided by lib/relay/rule-set.ts), counts each refused (message,
 * link) pair under the rule that refused it first, gives a stateful rule its own instance
 * and tells it of every link that opens or closes, and checks the rules when it is built.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { insiderOf } from "../lib/peer/insider.ts";
import { Peer } from "../lib/peer/peer.ts";
import { defaultRelayRules, notBackToSender, notToOrigin, type RelayContext, type RelayRule } from "../lib/relay/rules.ts";
import { redundancyList } from "../lib/relay/redundancy-list.ts";
import { SeededRandom } from "../lib/rng.ts";
import { writeTag } from "../lib/security/grid-keys.ts";
import { RELAY_HOPS_OFFSET, relaySizeBound, TAG_FIELD_BYTES, writeRelay } from "../wire/index.ts";
import { broadcastFrom, mesh } from "./support/peer-scenarios.ts";
import { assertInvalidConfig } from "./support/invalid-config.ts";
import { LOBBY, SimGrid, type PeerNode } from "./support/sim-grid.ts";

/** A game's area of interest: member `id` stands at position `id` on a line; data goes no further than `radius` from its origin. */
function areaOfInterest(radius: number): RelayRule {
  return {
    name: "area-of-interest",
    allow: (ctx: RelayContext) => Math.abs(ctx.toPeer - ctx.origin) <= radius,
  };
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const suppressedOf = (p: PeerNode, rule: string): number => p.endpoint.stats().suppressed[rule] ?? 0;

test("claim 14 with a game's own rule (area of interest): a broadcast reaches exactly the members near its origin, each once, and the rule's refusals are counted under its name", () => {
  const rules = [...defaultRelayRules, areaOfInterest(2)];
  const g = new SimGrid({ seed: 0xa01, peer: { connectionLimit: 8, relayRules: rules } });
  const peers = mesh(g, 8); // ids 1..8, every member linked to every other
  const origin = g.byId(4);
  const sent = broadcastFrom(origin);
  g.sim.runFor(500);
  const got = peers.map((p) => g.delivered(p.address, sent.origin, sent.seq));
  // Ids 2, 3, 5, 6 stand within 2 of the origin at 4; 1, 7, 8 do not.
  assert.equal(got, [0, 1, 1, 0, 1, 1, 0, 0]);
  // The origin sent to its four neighbours in range and refused the three out of range.
  assert.is(origin.endpoint.stats().relayed, 0);
  assert.is(suppressedOf(origin, "area-of-interest"), 3);
  // Each member in range relays to the other three in range and refuses the rest: the origin
  // (also its sender: counted under the first rule, not-back-to-sender) and the three out of range.
  for (const id of [2, 3, 5, 6]) {
    const s = g.byId(id).endpoint.stats();
    assert.equal([s.suppressed["not-back-to-sender"], s.suppressed["not-to-origin"], s.suppressed["area-of-interest"], s.relayed], [1, 0, 3, 3], `peer ${id}`);
  }
  // Those 12 relayed copies all reach members that already had it: 12 duplicates, no delivery.
  assert.is(sum(peers.map((p) => p.endpoint.stats().duplicates)), 12);
});

test("a relay rule with per-Peer state gets its own instance in every Peer and sees every link open and close", () => {
  const instances: { linked: Set<number>; opened: number; closed: number }[] = [];
  const tracked: RelayRule = {
    name: "tracks-links",
    allow: () => true,
    forPeer() {
      const own = { linked: new Set<number>(), opened: 0, closed: 0 };
      instances.push(own);
      return {
        name: "tracks-links",
        // Per-Peer state, keyed by next hop: only forward on links this instance was told of.
        allow: (ctx: RelayContext) => own.linked.has(ctx.toPeer),
        linkOpened: (peer: number) => void (own.linked.add(peer), own.opened++),
        linkClosed: (peer: number) => void (own.linked.delete(peer), own.closed++),
      };
    },
  };
  const g = new SimGrid({ seed: 0x57a7e, peer: { connectionLimit: 3, relayRules: [...defaultRelayRules, tracked] } });
  for (let i = 0; i < 9; i++) g.addPeer();
  g.settle(2);
  assert.is(instances.length, 9, "one instance per Peer");
  const sameAsLinks = (): void => {
    g.peers.forEach((p, i) => {
      if (!p.alive) return;
      assert.equal([...(instances[i] as { linked: Set<number> }).linked].sort(), [...p.endpoint.linkPeers].sort(), p.address);
    });
  };
  sameAsLinks();
  g.sim.crash("peer-3");
  g.sim.runFor(6_000); // its neighbours' pings go unanswered: links close, new ones open
  g.settle(2, 20_000);
  sameAsLinks();
  const s = g.peers.map((p) => p.endpoint.stats());
  assert.equal(
    instances.map((x) => [x.opened, x.closed]),
    s.map((x) => [x.linksOpened, x.linksClosed]),
    "told of every open and close",
  );
  // The rule never refused a real link, and data still reaches every live member.
  assert.is(sum(g.peers.map((p) => suppressedOf(p, "tracks-links"))), 0);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  for (const m of sent) for (const p of g.live()) if (p.endpoint.id !== m.origin) assert.is(g.delivered(p.address, m.origin, m.seq), 1);
});

/** A relay envelope as member `from` would send it, with `hops` already made. */
function dataAt(victim: PeerNode, origin: number, seq: number, hops: number): Uint8Array {
  const payload = new Uint8Array([1, 2, 3]);
  const buf = new Uint8Array(relaySizeBound(payload.length));
  const n = writeRelay(buf, 0, hops, victim.endpoint.grid, origin, seq, null, payload, new Uint8Array(9));
  const bytes = buf.slice(0, n);
  writeTag(insiderOf(victim.endpoint).keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
  return bytes;
}

test("suppression counts match what happened: at hops 127 a message goes no further, and each link it did not take is counted under the rule that refused it first (hop-limit-127 included)", () => {
  const g = new SimGrid({ seed: 0x4095, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 9; i++) g.addPeer();
  g.settle(2);
  const victim = g.live().find((p) => p.endpoint.linkPeers.length >= 3) as PeerNode;
  const links = victim.endpoint.linkPeers.length;
  const from = g.byId(victim.endpoint.linkPeers[0] as number);
  const origin = 9_999; // no member: only the sender and the hop count decide
  const before = victim.endpoint.stats();
  victim.with((p, now) => p.handleDatagram(now, from.address, dataAt(victim, origin, 1, 127)));
  let after = victim.endpoint.stats();
  assert.is(after.delivered - before.delivered, 1, "delivered: the hop limit stops the relay, not the delivery");
  assert.is(after.relayed - before.relayed, 0);
  const delta = (name: string): number => (after.suppressed[name] ?? 0) - (before.suppressed[name] ?? 0);
  assert.equal([delta("not-back-to-sender"), delta("not-to-origin"), delta("hop-limit-127")], [1, 0, links - 1]);
  // One hop fewer: it goes on to every link but the sender's.
  victim.with((p, now) => p.handleDatagram(now, from.address, dataAt(victim, origin, 2, 126)));
  const mid = after;
  after = victim.endpoint.stats();
  assert.is(after.relayed - mid.relayed, links - 1);
  assert.is((after.suppressed["hop-limit-127"] ?? 0) - (mid.suppressed["hop-limit-127"] ?? 0), 0);
});

test("the wire's hop cap runs last in every rule list: a list without a hop limit gets hop-limit-127, one with its own keeps both; redundancy \"prune\" (the default) puts the redundancy list before the first hop limit, \"flood\" leaves it out", () => {
  const make = (relayRules: readonly RelayRule[], redundancy?: "prune" | "flood"): Peer =>
    new Peer({ lobby: LOBBY, random: new SeededRandom(1), relayRules, ...(redundancy === undefined ? {} : { redundancy }) });
  assert.equal(Object.keys(make([notBackToSender], "prune").stats().suppressed), ["not-back-to-sender", "redundancy-list", "hop-limit-127"]);
  assert.equal(Object.keys(make(defaultRelayRules, "prune").stats().suppressed), ["not-back-to-sender", "not-to-origin", "redundancy-list", "hop-limit-127"]);
  assert.equal(Object.keys(make([notToOrigin, areaOfInterest(3)], "prune").stats().suppressed), ["not-to-origin", "area-of-interest", "redundancy-list", "hop-limit-127"]);
  assert.equal(Object.keys(make(defaultRelayRules).stats().suppressed), ["not-back-to-sender", "not-to-origin", "redundancy-list", "hop-limit-127"]);
  assert.equal(Object.keys(make(defaultRelayRules, "flood").stats().suppressed), ["not-back-to-sender", "not-to-origin", "hop-limit-127"]);
  assert.equal(Object.keys(make([notBackToSender], "flood").stats().suppressed), ["not-back-to-sender", "hop-limit-127"]);
});

test("relay rules are checked when the Peer is built (resolvePeerConfig runs checkRelayRules)", () => {
  const make = (relayRules: readonly RelayRule[]) => () => new Peer({ lobby: LOBBY, random: new SeededRandom(1), relayRules });
  assertInvalidConfig(make([{ name: "x" } as unknown as RelayRule]), /relay rule 0/);
  assertInvalidConfig(make([notBackToSender, notBackToSender]), /used twice/);
  assertInvalidConfig(make([{ name: "hop-limit-127", allow: () => true }]), /used twice/); // the wire's cap is added to this list
  assertInvalidConfig(make([{ name: "s", allow: () => true, forPeer: () => ({ name: "other", allow: () => true }) }]), /same name/);
  assertInvalidConfig(make([{ name: "e", allow: () => true, excludes: "nobody" } as unknown as RelayRule]), /excludes/);
  assertInvalidConfig(make([{ name: "both", allow: () => true, excludes: "origin", excludedPeers: () => [] }]), /not both/);
  assertInvalidConfig(() => new Peer({ lobby: LOBBY, random: new SeededRandom(1), relayRules: [...defaultRelayRules, redundancyList], redundancy: "flood" }), /redundancy is "flood"/);
  assertInvalidConfig(() => new Peer({ lobby: LOBBY, random: new SeededRandom(1), redundancy: "tree" as "flood" }), /redundancy must be/);
});

test.run();
