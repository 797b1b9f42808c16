/**
 * The delivery group's runs (groups/delivery.ts) on the simulator, with the game group's link
 * model (support/game-run.ts: each pair 20-80 ms one way, 0-10 ms jitter, the lobby 30 ms away)
 * and redundancy lists + repair ("prune", which reliable delivery needs).
 *
 * runModeCell: N members, every one sending `payloadBytes` at `rateHz`, on one grid. Per loss
 * level (on every link), in order, each send mode in turn ("unreliable": send(payload), a Data
 * envelope; then "ordered": send(payload, { ordered: true }), a reliable-ordered Message):
 * `warmMs` of sending not measured, `windowMs` measured, `coolMs` more not measured, `drainMs`
 * without sends.
 * Measured per window: delivery % (deliveries of the window's messages / (messages x (N-1)),
 * after the drain), duplicates, throughput (deliveries per virtual second over the window and
 * its drain, all members together), datagrams received per delivery (every kind) and latency
 * send -> delivery, p50 and p99. Both modes run on the same grid, links and loss, one after
 * the other.
 *
 * runRoutedCell: N members, everyone broadcasting at 2 Hz throughout (a game keeps playing;
 * routes follow broadcasts); after a warm-up, `pairs` messages from one member to another,
 * each sent routed (send(payload, { to })) and, for comparison, as a flooded targeted
 * broadcast (broadcast(payload, target)): the datagrams each costs (the copies of that one
 * envelope, its origin and seq, counted on the wire) and whether only the target delivered it.
 */
import type { PeerEvent } from "../../lib/peer/events.ts";
import type { Peer } from "../../lib/peer/peer.ts";
import { SeededRandom, shuffle } from "../../lib/rng.ts";
import type { SimNode } from "../../platform/memory/index.ts";
import { Kind, newRelayHeader, readRelay } from "../../wire/index.ts";
import { JITTER_MS, pairLatencyMs } from "./game-run.ts";
import { buildGrid, LOBBY_ADDRESS, type BuiltGrid } from "./grid-builder.ts";

const LOBBY_LATENCY_MS = 30;
const linkModel = (from: string, to: string): { latencyMs: number } | undefined =>
  from === LOBBY_ADDRESS || to === LOBBY_ADDRESS ? undefined : { latencyMs: pairLatencyMs(from, to) };

export type SendMode = "unreliable" | "ordered";

export interface ModeOptions {
  n: number;
  limit: number;
  seed: number;
  rateHz: number;
  payloadBytes: number;
  losses: readonly number[];
  warmMs: number;
  windowMs: number;
  coolMs: number;
  drainMs: number;
}

export interface ModeWindow {
  mode: SendMode;
  lossPct: number;
  messages: number;
  deliveryPct: number;
  duplicates: number;
  /** Deliveries per virtual second, all members together, over the window and its drain. */
  deliveriesPerSec: number;
  datagramsPerDelivery: number;
  p50Ms: number;
  p99Ms: number;
  /** message-lost error events during the window and its drain (reliable only). */
  lostEvents: number;
}

export interface ModeCell {
  n: number;
  limit: number;
  settled: boolean;
  buildWallMs: number;
  runWallMs: number;
  windows: ModeWindow[];
}

interface Msg {
  at: number;
  got: Uint8Array;
}

const key = (origin: number, seq: number): number => origin * 0x100000000 + seq;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * (sorted.length - 1)))] as number;
}

function build(seed: number, n: number, limit: number, inspect: (now: number, from: string, to: string, bytes: Uint8Array) => void, onEvent: (address: string, e: PeerEvent, now: number) => void): BuiltGrid {
  const g = buildGrid({
    seed,
    peers: n,
    connectionLimit: limit,
    link: { latencyMs: LOBBY_LATENCY_MS, jitterMs: JITTER_MS },
    linkModel,
    peer: { redundancy: "prune" },
    inspect,
    onEvent,
    maxSettleMs: 120_000,
  });
  g.sim.runFor(2000); // connection updates in flight reach the lobby
  return g;
}

