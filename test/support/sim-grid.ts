/**
 * A lobby and a crowd of real Peers on the simulated network, for grid-level tests:
 * every transmit goes through the relay-rule inspector (and any taps a test adds), and
 * deliveries are tallied per (peer, origin, seq) so a test can assert "every member got
 * it exactly once". An exception the lobby swallows (its `internalError` event) fails the run.
 */
import type { Address } from "../../lib/endpoint.ts";
import { Lobby } from "../../lib/lobby/lobby.ts";
import type { LobbyConfig } from "../../lib/lobby/config.ts";
import { insiderOf } from "../../lib/peer/insider.ts";
import { Peer, type JoinOptions } from "../../lib/peer/peer.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { SimNetwork, type InspectFn, type SimNode } from "../../platform/memory/index.ts";
import type { LinkOptions } from "../../platform/memory/index.ts";
import { failOnInternalError } from "./internal-errors.ts";
import { RelayInspector } from "./relay-inspector.ts";
import { SeededNodeCrypto } from "./seeded-node-crypto.ts";

/**
 * Real cryptography, fast (node:crypto) and seeded, so one seed still gives one run:
 * every handshake, ticket and tag in a grid test is the production code path.
 */
export function seededCrypto(seed: number): SeededNodeCrypto {
  return new SeededNodeCrypto(seed);
}

export const LOBBY = "lobby";

export type PeerNode = SimNode<Peer, unknown>;
export type PeerListener = (address: Address, event: PeerEvent, now: number) => void;

export interface GridOptions {
  seed: number;
  link?: Partial<LinkOptions>;
  lobby?: Omit<LobbyConfig, "random">;
  peer?: Omit<PeerConfig, "random" | "lobby">;
  /** Check the relay rules on every transmit. Defaults to true. */
  inspect?: boolean;
  /** The lobby's address. Defaults to LOBBY ("lobby"); NAT tests put it on an IP address. */
  lobbyAddress?: string;
}

export class SimGrid {
  readonly sim: SimNetwork<unknown>;
  readonly lobby: SimNode<Lobby, unknown>;
  readonly peers: PeerNode[] = [];
  readonly inspector = new RelayInspector();
  /** address -> "origin:seq" -> times delivered */
  readonly deliveries = new Map<string, Map<string, number>>();
  readonly events: { address: string; event: PeerEvent; now: number }[] = [];
  /** Called with every transmit (after the relay inspector), e.g. to capture or count datagrams. */
  readonly taps: InspectFn[] = [];
  /** Called with every peer event as it is drained; may issue commands, must not step the network. */
  readonly listeners: PeerListener[] = [];
  keepEvents = true;
  readonly lobbyAddress: string;
  private n = 0;
  private readonly byAddr = new Map<Address, PeerNode>();

  constructor(readonly options: GridOptions) {
    const checkRelay = options.inspect !== false;
    this.sim = new SimNetwork<unknown>({
      seed: options.seed,
      link: options.link,
      eventLogLimit: 0,
      inspect: (now, from, to, bytes, landsAt) => {
        // Relay rules are between nodes: behind a NAT, `to` is a mapping of the node it lands at.
        if (checkRelay && landsAt !== undefined) this.inspector.inspect(now, from, landsAt, bytes);
        for (const t of this.taps) t(now, from, to, bytes, landsAt);
      },
      onEvent: (address, event, now) => this.onEvent(address, event as PeerEvent, now),
    });
    this.lobbyAddress = options.lobbyAddress ?? LOBBY;
    this.lobby = this.sim.add(this.lobbyAddress, new Lobby({ ...options.lobby, random: new SeededRandom(this.sim.nextSeed()), crypto: seededCrypto(this.sim.nextSeed()) }));
  }

