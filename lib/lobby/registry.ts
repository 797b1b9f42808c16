/**
 * The grid registry (claims 25, 35, 24): grids by id and by name, and each grid's members
 * with the address, connection limit and session they were admitted with. Pure bookkeeping:
 * timers, replies and events are the Lobby's job.
 */
import type { Address } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { IdPool } from "../util/id-pool.ts";
import { LinkGraph } from "./graph.ts";
import { HostCounts, hostOf } from "./hosts.ts";
import type { GridKeys } from "./key-rotation.ts";
import type { Deadline } from "./timers.ts";
import { isSpectator, PLAYER_ID_MAX, SPECTATOR_ID_MAX, SPECTATOR_ID_MIN } from "../relay/spectators.ts";

export interface Member extends Deadline {
  readonly grid: number;
  readonly id: number;
  /** The source address of the datagram that admitted it: where Probes and hints go, what others connect to, what its ticket names. */
  readonly addr: Address;
  /** The session that holds it. */
  session: number;
  /** Its connection limit (claim 9; updated by selecting the grid again, claim 10). */
  limit: number;
  lastHeardMs: number;
  /** When it was admitted: the oldest members anchor island repair (islands.ts); a newcomer until it first stands in the main component (standing.ts). */
  readonly admittedMs: number;
  /** Its admission ticket, signed once per grid key epoch (Ed25519 signing is the costly step). */
  ticket: { readonly epoch: number; readonly bytes: Uint8Array } | undefined;
  /** Who the admission policy said it is ("" without a policy, or when it named nobody): one member per player and grid. */
  readonly player: string;
  /** What the last GridStatus told it: nothing yet, in the main component, or on an island. */
  standing: "none" | "main" | "island";
  /** The component size that GridStatus gave. */
  standingComponent: number;
  /** Heartbeats at which that GridStatus is sent again (a notice may be lost). */
  standingRepeats: number;
  /** In the main component at the last review (standing.ts): the member sample prefers these. */
  main: boolean;
  /** NAT traversal (nat.ts), all unset for a member that never sent Register. */
  nat: MemberNat;
}

/** What a member told the lobby for NAT traversal, and the lobby's budgets and flags for it. */
export interface MemberNat {
  /** When it was admitted (restored: when restored), or last seen with a confirmed link at an island check: isolation counts from here. */
  sinceMs: number;
  /** Its Ed25519 link key (Register), bound into its version 2 ticket. */
  linkKey: Uint8Array | undefined;
  /** Its local socket addresses (Register), passed only to members behind the same public address. */
  locals: readonly string[];
  /** Its version 2 ticket, signed once per epoch. */
  linkTicket: { readonly epoch: number; readonly bytes: Uint8Array } | undefined;
  /** Introductions it may still ask for, and receive (token buckets, refilled per second). */
  askTokens: number;
  receiveTokens: number;
  tokensAtMs: number;
  /** Its last few Introduce requests, answered again unchanged when retransmitted. */
  recent: { readonly req: number; readonly replies: readonly Uint8Array[] }[];
  /** Counted as isolated (no confirmed link for isolatedAfterMs in a grid with others) and not linked since. */
  isolated: boolean;
  /** Its PunchReports: how many ended with a proof, how many failed (a member that leaves with only failures gave up). */
  punchesOk: number;
  punchesFailed: number;
}

/**
 * The member ids by ascending id and where each Members part starts (claim 24). Parts are
 * cut over every member, the selecting one included, and each joiner's own entry is left
 * out of its part, so one split serves every joiner; it is rebuilt only after the
 * membership changed (link counts are read when a part is sent, and never change an
 * entry's size: at most MAX_LINKS, a one-byte fixint).
 */
export interface Roster {
  readonly ids: readonly number[];
  /** partStarts[k] is the index of part k's first id; one more entry marks the end. */
  readonly partStarts: readonly number[];
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
  /** player -> member id: one member per player in a grid (admission.ts). */
  readonly byPlayer: Map<string, number>;
  /** Members per host (hosts.ts), for maxMembersPerGridPerHost. */
  readonly hosts: HostCounts;
  /** The host whose CreateGrid (or first Rejoin) made it: counted in maxGridsPerHost while it exists. */
  readonly creatorHost: string;
  readonly graph: LinkGraph;
  /** Every member id, for random picks (member-sample.ts). */
  readonly ids: IdPool;
  /** Members that may have a free link (a superset: full ones are dropped when drawn, member-sample.ts). */
  readonly free: IdPool;
  /** The next peer id to try; never below a restored id + 1. */
  nextPeerId: number;
  /** The same for spectators' ids (lib/relay/spectators.ts: the role is in the id). */
  nextSpectatorId: number;
  /** When the graph was first seen split at an island check, or undefined while whole. */
  splitSinceMs: number | undefined;
  /** The component count last reported in an islandsDetected event (0: none reported). */
  islandsReported: number;
  /** When island repair last asked the main component to drop a link (islands.ts caps it). */
  forcedRepairAtMs: number;
  /** The grid key epochs handed out in grants (issue 6, point 2). */
  readonly keys: GridKeys;
  /** The Members split, or undefined after a membership change until the next SelectGrid. */
  roster: Roster | undefined;
  /** graph.version at the last review of its components (standing.ts): unchanged, nothing to review. */
  reviewedVersion: number;
  /** When RepairHints last went out for it (spaced, so one repair is not asked for twice). */
  lastHintMs: number;
}

