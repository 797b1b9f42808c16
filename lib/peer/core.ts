/**
 * The state a Peer's parts share (lobby client, link seeker, member side, maintenance,
 * relay path) and the few operations they all need: send, request, open and close a link.
 * The parts are functions over this state rather than objects with callbacks, so the
 * whole machine advances only through the Peer's handle* and command methods.
 */
import type { Address, Transmit } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { DuplicateFilter } from "../relay/origin-table.ts";
import { DisconnectReason, encode, Kind, TAG_BYTES, TAG_FIELD_BYTES, type Message } from "../../wire/index.ts";
import type { CryptoProvider, KeyPair } from "../security/crypto.ts";
import { GridKeyring, writeTag } from "../security/grid-keys.ts";
import { sipKeyFrom } from "../security/siphash.ts";
import { TicketCache } from "../security/ticket-cache.ts";
import type { TicketVerdict } from "../security/ticket.ts";
import type { ResolvedPeerConfig } from "./config.ts";
import type { Response } from "./connection-rules.ts";
import type { LinkCloseReason, PeerEvent } from "./events.ts";
import { LinkTable } from "./links.ts";
import { RequestTable, type RequestTag } from "./requests.ts";
import { PeerCounters } from "./stats.ts";
import { SourceLimiter } from "../util/rate-limit.ts";
import { Queue } from "../util/queue.ts";

/**
 * idle -> lobby (session, grid lookup, admission) -> joining (join round, claims 26-33)
 * -> member (relaying, seeking, maintaining) -> leaving -> closed.
 */
export type Phase = "idle" | "lobby" | "joining" | "member" | "leaving" | "closed";

/** A join round (claim 26) or a connection-available round (claim 36) in progress. */
export interface Round {
  readonly id: number;
  readonly kind: "join" | "available";
  readonly sentAt: number;
  readonly deadline: number;
  readonly asked: number;
  readonly responses: Response[];
}

/**
 * The placeholder every peer<->peer message is encoded with: the encoder writes 9 zero
 * bytes, then the tag is computed over everything before it and written in place.
 */
export const NO_TAG: Uint8Array = new Uint8Array(TAG_BYTES);

/** Peer<->peer kinds (0x10-0x1f) and relay data carry the grid-key tag. */
export function isTaggedKind(kind: number): boolean {
  return kind === Kind.Data || (kind >= 0x10 && kind <= 0x1f);
}

/** Known member addresses kept at most; the lobby refreshes them when needed. */
export const MAX_KNOWN_MEMBERS = 4096;

export interface JoinTarget {
  grid: string | number;
  create: boolean;
  capacity: number;
  meta: string;
}

export class PeerCore {
  readonly cfg: ResolvedPeerConfig;
  readonly random: Random;
  now = 0;
  phase: Phase = "idle";
  target: JoinTarget | undefined;
  session = 0;
  heartbeatMs = 2000;
  grid = 0;
  gridName = "";
  /** This peer's id in the grid (0 until admitted). */
  self = 0;
  limit: number;
  /** Set while re-registering with a restarted lobby (Hello, then Rejoin instead of SelectGrid). */
  rejoining = false;
  joinedEmitted = false;
  /** Members' addresses learned from the lobby, join messages and hints (bounded). */
  readonly members = new Map<number, Address>();
  readonly links = new LinkTable();
  /** Peers with a connect or force request in flight: they hold a slot (never exceed the limit). */
  readonly pending = new Set<number>();
  /** Island repairs sent while full: when accepted, a link is dropped to make room. */
  readonly repairing = new Set<number>();
  /** Claim 41: peer -> time until which it is not chosen again. */
  readonly cooldown = new Map<number, number>();
  readonly requests: RequestTable;
  readonly outbox = new Queue<Transmit>();
  readonly events = new Queue<PeerEvent>();
  readonly counters = new PeerCounters();
  /** Token buckets for datagrams from addresses that are not links (floods, STYLE.md 6). */
  readonly strangers: SourceLimiter;
  readonly duplicates: DuplicateFilter;
  /** Per relay rule: forwards it suppressed (indexed like cfg.relayRules). */
  readonly suppressed: number[];
  round: Round | undefined;
  roundSeq = 0;
  /** Positives of the last round not yet tried, in the rules' order (tried if a connect is refused). */
  spare: Response[] = [];
  /** Negatives of the last round (force candidates, claims 32, 42). */
  negatives: Response[] = [];
  seq = 0;
  partsWanted = 0;

