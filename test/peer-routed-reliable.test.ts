/**
 * Reliable routed messages (issue 14 item 2, PROTOCOL.md 4.1.2): send(payload, { to, reliable })
 * is routed (O(path length), not flooded), acknowledged by the target end to end, and sent
 * again along the route until the ack comes; the target delivers it exactly once. State is
 * bounded (MAX_PENDING_ROUTED waiting messages), and a target that never acknowledges is
 * reported as an "error" event, code unreachable, after MAX_ROUTED_ATTEMPTS copies.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ErrorCode, RelayGridError } from "../lib/errors.ts";
import type { PeerEvent } from "../lib/peer/events.ts";
import { MAX_PENDING_ROUTED, MAX_ROUTED_ATTEMPTS } from "../lib/peer/routed-outbox.ts";
import { Kind } from "../wire/index.ts";
import { broadcastFrom, sealAs } from "./support/peer-scenarios.ts";
import { settledGrid } from "./support/settled-grid.ts";
import type { PeerNode, SimGrid } from "./support/sim-grid.ts";

type DataEvent = Extract<PeerEvent, { type: "data" }>;

/** A settled limit-4 grid over 10 ms links with 4 ms jitter (test/support/settled-grid.ts). */
const grid = (seed: number, n: number): SimGrid => settledGrid(seed, n, 4, { latencyMs: 10, jitterMs: 4 });

/** Everyone broadcasts every 100 ms for `ms` (a game keeps playing: routes follow broadcasts). */
function play(g: SimGrid, ms: number): void {
  for (let t = 0; t < ms; t += 100) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(100);
  }
}

test("reliable routed at 20% loss on every link: every message reaches its target exactly once, costing O(path length) datagrams, not O(N)", () => {
  const g = grid(0x2a90, 24);
  const members = g.live();
  play(g, 1_000);
  const got: { address: string; e: DataEvent }[] = [];
  const errors: string[] = [];
  g.listeners.push((address, e) => {
    if (e.type === "data" && e.routed === true) got.push({ address, e });
    if (e.type === "error") errors.push(`${address}: ${e.message}`);
  });
  let routed = 0;
  g.taps.push((_n, _f, _t, bytes) => {
    if (bytes[2] === Kind.Routed) routed++;
  });
  g.sim.setDefaultLink({ latencyMs: 10, jitterMs: 4, lossPercent: 20 });
  const sent: { from: PeerNode; to: PeerNode; seq: number }[] = [];
  for (let i = 0; i < 40; i++) {
    const from = members[i % members.length] as PeerNode;
    const to = members[(i * 7 + 3) % members.length] as PeerNode;
    if (from === to) continue;
    from.with((p, now) => sent.push({ from, to, seq: p.send(now, new Uint8Array([i]), { to: to.endpoint.id, reliable: true }) }));
    play(g, 100);
  }
  play(g, 8_000);
  g.sim.setDefaultLink({ latencyMs: 10, jitterMs: 4 });
  play(g, 30_000);
  const wrong: string[] = [];
  for (const s of sent) {
    const at = got.filter((x) => x.e.origin === s.from.endpoint.id && x.e.seq === s.seq);
    if (at.length !== 1 || (at[0] as { address: string }).address !== s.to.address) wrong.push(`${s.from.address} -> ${s.to.address} #${s.seq}: ${at.map((x) => x.address).join(",") || "none"}`);
    else assert.is((at[0] as { e: DataEvent }).e.reliable, true);
  }
  assert.equal(wrong, [], "every reliable routed message delivered exactly once, at its target");
  assert.equal(errors, []);
  const st = members.map((p) => p.endpoint.stats().routed);
  const resent = st.reduce((a, s) => a + s.resent, 0);
  const acked = st.reduce((a, s) => a + s.acked, 0);
  const perMessage = routed / sent.length;
  console.log(`    figure: ${sent.length} reliable routed messages at 20% loss, N=${members.length}: ${routed} Routed datagrams (messages, copies again and acks), ${perMessage.toFixed(1)} per message; ${resent} sent again, ${acked} acked`);
  assert.is(acked, sent.length);
  assert.ok(perMessage < members.length, `${perMessage.toFixed(1)} datagrams per message, below N = ${members.length}`);
  for (const p of members) assert.is(p.endpoint.footprint().routedPending, 0, "nothing left waiting for an ack");
});

