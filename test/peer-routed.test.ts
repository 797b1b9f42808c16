/**
 * Messages to one member, routed (PROTOCOL.md 4.1.2): send(payload, { to }) goes over the
 * direct link when there is one, else hop by hop towards the target along the reverse of the
 * target's broadcast path, so it costs one datagram per hop of the path (counted here), not
 * one per member as a flooded targeted broadcast does; only the target delivers it. With no
 * route known the message is flooded once per member and still delivered once. Hostile
 * Routed envelopes are counted drops.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { PeerEvent } from "../lib/peer/events.ts";
import { Kind } from "../wire/index.ts";
import { broadcastFrom, sealAs } from "./support/peer-scenarios.ts";
import { settledGrid } from "./support/settled-grid.ts";
import type { PeerNode, SimGrid } from "./support/sim-grid.ts";

type DataEvent = Extract<PeerEvent, { type: "data" }>;

/** A settled limit-4 grid over 10 ms links with 4 ms jitter (test/support/settled-grid.ts). */
const grid = (seed: number, n: number): SimGrid => settledGrid(seed, n, 4, { latencyMs: 10, jitterMs: 4 });

function warmUp(g: SimGrid): void {
  for (let t = 0; t < 600; t += 50) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(50);
  }
}

function record(g: SimGrid): { address: string; e: DataEvent }[] {
  const got: { address: string; e: DataEvent }[] = [];
  g.listeners.push((address, e) => {
    if (e.type === "data" && e.routed === true) got.push({ address, e });
  });
  return got;
}

test("a routed message to one member costs one datagram per hop of its path (O(path length)), not one per member; only the target delivers it", () => {
  const g = grid(0x2a7e, 32);
  const members = g.live();
  warmUp(g);
  const got = record(g);
  let routed = 0;
  g.taps.push((_n, _f, _t, bytes) => {
    if (bytes[2] === Kind.Routed) routed++;
  });
  const from = members[0] as PeerNode;
  let hops = 0;
  let direct = 0;
  for (const to of members) {
    if (to === from) continue;
    for (const p of members) broadcastFrom(p); // a game keeps playing: routes follow its broadcasts
    g.sim.runFor(50);
    const before = routed;
    const seq = from.endpoint.send(g.sim.now, new Uint8Array([to.endpoint.id & 0xff]), { to: to.endpoint.id });
    g.sim.runFor(150);
    const mine = got.filter((x) => x.e.origin === from.endpoint.id && x.e.seq === seq);
    assert.is(mine.length, 1, `delivered once, to ${to.address}`);
    assert.is((mine[0] as { address: string }).address, to.address, "only by the target");
    const path = (mine[0] as { e: DataEvent }).e.hops + 1;
    assert.is(routed - before, path, `${to.address}: ${routed - before} datagrams for a path of ${path} links`);
    hops += path;
    if (from.endpoint.linkPeers.includes(to.endpoint.id)) direct++;
  }
  const mean = hops / (members.length - 1);
  assert.ok(direct >= 2, "linked targets are reached over their link, in one datagram");
  assert.ok(mean < (members.length - 1) / 4, `mean ${mean.toFixed(2)} datagrams per routed message for ${members.length} members`);
  assert.is(from.endpoint.stats().routed.flooded, 0, "every route was known");
});

test("a flooded targeted broadcast, for comparison, costs at least N-1 datagrams for the same job", () => {
  const g = grid(0x2a7f, 32);
  const members = g.live();
  warmUp(g);
  let data = 0;
  g.taps.push((_n, _f, _t, bytes) => {
    if (bytes[2] === Kind.Data) data++;
  });
  const from = members[0] as PeerNode;
  const to = members[members.length - 1] as PeerNode;
  from.endpoint.broadcast(g.sim.now, new Uint8Array([1]), to.endpoint.id);
  g.sim.runFor(500);
  assert.ok(data >= members.length - 1, `${data} datagrams`);
});

test("no route known (the target never broadcast): the message is flooded, one copy per member at most, and delivered once", () => {
  const g = grid(0x2a80, 16);
  const members = g.live();
  const got = record(g);
  const from = members[0] as PeerNode;
  const to = members.find((p) => !from.endpoint.linkPeers.includes(p.endpoint.id) && p !== from) as PeerNode;
  let routed = 0;
  g.taps.push((_n, _f, _t, bytes) => {
    if (bytes[2] === Kind.Routed) routed++;
  });
  // Sent through the node (with), so its datagrams leave now, not at its next timer.
  let seq = -1;
  from.with((p, now) => {
    seq = p.send(now, new Uint8Array([9]), { to: to.endpoint.id });
  });
  g.sim.runFor(500);
  assert.equal(got.filter((x) => x.e.seq === seq).map((x) => x.address), [to.address]);
  const links = members.reduce((n, p) => n + p.endpoint.linkPeers.length, 0);
  assert.ok(routed <= links, `${routed} datagrams, at most one per directed link (${links})`);
  assert.ok(members.reduce((n, p) => n + p.endpoint.stats().routed.flooded, 0) > 0);
});

test("hostile: Routed envelopes without a target, from a non-link, or for another grid are counted drops, never relayed", () => {
  const g = grid(0x2a81, 8);
  const members = g.live();
  const mallory = members[1] as PeerNode;
  const victim = g.byId(mallory.endpoint.linkPeers[0] as number);
  const stranger = members.find((p) => p !== mallory && p !== victim && !victim.endpoint.linkPeers.includes(p.endpoint.id)) as PeerNode | undefined;
  const env = (target: number | null, grid = g.gridId): Uint8Array =>
    sealAs(mallory, { kind: Kind.Routed, hops: 0, grid, origin: mallory.endpoint.id, seq: 77, target, payload: new Uint8Array([1]), tag: new Uint8Array(9) });
  const before = victim.endpoint.stats();
  victim.with((p, now) => p.handleDatagram(now, mallory.address, env(null)));
  victim.with((p, now) => p.handleDatagram(now, mallory.address, env(3, g.gridId + 1)));
  if (stranger !== undefined) victim.with((p, now) => p.handleDatagram(now, stranger.address, env(3)));
  const after = victim.endpoint.stats();
  assert.is((after.drops["bad-message"] ?? 0) - (before.drops["bad-message"] ?? 0), 1);
  assert.is((after.drops["wrong-grid"] ?? 0) - (before.drops["wrong-grid"] ?? 0), 1);
  if (stranger !== undefined) assert.ok((after.drops["not-linked"] ?? 0) + (after.drops["rate-limited"] ?? 0) > (before.drops["not-linked"] ?? 0) + (before.drops["rate-limited"] ?? 0));
  assert.is(after.routed.forwarded + after.routed.flooded, before.routed.forwarded + before.routed.flooded);
});

test.run();
