/**
 * The flood (issue 6, point 4: "one million random and mutated datagrams at a peer and at
 * the lobby (simulator) and shows memory flat and service to honest peers continuing").
 *
 * An honest grid runs on the simulator and keeps broadcasting while the flood is handed
 * straight to the two endpoints' handleDatagram (the simulator's queue would cost more than
 * the endpoints do): random bytes, bytes with a plausible header, and real datagrams
 * captured from the grid with one byte changed, truncated or spliced, from tens of
 * thousands of spoofed addresses, the lobby's address and members' addresses. Halfway, a
 * newcomer joins. Per-datagram work is one table lookup and one copy: the datagrams come
 * from a pre-built pool, changed in one byte each time.
 *
 * Not spoofed: the victim's links (invalid datagrams from a link close it as misbehaving,
 * test/peer-misbehaving.test.ts) and members' addresses at the lobby (they share the
 * member's per-source bucket by design, RFC 9000's address validation being the answer to
 * spoofing, not per-address fairness).
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import type { Address } from "../../../lib/endpoint.ts";
import { randomInt, SeededRandom } from "../../../lib/rng.ts";
import { Kind } from "../../../wire/index.ts";
import { broadcastFrom, captureRaw, notExactlyOnce } from "../peer-scenarios.ts";
import { LOBBY, SimGrid, type PeerNode } from "../sim-grid.ts";
import { lobbyTables, overCap, peerTables, type LobbyCaps, type Table } from "./bounds.ts";
import { mutate, type Mutation } from "./inputs.ts";
import {
  DEFAULT_MAX_GRIDS,
  DEFAULT_MAX_MEMBERS_PER_GRID,
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_MAX_QUEUED_TRANSMITS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_TRACKED_SOURCES,
} from "../../../lib/lobby/config.ts";

export interface FloodOptions {
  seed: number;
  /** Datagrams at the peer. */
  atPeer: number;
  /** Datagrams at the lobby. */
  atLobby: number;
  /** Datagrams between two steps of the simulated grid (each step is 20 ms and one honest broadcast). */
  chunk?: number;
}

export interface Checkpoint {
  readonly delivered: number;
  readonly heapBytes: number | undefined;
  readonly peer: readonly Table[];
  readonly lobby: readonly Table[];
}

export interface FloodReport {
  readonly ms: number;
  readonly datagrams: number;
  readonly peerDrops: Record<string, number>;
  readonly lobbyDrops: Record<string, number>;
  /** Flood datagrams the victim dropped (counted under some reason). */
  readonly peerDropped: number;
  readonly lobbyBooksBalance: boolean;
  readonly checkpoints: readonly Checkpoint[];
  /** Tables over their caps at any checkpoint. */
  readonly overCap: readonly string[];
  readonly honestBroadcasts: number;
  /** Members that did not get an honest broadcast exactly once. */
  readonly missed: readonly string[];
  readonly newcomerJoined: boolean;
  readonly virtualMs: number;
}

export const FLOOD_LOBBY_CAPS: LobbyCaps = {
  maxSessions: DEFAULT_MAX_SESSIONS,
  maxTrackedSources: DEFAULT_MAX_TRACKED_SOURCES,
  maxGrids: DEFAULT_MAX_GRIDS,
  maxMembersPerGrid: DEFAULT_MAX_MEMBERS_PER_GRID,
  maxQueuedTransmits: DEFAULT_MAX_QUEUED_TRANSMITS,
  maxQueuedEvents: DEFAULT_MAX_QUEUED_EVENTS,
};

let gc: (() => void) | undefined | null = null;
/** A forced collection when the runtime allows one (--expose-gc, or switched on here). */
export function forceGc(): boolean {
  if (gc === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === "function") gc = g;
    else {
      try {
        setFlagsFromString("--expose-gc");
        gc = runInNewContext("gc") as () => void;
      } catch {
        gc = undefined;
      }
    }
  }
  if (gc === undefined) return false;
  gc();
  return true;
}

