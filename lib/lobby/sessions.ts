/**
 * Sessions: the token a Hello opens (a random nonzero u32) bound to the address it came from,
 * and the session key its handshake agreed. Only a Hello that echoed a Retry cookie opens
 * one, so the address is validated before any state exists; knowing the token proves the
 * sender still receives datagrams there (the Welcome went there).
 *
 * Bounded: at most maxSessions. Sessions that hold no grid membership sit in an LRU list;
 * they are forgotten after sessionIdleMs of silence, and the least recently used one is
 * evicted when a Hello needs room. A session holding a membership is never evicted: its
 * members expire first (expireAfterMs), which moves it back to the idle list. One host
 * (hosts.ts) holds at most maxSessionsPerHost of them (PROTOCOL.md 6.11), so one machine
 * opening sessions from many ports cannot fill the table and push out everyone else's.
 *
 * Each session frames its traffic (PROTOCOL.md 6.10, lib/security/session-frame.ts) and has
 * its own request bucket, charged only for frames that authenticated.
 */
import type { Address } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { constantTimeEqual } from "../security/bytes.ts";
import type { SessionFramer } from "../security/session-frame.ts";
import type { TokenBucket } from "../util/rate-limit.ts";
import { HostCounts } from "./hosts.ts";

/** CreateGrid replies remembered per session, for retransmitted requests. */
export const CREATED_REMEMBERED = 4;

export interface Session {
  readonly id: number;
  readonly addr: Address;
  /** hostOf(addr): what per-host quotas count under. */
  readonly host: string;
  /** The req of the Hello that opened it: a retransmitted Hello gets the same session. */
  readonly helloReq: number;
  /** That Hello's ephemeral key: a Hello with the same req but another key is a new handshake. */
  readonly helloEph: Uint8Array;
  /** The encoded Welcome, sent again byte for byte to a retransmitted Hello (never a second handshake). */
  readonly welcome: Uint8Array;
  /** The ChaCha20-Poly1305 key the handshake agreed (lib/security/handshake.ts). */
  readonly key: Uint8Array;
  /** Frames in both directions under the MAC keys derived from `key` (PROTOCOL.md 6.10). */
  readonly framer: SessionFramer;
  /** Requests this session may make (requestsPerSecondPerSession), charged after authentication. */
  readonly requests: TokenBucket;
  /** When this session was last told its bare (unframed) requests are refused. */
  lastUnframedNoticeMs: number;
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
  private readonly perHost = new HostCounts();

  constructor(
    private readonly maxSessions: number,
    private readonly idleMs: number,
    private readonly maxPerHost: number,
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

  /**
   * Whether open() may open a session for `host`: "host-quota" when the host holds
   * maxSessionsPerHost, "full" when the table is full with no idle session to evict.
   */
  canOpen(host: string): "ok" | "host-quota" | "full" {
    if (this.perHost.get(host) >= this.maxPerHost) return "host-quota";
    return this.byId.size < this.maxSessions || this.idle.size > 0 ? "ok" : "full";
  }

  /** Sessions `host` holds. */
  heldBy(host: string): number {
    return this.perHost.get(host);
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
  open(
    nowMs: number,
    fields: Pick<Session, "id" | "addr" | "host" | "helloReq" | "helloEph" | "welcome" | "key" | "framer" | "requests" | "name">,
  ): Session {
    if (this.byId.size >= this.maxSessions) {
      const oldest = this.idle.values().next();
      if (oldest.done) throw new Error("SessionTable.open: full; check canOpen() first");
      this.remove(oldest.value);
    }
    const s: Session = { ...fields, nextNonce: 1, lastSeenMs: nowMs, lastUnframedNoticeMs: -Infinity, memberships: new Map(), created: [], tokens: [] };
    this.byId.set(s.id, s);
    this.perHost.add(s.host, 1);
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
    if (this.byId.delete(s.id)) this.perHost.add(s.host, -1);
    this.idle.delete(s.id);
    if (this.latestByAddr.get(s.addr) === s) this.latestByAddr.delete(s.addr);
  }
}

/** The session's next nonce counter, or undefined when it has used every u32 (it must Hello again). */
export function takeNonce(s: Session): number | undefined {
  if (s.nextNonce > 0xffffffff) return undefined;
  return s.nextNonce++;
}
