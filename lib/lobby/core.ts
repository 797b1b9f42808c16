/**
 * The lobby's state and the operations every handler shares: queueing replies and events,
 * admitting and removing members, recording link reports. Handlers (requests.ts, tracking.ts)
 * and timers (maintenance.ts) change state only through here, so each change updates the
 * registry, the graph, the timers and the session together.
 */
import type { Address, Transmit } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import type { CryptoProvider, KeyPair } from "../security/crypto.ts";
import { type SipKey, sipKeyFrom, SIP_KEY_BYTES } from "../security/siphash.ts";
import { encode } from "../../wire/codec.ts";
import { truncateUtf8 } from "../../wire/utf8.ts";
import { utf8Length } from "../../wire/fields.ts";
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import { MAX_DETAIL_BYTES, SESSION_FRAME_OVERHEAD_BYTES } from "../../wire/limits.ts";
import type { AnyMessage } from "../../wire/messages.ts";
import { resolveLobbyConfig, type LobbyConfig, type ResolvedLobbyConfig } from "./config.ts";
import { PendingEdges, ProbeTable } from "./edges.ts";
import type { LobbyEvent } from "./events.ts";
import { cancelRotation, newGridKeys, noteDeparture, type NextKey } from "./key-rotation.ts";
import { Queue } from "../util/queue.ts";
import { SourceLimiter } from "../util/rate-limit.ts";
import { noteFree } from "./member-sample.ts";
import { addMember, GridRegistry, newMemberNat, removeMember, type Grid, type Member } from "./registry.ts";
import { SessionTable, type Session } from "./sessions.ts";
import { LobbyCounters } from "./stats.ts";
import { TimerHeap } from "./timers.ts";

/** Probes remembered in flight (each is also forgotten after expireAfterMs). */
export const MAX_OUTSTANDING_PROBES = 8192;

const ERROR_NAMES: Record<number, string> = {};
for (const [name, code] of Object.entries(LobbyErrorCode)) ERROR_NAMES[code] = name;

export class LobbyCore {
  readonly config: ResolvedLobbyConfig;
  readonly random: Random;
  readonly crypto: CryptoProvider;
  /** The Ed25519 identity: signs Welcomes and tickets. */
  readonly identity: KeyPair;
  /** The secret behind Retry cookies (SipHash of time bucket and address); never leaves the lobby. */
  readonly cookieSecret: SipKey;
  readonly registry = new GridRegistry();
  readonly sessions: SessionTable;
  /** Per-host handshake buckets (handshakesPerSecondPerHost), charged on Hellos with a valid cookie. */
  readonly handshakes: SourceLimiter;
  readonly counters = new LobbyCounters();
  readonly expiry = new TimerHeap<Member>();
  readonly emptyGrids = new TimerHeap<Grid>();
  /** Next grid keys waiting to become active (the key-rotation timer). */
  readonly rotations = new TimerHeap<NextKey>();
  readonly pending = new PendingEdges();
  readonly probes: ProbeTable;
  readonly transmits = new Queue<Transmit>();
  readonly events = new Queue<LobbyEvent>();
  /** The next island check, armed while any grid exists. */
  nextIslandCheckMs: number | undefined;
  /** Grids whose members or confirmed links changed since their last review (standing.ts). */
  readonly changedGrids = new Set<Grid>();
  /** The next component check, armed by a change (componentCheckMs after the first one). */
  nextComponentCheckMs: number | undefined;
  private nextReq = 1;

  constructor(config: LobbyConfig) {
    const c = resolveLobbyConfig(config);
    this.config = c;
    this.random = c.random;
    this.crypto = c.crypto;
    this.identity = c.identity;
    this.cookieSecret = sipKeyFrom(c.crypto.randomBytes(SIP_KEY_BYTES));
    this.sessions = new SessionTable(c.maxSessions, c.sessionIdleMs, c.maxSessionsPerHost);
    this.handshakes = new SourceLimiter(c.handshakesPerSecondPerHost, c.handshakeBurstPerHost, c.maxTrackedSources);
    this.probes = new ProbeTable(MAX_OUTSTANDING_PROBES, c.expireAfterMs);
  }

  // --- output ---------------------------------------------------------------------------

  /** Queues `msg` for `to`; returns its size, or 0 when it was not queued (larger than `maxBytes`, or the queue is full). */
  send(to: Address, msg: AnyMessage, maxBytes = this.config.maxDatagramBytes): number {
    return this.sendBytes(to, encode(msg), maxBytes);
  }

  /** Queues encoded bytes (kept as they are: a cached Welcome); as send(). */
  sendBytes(to: Address, bytes: Uint8Array, maxBytes = this.config.maxDatagramBytes): number {
    if (bytes.length > maxBytes) return 0;
    if (this.transmits.length >= this.config.maxQueuedTransmits) {
      this.counters.transmitsDropped++;
      return 0;
    }
    this.transmits.push({ to, bytes });
    return bytes.length;
  }

