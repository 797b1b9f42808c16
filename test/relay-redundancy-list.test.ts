/**
 * US 7,685,301 (redundancy lists) as a relay rule (claim 14): lib/relay/redundancy-list.ts
 * keeps, per origin, the next hops that asked not to get that origin's messages, and
 * RelayRuleSet.select skips them, decided once per message (the list form of a rule), with
 * the same decisions and suppression counts as asking the rule per link.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RedundancyList, redundancyList, REDUNDANCY_LIST_RULE } from "../lib/relay/redundancy-list.ts";
import { RelayRuleSet, selectLinks } from "../lib/relay/rule-set.ts";
import { defaultRelayRules, hopLimit, notBackToSender, notToOrigin, type RelayContext, type RelayRule } from "../lib/relay/rules.ts";
import { SeededRandom } from "../lib/rng.ts";

const ctx = (origin: number, fromPeer: number, hops = 0): RelayContext => ({ grid: 1, origin, seq: 1, hops, target: null, fromPeer, toPeer: 0 });

function selected(set: RelayRuleSet, c: RelayContext, links: number[]): number[] {
  Object.assign(set.ctx, c);
  const n = set.select(links);
  return set.chosen.slice(0, n).map((i) => links[i] as number);
}

test("US 7,685,301: a peer that pruned an origin gets none of its next messages; the others still do, and other origins reach everyone", () => {
  const set = new RelayRuleSet([notBackToSender, notToOrigin, redundancyList, hopLimit()]);
  const list = set.rules[2] as RedundancyList;
  assert.ok(list instanceof RedundancyList, "forPeer gave this set its own list");
  assert.ok(list.prune(9, 3));
  assert.not.ok(list.prune(9, 3), "pruning twice changes nothing");
  assert.equal(selected(set, ctx(9, 1), [1, 2, 3, 4]), [2, 4]);
  assert.equal(selected(set, ctx(8, 1), [1, 2, 3, 4]), [2, 3, 4]);
  assert.equal(set.suppressedByName(), { "not-back-to-sender": 2, "not-to-origin": 0, [REDUNDANCY_LIST_RULE]: 1, "hop-limit-127": 0 });
  assert.ok(list.graft(9, 3));
  assert.equal(selected(set, ctx(9, 1), [1, 2, 3, 4]), [2, 3, 4], "a Graft takes it off the list");
});

test("the list form decides like the rule's own allow(), with the same counts, in any position and beside a game's own rule", () => {
  const rng = new SeededRandom(7);
  const aoi: RelayRule = { name: "aoi", allow: (c) => (c.toPeer + c.origin) % 3 !== 0 };
  const lists: RelayRule[][] = [
    [notBackToSender, notToOrigin, redundancyList, hopLimit()],
    [redundancyList, notBackToSender, hopLimit(3)],
    [notBackToSender, redundancyList, notToOrigin, hopLimit()],
    [notBackToSender, aoi, redundancyList, notToOrigin, hopLimit(5)],
  ];
  for (const rules of lists) {
    const fast = new RelayRuleSet(rules);
    const fastList = fast.rules.find((r) => r instanceof RedundancyList) as RedundancyList;
    // The same list asked per link: a plain rule around the same state.
    const slow = rules.map((r) => (r === redundancyList ? { name: REDUNDANCY_LIST_RULE, allow: (c: RelayContext) => fastList.allow(c) } : r));
    const counts = slow.map(() => 0);
    const out: number[] = [];
    for (let i = 0; i < 500; i++) {
      const origin = 1 + Math.floor(rng.next() * 6);
      const peer = 1 + Math.floor(rng.next() * 8);
      if (rng.next() < 0.5) fastList.prune(origin, peer);
      else fastList.graft(origin, peer);
      const links = [1, 2, 3, 4, 5, 6, 7, 8].filter(() => rng.next() < 0.7);
      const c = ctx(origin, links[0] ?? 1, Math.floor(rng.next() * 7));
      const got = selected(fast, c, links);
      const n = selectLinks(slow, c, links, out, counts);
      assert.equal(got, out.slice(0, n), `rules ${rules.map((r) => r.name).join(",")} case ${i}`);
    }
    assert.equal(Object.values(fast.suppressedByName()), counts);
  }
});

test("redundancy lists are per Peer, bounded by maxOrigins (the oldest listed origin is forgotten), and a link that opens or closes is off every list", () => {
  const a = new RelayRuleSet([...defaultRelayRules, redundancyList]);
  const b = new RelayRuleSet([...defaultRelayRules, redundancyList]);
  const la = a.rules.find((r) => r instanceof RedundancyList) as RedundancyList;
  const lb = b.rules.find((r) => r instanceof RedundancyList) as RedundancyList;
  assert.is.not(la, lb);
  la.maxOrigins = 3;
  for (const origin of [1, 2, 3, 4]) la.prune(origin, 7);
  assert.is(la.size, 3);
  assert.is(la.evictions, 1);
  assert.not.ok(la.has(1, 7), "origin 1, the oldest, was forgotten: its messages go to 7 again until it prunes again");
  assert.ok(la.has(4, 7));
  assert.is(lb.size, 0);
  la.prune(4, 8);
  a.linkClosed(7);
  assert.equal([la.has(2, 7), la.has(3, 7), la.has(4, 7), la.has(4, 8)], [false, false, false, true]);
  a.linkOpened(8);
  assert.is(la.entries, 0, "a new link starts unpruned");
});

test("a rule cannot both exclude one peer by field and give a list", () => {
  assert.throws(() => new RelayRuleSet([{ name: "x", allow: () => true, excludes: "origin", excludedPeers: () => [] }]), /not both/);
});

test.run();