  private onEvent(address: string, e: PeerEvent, now: number): void {
    if (address === this.lobbyAddress) {
      // Fails the run (with its seed). Peers do not swallow exceptions: a throw already fails
      // a simulated run in the simulator's driver.
      failOnInternalError(e);
      return;
    }
    if (e.type === "data") {
      let m = this.deliveries.get(address);
      if (m === undefined) this.deliveries.set(address, (m = new Map()));
      const k = `${e.origin}:${e.seq}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    } else if (e.type === "admitted") {
      this.inspector.addressOf.set(e.peer, address);
    }
    if (this.keepEvents && e.type !== "data") this.events.push({ address, event: e, now });
    for (const l of this.listeners) l(address, e, now);
  }

  /** Adds a peer and starts its join (create: true by default, so the first one creates the grid). */
  addPeer(overrides: Omit<PeerConfig, "random" | "lobby"> = {}, grid = "arena", create = true): PeerNode {
    return this.addPeerWith(overrides, { grid, create });
  }

  /** Adds a peer and starts its join with these options (a join token, say). */
  addPeerWith(overrides: Omit<PeerConfig, "random" | "lobby">, join: JoinOptions): PeerNode {
    const address = `peer-${++this.n}`;
    // As relaygrid/node fills them in: the peer's own socket address (it is on no NAT).
    return this.addPeerJoining(address, { localAddresses: [address], ...overrides }, join);
  }

  /** addPeer at a given address, optionally behind a simulated NAT router (platform/memory/nat.ts). */
  addPeerAt(address: Address, overrides: Omit<PeerConfig, "random" | "lobby"> = {}, grid = "arena", create = true, behind?: string, role?: "player" | "spectator"): PeerNode {
    return this.addPeerJoining(address, overrides, role === undefined ? { grid, create } : { grid, create, role }, behind);
  }

  private addPeerJoining(address: Address, overrides: Omit<PeerConfig, "random" | "lobby">, join: JoinOptions, behind?: string): PeerNode {
    const node = this.sim.add(
      address,
      new Peer({
        ...this.options.peer,
        ...overrides,
        lobby: this.lobbyAddress,
        random: new SeededRandom(this.sim.nextSeed()),
        crypto: seededCrypto(this.sim.nextSeed()),
      }),
      behind === undefined ? {} : { behind },
    );
    if (this.options.inspect !== false) {
      // Claim 15 is about where a peer got the data from: the inspector sees every arrival the
      // peer took. One it dropped (a forged copy with a bad tag, say) is not where it got the
      // data from: counting it flagged an honest relay later (fuzz peer seed 1869970042).
      const peer = node.endpoint;
      const handle = peer.handleDatagram.bind(peer);
      const insider = insiderOf(peer);
      peer.handleDatagram = (now, from, bytes) => {
        const before = insider.accepted;
        handle(now, from, bytes);
        if (insider.accepted > before) this.inspector.arrived(from, address, bytes);
      };
    }
    this.peers.push(node);
    this.byAddr.set(address, node);
    node.with((p, now) => p.join(now, join));
    return node;
  }

  /** The peer node at `address` (throws for an unknown one: a test bug). */
  at(address: Address): PeerNode {
    const p = this.byAddr.get(address);
    if (p === undefined) throw new Error(`no peer at ${address}`);
    return p;
  }

  /** The peer node whose grid id is `id` (throws for an unknown one). */
  byId(id: number): PeerNode {
    const p = this.peers.find((x) => x.endpoint.id === id);
    if (p === undefined) throw new Error(`no peer with id ${id}`);
    return p;
  }

  live(): PeerNode[] {
    return this.peers.filter((p) => p.alive && p.endpoint.phase === "member");
  }

  /** The grid's id (every peer here joins the same grid). */
  get gridId(): number {
    const p = this.peers.find((x) => x.endpoint.grid !== 0);
    if (p === undefined) throw new Error("no peer has a grid yet");
    return p.endpoint.grid;
  }

  /** Peer id -> linked peer ids, over live members. */
  graph(): Map<number, readonly number[]> {
    const g = new Map<number, readonly number[]>();
    for (const p of this.live()) g.set(p.endpoint.id, p.endpoint.linkPeers);
    return g;
  }

  /** Connected components of the live members' link graph (links counted when either end has them). */
  components(): number[][] {
    const g = this.graph();
    const adj = new Map<number, Set<number>>();
    for (const id of g.keys()) adj.set(id, new Set());
    for (const [id, ls] of g) for (const o of ls) if (adj.has(o)) { adj.get(id)?.add(o); adj.get(o)?.add(id); }
    const seen = new Set<number>();
    const out: number[][] = [];
    for (const start of adj.keys()) {
      if (seen.has(start)) continue;
      const comp: number[] = [];
      const stack = [start];
      seen.add(start);
      while (stack.length > 0) {
        const v = stack.pop() as number;
        comp.push(v);
        for (const w of adj.get(v) ?? []) if (!seen.has(w)) { seen.add(w); stack.push(w); }
      }
      out.push(comp);
    }
    return out;
  }

  allJoined(): boolean {
    return this.peers.every((p) => !p.alive || p.endpoint.phase === "member");
  }

  /** Every live member has at least `minLinks` links and the members form one component. */
  isSettled(minLinks = 2): boolean {
    return this.allJoined() && this.live().every((p) => p.endpoint.linkPeers.length >= minLinks) && this.components().length === 1;
  }

  /**
   * Runs until isSettled(minLinks), checking every `checkEveryMs` of virtual time (checking
   * before every step costs O(peers) per datagram). Returns the virtual time it took.
   */
  settle(minLinks = 2, maxTimeMs = 60_000, checkEveryMs = 20): number {
    return this.runUntil(() => this.isSettled(minLinks), maxTimeMs, checkEveryMs);
  }

  /** Runs in steps of `checkEveryMs` until `predicate()`; throws (with the seed) after `maxTimeMs`. Returns the time taken. */
  runUntil(predicate: () => boolean, maxTimeMs: number, checkEveryMs = 20): number {
    const start = this.sim.now;
    while (!predicate()) {
      if (this.sim.now - start >= maxTimeMs) {
        throw new Error(`seed ${this.options.seed}: condition still false after ${maxTimeMs} ms (at ${this.sim.now} ms)`);
      }
      this.sim.runFor(checkEveryMs);
    }
    return this.sim.now - start;
  }

  /** The lobby's confirmed graph of the grid (member -> neighbours, ascending). */
  lobbyGraph(): Map<number, number[]> {
    return this.lobby.endpoint.graphOf(this.gridId) ?? new Map();
  }

  /** Live members whose links differ from what the lobby's confirmed graph says (claims 44, 51). */
  lobbyDisagreements(): string[] {
    const lg = this.lobbyGraph();
    const out: string[] = [];
    const ids = new Set<number>();
    for (const p of this.live()) {
      ids.add(p.endpoint.id);
      const mine = [...p.endpoint.linkPeers].sort((a, b) => a - b).join(",");
      const lobby = (lg.get(p.endpoint.id) ?? []).join(",");
      if (mine !== lobby) out.push(`${p.endpoint.id}: peer [${mine}] lobby [${lobby}]`);
    }
    for (const id of lg.keys()) if (!ids.has(id)) out.push(`${id}: in the lobby's graph but not a live member`);
    return out;
  }

  /** How many times `address` got (origin, seq). */
  delivered(address: string, origin: number, seq: number): number {
    return this.deliveries.get(address)?.get(`${origin}:${seq}`) ?? 0;
  }
}
