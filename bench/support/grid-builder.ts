/**
 * Builds a grid of real Peers and a real Lobby on the simulated network, for the relay-core
 * and scale groups. Unlike test/support/sim-grid.ts it checks "settled" every `checkEveryMs`
 * of virtual time rather than before every step (an O(N) predicate per step is what makes a
 * 1,000-peer settle slow), creates the grid with room for every peer, and lets the caller
 * count relay traffic through one inspect hook.
 *
 * Security: every Peer and the Lobby get a node:crypto provider with seeded randomness
 * (support/keys.ts seededCrypto), derived from the seed each already draws, so the draws from
 * the simulator's seed stream are the same as before and one seed still gives one grid. The
 * default would be pure-JS NobleCrypto over the endpoint's own Random: correct, but about 10x
 * slower per handshake, and it would consume the Random the endpoint's choices use.
 * `peer.crypto` / `lobby.crypto` in the options override it.
 */
import { Lobby } from "../../lib/lobby/lobby.ts";
import type { LobbyConfig } from "../../lib/lobby/config.ts";
import { Peer } from "../../lib/peer/peer.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { SimNetwork, type InspectFn, type LinkModel, type LinkOptions, type SimNode } from "../../platform/memory/index.ts";
import { seededCrypto } from "./keys.ts";

export const LOBBY_ADDRESS = "lobby";
export const GRID_NAME = "bench";

export interface BuildOptions {
  seed: number;
  peers: number;
  connectionLimit: number;
  /** Peers started per batch, and virtual ms between batches (players arrive over time). */
  batchSize?: number;
  batchGapMs?: number;
  link?: Partial<LinkOptions>;
  /** Per-pair link options over `link` (platform/memory LinkModel), in force from the first datagram. */
  linkModel?: LinkModel;
  peer?: Omit<PeerConfig, "random" | "lobby" | "connectionLimit">;
  lobby?: Omit<LobbyConfig, "random">;
  inspect?: InspectFn;
  onEvent?: (address: string, event: PeerEvent, now: number) => void;
  /** Virtual time allowed for settling after the last batch. */
  maxSettleMs?: number;
  checkEveryMs?: number;
  /** performance.now() after which building gives up with a GridBudgetError. */
  wallDeadline?: number;
}

/** The build ran past its wall-clock budget. */
export class GridBudgetError extends Error {
  constructor(readonly peersAdded: number, readonly virtualMs: number) {
    super(`grid build stopped at its wall-clock budget (${peersAdded} peers added, ${virtualMs} virtual ms)`);
  }
}

export interface BuiltGrid {
  sim: SimNetwork<unknown>;
  lobby: SimNode<Lobby, unknown>;
  /**
   * What the lobby was built with, its crypto and identity included: a restart with this
   * (and fresh randomness) is the same lobby, as an operator would restart it.
   */
  lobbyConfig: Omit<LobbyConfig, "random">;
  peers: SimNode<Peer, unknown>[];
  /** Virtual ms from the first join to settled. */
  settleVirtualMs: number;
  settled: boolean;
}

/** Lobby limits raised so a grid of `peers` members fits (LobbyConfig options, not code changes). */
export function lobbyFor(peers: number): Omit<LobbyConfig, "random"> {
  const room = Math.min(0xffff, peers + 16);
  return {
    maxMembersPerGrid: room,
    maxSessions: Math.max(4096, peers + 16),
    maxTrackedSources: Math.max(8192, peers + 16),
    maxQueuedTransmits: Math.max(8192, peers * 4),
  };
}