const sumOf = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** A pool of hostile datagrams: random, header-shaped, and mutated captures. */
function buildPool(rng: SeededRandom, captured: readonly Uint8Array[], size: number): Uint8Array[] {
  const kinds = Object.values(Kind) as number[];
  const pool: Uint8Array[] = [];
  for (let i = 0; i < size; i++) {
    const roll = rng.next();
    let b: Uint8Array;
    if (roll < 0.3 || captured.length === 0) {
      b = new Uint8Array(rng.next() < 0.8 ? randomInt(rng, 64) : randomInt(rng, 1_200));
      for (let j = 0; j < b.length; j++) b[j] = rng.nextU32() & 0xff;
    } else if (roll < 0.45) {
      b = new Uint8Array(3 + randomInt(rng, 80));
      for (let j = 0; j < b.length; j++) b[j] = rng.nextU32() & 0xff;
      b[0] = 0x90 | randomInt(rng, 16);
      b[1] = 1;
      b[2] = kinds[randomInt(rng, kinds.length)] as number;
    } else {
      const base = captured[randomInt(rng, captured.length)] as Uint8Array;
      const muts: Mutation[] = [];
      const n = 1 + randomInt(rng, 2);
      for (let k = 0; k < n; k++) {
        const at = rng.nextU32() & 0x7ff;
        const r = rng.next();
        if (r < 0.5) muts.push({ op: "set", at, value: rng.nextU32() & 0xff });
        else if (r < 0.7) muts.push({ op: "flip", at, bit: randomInt(rng, 8) });
        else if (r < 0.85) muts.push({ op: "truncate", at });
        else muts.push({ op: "splice", other: rng.nextU32(), at, from: rng.nextU32() & 0x7ff });
      }
      b = mutate(base, muts, captured);
    }
    pool.push(b);
  }
  return pool;
}

function spoofedAddresses(rng: SeededRandom, n: number): Address[] {
  const out: Address[] = [];
  for (let i = 0; i < n; i++) out.push(`${11 + randomInt(rng, 200)}.${randomInt(rng, 256)}.${randomInt(rng, 256)}.${1 + randomInt(rng, 254)}:${1024 + randomInt(rng, 60_000)}`);
  return out;
}

