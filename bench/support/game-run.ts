/**
 * One grid of "the cost of a game" (groups/game.ts) on the simulator: N real Peers (limit L,
 * redundancy "flood" or "prune") and a real Lobby on Internet-like links: every pair of
 * members has its own one-way latency, 20-80 ms (a hash of the pair: the same in every run
 * and in both modes), plus 0-10 ms of jitter per datagram; the lobby is 30 ms from everyone.
 * Every member broadcasts `payloadBytes` at `rateHz`, each at its own phase.
 *
 * Per loss level (on every link, the lobby's too), in order on the same grid: `warmMs` of
 * broadcasting that is not measured (the first level's warm-up holds every origin's first,
 * flooded, message and the Prunes it causes), `windowMs` measured, `coolMs` more of it not
 * measured (so the window's last messages have successors, as in a running game: a lost one
 * shows as a gap), then `drainMs` without broadcasts so copies in flight and repairs land.
 * Measured per window:
 *   - delivery % = deliveries of the window's broadcasts / (broadcasts x (N - 1)), counted
 *     after the drain; duplicates = a (broadcast, member) delivered twice (must be 0);
 *   - datagrams per delivery = datagrams the members received during the window (every kind:
 *     data, repairs, prunes, grafts, requests, pings, the lobby's) / deliveries during it;
 *   - upload and download per member, bytes/s (everything each member sent / received during
 *     the window), mean over members and the busiest member;
 *   - latency broadcast -> delivery (virtual ms) of the window's broadcasts, p50 and p99
 *     (0.1 ms histogram bins); last-delivery hops: the hop count of each broadcast's last
 *     delivery, median over broadcasts.
 */
import type { PeerEvent } from "../../lib/peer/events.ts";
import type { Peer } from "../../lib/peer/peer.ts";
import type { Redundancy } from "../../lib/peer/config.ts";
import { SeededRandom, shuffle } from "../../lib/rng.ts";
import type { SimNode } from "../../platform/memory/index.ts";
import { Kind } from "../../wire/index.ts";
import { buildGrid, LOBBY_ADDRESS } from "./grid-builder.ts";

export const LATENCY_MIN_MS = 20;
export const LATENCY_MAX_MS = 80;
export const JITTER_MS = 10;
const LOBBY_LATENCY_MS = 30;

