/**
 * Large messages and teams (PROTOCOL.md 4.1.1): a message of up to MAX_MESSAGE_BYTES is sent
 * as fragments and reassembled; a lost fragment is an ordinary gap that repair pulls, so only
 * that fragment is sent again; reassembly memory is bounded; over the maximum, send throws.
 * Team messages reach the team's members' applications only.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode, RelayGridError } from "../lib/errors.ts";
import type { PeerEvent } from "../lib/peer/events.ts";
import { Kind, MAX_FRAGMENT_BYTES, MAX_MESSAGE_BYTES } from "../wire/index.ts";
import { broadcastFrom } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

type DataEvent = Extract<PeerEvent, { type: "data" }>;

function grid(seed: number, n: number, link = {}): SimGrid {
  const g = new SimGrid({ seed, link, peer: { connectionLimit: 4, redundancy: "prune" } });
  g.keepEvents = false;
  for (let i = 0; i < n; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  for (let t = 0; t < 500; t += 50) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(50);
  }
  return g;
}

function record(g: SimGrid): Map<string, DataEvent[]> {
  const got = new Map<string, DataEvent[]>();
  g.listeners.push((address, e) => {
    if (e.type !== "data") return;
    let l = got.get(address);
    if (l === undefined) got.set(address, (l = []));
    l.push({ ...e, payload: e.payload.slice() });
  });
  return got;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

for (const reliable of [false, true]) {
  test(`a 64 KiB ${reliable ? "reliable" : "unreliable"} message arrives intact at every member at 10% loss on every link; only lost fragments are sent again`, () => {
    const g = grid(reliable ? 0x64b : 0x64a, 12, { latencyMs: 15, jitterMs: 5 });
    const members = g.live();
    const origin = members[0] as PeerNode;
    const got = record(g);
    let repairs = 0;
    g.taps.push((_n, _f, _t, bytes) => {
      if (bytes[2] === Kind.MessageRepair) repairs++;
    });
    g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 5, lossPercent: 10 });
    const big = pattern(64 * 1024, 7);
    const seq = origin.endpoint.send(g.sim.now, big, { reliable });
    for (let t = 0; t < 1_000; t += 50) {
      broadcastFrom(origin); // the origin keeps playing: later seqs show the gaps
      g.sim.runFor(50);
    }
    g.sim.setDefaultLink({ latencyMs: 15, jitterMs: 5 });
    g.sim.runFor(3_000);
    const fragments = Math.ceil(big.length / MAX_FRAGMENT_BYTES);
    for (const p of members) {
      if (p === origin) continue;
      const mine = (got.get(p.address) ?? []).filter((e) => e.origin === origin.endpoint.id && e.seq === seq);
      assert.is(mine.length, 1, `${p.address} got it once`);
      assert.ok(same((mine[0] as DataEvent).payload, big), `${p.address}: intact`);
      assert.is(p.endpoint.footprint().reassembling, 0);
    }
    // A whole-message resend to each member would be fragments x (members - 1) datagrams.
    assert.ok(repairs > 0, "some fragments were lost and repaired");
    assert.ok(repairs < 0.5 * fragments * (members.length - 1), `${repairs} MessageRepairs for ${fragments} fragments x ${members.length - 1} members`);
  });
}

test("send over MAX_MESSAGE_BYTES throws payload-too-large with the numbers; at the maximum it is sent", () => {
  const g = grid(0x64c, 3);
  const p = g.live()[0] as PeerNode;
  try {
    p.endpoint.send(g.sim.now, new Uint8Array(MAX_MESSAGE_BYTES + 1));
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, RelayGridError);
    assert.is((e as RelayGridError).code, ErrorCode.PayloadTooLarge);
    assert.match((e as RelayGridError).message, String(MAX_MESSAGE_BYTES + 1));
  }
  const got = record(g);
  const seq = p.endpoint.send(g.sim.now, pattern(MAX_MESSAGE_BYTES, 3), { ordered: true });
  g.sim.runFor(2_000);
  for (const q of g.live()) if (q !== p) assert.ok((got.get(q.address) ?? []).some((e) => e.seq === seq && e.payload.length === MAX_MESSAGE_BYTES));
});

test("reliable delivery needs repair: send({ reliable }) on a Peer with repair off throws invalid-config saying so", () => {
  const g = new SimGrid({ seed: 0x64d, peer: { connectionLimit: 4, repair: false } });
  g.keepEvents = false;
  for (let i = 0; i < 3; i++) g.addPeer();
  g.settle(1);
  const p = g.live()[0] as PeerNode;
  assert.throws(() => p.endpoint.send(g.sim.now, new Uint8Array(3), { ordered: true }), (e: unknown) => e instanceof RelayGridError && e.code === ErrorCode.InvalidConfig && /repair: true/.test(e.message));
  p.endpoint.send(g.sim.now, new Uint8Array(5000)); // unreliable large messages do not need it
});

test("a team message reaches the team members' applications only: non-members relay it but never deliver it", () => {
  const g = grid(0x7ea, 12, { latencyMs: 10, jitterMs: 3 });
  const members = g.live();
  const team = members.filter((_, i) => i % 3 === 0);
  for (const p of team) p.endpoint.joinTeam(42);
  const got = record(g);
  const from = team[0] as PeerNode;
  const seqs = [from.endpoint.send(g.sim.now, new Uint8Array([1]), { team: 42 }), from.endpoint.send(g.sim.now, pattern(5000, 1), { team: 42, ordered: true })];
  const outsider = members.find((p) => !team.includes(p)) as PeerNode;
  seqs.push(outsider.endpoint.send(g.sim.now, new Uint8Array([2]), { team: 42, reliable: true })); // a non-member may send to the team
  g.sim.runFor(2_000);
  for (const p of members) {
    const teamGot = (got.get(p.address) ?? []).filter((e) => e.team === 42);
    if (team.includes(p)) assert.is(teamGot.length, p === from ? 1 : 3, p.address);
    else assert.is(teamGot.length, 0, `${p.address} is not in the team`);
  }
  const relayedByOutsiders = members.filter((p) => !team.includes(p)).reduce((n, p) => n + p.endpoint.stats().messages.notInTeam, 0);
  assert.ok(relayedByOutsiders > 0, "non-members saw team messages and held them back from their application");
  // Leaving the team stops delivery.
  const leaver = team[1] as PeerNode;
  leaver.endpoint.leaveTeam(42);
  const before = (got.get(leaver.address) ?? []).length;
  from.endpoint.send(g.sim.now, new Uint8Array([3]), { team: 42 });
  g.sim.runFor(1_000);
  assert.is((got.get(leaver.address) ?? []).length, before);
});

test.run();