  // Security (PROTOCOL.md 6): the lobby session and the grid's keys and tickets.
  readonly crypto: CryptoProvider;
  /** The lobby identity: pinned by config, or taken on first use from the first Welcome. */
  lobbyKey: Uint8Array | undefined;
  /** This handshake's ephemeral X25519 key pair (a new one per Hello). */
  ephemeral: KeyPair | undefined;
  /** The cookie from the lobby's Retry, echoed in the next Hello. */
  cookie: Uint8Array = new Uint8Array(0);
  sessionKey: Uint8Array | undefined;
  readonly keyring: GridKeyring;
  /** This peer's lobby-signed ticket, shown when it opens a link. */
  ticket: Uint8Array = new Uint8Array(0);
  tickets: TicketCache | undefined;
  /** Why the last Welcome was refused, for the error if the Hello gives up. */
  handshakeFailure: string | undefined;
  /** The highest Members nonce opened this session: an older grant replayed is ignored. */
  grantNonce = 0;
  partsSeen = new Set<number>();

  // The timer table (STYLE.md 3): each a deadline or undefined.
  readonly timers = {
    heartbeat: undefined as number | undefined,
    pingTick: undefined as number | undefined,
    pongDeadline: undefined as number | undefined,
    seekTick: undefined as number | undefined,
    roundEnd: undefined as number | undefined,
    closeDeadline: undefined as number | undefined,
  };

  constructor(cfg: ResolvedPeerConfig) {
    this.cfg = cfg;
    this.random = cfg.random;
    this.limit = cfg.connectionLimit;
    this.requests = new RequestTable(cfg.random.nextU32(), cfg.retransmitMs, cfg.maxAttempts);
    this.duplicates = new DuplicateFilter({ maxOrigins: cfg.maxOrigins, windowBits: cfg.windowBits });
    this.suppressed = cfg.relayRules.map(() => 0);
    this.crypto = cfg.crypto;
    this.lobbyKey = cfg.lobbyKey;
    this.keyring = new GridKeyring(cfg.crypto);
    this.strangers = new SourceLimiter(cfg.strangerRatePerSecond, cfg.strangerBurst, cfg.maxTrackedStrangers);
  }

  /**
   * Counts an invalid datagram (`reason`). With `authenticated` (it carried a valid grid-key
   * tag, so it really is from a member) it also counts against the link at `from`, and a link
   * past maxInvalidPerLink in one ping interval is closed as misbehaving. Unauthenticated
   * garbage never does: anyone can spoof a neighbour's address.
   */
  invalid(from: Address, reason: string, authenticated = false): void {
    this.counters.drop(reason);
    if (!authenticated) return;
    const link = this.links.byAddr(from);
    if (link === undefined) return;
    if (++link.invalid > this.cfg.maxInvalidPerLink) this.closeLink(link.peer, "misbehaving");
  }

  /** Checks the ticket a neighbour showed with a link-opening message (cached after the first check). */
  checkTicket(peer: number, address: Address, ticket: Uint8Array): TicketVerdict | "no-lobby-key" {
    if (this.lobbyKey === undefined) return "no-lobby-key";
    this.tickets ??= new TicketCache({ lobbyPublicKey: this.lobbyKey, hashKey: sipKeyFrom(this.crypto.randomBytes(16)) });
    // A ticket issued one epoch before the current key is still good: members refresh theirs
    // after a rotation, and one without the current key fails the tag check anyway.
    const current = this.keyring.currentEpoch ?? 0;
    return this.tickets.verify(this.crypto, ticket, { grid: this.grid, peer, address, minEpoch: Math.max(0, current - 1) });
  }

  /** Links plus slots held by requests in flight. */
  get used(): number {
    return this.links.size + this.pending.size;
  }

  hasRoom(): boolean {
    return this.used < this.limit;
  }

  emit(e: PeerEvent): void {
    this.events.push(e);
  }

  transmit(to: Address, bytes: Uint8Array): void {
    this.outbox.push({ to, bytes });
    this.counters.datagramsOut++;
    this.counters.bytesOut += bytes.length;
  }

  send(to: Address, msg: Message): void {
    const bytes = this.seal(msg);
    if (bytes !== undefined) this.transmit(to, bytes);
  }

  /**
   * Encodes `msg`; a peer<->peer message gets its tag under the current grid key (written
   * over the zero placeholder). Undefined when there is no grid key yet (not admitted).
   */
  seal(msg: Message): Uint8Array | undefined {
    const bytes = encode(msg);
    if (!isTaggedKind(msg.kind)) return bytes;
    if (this.keyring.currentEpoch === undefined) {
      this.counters.drop("no-grid-key");
      return undefined;
    }
    writeTag(this.keyring, bytes, bytes.length - TAG_FIELD_BYTES, -1);
    return bytes;
  }

