/**
 * Delivery modes (PROTOCOL.md 4.1.1): reliable-unordered and reliable-ordered per origin on
 * the grid's repair, large messages fragmented and reassembled, teams. Simulated network,
 * virtual time; every transmit goes through the relay inspector.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PeerEvent } from "../lib/peer/events.ts";
import { broadcastFrom } from "./support/peer-scenarios.ts";
import { settledGrid } from "./support/settled-grid.ts";
import type { SimGrid, PeerNode } from "./support/sim-grid.ts";

type DataEvent = Extract<PeerEvent, { type: "data" }>;

/** Every data event per receiving address, in delivery order; and the message-lost errors. */
function record(g: SimGrid): { got: Map<string, DataEvent[]>; lost: string[] } {
  const got = new Map<string, DataEvent[]>();
  const lost: string[] = [];
  g.listeners.push((address, e) => {
    if (e.type === "data") {
      let l = got.get(address);
      if (l === undefined) got.set(address, (l = []));
      l.push({ ...e, payload: e.payload.slice() });
    } else if (e.type === "error" && e.code === "message-lost") lost.push(`${address}: ${e.message}`);
  });
  return { got, lost };
}

/** Everyone broadcasts plainly for a while, so each member has seen every origin. */
function warmUp(g: SimGrid, ms = 500): void {
  for (let t = 0; t < ms; t += 50) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(50);
  }
}

const tagOf = (origin: number, i: number): Uint8Array => new Uint8Array([origin >>> 24, (origin >>> 16) & 0xff, (origin >>> 8) & 0xff, origin & 0xff, i >>> 8, i & 0xff]);
const indexOf = (p: Uint8Array): number => ((p[4] as number) << 8) | (p[5] as number);

function sendAll(g: SimGrid, members: readonly PeerNode[], count: number, everyMs: number, opts: { reliable?: boolean; ordered?: boolean }): void {
  for (let i = 0; i < count; i++) {
    for (const p of members) p.endpoint.send(g.sim.now, tagOf(p.endpoint.id, i), opts);
    g.sim.runFor(everyMs);
  }
}

/** What each member got of each other member's messages, as index lists; "" when exactly 0..count-1 in order. */
function orderProblems(got: Map<string, DataEvent[]>, members: readonly PeerNode[], count: number, ordered: boolean, filter: (e: DataEvent) => boolean): string[] {
  const out: string[] = [];
  for (const p of members) {
    const mine = (got.get(p.address) ?? []).filter(filter);
    for (const o of members) {
      if (o === p) continue;
      const idx = mine.filter((e) => e.origin === o.endpoint.id).map((e) => indexOf(e.payload));
      const sorted = ordered ? idx : [...idx].sort((a, b) => a - b);
      const want = Array.from({ length: count }, (_, i) => i);
      if (sorted.join(",") !== want.join(",")) out.push(`${p.address} from ${o.endpoint.id}: ${idx.join(",")}`);
    }
  }
  return out;
}

test("reliable-ordered at 20% loss on every link: every live member gets every member's reliable messages exactly once and in the order they were sent", () => {
  const g = settledGrid(0x14a, 12, 4, { latencyMs: 15, jitterMs: 10 });
  const members = g.live();
  warmUp(g);
  const { got, lost } = record(g);
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 10, lossPercent: 20 });
  sendAll(g, members, 40, 33, { ordered: true });
  g.sim.runFor(3_000);
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 10 });
  g.sim.runFor(5_000);
  assert.equal(lost, []);
  assert.equal(orderProblems(got, members, 40, true, (e) => e.ordered === true), []);
  const held = members.reduce((n, p) => n + p.endpoint.stats().messages.held, 0);
  assert.ok(held > 0, `${held} messages waited for an earlier one: the loss reordered them, delivery put them back`);
  for (const p of members) assert.is(p.endpoint.footprint().held, 0, "nothing left held");
});

test("reliable-unordered at 20% loss: every live member gets every reliable message exactly once", () => {
  const g = settledGrid(0x14b, 12, 4, { latencyMs: 15, jitterMs: 10 });
  const members = g.live();
  warmUp(g);
  const { got, lost } = record(g);
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 10, lossPercent: 20 });
  sendAll(g, members, 40, 33, { reliable: true });
  g.sim.runFor(3_000);
  g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 10 });
  g.sim.runFor(5_000);
  assert.equal(lost, []);
  assert.equal(orderProblems(got, members, 40, false, (e) => e.reliable === true), []);
});

test.run();