export function buildGrid(o: BuildOptions): BuiltGrid {
  const sim = new SimNetwork<unknown>({
    seed: o.seed,
    link: o.link,
    eventLogLimit: 0,
    // Nothing here reads the trace hash or the per-link counters (10,000 peers: 80,000 link rows).
    traceHash: false,
    linkStats: false,
    inspect: o.inspect,
    onEvent: o.onEvent === undefined ? undefined : (a, e, now) => o.onEvent?.(a, e as PeerEvent, now),
  });
  if (o.linkModel !== undefined) sim.setLinkModel(o.linkModel);
  const lobbySeed = sim.nextSeed();
  const crypto = o.lobby?.crypto ?? seededCrypto(cryptoSeed(lobbySeed));
  // The identity the Lobby would draw from `crypto` itself, drawn here so a restart can reuse it.
  const identity = o.lobby?.identity ?? crypto.ed25519KeyPair();
  const lobbyConfig = { ...lobbyFor(o.peers), ...o.lobby, crypto, identity };
  const lobby = sim.add(LOBBY_ADDRESS, new Lobby({ ...lobbyConfig, random: new SeededRandom(lobbySeed) }));
  const peers: SimNode<Peer, unknown>[] = [];
  const add = (i: number, create: boolean): void => {
    const seed = sim.nextSeed();
    const peer = new Peer({
      crypto: seededCrypto(cryptoSeed(seed)),
      ...o.peer,
      connectionLimit: o.connectionLimit,
      lobby: LOBBY_ADDRESS,
      random: new SeededRandom(seed),
    });
    const node = sim.add(`p${i}`, peer);
    node.with((p, now) => p.join(now, { grid: GRID_NAME, create, capacity: Math.min(0xffff, o.peers + 16) }));
    peers.push(node);
  };
  // The first peer creates the grid; everyone else joins it by name.
  add(0, true);
  sim.runUntil(() => peers[0]?.endpoint.phase === "member", { maxTimeMs: 10_000 });
  const start = sim.now;
  const batch = o.batchSize ?? 50;
  const gap = o.batchGapMs ?? 100;
  const wallDeadline = o.wallDeadline ?? Infinity;
  const overBudget = (): void => {
    if (performance.now() > wallDeadline) throw new GridBudgetError(peers.length, sim.now);
  };
  for (let i = 1; i < o.peers; ) {
    for (const end = Math.min(o.peers, i + batch); i < end; i++) add(i, false);
    sim.runFor(gap);
    overBudget();
  }
  const every = o.checkEveryMs ?? 250;
  const deadline = sim.now + (o.maxSettleMs ?? 60_000);
  let lastLinks = -1;
  let stableChecks = 0;
  let settled = false;
  while (sim.now < deadline) {
    sim.runFor(every);
    overBudget();
    const links = totalLinks(peers);
    stableChecks = links === lastLinks ? stableChecks + 1 : 0;
    lastLinks = links;
    // Settled: everyone is a member, the link count stopped moving for a second, one component.
    if (stableChecks * every >= 1000 && peers.every((p) => p.endpoint.phase === "member") && components(peers) === 1) {
      settled = true;
      break;
    }
  }
  return { sim, lobby, lobbyConfig, peers, settleVirtualMs: sim.now - start, settled };
}

/** The crypto provider's seed, apart from the endpoint's Random seed (same source, other stream). */
function cryptoSeed(seed: number): number {
  return (Math.imul(seed ^ 0x5eed_c0de, 0x9e3779b1) >>> 0) || 1;
}

export function totalLinks(peers: readonly SimNode<Peer, unknown>[]): number {
  let n = 0;
  for (const p of peers) n += p.endpoint.linkPeers.length;
  return n;
}

/** Connected components of the members' link graph (an edge counts when either end holds it). */
export function components(peers: readonly SimNode<Peer, unknown>[]): number {
  const index = new Map<number, number>();
  peers.forEach((p, i) => index.set(p.endpoint.id, i));
  const parent = peers.map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x] as number] as number;
    return x;
  };
  peers.forEach((p, i) => {
    for (const other of p.endpoint.linkPeers) {
      const j = index.get(other);
      if (j !== undefined) parent[find(i)] = find(j);
    }
  });
  let roots = 0;
  for (let i = 0; i < parent.length; i++) if (find(i) === i) roots++;
  return roots;
}
