/**
 * The Lobby's getters (STYLE.md 2: getters never change state): stats(), and read-only views
 * of the registry and graph for tests, the CLI and operators.
 */
import type { Address } from "../endpoint.ts";
import type { LobbyCore } from "./core.ts";
import { latestEpoch } from "./key-rotation.ts";
import { nextTimer } from "./maintenance.ts";
import type { LobbyStats } from "./stats.ts";
import type { LobbyTimer } from "./timers.ts";
import { gridTopology, type GridTopology } from "./topology.ts";

export interface GridSummary {
  grid: number;
  name: string;
  capacity: number;
  limit: number;
  meta: string;
  members: number;
  /** Confirmed links. */
  links: number;
  /** Components of the confirmed graph (0 for a grid without members). */
  components: number;
}

export interface MemberSummary {
  peer: number;
  addr: Address;
  limit: number;
  /** Confirmed links. */
  links: number;
  /** The ids it reports being linked to, ascending (confirmed or not). */
  reported: number[];
  lastHeardMs: number;
  /** Who the admission policy said it is ("" without one). */
  player: string;
}

/** Sizes of every table that input can grow: each is bounded by a config limit. */
export interface LobbyFootprint {
  sessions: number;
  sources: number;
  grids: number;
  peers: number;
  pendingEdges: number;
  probes: number;
  timers: number;
  queuedTransmits: number;
  queuedEvents: number;
}

export class LobbyView {
  constructor(protected readonly core: LobbyCore) {}

  /** The lobby's Ed25519 identity public key (a copy): what peers pin to trust Welcomes and tickets. */
  get publicKey(): Uint8Array {
    return this.core.identity.publicKey.slice();
  }

  /** A grid's key epochs: `epoch` to send under, `latest` issued (next during a rotation); undefined for an unknown grid. */
  keyEpochsOf(gridId: number): { epoch: number; latest: number } | undefined {
    const g = this.core.registry.get(gridId);
    return g === undefined ? undefined : { epoch: g.keys.active.epoch, latest: latestEpoch(g.keys) };
  }

  stats(): LobbyStats {
    const core = this.core;
    const c = core.counters;
    let peers = 0;
    let links = 0;
    let islands = 0;
    let components = 0;
    for (const g of core.registry.values()) {
      peers += g.members.size;
      links += g.graph.edgeCount;
      if (g.members.size === 0) continue;
      const n = g.graph.components().length;
      components += n;
      if (n > 1) islands++;
    }
    return {
      grids: core.registry.size,
      peers,
      sessions: core.sessions.size,
      links,
      islands,
      components,
      datagramsIn: c.datagramsIn,
      bytesIn: c.bytesIn,
      datagramsOut: c.datagramsOut,
      bytesOut: c.bytesOut,
      accepted: c.accepted,
      drops: { ...c.drops },
      errorsSent: { ...c.errorsSent },
      probesSent: c.probesSent,
      hintsSent: c.hintsSent,
      statusesSent: c.statusesSent,
      notAdmitted: c.notAdmitted,
      retriesSent: c.retriesSent,
      handshakes: c.handshakes,
      keyRotations: c.keyRotations,
      transmitsDropped: c.transmitsDropped,
      eventsDropped: c.eventsDropped,
      registrations: c.registrations,
      introductions: c.introductions,
      introductionsRefused: { ...c.introductionsRefused },
      punchesOk: c.punchesOk,
      punchesFailed: c.punchesFailed,
      isolated: c.isolated,
      isolations: c.isolations,
    };
  }

  /** Every grid, in creation order. */
  grids(): GridSummary[] {
    return [...this.core.registry.values()].map((g) => ({
      grid: g.id,
      name: g.name,
      capacity: g.capacity,
      limit: g.limit,
      meta: g.meta,
      members: g.members.size,
      links: g.graph.edgeCount,
      components: g.members.size === 0 ? 0 : g.graph.components().length,
    }));
  }

  /** A grid's members by ascending id, or undefined for an unknown grid. */
  membersOf(gridId: number): MemberSummary[] | undefined {
    const g = this.core.registry.get(gridId);
    if (g === undefined) return undefined;
    return [...g.members.values()]
      .map((m) => ({
        peer: m.id,
        addr: m.addr,
        limit: m.limit,
        links: g.graph.degree(m.id),
        reported: [...g.graph.reported(m.id)].sort((a, b) => a - b),
        lastHeardMs: m.lastHeardMs,
        player: m.player,
      }))
      .sort((a, b) => a.peer - b.peer);
  }

  /** The confirmed graph as adjacency lists (member -> confirmed neighbours, ascending), or undefined. */
  graphOf(gridId: number): Map<number, number[]> | undefined {
    const g = this.core.registry.get(gridId);
    if (g === undefined) return undefined;
    const ids = [...g.members.keys()].sort((a, b) => a - b);
    return new Map(ids.map((id) => [id, g.graph.neighbours(id)]));
  }

  /** Components of the confirmed graph, largest first, each ascending; or undefined. */
  componentsOf(gridId: number): number[][] | undefined {
    const g = this.core.registry.get(gridId);
    return g === undefined ? undefined : g.graph.components().map((c) => [...c]);
  }

  /**
   * A grid's members, confirmed and one-sided links and components in one read, for
   * dashboards (topology.ts); members cut to the `maxMembers` lowest ids. Undefined for an unknown grid.
   */
  topologyOf(gridId: number, maxMembers = Number.POSITIVE_INFINITY): GridTopology | undefined {
    const g = this.core.registry.get(gridId);
    return g === undefined ? undefined : gridTopology(g, maxMembers);
  }

  /** The earliest timer and its name (pollTimeout() is its atMs). */
  nextTimer(): { name: LobbyTimer; atMs: number } | undefined {
    return nextTimer(this.core);
  }

  footprint(): LobbyFootprint {
    const core = this.core;
    let peers = 0;
    for (const g of core.registry.values()) peers += g.members.size;
    return {
      sessions: core.sessions.size,
      sources: core.handshakes.size,
      grids: core.registry.size,
      peers,
      pendingEdges: core.pending.size,
      probes: core.probes.size,
      timers: core.expiry.size + core.pending.heap.size + core.emptyGrids.size + core.rotations.size,
      queuedTransmits: core.transmits.length,
      queuedEvents: core.events.length,
    };
  }
}
