/**
 * Unit tests of the connection rules (lib/peer/connection-rules.ts): which positive
 * responders a peer links with (claims 29-31), which negative responder it forces
 * (claims 33, 43), and which link a forced member gives up (claim 32's drop policy).
 * The simulator tests (peer-join, peer-connect) check that the Peer really feeds the rules
 * what arrived inside the time limit and acts on what they return.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  arrivalOrderConnectionRules,
  defaultConnectionRules,
  fastestResponder,
  firstLastThenArrival,
  firstLastThenRandom,
  mostConnectedNeighbour,
  type NeighbourInfo,
  type Response,
} from "../lib/peer/connection-rules.ts";
import { SeededRandom } from "../lib/rng.ts";

/** Responses in arrival order: peer ids 1..n, one every 10 ms after a request sent at 1000. */
function responses(n: number, positive = true, times?: number[]): Response[] {
  return Array.from({ length: n }, (_, i) => {
    const rt = times?.[i] ?? 10 * (i + 1);
    return { peer: i + 1, addr: `peer-${i + 1}`, positive, links: 1, receivedAt: 1000 + rt, responseTimeMs: rt, order: i };
  });
}

const ids = (rs: readonly { peer: number }[]): number[] => rs.map((r) => r.peer);

test("claim 29: the first and the last positive response are selected, first then last", () => {
  const rng = new SeededRandom(1);
  assert.equal(ids(firstLastThenRandom(responses(6), 2, rng)), [1, 6]);
  assert.equal(ids(firstLastThenArrival(responses(6), 2)), [1, 6]);
  // With room for one link, the first positive alone.
  assert.equal(ids(firstLastThenRandom(responses(6), 1, rng)), [1]);
  assert.equal(ids(firstLastThenArrival(responses(6), 1)), [1]);
  // One positive is both first and last: it is picked once.
  assert.equal(ids(firstLastThenRandom(responses(1), 4, rng)), [1]);
  assert.equal(ids(firstLastThenArrival(responses(1), 4)), [1]);
  // Two positives: both, first first.
  assert.equal(ids(firstLastThenRandom(responses(2), 4, rng)), [1, 2]);
  // Nothing to pick, or no room: nothing.
  assert.equal(firstLastThenRandom([], 4, rng), []);
  assert.equal(firstLastThenArrival(responses(5), 0), []);
});

test("claim 30: after first and last, the rest are drawn at random from the remaining positives, up to the limit", () => {
  const seen = new Map<number, number>();
  const orders = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) {
    const picked = ids(firstLastThenRandom(responses(8), 4, new SeededRandom(seed)));
    assert.is(picked.length, 4);
    assert.equal(picked.slice(0, 2), [1, 8], "first and last come first");
    assert.is(new Set(picked).size, 4, "no responder twice");
    for (const p of picked.slice(2)) {
      assert.ok(p >= 2 && p <= 7, `extra pick ${p} is one of the remaining positives`);
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    orders.add(picked.join(","));
  }
  // Every remaining responder gets picked sometimes, none always: 400 extra picks over 6
  // candidates, about 67 each.
  assert.equal([...seen.keys()].sort(), [2, 3, 4, 5, 6, 7]);
  for (const [p, n] of seen) assert.ok(n > 30 && n < 110, `responder ${p} picked ${n} times of 400`);
  assert.ok(orders.size > 10, `${orders.size} distinct selections`);
  // Filling to the limit never takes more than there are.
  assert.equal(ids(firstLastThenRandom(responses(3), 8, new SeededRandom(3))).sort(), [1, 2, 3]);
  // The same seed gives the same choice (replayable runs).
  assert.equal(firstLastThenRandom(responses(8), 5, new SeededRandom(9)), firstLastThenRandom(responses(8), 5, new SeededRandom(9)));
});

test("claim 31: after first and last, the rest in the order their responses arrived", () => {
  assert.equal(ids(firstLastThenArrival(responses(8), 4)), [1, 8, 2, 3]);
  assert.equal(ids(firstLastThenArrival(responses(8), 8)), [1, 8, 2, 3, 4, 5, 6, 7]);
  assert.equal(ids(firstLastThenArrival(responses(8), 20)), [1, 8, 2, 3, 4, 5, 6, 7]);
  assert.equal(ids(arrivalOrderConnectionRules.selectPositive(responses(5), 3, new SeededRandom(1))), [1, 5, 2]);
});

test("claims 29-31: the shipped rule sets are first-last-random (default) and first-last-arrival", () => {
  assert.is(defaultConnectionRules.name, "first-last-random");
  assert.is(arrivalOrderConnectionRules.name, "first-last-arrival");
  const a = ids(defaultConnectionRules.selectPositive(responses(6), 3, new SeededRandom(4)));
  assert.equal(a.slice(0, 2), [1, 6]);
  assert.ok(Object.isFrozen(defaultConnectionRules) && Object.isFrozen(arrivalOrderConnectionRules));
});

test("claim 33: the force connection peer is the negative responder with the lowest response time", () => {
  // Arrival order and response time can differ (a retransmitted request answered late).
  const negatives = responses(4, false, [40, 25, 60, 25]);
  assert.is(fastestResponder(negatives)?.peer, 2, "ties go to the earlier arrival");
  assert.is(defaultConnectionRules.selectForce(negatives, new SeededRandom(1))?.peer, 2);
  assert.is(arrivalOrderConnectionRules.selectForce(negatives, new SeededRandom(1))?.peer, 2);
  assert.is(fastestResponder([]), undefined, "no negative responder: nobody to force");
  assert.is(fastestResponder(responses(1, false))?.peer, 1);
});

const nb = (peer: number, links: number, rttMs = 10): NeighbourInfo => ({ peer, links, rttMs });

test("claim 32 (drop policy): a forced member drops the neighbour with the most links", () => {
  assert.is(mostConnectedNeighbour([nb(1, 3), nb(2, 5), nb(3, 4)])?.peer, 2);
  assert.is(defaultConnectionRules.selectDrop([nb(1, 3), nb(2, 5), nb(3, 4)], new SeededRandom(1))?.peer, 2);
  assert.is(arrivalOrderConnectionRules.selectDrop([nb(1, 4), nb(2, 3)], new SeededRandom(1))?.peer, 1);
});

test("claim 32 (drop policy): among equally connected neighbours the one with the highest RTT goes", () => {
  assert.is(mostConnectedNeighbour([nb(1, 4, 20), nb(2, 4, 90), nb(3, 4, 50)])?.peer, 2);
  // Links first, RTT only breaks ties.
  assert.is(mostConnectedNeighbour([nb(1, 5, 5), nb(2, 4, 900)])?.peer, 1);
});

test("claim 32 (drop policy): never a neighbour that would be left below two links; refuse when all would be", () => {
  assert.is(mostConnectedNeighbour([nb(1, 2, 500), nb(2, 3, 1)])?.peer, 2);
  assert.is(mostConnectedNeighbour([nb(1, 2), nb(2, 1), nb(3, 2)]), undefined);
  assert.is(mostConnectedNeighbour([]), undefined);
  // A neighbour whose link count is not known yet (0 until its first pong) is never dropped.
  assert.is(mostConnectedNeighbour([nb(1, 0), nb(2, 0)]), undefined);
});

test.run();