export function runModeCell(o: ModeOptions): ModeCell {
  const msgs = new Map<number, Msg>();
  const index = new Map<string, number>();
  let latencies: number[] = [];
  let tracking = false;
  let duplicates = 0;
  let deliveries = 0;
  let lost = 0;
  const onEvent = (address: string, e: PeerEvent, now: number): void => {
    if (!tracking) return;
    if (e.type === "error" && e.code === "message-lost") lost++;
    if (e.type !== "data") return;
    deliveries++;
    const m = msgs.get(key(e.origin, e.seq));
    const i = index.get(address);
    if (m === undefined || i === undefined) return;
    if ((m.got[i] as number) > 0) duplicates++;
    m.got[i] = (m.got[i] as number) + 1;
    latencies.push(now - m.at);
  };
  const b0 = performance.now();
  const g = build(o.seed, o.n, o.limit, () => {}, onEvent);
  const buildWallMs = performance.now() - b0;
  const peers = g.peers;
  peers.forEach((p, i) => index.set(p.address, i));
  const rng = new SeededRandom(o.seed ^ 0x9a3e);
  const tickMs = 10;
  const period = Math.max(1, Math.round(1000 / o.rateHz / tickMs));
  const slot = peers.map(() => Math.floor(rng.next() * period));
  const payload = new Uint8Array(o.payloadBytes).fill(0x61);
  let opts: { ordered?: boolean } = {};
  const sim = g.sim;
  let tick = 0;
  const sendFor = (ms: number, record: boolean): number => {
    let sent = 0;
    for (let t = 0; t < ms; t += tickMs, tick++) {
      const phase = tick % period;
      for (let i = 0; i < peers.length; i++) {
        if (slot[i] !== phase) continue;
        const p = peers[i] as SimNode<Peer, unknown>;
        if (!p.alive || p.endpoint.phase !== "member") continue;
        const at = sim.now;
        const seq = p.with((peer, now) => peer.send(now, payload, opts));
        if (record) {
          msgs.set(key(p.endpoint.id, seq), { at, got: new Uint8Array(peers.length) });
          sent++;
        }
      }
      sim.runFor(tickMs);
    }
    return sent;
  };
  const datagramsIn = (): number => peers.reduce((a, p) => a + p.endpoint.stats().datagramsIn, 0);
  const r0 = performance.now();
  const windows: ModeWindow[] = [];
  for (const [loss, mode] of o.losses.flatMap((l) => [[l, "unreliable"], [l, "ordered"]] as const)) {
    opts = mode === "ordered" ? { ordered: true } : {};
    sim.setDefaultLink({ latencyMs: LOBBY_LATENCY_MS, jitterMs: JITTER_MS, lossPercent: loss });
    sendFor(o.warmMs, false);
    msgs.clear();
    latencies = [];
    duplicates = 0;
    deliveries = 0;
    lost = 0;
    tracking = true;
    const d0 = datagramsIn();
    const messages = sendFor(o.windowMs, true);
    const inWindow = deliveries;
    const d1 = datagramsIn();
    sendFor(o.coolMs, false);
    sim.runFor(o.drainMs);
    tracking = false;
    let got = 0;
    for (const m of msgs.values()) for (let i = 0; i < m.got.length; i++) if ((m.got[i] as number) > 0) got++;
    const sorted = Float64Array.from(latencies).sort();
    windows.push({
      mode,
      lossPct: loss,
      messages,
      deliveryPct: (100 * got) / Math.max(1, messages * (peers.length - 1)),
      duplicates,
      deliveriesPerSec: got / ((o.windowMs + o.coolMs + o.drainMs) / 1000),
      datagramsPerDelivery: (d1 - d0) / Math.max(1, inWindow),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      lostEvents: lost,
    });
  }
  return { n: o.n, limit: o.limit, settled: g.settled, buildWallMs, runWallMs: performance.now() - r0, windows };
}

export interface RoutedOptions {
  n: number;
  limit: number;
  seed: number;
  /** (from, to) pairs measured, a seeded choice. */
  pairs: number;
  warmMs: number;
}

