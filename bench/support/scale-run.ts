/**
 * One cell of the scale group: N real Peers (connection limit L) and a real Lobby on the
 * simulator join until settled, then a sample of origins broadcast one payload each. Every
 * Data transmit is counted through the simulator's inspect hook and every delivery through
 * its event hook, per (origin, seq), so each broadcast gets its own figures.
 */
import type { PeerEvent } from "../../lib/peer/events.ts";
import { SeededRandom, shuffle } from "../../lib/rng.ts";
import { Kind, newRelayHeader, readRelay } from "../../wire/index.ts";
import { buildGrid } from "./grid-builder.ts";

export interface BroadcastFigures {
  deliveryPct: number;
  meanHops: number;
  /** Hops of the copy delivered last (in virtual time; the longest hop count breaks ties). */
  ldh: number;
  rmr: number;
  /** Data bytes sent by all peers for this broadcast / N. */
  meanUploadBytes: number;
  /** The most Data bytes one peer sent for this broadcast. */
  maxUploadBytes: number;
  datagramBytes: number;
  duplicateDeliveries: number;
}

export interface ScaleCell {
  n: number;
  limit: number;
  settled: boolean;
  settleVirtualMs: number;
  buildWallMs: number;
  /** This process's CPU time (user + system) over the build: steadier than wall time on a shared machine. */
  buildCpuMs: number;
  broadcastWallMs: number;
  heapBytesPerPeer: number;
  meanLinks: number;
  atLimitPct: number;
  broadcasts: BroadcastFigures[];
}

interface Tally {
  msgs: number;
  bytes: number;
  size: number;
  bySender: Map<string, number>;
  delivered: number;
  dup: Set<string>;
  duplicates: number;
  hopSum: number;
  lastAt: number;
  lastHops: number;
}

const key = (origin: number, seq: number): number => origin * 0x100000000 + seq;

export function runScaleCell(
  n: number,
  limit: number,
  opts: { seed: number; broadcasts: number; payloadBytes: number; gc: () => void; wallDeadline: number; batchSize?: number },
): ScaleCell {
  const tallies = new Map<number, Tally>();
  const header = newRelayHeader();
  const inspect = (_now: number, from: string, _to: string, bytes: Uint8Array): void => {
    if (bytes[0] !== 0x99 || bytes[2] !== Kind.Data || readRelay(bytes, header) !== null) return;
    const t = tallies.get(key(header.origin, header.seq));
    if (t === undefined) return;
    t.msgs++;
    t.bytes += bytes.length;
    t.size = bytes.length;
    t.bySender.set(from, (t.bySender.get(from) ?? 0) + bytes.length);
  };
  const onEvent = (address: string, e: PeerEvent, now: number): void => {
    if (e.type !== "data") return;
    const t = tallies.get(key(e.origin, e.seq));
    if (t === undefined) return;
    if (t.dup.has(address)) t.duplicates++;
    t.dup.add(address);
    t.delivered++;
    const hops = e.hops + 1; // e.hops counts relays; a direct neighbour got it in one hop
    t.hopSum += hops;
    if (now > t.lastAt || (now === t.lastAt && hops > t.lastHops)) {
      t.lastAt = now;
      t.lastHops = hops;
    }
  };
  opts.gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const g = buildGrid({
    seed: opts.seed,
    peers: n,
    connectionLimit: limit,
    link: { latencyMs: 10, jitterMs: 10 },
    inspect,
    onEvent,
    maxSettleMs: 120_000,
    batchSize: opts.batchSize,
    wallDeadline: opts.wallDeadline,
  });
  const buildWallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const buildCpuMs = (cpu.user + cpu.system) / 1000;
  opts.gc();
  const heapBytesPerPeer = (process.memoryUsage().heapUsed - heap0) / n;
  let links = 0;
  let atLimit = 0;
  for (const p of g.peers) {
    links += p.endpoint.linkPeers.length;
    if (p.endpoint.linkPeers.length === limit) atLimit++;
  }

  const t1 = performance.now();
  const rng = new SeededRandom(opts.seed ^ 0xb0a5);
  const origins = shuffle(rng, [...g.peers]).slice(0, Math.min(opts.broadcasts, n));
  const payload = new Uint8Array(opts.payloadBytes).fill(0x5a);
  for (const o of origins) {
    const seq = o.with((p, now) => {
      // Register the tally before the first transmit leaves: the seq is the next one.
      const t: Tally = { msgs: 0, bytes: 0, size: 0, bySender: new Map(), delivered: 0, dup: new Set(), duplicates: 0, hopSum: 0, lastAt: -1, lastHops: 0 };
      tallies.set(key(p.id, p.stats().broadcasts + 1), t);
      return p.broadcast(now, payload);
    });
    if (!tallies.has(key(o.endpoint.id, seq))) throw new Error("scale: broadcast seq is not the next one");
    g.sim.runFor(5);
  }
  // Until every broadcast reached every other member, or 3 s (far beyond the last hop at
  // these latencies): 3 s of a 10,000-peer grid pinging is most of the broadcast phase's time.
  const done = (): boolean => [...tallies.values()].every((t) => t.delivered >= n - 1);
  for (let waited = 0; waited < 3000 && !done(); waited += 50) g.sim.runFor(50);
  g.sim.runFor(100); // late duplicates would show up here
  const broadcastWallMs = (performance.now() - t1) / origins.length;

  const broadcasts: BroadcastFigures[] = [...tallies.values()].map((t) => ({
    deliveryPct: (t.delivered / (n - 1)) * 100,
    meanHops: t.delivered === 0 ? 0 : t.hopSum / t.delivered,
    ldh: t.lastHops,
    rmr: t.msgs / (n - 1) - 1,
    meanUploadBytes: t.bytes / n,
    maxUploadBytes: Math.max(0, ...t.bySender.values()),
    datagramBytes: t.size,
    duplicateDeliveries: t.duplicates,
  }));
  return {
    n,
    limit,
    settled: g.settled,
    settleVirtualMs: g.settleVirtualMs,
    buildWallMs,
    buildCpuMs,
    broadcastWallMs,
    heapBytesPerPeer,
    meanLinks: links / n,
    atLimitPct: (atLimit / n) * 100,
    broadcasts,
  };
}
