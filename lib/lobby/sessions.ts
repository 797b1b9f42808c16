/**
 * Sessions: the token a Hello opens (a random nonzero u32) bound to the address it came from,
 * and the session key its handshake agreed. Only a Hello that echoed a Retry cookie opens
 * one, so the address is validated before any state exists; knowing the token proves the
 * sender still receives datagrams there (the Welcome went there).
 *
 * Bounded: at most maxSessions. Sessions that hold no grid membership sit in an LRU list;
 * they are forgotten after sessionIdleMs of silence, and the least recently used one is
 * evicted when a Hello needs room. A session holding a membership is never evicted: its
 * members expire first (expireAfterMs), which moves it back to the idle list.
 */
import type { Address } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { constantTimeEqual } from "../security/bytes.ts";

/** CreateGrid replies remembered per session, for retransmitted requests. */
export const CREATED_REMEMBERED = 4;

export interface Session {
  readonly id: number;
  readonly addr: Address;
  /** The req of the Hello that opened it: a retransmitted Hello gets the same session. */
  readonly helloReq: number;
  /** That Hello's ephemeral key: a Hello with the same req but another key is a new handshake. */
  readonly helloEph: Uint8Array;
  /** The encoded Welcome, sent again byte for byte to a retransmitted Hello (never a second handshake). */
  readonly welcome: Uint8Array;
  /** The ChaCha20-Poly1305 key the handshake agreed (lib/security/handshake.ts). */
  readonly key: Uint8Array;
  /**
   * The next Direction.LobbyToPeer nonce counter, from 1; each sealed reply takes one, so no
   * counter ever seals two plaintexts under this key. Above 0xffffffff the session is spent.
   */
  nextNonce: number;
  readonly name: string;
  lastSeenMs: number;
  /** grid id -> the peer id this session holds in that grid. */
  readonly memberships: Map<number, number>;
  /** The last few CreateGrid requests this session made: req -> grid id. */
  readonly created: { req: number; grid: number }[];
  /** Join tokens it presented (JoinToken), newest first, for the admission policy (admit.ts). */
  readonly tokens: Uint8Array[];
}

export class SessionTable {
  private readonly byId = new Map<number, Session>();
  /** Sessions with no membership, least recently seen first. */
  private readonly idle = new Map<number, Session>();
  /** The session the latest Hello from an address opened. */
  private readonly latestByAddr = new Map<Address, Session>();

  constructor(
    private readonly maxSessions: number,
    private readonly idleMs: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Session | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  /** The session a Hello with this req and key from this address already opened (a retransmit). */
  findHello(from: Address, req: number, eph: Uint8Array): Session | undefined {
    const s = this.latestByAddr.get(from);
    if (s === undefined || s.helloReq !== req || eph.length !== s.helloEph.length) return undefined;
    return constantTimeEqual(s.helloEph, 0, eph, 0, eph.length) ? s : undefined;
  }

  /** True when open() has room: below maxSessions, or an idle session to evict. */
  canOpen(): boolean {
    return this.byId.size < this.maxSessions || this.idle.size > 0;
  }

  /** A random nonzero id no open session has. */
  newId(random: Random): number {
    let id = random.nextU32();
    while (id === 0 || this.byId.has(id)) id = random.nextU32();
    return id;
  }

  /**
   * Opens a session (its id from newId()); evicts the least recently used idle one when
   * full. Throws when canOpen() is false (the caller checks first).
   */
  open(nowMs: number, fields: Pick<Session, "id" | "addr" | "helloReq" | "helloEph" | "welcome" | "key" | "name">): Session {
    if (this.byId.size >= this.maxSessions) {
      const oldest = this.idle.values().next();
      if (oldest.done) throw new Error("SessionTable.open: full; check canOpen() first");
      this.remove(oldest.value);
    }
    const s: Session = { ...fields, nextNonce: 1, lastSeenMs: nowMs, memberships: new Map(), created: [], tokens: [] };
    this.byId.set(s.id, s);
    this.idle.set(s.id, s);
    this.latestByAddr.set(s.addr, s);
    return s;
  }

  touch(nowMs: number, s: Session): void {
    s.lastSeenMs = nowMs;
    if (this.idle.delete(s.id)) this.idle.set(s.id, s);
  }

  addMembership(s: Session, grid: number, peer: number): void {
    s.memberships.set(grid, peer);
    this.idle.delete(s.id);
  }

  /**
   * Forgets `s`'s membership in `grid` if it is `peer`. A session left with none turns idle
   * as of now (so the idle list stays ordered by lastSeenMs).
   */
  dropMembership(nowMs: number, s: Session, grid: number, peer: number): void {
    if (s.memberships.get(grid) !== peer) return;
    s.memberships.delete(grid);
    if (s.memberships.size === 0 && this.byId.has(s.id)) {
      s.lastSeenMs = Math.max(s.lastSeenMs, nowMs);
      this.idle.set(s.id, s);
    }
  }

  /** Removes idle sessions silent for sessionIdleMs; returns how many. */
  expireIdle(nowMs: number): number {
    let n = 0;
    for (const s of this.idle.values()) {
      if (s.lastSeenMs + this.idleMs > nowMs) break;
      this.remove(s);
      n++;
    }
    return n;
  }

  /** When the least recently used idle session expires, or undefined. */
  nextDeadline(): number | undefined {
    const oldest = this.idle.values().next();
    return oldest.done ? undefined : oldest.value.lastSeenMs + this.idleMs;
  }

  private remove(s: Session): void {
    this.byId.delete(s.id);
    this.idle.delete(s.id);
    if (this.latestByAddr.get(s.addr) === s) this.latestByAddr.delete(s.addr);
  }
}

/** The session's next nonce counter, or undefined when it has used every u32 (it must Hello again). */
export function takeNonce(s: Session): number | undefined {
  if (s.nextNonce > 0xffffffff) return undefined;
  return s.nextNonce++;
}
