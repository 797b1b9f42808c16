/**
 * One cell of the fault matrix: one row (a fault) on one seed.
 *
 * A grid of real Peers and a real Lobby is built on the simulator (bench/support/grid-builder.ts)
 * until settled. Then every peer broadcasts at rateHz, each at its own offset in the period, for
 * preMs; the fault is applied; it lasts faultMs; broadcasting goes on postMs after it ended; then
 * nothing is sent for drainMs so the copies in flight land. Every delivery is tallied per
 * (broadcast, receiver) through the simulator's event hook, so a second delivery of the same
 * broadcast to the same peer is seen, and the grid's health is sampled every sampleMs.
 *
 * Definitions (the same in every row):
 * - live for the whole window: a peer that was alive and a grid member at every sample from the
 *   first broadcast to the end of the drain (crash victims are not);
 * - delivery % = deliveries to those peers / (broadcasts x those peers other than the origin),
 *   over every broadcast sent by any member, including a victim's before it crashed;
 * - healthy = the live members' links (links to crashed peers do not count) form one component
 *   and every live member has >= 2 of them; for the lobby restart also: the lobby lists every
 *   live member of the grid again; while a partition stands, links across it do not count and
 *   healthy means each half is one component (after the lift: one component again);
 * - repaired = healthy, and no live member still holds a link to a crashed peer (it noticed
 *   every dead link and closed it);
 * - time to heal (repair) = from the end of the fault (the instant of a crash, the lift of a
 *   partition or a link condition, the restart of the lobby) to the first healthy (repaired)
 *   sample; 0 when it already was at that instant; searched up to HEAL_SEARCH_MS past it;
 * - pre = broadcasts sent up to edgeMs before the fault; during = from then until repaired
 *   (those sent in the last edgeMs before the fault were still spreading when it hit);
 *   after = from repaired to the end of the window;
 * - redundant copies per broadcast = Data datagrams that reached a peer which already had that
 *   broadcast (the duplicate filter's drops: Peer stats duplicates + stale), summed over all
 *   peers, / broadcasts; over the whole window, and from the fault until repaired (counted by
 *   arrival time, which trails the send by at most a few hundred ms).
 */
import type { Lobby } from "../../lib/lobby/lobby.ts";
import type { Peer } from "../../lib/peer/peer.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import { SeededRandom, shuffle } from "../../lib/rng.ts";
import type { SimNode } from "../../platform/memory/index.ts";
import { Lobby as LobbyClass } from "../../lib/lobby/lobby.ts";
import { buildGrid, LOBBY_ADDRESS, type BuiltGrid } from "./grid-builder.ts";
import { redundancyOptions, type FaultRow, type FaultSettings } from "./fault-rows.ts";

export interface PhaseDelivery {
  /** Deliveries to whole-window-live peers. */
  delivered: number;
  /** broadcasts x whole-window-live receivers (origin excluded). */
  expected: number;
  broadcasts: number;
}

export interface FaultRunResult {
  row: string;
  seed: number;
  /** Peers live for the whole window (the receivers counted). */
  livePeers: number;
  broadcasts: number;
  all: PhaseDelivery;
  pre: PhaseDelivery;
  during: PhaseDelivery;
  after: PhaseDelivery;
  /** Partition only: deliveries during the cut to receivers on the origin's side. */
  sameSide?: PhaseDelivery;
  /** Virtual ms from the end of the fault to healthy; null when not healthy within healSearchMs. */
  healMs: number | null;
  /** Virtual ms from the end of the fault to healthy with no live member holding a link to a crashed peer; null when not within healSearchMs. */
  repairMs: number | null;
  /** Samples from the fault's start to its end in which the grid was healthy, % (link conditions, partition). */
  healthyDuringFaultPct: number | null;
  /** A (broadcast, peer) delivered more than once: must be 0. */
  duplicateDeliveries: number;
  /** Over the whole window. */
  redundantCopies: number;
  /** From the fault until repaired (NaN when no broadcast was sent in it). */
  redundantCopiesDuring: number;
  /** Links closed for missed pings during the window (all peers). */
  unresponsiveCloses: number;
  /** Datagrams the peers dropped during the window (including the drain), by reason. */
  drops: Record<string, number>;
  /** Mean links per peer when the fault started. */
  meanLinksAtFault: number;
  settled: boolean;
  settleVirtualMs: number;
  buildWallMs: number;
  runWallMs: number;
}

