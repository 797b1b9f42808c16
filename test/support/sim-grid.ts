/**
 * A lobby and a crowd of real Peers on the simulated network, for grid-level tests:
 * every transmit goes through the relay-rule inspector, and deliveries are tallied per
 * (peer, origin, seq) so a test can assert "every member got it exactly once".
 */
import { Lobby } from "../../lib/lobby/lobby.ts";
import type { LobbyConfig } from "../../lib/lobby/config.ts";
import { Peer } from "../../lib/peer/peer.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { SimNetwork, type SimNode } from "../../platform/memory/index.ts";
import type { LinkOptions } from "../../platform/memory/index.ts";
import { RelayInspector } from "./relay-inspector.ts";

export const LOBBY = "lobby";

export interface GridOptions {
  seed: number;
  link?: Partial<LinkOptions>;
  lobby?: Omit<LobbyConfig, "random">;
  peer?: Omit<PeerConfig, "random" | "lobby">;
  inspect?: boolean;
}

export class SimGrid {
  readonly sim: SimNetwork<unknown>;
  readonly lobby: SimNode<Lobby, unknown>;
  readonly peers: SimNode<Peer, unknown>[] = [];
  readonly inspector = new RelayInspector();
  /** address -> "origin:seq" -> times delivered */
  readonly deliveries = new Map<string, Map<string, number>>();
  readonly events: { address: string; event: PeerEvent; now: number }[] = [];
  keepEvents = true;
  private n = 0;

  constructor(readonly options: GridOptions) {
    this.sim = new SimNetwork<unknown>({
      seed: options.seed,
      link: options.link,
      eventLogLimit: 0,
      inspect: options.inspect === false ? undefined : this.inspector.inspect,
      onEvent: (address, event, now) => this.onEvent(address, event as PeerEvent, now),
    });
    this.lobby = this.sim.add(LOBBY, new Lobby({ ...options.lobby, random: new SeededRandom(this.sim.nextSeed()) }));
  }

  private onEvent(address: string, e: PeerEvent, now: number): void {
    if (address === LOBBY) return;
    if (e.type === "data") {
      let m = this.deliveries.get(address);
      if (m === undefined) this.deliveries.set(address, (m = new Map()));
      const k = `${e.origin}:${e.seq}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    } else if (e.type === "admitted") {
      this.inspector.addressOf.set(e.peer, address);
    }
    if (this.keepEvents && e.type !== "data") this.events.push({ address, event: e, now });
  }

  /** Adds a peer and starts its join (create: true, so the first one creates the grid). */
  addPeer(overrides: Omit<PeerConfig, "random" | "lobby"> = {}, grid = "arena"): SimNode<Peer, unknown> {
    const address = `peer-${++this.n}`;
    const node = this.sim.add(
      address,
      new Peer({ ...this.options.peer, ...overrides, lobby: LOBBY, random: new SeededRandom(this.sim.nextSeed()) }),
    );
    node.with((p, now) => p.join(now, { grid, create: true }));
    this.peers.push(node);
    return node;
  }

  live(): SimNode<Peer, unknown>[] {
    return this.peers.filter((p) => p.alive && p.endpoint.phase === "member");
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

  /** Runs until every peer is a member with at least `minLinks` links and the grid is one component. */
  settle(minLinks = 2, maxTimeMs = 60_000): void {
    this.sim.runUntil(
      () => this.allJoined() && this.live().every((p) => p.endpoint.linkPeers.length >= minLinks) && this.components().length === 1,
      { maxTimeMs },
    );
  }

  /** How many times `address` got (origin, seq). */
  delivered(address: string, origin: number, seq: number): number {
    return this.deliveries.get(address)?.get(`${origin}:${seq}`) ?? 0;
  }
}