/** The one-way latency of the pair a-b (symmetric): 20-80 ms, uniform over pairs, from a hash. */
export function pairLatencyMs(a: string, b: string): number {
  const s = a < b ? `${a}|${b}` : `${b}|${a}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  const u = (h >>> 0) / 0x100000000;
  return Math.round((LATENCY_MIN_MS + u * (LATENCY_MAX_MS - LATENCY_MIN_MS)) * 10) / 10;
}

const linkModel = (from: string, to: string): { latencyMs: number } | undefined =>
  from === LOBBY_ADDRESS || to === LOBBY_ADDRESS ? undefined : { latencyMs: pairLatencyMs(from, to) };

export interface GameOptions {
  n: number;
  limit: number;
  mode: Redundancy;
  seed: number;
  /** Members that broadcast (a seeded choice; all by default). */
  broadcasters?: number;
  rateHz: number;
  payloadBytes: number;
  losses: readonly number[];
  warmMs: number;
  windowMs: number;
  /** Broadcasting after the window, not measured (the window's last messages get successors). */
  coolMs: number;
  drainMs: number;
  /** Debugging: sees every transmit, and every (broadcast, member) left undelivered after a window. */
  tap?: (now: number, from: string, to: string, bytes: Uint8Array) => void;
  onMiss?: (origin: number, seq: number, sentAt: number, member: SimNode<Peer, unknown>) => void;
}

export interface GameWindow {
  lossPct: number;
  broadcasts: number;
  deliveryPct: number;
  duplicates: number;
  datagramsPerDelivery: number;
  /** Data / Repair / Prune+Graft / RepairRequest / everything else sent during the window, per delivery. */
  kindsPerDelivery: { data: number; repair: number; pruneGraft: number; request: number; other: number };
  upMeanBps: number;
  upMaxBps: number;
  downMeanBps: number;
  downMaxBps: number;
  p50Ms: number;
  p99Ms: number;
  ldh: number;
  repaired: number;
  abandoned: number;
  datagramBytes: number;
  /** Sums over the members of their repair and redundancy counters, over the window and its drain. */
  counters: Record<string, number>;
}

export interface GameCell {
  n: number;
  limit: number;
  mode: Redundancy;
  settled: boolean;
  meanLinks: number;
  /** The members' links, sorted "a-b" pairs (flood and prune grids of one seed must match). */
  linkSet: string;
  buildWallMs: number;
  runWallMs: number;
  /** Datagrams received per delivery over the first warm-up (first messages flood, then prune). */
  warmupDatagramsPerDelivery: number;
  windows: GameWindow[];
}

interface Msg {
  at: number;
  got: Uint8Array;
  lastAt: number;
  lastHops: number;
}

const BIN_MS = 0.1;
const BINS = 100_000; // 10 s

class Histogram {
  readonly counts = new Float64Array(BINS + 1);
  total = 0;
  add(ms: number): void {
    const b = Math.min(BINS, Math.max(0, Math.floor(ms / BIN_MS)));
    this.counts[b] = (this.counts[b] as number) + 1;
    this.total++;
  }
  percentile(p: number): number {
    const want = (p / 100) * this.total;
    let acc = 0;
    for (let i = 0; i <= BINS; i++) {
      acc += this.counts[i] as number;
      if (acc >= want && acc > 0) return (i + 0.5) * BIN_MS;
    }
    return NaN;
  }
}

const key = (origin: number, seq: number): number => origin * 0x100000000 + seq;

export function runGameCell(o: GameOptions): GameCell {
  const msgs = new Map<number, Msg>();
  const index = new Map<string, number>();
  let hist = new Histogram();
  let tracking = false;
  let duplicates = 0;
  const kinds = { data: 0, repair: 0, pruneGraft: 0, request: 0, other: 0 };
  let counting = false;
  let datagramBytes = 0;
  const inspect = (now: number, from: string, to: string, bytes: Uint8Array): void => {
    o.tap?.(now, from, to, bytes);
    if (!counting) return;
    const k = bytes[2];
    if (k === Kind.Data) {
      kinds.data++;
      datagramBytes = bytes.length;
    } else if (k === Kind.Repair) kinds.repair++;
    else if (k === Kind.Prune || k === Kind.Graft) kinds.pruneGraft++;
    else if (k === Kind.RepairRequest) kinds.request++;
    else kinds.other++;
  };
  const onEvent = (address: string, e: PeerEvent, now: number): void => {
    if (!tracking || e.type !== "data") return;
    const m = msgs.get(key(e.origin, e.seq));
    const i = index.get(address);
    if (m === undefined || i === undefined) return;
    if ((m.got[i] as number) > 0) duplicates++;
    m.got[i] = (m.got[i] as number) + 1;
    hist.add(now - m.at);
    if (now >= m.lastAt) {
      m.lastAt = now;
      m.lastHops = e.hops + 1;
    }
  };
  const b0 = performance.now();
  const g = buildGrid({
    seed: o.seed,
    peers: o.n,
    connectionLimit: o.limit,
    link: { latencyMs: LOBBY_LATENCY_MS, jitterMs: JITTER_MS },
    linkModel,
    peer: { redundancy: o.mode, repair: o.mode === "prune" },
    inspect,
    onEvent,
    maxSettleMs: 120_000,
  });
  g.sim.runFor(2000); // connection updates in flight reach the lobby
  const buildWallMs = performance.now() - b0;
  const peers = g.peers;
  peers.forEach((p, i) => index.set(p.address, i));
  const links = new Set<string>();
  let linkCount = 0;
  for (const p of peers) {
    for (const q of p.endpoint.linkPeers) {
      const a = Math.min(p.endpoint.id, q);
      const b = Math.max(p.endpoint.id, q);
      links.add(`${a}-${b}`);
      linkCount++;
    }
  }
  const rng = new SeededRandom(o.seed ^ 0x9a3e);
  const tickMs = 10;
  const period = Math.max(1, Math.round(1000 / o.rateHz / tickMs));
  const slot = peers.map(() => Math.floor(rng.next() * period));
  const sends = new Uint8Array(peers.length);
  for (const i of shuffle(rng, peers.map((_, i) => i)).slice(0, o.broadcasters ?? peers.length)) sends[i] = 1;
  const payload = new Uint8Array(o.payloadBytes).fill(0x61);
  const r0 = performance.now();
  let tick = 0;
  const sim = g.sim;
  const broadcastFor = (ms: number, record: boolean): number => {
    let sent = 0;
    for (let t = 0; t < ms; t += tickMs, tick++) {
      const phase = tick % period;
      for (let i = 0; i < peers.length; i++) {
        if (slot[i] !== phase || sends[i] === 0) continue;
        const p = peers[i] as SimNode<Peer, unknown>;
        if (!p.alive || p.endpoint.phase !== "member") continue;
        const at = sim.now;
        const seq = p.with((peer, now) => peer.broadcast(now, payload));
        if (record) {
          msgs.set(key(p.endpoint.id, seq), { at, got: new Uint8Array(peers.length), lastAt: -1, lastHops: 0 });
          sent++;
        }
      }
      sim.runFor(tickMs);
    }
    return sent;
  };
  const snap = (): { dIn: number[]; bIn: number[]; bOut: number[]; delivered: number; repaired: number; abandoned: number; counters: Record<string, number> } => {
    const dIn: number[] = [];
    const bIn: number[] = [];
    const bOut: number[] = [];
    let delivered = 0;
    let repaired = 0;
    let abandoned = 0;
    const counters: Record<string, number> = {};
    for (const p of peers) {
      const s = p.endpoint.stats();
      dIn.push(s.datagramsIn);
      bIn.push(s.bytesIn);
      bOut.push(s.bytesOut);
      delivered += s.delivered;
      repaired += s.repair.repaired;
      abandoned += s.repair.abandoned;
      for (const [k, v] of Object.entries({ ...s.repair, ...s.redundancy, duplicates: s.duplicates })) counters[k] = (counters[k] ?? 0) + v;
    }
    return { dIn, bIn, bOut, delivered, repaired, abandoned, counters };
  };
  const windows: GameWindow[] = [];
  let warmupDatagramsPerDelivery = NaN;
  for (const loss of o.losses) {
    sim.setDefaultLink({ latencyMs: LOBBY_LATENCY_MS, jitterMs: JITTER_MS, lossPercent: loss });
    const w0 = snap();
    broadcastFor(o.warmMs, false);
    if (windows.length === 0) {
      const w1 = snap();
      const dIn = w1.dIn.reduce((a, x, i) => a + x - (w0.dIn[i] as number), 0);
      warmupDatagramsPerDelivery = dIn / Math.max(1, w1.delivered - w0.delivered);
    }
    msgs.clear();
    hist = new Histogram();
    duplicates = 0;
    for (const k of Object.keys(kinds) as (keyof typeof kinds)[]) kinds[k] = 0;
    tracking = true;
    counting = true;
    const s0 = snap();
    const broadcasts = broadcastFor(o.windowMs, true);
    const s1 = snap();
    counting = false;
    // Broadcasting goes on (not measured), so the window's last messages have successors as in
    // a running game; then the drain.
    broadcastFor(o.coolMs, false);
    sim.runFor(o.drainMs);
    tracking = false;
    const s2 = snap();
    const secs = o.windowMs / 1000;
    const deliveredInWindow = s1.delivered - s0.delivered;
    const up = s1.bOut.map((x, i) => (x - (s0.bOut[i] as number)) / secs);
    const down = s1.bIn.map((x, i) => (x - (s0.bIn[i] as number)) / secs);
    const dIn = s1.dIn.reduce((a, x, i) => a + x - (s0.dIn[i] as number), 0);
    let got = 0;
    const ldhs: number[] = [];
    for (const [k, m] of msgs) {
      for (let i = 0; i < m.got.length; i++) {
        if ((m.got[i] as number) > 0) got++;
        else if (o.onMiss !== undefined && (peers[i] as SimNode<Peer, unknown>).endpoint.id !== Math.floor(k / 0x100000000)) o.onMiss(Math.floor(k / 0x100000000), k % 0x100000000, m.at, peers[i] as SimNode<Peer, unknown>);
      }
      if (m.lastAt >= 0) ldhs.push(m.lastHops);
    }
    ldhs.sort((a, b) => a - b);
    const per = (x: number): number => x / Math.max(1, deliveredInWindow);
    windows.push({
      lossPct: loss,
      broadcasts,
      deliveryPct: (100 * got) / Math.max(1, broadcasts * (peers.length - 1)),
      duplicates,
      datagramsPerDelivery: per(dIn),
      kindsPerDelivery: { data: per(kinds.data), repair: per(kinds.repair), pruneGraft: per(kinds.pruneGraft), request: per(kinds.request), other: per(kinds.other) },
      upMeanBps: up.reduce((a, x) => a + x, 0) / up.length,
      upMaxBps: Math.max(...up),
      downMeanBps: down.reduce((a, x) => a + x, 0) / down.length,
      downMaxBps: Math.max(...down),
      p50Ms: hist.percentile(50),
      p99Ms: hist.percentile(99),
      ldh: ldhs.length === 0 ? NaN : (ldhs[ldhs.length >> 1] as number),
      repaired: s2.repaired - s0.repaired,
      abandoned: s2.abandoned - s0.abandoned,
      datagramBytes,
      counters: Object.fromEntries(Object.entries(s2.counters).map(([k, v]) => [k, v - (s0.counters[k] ?? 0)])),
    });
  }
  return {
    n: o.n,
    limit: o.limit,
    mode: o.mode,
    settled: g.settled,
    meanLinks: linkCount / peers.length,
    linkSet: [...links].sort().join(","),
    buildWallMs,
    runWallMs: performance.now() - r0,
    warmupDatagramsPerDelivery,
    windows,
  };
}