  /** Sends a request whose reply will be matched by `msg.req`; it retransmits until answered. */
  request(to: Address, msg: Message & { req: number }, tag: RequestTag): void {
    const bytes = this.seal(msg);
    if (bytes === undefined) return;
    if (!this.requests.add(this.now, msg.req, to, bytes, tag)) {
      this.counters.drop("request-table-full");
      return;
    }
    this.transmit(to, bytes);
  }

  nextReq(): number {
    return this.requests.allocate();
  }

  rememberMember(peer: number, address: Address): void {
    if (peer === this.self || peer === 0) return;
    if (!this.members.has(peer) && this.members.size >= MAX_KNOWN_MEMBERS) {
      const oldest = this.members.keys().next();
      if (!oldest.done) this.members.delete(oldest.value);
    }
    this.members.set(peer, address);
  }

  /** Tells the lobby a link opened or closed (claims 44, 51). */
  reportLink(other: number, open: boolean): void {
    if (this.session === 0) return;
    const req = this.nextReq();
    this.request(
      this.cfg.lobby,
      { kind: Kind.ConnUpdate, req, session: this.session, grid: this.grid, peer: this.self, other, open },
      { t: "connUpdate" },
    );
  }

  /**
   * Opens a link, or returns false when `address` already belongs to another link: one
   * address is one peer (the relay path finds the sending link by address), so a reply or
   * request naming another id from a linked address (stale after a restart, or forged) is refused.
   */
  openLink(peer: number, address: Address, neighbourLinks: number): boolean {
    this.pending.delete(peer);
    if (this.links.has(peer)) return true;
    if (this.links.byAddr(address) !== undefined) {
      this.counters.drop("address-in-use");
      return false;
    }
    this.links.open(this.now, peer, address, neighbourLinks);
    this.rememberMember(peer, address);
    this.cooldown.delete(peer);
    this.counters.linksOpened++;
    this.reportLink(peer, true);
    this.emit({ type: "linkOpen", peer, address, links: this.links.size });
    if (!this.joinedEmitted) this.becomeMember();
    return true;
  }

  becomeMember(): void {
    this.phase = "member";
    this.joinedEmitted = true;
    this.emit({ type: "joined", grid: this.grid, peer: this.self, links: this.links.size });
  }

  /**
   * Closes a link locally and, unless the neighbour closed it (`remoteReason` given), asks
   * it to close its side too (a close handshake: Disconnect, DisconnectAck; claim 37).
   */
  closeLink(peer: number, reason: LinkCloseReason, remoteReason?: number): boolean {
    const link = this.links.close(peer);
    if (link === undefined) return false;
    this.counters.linksClosed++;
    this.cooldown.set(peer, this.now + this.cfg.disconnectPeriodMs);
    if (remoteReason === undefined) {
      const req = this.nextReq();
      this.request(
        link.address,
        { kind: Kind.Disconnect, req, grid: this.grid, from: this.self, reason: wireReason(reason), tag: NO_TAG },
        { t: "disconnect", peer },
      );
    }
    this.reportLink(peer, false);
    const e: PeerEvent =
      remoteReason === undefined
        ? { type: "linkClosed", peer, reason, links: this.links.size }
        : { type: "linkClosed", peer, reason, remoteReason, links: this.links.size };
    this.emit(e);
    // Below the limit now: look for a link soon (claim 36), not at the next regular tick.
    if (this.phase === "member" && this.hasRoom()) this.scheduleSeek(this.cfg.seekIntervalMs / 4);
    return true;
  }

  scheduleSeek(inMs: number): void {
    const at = this.now + Math.floor(inMs * (0.5 + this.random.next()));
    if (this.timers.seekTick === undefined || at < this.timers.seekTick) this.timers.seekTick = at;
  }

  inCooldown(peer: number): boolean {
    const until = this.cooldown.get(peer);
    if (until === undefined) return false;
    if (until <= this.now) {
      this.cooldown.delete(peer);
      return false;
    }
    return true;
  }
}

function wireReason(reason: LinkCloseReason): number {
  switch (reason) {
    case "limit-lowered":
      return DisconnectReason.LimitLowered;
    case "forced":
      return DisconnectReason.Forced;
    case "unresponsive":
      return DisconnectReason.Unresponsive;
    case "leave":
      return DisconnectReason.Leave;
    case "remote":
      return DisconnectReason.Leave;
    case "misbehaving":
      return DisconnectReason.Misbehaving;
  }
}