/** How far past the fault's end the heal search goes (virtual ms; no broadcasts after the window). */
export const HEAL_SEARCH_MS = 30_000;

interface Sent {
  origin: number; // peer index
  at: number; // virtual ms since the first broadcast
  got: Uint8Array; // per peer index: deliveries
}

const key = (origin: number, seq: number): number => origin * 0x100000000 + seq;

export function runFaultRow(row: FaultRow, seed: number, settings: FaultSettings): FaultRunResult {
  const shape = settings.grid;
  const t = settings.timing;
  const n = shape.peers;
  const sentByKey = new Map<number, Sent>();
  const sent: Sent[] = [];
  const index = new Map<string, number>(); // address -> peer index, filled once the grid is built
  let duplicateDeliveries = 0;
  let unresponsiveCloses = 0;
  let tracking = false;
  const onEvent = (address: string, e: PeerEvent): void => {
    if (!tracking) return;
    if (e.type === "linkClosed") {
      if (e.reason === "unresponsive") unresponsiveCloses++;
      return;
    }
    if (e.type !== "data") return;
    const s = sentByKey.get(key(e.origin, e.seq));
    const i = index.get(address);
    if (s === undefined || i === undefined) return;
    if (s.got[i] !== 0) duplicateDeliveries++;
    s.got[i] = (s.got[i] as number) + 1;
  };

  const b0 = performance.now();
  const g: BuiltGrid = buildGrid({
    seed,
    peers: n,
    connectionLimit: shape.connectionLimit,
    link: shape.link,
    peer: redundancyOptions(),
    onEvent,
    maxSettleMs: 60_000,
  });
  // Let the lobby's graph catch up with the settled grid (connection updates in flight).
  g.sim.runFor(2000);
  const buildWallMs = performance.now() - b0;
  const peers = g.peers;
  let lobby: SimNode<Lobby, unknown> = g.lobby;
  const idToIndex = new Map<number, number>();
  peers.forEach((p, i) => {
    idToIndex.set(p.endpoint.id, i);
    index.set(p.address, i);
  });
  const gridId = peers[0]?.endpoint.grid ?? 0;

  // The broadcast schedule: peer i broadcasts at ticks where tick % period === slot[i].
  const rng = new SeededRandom(seed ^ 0xfa017);
  const period = Math.round(1000 / shape.rateHz / shape.tickMs);
  const slot = peers.map(() => Math.floor(rng.next() * period));
  const payload = new Uint8Array(shape.payloadBytes).fill(0x47);

  // What the fault does, decided before the window so every row draws the same numbers before it.
  const order = shuffle(new SeededRandom(seed ^ 0xc2a5), peers.map((_, i) => i));
  const victims = row.kind.t === "crash" ? new Set(order.slice(0, Math.round(n * row.kind.fraction))) : new Set<number>();
  const side = new Uint8Array(n); // partition: 0 or 1
  if (row.kind.t === "partition") order.forEach((i, k) => (side[i] = k < n / 2 ? 0 : 1));

  let cut = false; // a partition is in effect
  const excluded = new Uint8Array(n);
  const live = new Uint8Array(n);
  const markLive = (): void => {
    for (let i = 0; i < n; i++) {
      const p = peers[i] as SimNode<Peer, unknown>;
      live[i] = p.alive && p.endpoint.phase === "member" ? 1 : 0;
      if (live[i] === 0) excluded[i] = 1;
    }
  };
  /**
   * 0: not healthy; 1: healthy as defined above; 2: healthy and repaired (no live member still
   * holds a link to a crashed peer: every dead link was noticed and dropped).
   */
  const health = (): 0 | 1 | 2 => {
    markLive();
    // Union-find over links between live members.
    const parent = new Int32Array(n);
    for (let i = 0; i < n; i++) parent[i] = i;
    const find = (x: number): number => {
      while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
      return x;
    };
    let liveCount = 0;
    let ok = true;
    let clean = true;
    for (let i = 0; i < n; i++) {
      if (live[i] === 0) continue;
      liveCount++;
      let links = 0;
      for (const id of (peers[i] as SimNode<Peer, unknown>).endpoint.linkPeers) {
        const j = idToIndex.get(id);
        if (j === undefined || live[j] === 0) {
          clean = false;
          continue;
        }
        if (cut && side[i] !== side[j]) continue; // held, but nothing crosses the cut
        links++;
        parent[find(i)] = find(j);
      }
      if (links < 2) ok = false;
    }
    let roots = 0;
    for (let i = 0; i < n; i++) if (live[i] === 1 && find(i) === i) roots++;
    // While a partition stands, healthy means each half is whole on its own.
    if (!ok || roots !== (cut ? 2 : 1)) return 0;
    if (row.kind.t === "lobby-restart") {
      if (!lobby.alive) return 0;
      const members = lobby.endpoint.membersOf(gridId);
      if (members === undefined || members.length !== liveCount) return 0;
      for (const m of members) {
        const j = idToIndex.get(m.peer);
        if (j === undefined || live[j] === 0) return 0;
      }
    }
    return clean ? 2 : 1;
  };

  let links = 0;
  for (const p of peers) links += p.endpoint.linkPeers.length;
  /** Copies dropped by the duplicate filters of all peers so far (crashed ones keep their counts). */
  const redundantSoFar = (): number => {
    let sum = 0;
    for (const p of peers) {
      const st = p.endpoint.stats();
      sum += st.duplicates + st.stale;
    }
    return sum;
  };
  /** Datagrams the peers dropped so far, by reason (Peer stats drops), summed over all peers. */
  const dropsSoFar = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const p of peers) for (const [k, v] of Object.entries(p.endpoint.stats().drops)) m.set(k, (m.get(k) ?? 0) + v);
    return m;
  };
  const dropsBefore = dropsSoFar();
  const dupBefore = redundantSoFar();
  let dupAtFault = dupBefore;
  let dupAtRepair: number | undefined;

  const r0 = performance.now();
  const sim = g.sim;
  const faultStart = t.preMs;
  const faultEnd = faultStart + row.faultMs;
  const windowEnd = faultEnd + row.postMs;
  let healedAt: number | null = null; // virtual ms since start
  let repairedAt: number | null = null;
  const note = (at: number, h: 0 | 1 | 2): void => {
    if (healedAt === null && h > 0) healedAt = at;
    if (repairedAt === null && h === 2) {
      repairedAt = at;
      if (at <= windowEnd) dupAtRepair = redundantSoFar();
    }
  };
  let healthySamples = 0;
  let faultSamples = 0;
  let meanLinksAtFault = links / n;
  const sampleEvery = Math.round(shape.sampleMs / shape.tickMs);
  tracking = true;

  const applyFault = (): void => {
    let l = 0;
    for (const p of peers) if (p.alive) l += p.endpoint.linkPeers.length;
    meanLinksAtFault = l / n;
    const k = row.kind;
    if (k.t === "link") sim.setDefaultLink({ ...shape.link, ...k.link });
    else if (k.t === "crash") for (const i of victims) sim.crash((peers[i] as SimNode<Peer, unknown>).address);
    else if (k.t === "partition") {
      const a = peers.filter((_, i) => side[i] === 0).map((p) => p.address);
      const b = peers.filter((_, i) => side[i] === 1).map((p) => p.address);
      sim.partition(a, b);
      cut = true;
    } else sim.crash(LOBBY_ADDRESS);
  };
  const endFault = (): void => {
    const k = row.kind;
    if (k.t === "link") sim.setDefaultLink(shape.link);
    else if (k.t === "partition") {
      sim.heal();
      cut = false;
    }
    else if (k.t === "lobby-restart") {
      // A fresh Lobby at the same address with the configuration the first one was built with
      // (the same limits, crypto and long-term identity, as an operator restarting it would
      // pass), an empty state and its own randomness.
      lobby = sim.restart(LOBBY_ADDRESS, new LobbyClass({ ...g.lobbyConfig, random: new SeededRandom(sim.nextSeed()) }));
    }
  };

  for (let tick = 0; ; tick++) {
    const at = tick * shape.tickMs;
    if (at === faultStart) {
      dupAtFault = redundantSoFar();
      applyFault();
    }
    if (at === faultEnd) endFault();
    if (tick % sampleEvery === 0) {
      const h = health();
      if (at >= faultStart && at < faultEnd) {
        faultSamples++;
        if (h > 0) healthySamples++;
      }
      if (at >= faultEnd) note(at, h);
    }
    if (at >= windowEnd) break;
    const phaseSlot = tick % period;
    for (let i = 0; i < n; i++) {
      if (slot[i] !== phaseSlot) continue;
      const p = peers[i] as SimNode<Peer, unknown>;
      if (!p.alive || p.endpoint.phase !== "member") continue;
      const seq = p.with((peer, now) => peer.broadcast(now, payload));
      const s: Sent = { origin: i, at, got: new Uint8Array(n) };
      sentByKey.set(key(p.endpoint.id, seq), s);
      sent.push(s);
    }
    sim.runFor(shape.tickMs);
  }
  // Drain: no broadcasts; the heal search goes on if needed (sampled the same way).
  for (let at = windowEnd + shape.sampleMs; at <= windowEnd + t.drainMs; at += shape.sampleMs) {
    sim.runFor(shape.sampleMs);
    note(at, health());
  }
  tracking = false;
  for (let at = windowEnd + t.drainMs + shape.sampleMs; repairedAt === null && at - faultEnd <= HEAL_SEARCH_MS; at += shape.sampleMs) {
    sim.runFor(shape.sampleMs);
    note(at, health());
  }
  const runWallMs = performance.now() - r0;

  // Receivers: peers live at every sample of the window.
  const receivers: number[] = [];
  for (let i = 0; i < n; i++) if (excluded[i] === 0 && !victims.has(i)) receivers.push(i);
  // During: from edgeMs before the fault (those broadcasts were still spreading) until repaired.
  const duringFrom = faultStart - t.edgeMs;
  const duringTo = repairedAt ?? windowEnd;
  const phase = (): PhaseDelivery => ({ delivered: 0, expected: 0, broadcasts: 0 });
  const all = phase();
  const pre = phase();
  const during = phase();
  const after = phase();
  const sameSide = row.kind.t === "partition" ? phase() : undefined;
  for (const s of sent) {
    let got = 0;
    let expected = 0;
    let sideGot = 0;
    let sideExpected = 0;
    for (const i of receivers) {
      if (i === s.origin) continue;
      expected++;
      const d = (s.got[i] as number) > 0 ? 1 : 0;
      got += d;
      if (side[i] === side[s.origin]) {
        sideExpected++;
        sideGot += d;
      }
    }
    const ph = s.at < duringFrom ? pre : s.at < duringTo ? during : after;
    for (const x of [all, ph]) {
      x.delivered += got;
      x.expected += expected;
      x.broadcasts++;
    }
    if (sameSide !== undefined && s.at >= faultStart && s.at + t.edgeMs < faultEnd) {
      sameSide.delivered += sideGot;
      sameSide.expected += sideExpected;
      sameSide.broadcasts++;
    }
  }
  const dupAfter = redundantSoFar();
  const drops: Record<string, number> = {};
  for (const [k, v] of dropsSoFar()) if (v - (dropsBefore.get(k) ?? 0) > 0) drops[k] = v - (dropsBefore.get(k) ?? 0);
  // During the fault: copies counted from the fault to repaired (arrivals, which trail their
  // sends by at most a few hundred ms), per broadcast sent from the fault to repaired.
  let sentDuring = 0;
  for (const s of sent) if (s.at >= faultStart && s.at < duringTo) sentDuring++;
  const redundantDuring = sentDuring === 0 ? NaN : ((dupAtRepair ?? dupAfter) - dupAtFault) / sentDuring;
  return {
    row: row.id,
    seed,
    livePeers: receivers.length,
    broadcasts: sent.length,
    all,
    pre,
    during,
    after,
    ...(sameSide === undefined ? {} : { sameSide }),
    healMs: healedAt === null ? null : healedAt - faultEnd,
    repairMs: repairedAt === null ? null : repairedAt - faultEnd,
    healthyDuringFaultPct: faultSamples === 0 ? null : (healthySamples / faultSamples) * 100,
    duplicateDeliveries,
    redundantCopies: sent.length === 0 ? 0 : (dupAfter - dupBefore) / sent.length,
    redundantCopiesDuring: redundantDuring,
    unresponsiveCloses,
    drops,
    meanLinksAtFault,
    settled: g.settled,
    settleVirtualMs: g.settleVirtualMs,
    buildWallMs,
    runWallMs,
  };
}

export const pct = (d: PhaseDelivery): number => (d.expected === 0 ? NaN : (d.delivered / d.expected) * 100);