test("a target that never acknowledges (it crashed) is reported as an error event, code unreachable, after MAX_ROUTED_ATTEMPTS copies; nothing stays pending", () => {
  const g = grid(0x2a91, 12);
  const members = g.live();
  play(g, 1_000);
  const from = members[0] as PeerNode;
  const to = members.find((p) => p !== from && !from.endpoint.linkPeers.includes(p.endpoint.id)) as PeerNode;
  const errors: PeerEvent[] = [];
  g.listeners.push((address, e) => {
    if (address === from.address && e.type === "error") errors.push(e);
  });
  g.sim.crash(to.address);
  let seq = -1;
  from.with((p, now) => (seq = p.send(now, new Uint8Array([1]), { to: to.endpoint.id, reliable: true })));
  for (let t = 0; t < 40_000; t += 100) {
    for (const p of g.live()) broadcastFrom(p);
    g.sim.runFor(100);
  }
  const e = errors.find((x) => x.type === "error" && x.code === ErrorCode.Unreachable);
  assert.ok(e !== undefined, `an unreachable error event (got ${JSON.stringify(errors)})`);
  assert.ok(e.type === "error" && e.seq === seq && e.target === to.endpoint.id);
  assert.match(e.type === "error" ? e.message : "", new RegExp(`not acknowledged after ${MAX_ROUTED_ATTEMPTS} copies`));
  assert.is(from.endpoint.stats().routed.unreachable, 1);
  assert.is(from.endpoint.footprint().routedPending, 0);
});

test("bounded state: past MAX_PENDING_ROUTED unacknowledged messages, send({ to, reliable }) throws limit-reached", () => {
  const g = grid(0x2a92, 6);
  const members = g.live();
  play(g, 500);
  const from = members[0] as PeerNode;
  const to = members[1] as PeerNode;
  g.sim.crash(to.address);
  for (let i = 0; i < MAX_PENDING_ROUTED; i++) from.endpoint.send(g.sim.now, new Uint8Array([i & 0xff]), { to: to.endpoint.id, reliable: true });
  assert.is(from.endpoint.footprint().routedPending, MAX_PENDING_ROUTED);
  assert.throws(() => from.endpoint.send(g.sim.now, new Uint8Array([0]), { to: to.endpoint.id, reliable: true }), (e: unknown) => e instanceof RelayGridError && e.code === ErrorCode.LimitReached);
});

test("hostile: Routed payloads with an unknown mode byte, a short reliable header or an ack of the wrong size are bad-message drops; an ack from another member than the target clears nothing", () => {
  const g = grid(0x2a93, 8);
  const members = g.live();
  play(g, 500);
  const mallory = members[1] as PeerNode;
  const victim = g.byId(mallory.endpoint.linkPeers[0] as number);
  const env = (payload: number[], target = victim.endpoint.id, seq = 900): Uint8Array =>
    sealAs(mallory, { kind: Kind.Routed, hops: 0, grid: g.gridId, origin: mallory.endpoint.id, seq, target, payload: new Uint8Array(payload), tag: new Uint8Array(9) });
  const before = victim.endpoint.stats();
  for (const [i, p] of [[], [3, 1], [1, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0, 1, 9]].entries()) victim.with((peer, now) => peer.handleDatagram(now, mallory.address, env(p, victim.endpoint.id, 900 + i)));
  const after = victim.endpoint.stats();
  assert.is((after.drops["bad-message"] ?? 0) - (before.drops["bad-message"] ?? 0), 5);
  assert.is(after.routed.delivered, before.routed.delivered);
  // The victim waits for an ack from a crashed member; mallory forges one for its message id.
  const gone = members.find((p) => p !== mallory && p !== victim) as PeerNode;
  g.sim.crash(gone.address);
  let id = 0;
  victim.with((p, now) => (id = p.send(now, new Uint8Array([5]), { to: gone.endpoint.id, reliable: true })));
  victim.with((p, now) => p.handleDatagram(now, mallory.address, env([2, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff], victim.endpoint.id, 950)));
  assert.is(victim.endpoint.footprint().routedPending, 1, "a forged ack from another member leaves the message pending");
  assert.is(victim.endpoint.stats().routed.acked, before.routed.acked);
});

test.run();