/** A member's NAT traversal state before it registers anything: full introduction budgets. */
export function newMemberNat(nowMs: number, burst: number): MemberNat {
  return {
    sinceMs: nowMs,
    linkKey: undefined,
    locals: [],
    linkTicket: undefined,
    askTokens: burst,
    receiveTokens: burst,
    tokensAtMs: nowMs,
    recent: [],
    isolated: false,
    punchesOk: 0,
    punchesFailed: 0,
  };
}

export class GridRegistry {
  private readonly byId = new Map<number, Grid>();
  private readonly byName = new Map<string, Grid>();
  private readonly byCreator = new HostCounts();

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

  /** Grids `host` created that still exist. */
  createdBy(host: string): number {
    return this.byCreator.get(host);
  }

  create(id: number, name: string, capacity: number, limit: number, meta: string, keys: GridKeys, creatorHost: string): Grid {
    const grid: Grid = {
      id,
      name,
      capacity,
      limit,
      meta,
      members: new Map(),
      byAddr: new Map(),
      byPlayer: new Map(),
      hosts: new HostCounts(),
      creatorHost,
      graph: new LinkGraph(),
      ids: new IdPool(),
      free: new IdPool(),
      nextPeerId: 1,
      nextSpectatorId: SPECTATOR_ID_MIN,
      splitSinceMs: undefined,
      islandsReported: 0,
      forcedRepairAtMs: -Infinity,
      keys,
      roster: undefined,
      reviewedVersion: -1,
      lastHintMs: -Infinity,
      deadlineMs: 0,
      heapIndex: -1,
    };
    this.byId.set(id, grid);
    this.byName.set(name, grid);
    this.byCreator.add(creatorHost, 1);
    return grid;
  }

  remove(grid: Grid): void {
    if (this.byId.get(grid.id) === grid) this.byCreator.add(grid.creatorHost, -1);
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

/**
 * A peer id unused in `grid`: counting up from 1 (a spectator's from SPECTATOR_ID_MIN), past
 * every restored id (probing from the range's start if the count ran out).
 */
export function allocPeerId(grid: Grid, spectator = false): number {
  const [min, max] = spectator ? [SPECTATOR_ID_MIN, SPECTATOR_ID_MAX] : [1, PLAYER_ID_MAX];
  const next = spectator ? grid.nextSpectatorId : grid.nextPeerId;
  let id = next <= max && !grid.members.has(next) ? next : min;
  while (grid.members.has(id)) id++;
  if (spectator) grid.nextSpectatorId = Math.max(grid.nextSpectatorId, id + 1);
  else grid.nextPeerId = Math.max(grid.nextPeerId, id + 1);
  return id;
}

/** Adds a member with a chosen id, keeping later allocations (of its role's range) above it. */
export function addMember(grid: Grid, member: Member): void {
  grid.members.set(member.id, member);
  grid.byAddr.set(member.addr, member.id);
  if (member.player !== "") grid.byPlayer.set(member.player, member.id);
  grid.hosts.add(hostOf(member.addr), 1);
  grid.graph.addMember(member.id);
  grid.ids.add(member.id);
  grid.free.add(member.id);
  grid.roster = undefined;
  if (isSpectator(member.id)) {
    if (member.id >= grid.nextSpectatorId) grid.nextSpectatorId = member.id + 1;
  } else if (member.id >= grid.nextPeerId && member.id <= PLAYER_ID_MAX) grid.nextPeerId = member.id + 1;
}

/** Removes a member and its reports; returns the ids whose pair with it changed. */
export function removeMember(grid: Grid, member: Member): number[] {
  if (grid.members.delete(member.id)) grid.hosts.add(hostOf(member.addr), -1);
  grid.ids.delete(member.id);
  grid.free.delete(member.id);
  if (grid.byAddr.get(member.addr) === member.id) grid.byAddr.delete(member.addr);
  if (grid.byPlayer.get(member.player) === member.id) grid.byPlayer.delete(member.player);
  grid.roster = undefined;
  return grid.graph.removeMember(member.id);
}

/** A member has a free link when it reports fewer links than its limit. */
export function hasFreeLink(grid: Grid, member: Member): boolean {
  return grid.graph.reported(member.id).size < member.limit;
}