export function runFlood(options: FloodOptions): FloodReport {
  const started = performance.now();
  const chunk = options.chunk ?? 1_000;
  const rng = new SeededRandom(options.seed);
  const g = new SimGrid({ seed: options.seed, peer: { connectionLimit: 3 } });
  g.keepEvents = false;
  const raw = captureRaw(g, () => true);
  for (let i = 0; i < 6; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(1_500);
  const warmup = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(500);
  g.taps.length = 0;
  const victim = g.at("peer-1");
  const lobby = g.lobby;
  const toPeer = buildPool(rng, raw.map((c) => c.bytes), 4_096);
  const toLobby = buildPool(rng, raw.filter((c) => c.to === LOBBY).map((c) => c.bytes), 4_096);
  raw.length = 0;
  const spoofed = spoofedAddresses(rng, 50_000);
  const sent = [...warmup];
  const checkpoints: Checkpoint[] = [];
  const over = new Set<string>();
  const peerDropsBefore = sumOf(victim.endpoint.stats().drops);
  const lobbyDropsBefore = { ...lobby.endpoint.stats().drops };
  let newcomer: PeerNode | undefined;
  const total = options.atPeer + options.atLobby;
  const checkEvery = Math.max(chunk, Math.floor(total / 10));

  const checkpoint = (delivered: number): void => {
    g.inspector.rotate();
    const heap = forceGc() ? process.memoryUsage().heapUsed : undefined;
    const peer = peerTables(victim);
    const lob = lobbyTables(lobby.endpoint, FLOOD_LOBBY_CAPS);
    for (const o of [...overCap(peer).map((x) => `peer ${x}`), ...overCap(lob).map((x) => `lobby ${x}`)]) over.add(o);
    checkpoints.push({ delivered, heapBytes: heap, peer, lobby: lob });
  };

  let done = 0;
  let peerLeft = options.atPeer;
  let lobbyLeft = options.atLobby;
  let turn = 0;
  checkpoint(0);
  while (peerLeft > 0 || lobbyLeft > 0) {
    const now = g.sim.now;
    const p = victim.endpoint;
    const l = lobby.endpoint;
    const members = g.live().filter((x) => x !== victim && !p.linkPeers.includes(x.endpoint.id));
    for (let i = 0; i < chunk && (peerLeft > 0 || lobbyLeft > 0); i++) {
      const r = rng.nextU32();
      const toThePeer = lobbyLeft === 0 || (peerLeft > 0 && (r & 1) === 0);
      const pool = toThePeer ? toPeer : toLobby;
      const bytes = (pool[(r >>> 1) % pool.length] as Uint8Array).slice();
      if (bytes.length > 0 && (r & 0x100) !== 0) bytes[(r >>> 9) % bytes.length] = r >>> 24;
      const pick = (r >>> 20) & 0x3f;
      if (toThePeer) {
        // Mostly spoofed strangers; some from the lobby's address and from unlinked members.
        const from = pick < 3 ? LOBBY : pick < 6 && members.length > 0 ? (members[pick % members.length] as PeerNode).address : (spoofed[rng.nextU32() % spoofed.length] as Address);
        p.handleDatagram(now, from, bytes);
        peerLeft--;
      } else {
        l.handleDatagram(now, spoofed[rng.nextU32() % spoofed.length] as Address, bytes);
        lobbyLeft--;
      }
      done++;
    }
    victim.poke();
    lobby.poke();
    // The honest grid goes on: 20 ms of virtual time and one broadcast per chunk.
    const live = g.live();
    sent.push(broadcastFrom(live[turn++ % live.length] as PeerNode));
    g.sim.runFor(20);
    if (newcomer === undefined && done >= total / 2) newcomer = g.addPeer();
    if (Math.floor(done / checkEvery) !== Math.floor((done - chunk) / checkEvery)) checkpoint(done);
  }
  // After the flood: everyone (the newcomer too) broadcasts once more.
  g.sim.runFor(2_000);
  const newcomerJoined = newcomer !== undefined && newcomer.endpoint.phase === "member" && newcomer.endpoint.linkPeers.length > 0;
  const after = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  checkpoint(done);
  const members = g.live().filter((p) => p !== newcomer);
  const missed = [...notExactlyOnce(g, sent, members), ...notExactlyOnce(g, after)];
  const ls = lobby.endpoint.stats();
  const peerDrops = victim.endpoint.stats().drops;
  const lobbyDrops: Record<string, number> = {};
  for (const [k, v] of Object.entries(ls.drops)) if (v - (lobbyDropsBefore[k] ?? 0) > 0) lobbyDrops[k] = v - (lobbyDropsBefore[k] ?? 0);
  return {
    ms: performance.now() - started,
    datagrams: done,
    peerDrops,
    lobbyDrops,
    peerDropped: sumOf(peerDrops) - peerDropsBefore,
    lobbyBooksBalance: ls.datagramsIn === ls.accepted + sumOf(ls.drops),
    checkpoints,
    overCap: [...over],
    honestBroadcasts: sent.length + after.length,
    missed,
    newcomerJoined,
    virtualMs: g.sim.now,
  };
}

/** Heap growth from the first checkpoint after the flood started to the last, when measured. */
export function heapGrowthBytes(r: FloodReport): number | undefined {
  const measured = r.checkpoints.filter((c) => c.heapBytes !== undefined && c.delivered > 0);
  const first = measured[0]?.heapBytes;
  const last = measured[measured.length - 1]?.heapBytes;
  return first === undefined || last === undefined ? undefined : last - first;
}

export function formatFlood(r: FloodReport): string {
  const mb = (b: number | undefined): string => (b === undefined ? "n/a" : `${(b / 1048576).toFixed(1)} MiB`);
  const last = r.checkpoints[r.checkpoints.length - 1];
  return [
    `flood: ${r.datagrams} datagrams in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.datagrams / (r.ms / 1000))}/s), ${r.virtualMs} ms virtual`,
    `heap after gc: ${r.checkpoints.map((c) => mb(c.heapBytes)).join(" ")} (growth ${mb(heapGrowthBytes(r))})`,
    `peer tables at the end: ${(last?.peer ?? []).map((t) => `${t.name} ${t.size}/${t.cap}`).join(", ")}`,
    `lobby footprint at the end: ${(last?.lobby ?? []).map((t) => `${t.name} ${t.size}/${t.cap}`).join(", ")}`,
    `peer drops (${r.peerDropped} during the flood): ${JSON.stringify(r.peerDrops)}`,
    `lobby drops: ${JSON.stringify(r.lobbyDrops)}; books balance: ${r.lobbyBooksBalance}`,
    `over cap: ${r.overCap.length === 0 ? "none" : r.overCap.join(", ")}`,
    `honest broadcasts: ${r.honestBroadcasts}, not exactly once: ${r.missed.length}; newcomer joined: ${r.newcomerJoined}`,
  ].join("\n");
}