export interface RoutedCell {
  n: number;
  limit: number;
  settled: boolean;
  /** Datagrams per message, one entry per pair. */
  routed: number[];
  flooded: number[];
  /** Pairs whose message only the target delivered, exactly once (routed; flooded). */
  routedOk: number;
  floodedOk: number;
  /** Routed messages that had to be flooded for want of a route (stats().routed.flooded, all members). */
  routedFloods: number;
  buildWallMs: number;
}

const PLAY_EVERY_MS = 500;
const PAIR_MS = 1000;

export function runRoutedCell(o: RoutedOptions): RoutedCell {
  // The message measured: its kind, origin and seq; copies of it on the wire are counted.
  let watch: { kind: number; origin: number; seq: number } | null = null;
  let count = 0;
  const h = newRelayHeader();
  const inspect = (_now: number, _from: string, _to: string, bytes: Uint8Array): void => {
    if (watch === null || bytes[2] !== watch.kind || readRelay(bytes, h, watch.kind) !== null) return;
    if (h.origin === watch.origin && h.seq === watch.seq) count++;
  };
  const seen: string[] = [];
  const onEvent = (address: string, e: PeerEvent): void => {
    if (watch !== null && e.type === "data" && e.origin === watch.origin && e.seq === watch.seq && (e.routed === true) === (watch.kind === Kind.Routed)) seen.push(address);
  };
  const b0 = performance.now();
  const g = build(o.seed, o.n, o.limit, inspect, onEvent);
  const buildWallMs = performance.now() - b0;
  const peers = g.peers;
  const sim = g.sim;
  const payload = new Uint8Array(64).fill(0x62);
  // A game keeps playing: everyone broadcasts at 2 Hz throughout (routes follow broadcasts;
  // an origin quiet for 6 of its intervals loses its parents, redundancy.ts). 2 Hz, not a game's
  // 10, keeps N = 128 affordable on the simulator; a route only needs the origin not quiet.
  const play = (ms: number): void => {
    for (let t = 0; t < ms; t += PLAY_EVERY_MS) {
      for (const p of peers) if (p.alive && p.endpoint.phase === "member") p.with((peer, now) => peer.broadcast(now, payload));
      sim.runFor(PLAY_EVERY_MS);
    }
  };
  play(o.warmMs);
  const rng = new SeededRandom(o.seed ^ 0x70a7);
  const order = shuffle(rng, peers.map((_, i) => i));
  const result: RoutedCell = { n: o.n, limit: o.limit, settled: g.settled, routed: [], flooded: [], routedOk: 0, floodedOk: 0, routedFloods: 0, buildWallMs };
  const floods0 = peers.reduce((a, p) => a + p.endpoint.stats().routed.flooded, 0);
  for (let k = 0; k < o.pairs; k++) {
    const from = peers[order[(2 * k) % order.length] as number] as SimNode<Peer, unknown>;
    const to = peers[order[(2 * k + 1) % order.length] as number] as SimNode<Peer, unknown>;
    if (from === to) continue;
    for (const how of ["routed", "flooded"] as const) {
      seen.length = 0;
      count = 0;
      const seq = from.with((peer, now) => (how === "routed" ? peer.send(now, payload, { to: to.endpoint.id }) : peer.broadcast(now, payload, to.endpoint.id)));
      watch = { kind: how === "routed" ? Kind.Routed : Kind.Data, origin: from.endpoint.id, seq };
      play(PAIR_MS); // the longest path (about 6 hops of at most 90 ms) is delivered by then
      watch = null;
      const ok = seen.length === 1 && seen[0] === to.address;
      if (how === "routed") {
        result.routed.push(count);
        if (ok) result.routedOk++;
      } else {
        result.flooded.push(count);
        if (ok) result.floodedOk++;
      }
    }
  }
  result.routedFloods = peers.reduce((a, p) => a + p.endpoint.stats().routed.flooded, 0) - floods0;
  return result;
}