  /**
   * A bare Error (before a session exists, PROTOCOL.md 6.10); as send(). Under a `maxBytes`
   * budget (3x an unvalidated request) the detail is cut to fit, so the code still gets there.
   */
  sendError(to: Address, req: number, code: LobbyErrorCode, detail: string, maxBytes?: number): number {
    let bytes = encode({ kind: Kind.Error, req, code, detail: clip(detail) });
    if (maxBytes !== undefined && bytes.length > maxBytes) {
      const fit = truncateUtf8(detail, Math.max(0, utf8Length(clip(detail)) - (bytes.length - maxBytes) - 1));
      bytes = encode({ kind: Kind.Error, req, code, detail: fit });
    }
    const n = this.sendBytes(to, bytes, maxBytes);
    if (n > 0) this.counters.errorSent(ERROR_NAMES[code] ?? String(code));
    return n;
  }

  /**
   * Queues `msg` to session `s` in a session frame under its next counter (PROTOCOL.md 6.10):
   * every lobby message after the handshake but UnknownSession. Returns the frame's size, or
   * 0 when it was not queued (too large, the queue is full, or the session's counters are spent).
   */
  reply(s: Session, msg: AnyMessage | Uint8Array): number {
    const body = msg instanceof Uint8Array ? msg : encode(msg);
    if (body.length + SESSION_FRAME_OVERHEAD_BYTES > this.config.maxDatagramBytes) return 0;
    const frame = s.framer.frame(body);
    return frame === undefined ? 0 : this.sendBytes(s.addr, frame);
  }

  /** An Error to session `s`, framed; as reply(). */
  replyError(s: Session, req: number, code: LobbyErrorCode, detail: string): number {
    const n = this.reply(s, { kind: Kind.Error, req, code, detail: clip(detail) });
    if (n > 0) this.counters.errorSent(ERROR_NAMES[code] ?? String(code));
    return n;
  }

  /** reply() to the session holding member `m`, if it still exists. */
  tell(m: Member, msg: AnyMessage | Uint8Array): number {
    const s = this.sessions.get(m.session);
    return s === undefined ? 0 : this.reply(s, msg);
  }

  emit(event: LobbyEvent): void {
    if (this.events.length >= this.config.maxQueuedEvents) this.counters.eventsDropped++;
    else this.events.push(event);
  }

  /** A request id for a lobby-initiated message (Probe): nonzero u32, wrapping. */
  newReq(): number {
    const req = this.nextReq;
    this.nextReq = req >= 0xffffffff ? 1 : req + 1;
    return req;
  }

  // --- registry -------------------------------------------------------------------------

  /**
   * Registers a grid whose first key has `epoch` (1, or later for a grid restored by Rejoin),
   * counted against `host`'s maxGridsPerHost while it exists.
   */
  createGrid(
    nowMs: number,
    id: number,
    name: string,
    capacity: number,
    limit: number,
    meta: string,
    restored: boolean,
    host: string,
    epoch = 1,
    key?: Uint8Array,
  ): Grid {
    const grid = this.registry.create(id, name, capacity, limit, meta, newGridKeys(this.crypto, epoch, key), host);
    // A grid nobody selects goes soon (unselectedGridGraceMs, issue 15: a host creating grids
    // it never uses must not hold the grid table), sooner than one whose members all left.
    this.emptyGrids.set(grid, nowMs + this.config.unselectedGridGraceMs);
    this.nextIslandCheckMs ??= nowMs + this.config.islandCheckMs;
    this.emit({ type: "gridCreated", grid: id, name, restored });
    return grid;
  }

  /** Removes a grid whose members are all gone (the empty-grid timer). */
  removeGrid(grid: Grid): void {
    this.registry.remove(grid);
    this.changedGrids.delete(grid);
    this.emptyGrids.delete(grid);
    cancelRotation(this, grid);
    if (this.registry.size === 0) this.nextIslandCheckMs = undefined;
    this.emit({ type: "gridRemoved", grid: grid.id, name: grid.name });
  }

  /**
   * Admits a peer with id `id` for session `s` at `addr`, replacing any other member at that
   * address, or of that `player` (as the admission policy named it).
   */
  admit(nowMs: number, grid: Grid, s: Session, id: number, addr: Address, limit: number, restored: boolean, player = ""): Member {
    this.replaceAt(nowMs, grid, addr);
    const samePlayer = player === "" ? undefined : grid.members.get(grid.byPlayer.get(player) ?? 0);
    if (samePlayer !== undefined) this.dropMember(nowMs, grid, samePlayer, "replaced");
    const m: Member = {
      grid: grid.id,
      id,
      addr,
      session: s.id,
      limit,
      lastHeardMs: nowMs,
      admittedMs: nowMs,
      ticket: undefined,
      player,
      standing: "none",
      standingComponent: 0,
      standingRepeats: 0,
      main: false,
      nat: newMemberNat(nowMs, this.config.introductionBurst),
      deadlineMs: 0,
      heapIndex: -1,
    };
    addMember(grid, m);
    this.graphChanged(nowMs, grid);
    this.expiry.set(m, nowMs + this.config.expireAfterMs);
    this.sessions.addMembership(s, grid.id, id);
    this.emptyGrids.delete(grid);
    // Members that already report a link to a restored id now have a one-sided pair.
    for (const r of grid.graph.reportersOf(id)) this.linkChanged(nowMs, grid, r, id);
    this.emit({ type: "peerJoined", grid: grid.id, peer: id, addr, restored, player });
    return m;
  }

