/**
 * The grid registry (claims 25, 35, 24): grids by id and by name, and each grid's members
 * with the address, connection limit and session they were admitted with. Pure bookkeeping:
 * timers, replies and events are the Lobby's job.
 */
import type { Address } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { LinkGraph } from "./graph.ts";
import type { Deadline } from "./timers.ts";

const MAX_U32 = 0xffffffff;

export interface Member extends Deadline {
  readonly grid: number;
  readonly id: number;
  /** The source address of the datagram that admitted it: where Probes and hints go, what others connect to. */
  addr: Address;
  /** The session that holds it. */
  session: number;
  /** Its connection limit (claim 9; updated by selecting the grid again, claim 10). */
  limit: number;
  lastHeardMs: number;
}

export interface Grid extends Deadline {
  readonly id: number;
  readonly name: string;
  /** Most members admitted at once (<= maxMembersPerGrid). */
  readonly capacity: number;
  /** The creator's suggested connection limit, shown in GridList. */
  readonly limit: number;
  /** Free-form game metadata, shown in GridList. */
  readonly meta: string;
  readonly members: Map<number, Member>;
  /** address -> member id: one member per address in a grid. */
  readonly byAddr: Map<Address, number>;
  readonly graph: LinkGraph;
  /** The next peer id to try; never below a restored id + 1. */
  nextPeerId: number;
  /** When the graph was first seen split at an island check, or undefined while whole. */
  splitSinceMs: number | undefined;
  /** The component count last reported in an islandsDetected event (0: none reported). */
  islandsReported: number;
}

export class GridRegistry {
  private readonly byId = new Map<number, Grid>();
  private readonly byName = new Map<string, Grid>();

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Grid | undefined {
    return this.byId.get(id);
  }

  findByName(name: string): Grid | undefined {
    return this.byName.get(name);
  }

  /** Grids in creation order. */
  values(): IterableIterator<Grid> {
    return this.byId.values();
  }

  /** A random nonzero grid id not in use. Random, not counted, so ids from before a restart are unlikely to be reissued. */
  newGridId(random: Random): number {
    // 31 bits: ids below 2^31 stay small integers in V8, so the relay path's decode allocates nothing.
    let id = random.nextU32() >>> 1;
    while (id === 0 || this.byId.has(id)) id = random.nextU32() >>> 1;
    return id;
  }

  create(id: number, name: string, capacity: number, limit: number, meta: string): Grid {
    const grid: Grid = {
      id,
      name,
      capacity,
      limit,
      meta,
      members: new Map(),
      byAddr: new Map(),
      graph: new LinkGraph(),
      nextPeerId: 1,
      splitSinceMs: undefined,
      islandsReported: 0,
      deadlineMs: 0,
      heapIndex: -1,
    };
    this.byId.set(id, grid);
    this.byName.set(name, grid);
    return grid;
  }

  remove(grid: Grid): void {
    this.byId.delete(grid.id);
    if (this.byName.get(grid.name) === grid) this.byName.delete(grid.name);
  }

  /** Grids whose name contains `filter`, ignoring case ("" matches all), in creation order. */
  list(filter: string): Grid[] {
    const needle = filter.toLowerCase();
    const out: Grid[] = [];
    for (const g of this.byId.values()) if (needle === "" || g.name.toLowerCase().includes(needle)) out.push(g);
    return out;
  }
}

/** A peer id unused in `grid`: counting up from 1, past every restored id (probing from 1 if the count ran out). */
export function allocPeerId(grid: Grid): number {
  if (grid.nextPeerId <= MAX_U32 && !grid.members.has(grid.nextPeerId)) return grid.nextPeerId++;
  let id = 1;
  while (grid.members.has(id)) id++;
  return id;
}

/** Adds a member with a chosen id, keeping later allocations above it. */
export function addMember(grid: Grid, member: Member): void {
  grid.members.set(member.id, member);
  grid.byAddr.set(member.addr, member.id);
  grid.graph.addMember(member.id);
  if (member.id >= grid.nextPeerId) grid.nextPeerId = member.id + 1;
}

/** Removes a member and its reports; returns the ids whose pair with it changed. */
export function removeMember(grid: Grid, member: Member): number[] {
  grid.members.delete(member.id);
  if (grid.byAddr.get(member.addr) === member.id) grid.byAddr.delete(member.addr);
  return grid.graph.removeMember(member.id);
}

/** A member has a free link when it reports fewer links than its limit. */
export function hasFreeLink(grid: Grid, member: Member): boolean {
  return grid.graph.reported(member.id).size < member.limit;
}
