import { test } from "uvu";
import * as assert from "uvu/assert";
import { RelayGridError } from "../lib/errors.ts";
import {
  DEFAULT_MAX_HOPS,
  checkRelayRules,
  defaultRelayRules,
  hopLimit,
  notBackToSender,
  notToOrigin,
  suppressedByName,
} from "../lib/relay/rules.ts";
import { selectLinks } from "../lib/relay/rule-set.ts";
import type { RelayContext, RelayRule } from "../lib/relay/rules.ts";

function ctx(fields: Partial<RelayContext> = {}): RelayContext {
  return { grid: 1, origin: 100, seq: 0, hops: 0, target: null, fromPeer: 200, toPeer: 0, ...fields };
}

/** Runs selectLinks and returns the selected prefix of `out`. */
function select(rules: readonly RelayRule[], c: RelayContext, links: number[], suppressed?: number[]): number[] {
  const out: number[] = [];
  const n = selectLinks(rules, c, links, out, suppressed);
  return out.slice(0, n);
}

test("claim 15: not back to the sender link", () => {
  assert.equal(select([notBackToSender], ctx({ fromPeer: 2 }), [1, 2, 3]), [1, 3]);
  assert.equal(select(defaultRelayRules, ctx({ fromPeer: 2 }), [1, 2, 3]), [1, 3]);
});

test("claim 17: not to the origin", () => {
  assert.equal(select([notToOrigin], ctx({ origin: 3 }), [1, 2, 3]), [1, 2]);
  // Straight from the origin, both rules name the same link.
  assert.equal(select(defaultRelayRules, ctx({ origin: 3, fromPeer: 3 }), [1, 2, 3]), [1, 2]);
  assert.equal(select(defaultRelayRules, ctx({ origin: 1, fromPeer: 2 }), [1, 2, 3, 4]), [3, 4]);
});

test("claim 14: zero links is a valid selection", () => {
  assert.equal(select(defaultRelayRules, ctx({ fromPeer: 1 }), [1]), []);
  assert.equal(select(defaultRelayRules, ctx(), []), []);
});

test("claim 14: a user rule (area of interest) composes with the defaults", () => {
  const position = new Map<number, number>([[100, 0], [1, 5], [2, 50], [3, 8], [4, 9]]);
  const areaOfInterest: RelayRule = {
    name: "area-of-interest",
    allow: (c) => Math.abs((position.get(c.toPeer) ?? Infinity) - (position.get(c.origin) ?? Infinity)) <= 10,
  };
  const rules = checkRelayRules([...defaultRelayRules, areaOfInterest]);
  const counts = new Array<number>(rules.length).fill(0);
  // origin 100 at 0; came from 3; 2 is too far; 100 is the origin itself.
  assert.equal(select(rules, ctx({ fromPeer: 3 }), [1, 2, 3, 4, 100], counts), [1, 4]);
  assert.equal(suppressedByName(rules, counts), {
    "not-back-to-sender": 1,
    "not-to-origin": 1,
    [`hop-limit-${DEFAULT_MAX_HOPS}`]: 0,
    "area-of-interest": 1,
  });
});

test("hop limit", () => {
  const rule = hopLimit(4);
  assert.is(rule.name, "hop-limit-4");
  assert.equal(select([rule], ctx({ hops: 3 }), [1, 2]), [1, 2]);
  assert.equal(select([rule], ctx({ hops: 4 }), [1, 2]), []);
  assert.is(hopLimit().name, `hop-limit-${DEFAULT_MAX_HOPS}`);
  assert.equal(select(defaultRelayRules, ctx({ hops: DEFAULT_MAX_HOPS - 1 }), [1]), [1]);
  assert.equal(select(defaultRelayRules, ctx({ hops: DEFAULT_MAX_HOPS }), [1]), []);
  for (const bad of [0, 128, 1.5]) {
    assert.throws(
      () => hopLimit(bad),
      (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config" && e.message.includes(String(bad)),
      `maxHops ${bad}`,
    );
  }
});

test("suppression is counted against the first rule that refuses", () => {
  const counts = [0, 0, 0];
  // Link 5 is both the sender and the origin: counted once, under notBackToSender.
  select(defaultRelayRules, ctx({ origin: 5, fromPeer: 5 }), [5, 6], counts);
  select(defaultRelayRules, ctx({ hops: DEFAULT_MAX_HOPS }), [6, 7], counts);
  assert.equal(counts, [1, 0, 2]);
});

test("selectLinks reuses out and ctx without allocating new ones", () => {
  const out = [9, 9, 9, 9];
  const c = ctx({ fromPeer: 2 });
  const links = Uint32Array.of(1, 2, 3);
  assert.is(selectLinks(defaultRelayRules, c, links, out), 2);
  assert.equal(out, [1, 3, 9, 9]); // entries past the count are left alone
  assert.is(c.toPeer, 3);
  assert.is(selectLinks(defaultRelayRules, c, links.subarray(0, 1), out), 1);
  assert.equal(out.slice(0, 1), [1]);
});

test("default rules are frozen data", () => {
  assert.ok(Object.isFrozen(defaultRelayRules));
  assert.ok(Object.isFrozen(notBackToSender) && Object.isFrozen(notToOrigin));
  assert.equal(defaultRelayRules.map((r) => r.name), ["not-back-to-sender", "not-to-origin", `hop-limit-${DEFAULT_MAX_HOPS}`]);
});

test("checkRelayRules rejects unnamed, duplicate-named and malformed rules", () => {
  const ok: RelayRule = { name: "x", allow: () => true };
  assert.is(checkRelayRules(defaultRelayRules), defaultRelayRules);
  const bad = [
    [ok, ok],
    [{ name: "", allow: () => true }],
    [{ name: "y" } as unknown as RelayRule],
    [null as unknown as RelayRule],
  ];
  for (const rules of bad) {
    assert.throws(
      () => checkRelayRules(rules),
      (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config",
    );
  }
});

test.run();