  /** One member per address and grid: a newer admission from an address replaces the stale member there. */
  replaceAt(nowMs: number, grid: Grid, addr: Address): void {
    const staleId = grid.byAddr.get(addr);
    const stale = staleId === undefined ? undefined : grid.members.get(staleId);
    if (stale !== undefined) this.dropMember(nowMs, grid, stale, "replaced");
  }

  dropMember(nowMs: number, grid: Grid, m: Member, cause: "leave" | "replaced" | "expired"): void {
    for (const other of removeMember(grid, m)) {
      this.pending.update(0, grid.id, m.id, other, false);
      noteFree(grid, grid.members.get(other)); // it reported a link to m: one fewer now
    }
    this.graphChanged(nowMs, grid);
    this.expiry.delete(m);
    const s = this.sessions.get(m.session);
    if (s !== undefined) this.sessions.dropMembership(nowMs, s, grid.id, m.id);
    if (m.nat.isolated) this.counters.isolated--;
    if (cause === "expired") {
      this.emit({ type: "peerExpired", grid: grid.id, peer: m.id, silentMs: Math.max(0, nowMs - m.lastHeardMs) });
    } else {
      this.emit({ type: "peerLeft", grid: grid.id, peer: m.id, reason: cause });
    }
    if (grid.members.size === 0) this.emptyGrids.set(grid, nowMs + this.config.emptyGridGraceMs);
    // It held the grid key: enough departures and the key rotates (issue 6, point 2).
    noteDeparture(this, nowMs, grid);
  }

  /**
   * The member `peerId` of grid `gridId` if session `s` holds it; else "unknown-grid" or
   * "not-member" (it left, expired, or another session holds it).
   */
  ownMember(s: Session, gridId: number, peerId: number): { grid: Grid; member: Member } | "unknown-grid" | "not-member" {
    const grid = this.registry.get(gridId);
    if (grid === undefined) return "unknown-grid";
    const member = s.memberships.get(gridId) === peerId ? grid.members.get(peerId) : undefined;
    return member === undefined ? "not-member" : { grid, member };
  }

  // --- links ----------------------------------------------------------------------------

  /** `member` reports (`on`) or stops reporting a link to `other`; false when MAX_LINKS would be exceeded. */
  setLink(nowMs: number, grid: Grid, member: number, other: number, on: boolean): boolean {
    const ok = grid.graph.setReported(member, other, on);
    this.linkChanged(nowMs, grid, member, other);
    if (!on) noteFree(grid, grid.members.get(member));
    return ok;
  }

  /** `member`'s reported links become exactly `links` (Heartbeat, Rejoin). */
  replaceLinks(nowMs: number, grid: Grid, member: number, links: readonly number[]): void {
    for (const other of grid.graph.replaceReported(member, links)) this.linkChanged(nowMs, grid, member, other);
    noteFree(grid, grid.members.get(member));
  }

  private linkChanged(nowMs: number, grid: Grid, a: number, b: number): void {
    this.pending.update(nowMs + this.config.unconfirmedEdgeMs, grid.id, a, b, grid.graph.isOneSided(a, b));
    if (grid.graph.version !== grid.reviewedVersion) this.graphChanged(nowMs, grid);
  }

  /** Arms the component check for `grid` (standing.ts), componentCheckMs after the first change. */
  graphChanged(nowMs: number, grid: Grid): void {
    this.changedGrids.add(grid);
    this.nextComponentCheckMs = Math.min(this.nextComponentCheckMs ?? Infinity, nowMs + this.config.componentCheckMs);
  }

  /** Asks `silent` whether it is linked to `other` (claim 50 and the one-sided link check). */
  sendProbe(nowMs: number, grid: Grid, silent: Member, other: number): void {
    const req = this.newReq();
    if (this.tell(silent, { kind: Kind.Probe, req, grid: grid.id, peer: silent.id, other }) === 0) return;
    this.probes.add({ req, grid: grid.id, peer: silent.id, other, sentMs: nowMs, answered: false });
    this.counters.probesSent++;
  }
}

/**
 * `detail` cut to MAX_DETAIL_BYTES of UTF-8 (Error.detail and LobbyClosing.reason are
 * bounded on the wire), between code points: a detail quoting a grid name must not end in
 * half an emoji.
 */
export function clip(detail: string): string {
  return truncateUtf8(detail, MAX_DETAIL_BYTES);
}
