/**
 * The infrastructure every part of a Peer shares, and nothing else: its identity in the grid
 * (grid, self, limit), the phase (setPhase is its only writer, phases.ts its table), the
 * links and the members' addresses, the grid credentials, the outgoing request table, the
 * timer table, the output queues and the counters. Each part (lobby-client.ts, seeker.ts,
 * responder.ts, pings.ts, relay-path.ts) owns its own state; opening and closing a link is
 * here because every part that keeps per-link state is told, in one order (LinkObserver).
 */
import type { Address, Transmit } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import { DisconnectReason, encode, isEnvelopeKind, Kind, RELAY_HOPS_OFFSET, TAG_BYTES, TAG_FIELD_BYTES, type AnyMessage, type Message } from "../../wire/index.ts";
import { writeTag } from "../security/grid-keys.ts";
import { checkLinkAuth, deriveLinkKey, LINK_NONCE_BYTES, stampLinkAuth } from "../security/link-auth.ts";
import type { SipKey } from "../security/siphash.ts";
import type { TicketV2Verdict, TicketVerdict } from "../security/ticket.ts";
import type { ResolvedPeerConfig } from "./config.ts";
import type { NeighbourInfo } from "./connection-rules.ts";
import { GridCredentials } from "./credentials.ts";
import { PeerDrop, PeerFailure, type DropReason } from "./drops.ts";
import type { LinkCloseReason, PeerEvent } from "./events.ts";
import { LinkTable, type Link, type LinkAuth, type LinkObserver } from "./links.ts";
import { NonceMemory } from "./nonce-memory.ts";
import { ACCEPTS, canMove, type Phase } from "./phases.ts";
import { RequestTable, type RequestTag } from "./request-table.ts";
import { PeerCounters } from "./stats.ts";
import { TimerTable } from "./timers.ts";
import { Queue } from "../util/queue.ts";

export type { Phase } from "./phases.ts";

/**
 * The placeholder every peer<->peer message is encoded with: the encoder writes 9 zero
 * bytes, then the tag is computed over everything before it and written in place.
 */
export const NO_TAG: Uint8Array = new Uint8Array(TAG_BYTES);
/** The link auth placeholder (8 zero bytes), stamped by sealOnLink (PROTOCOL.md 6.13). */
export const NO_AUTH: Uint8Array = new Uint8Array(8);

/** The messages sent on a link under its key, with a counter (PROTOCOL.md 6.13). */
export type LinkMessage = Extract<
  Message,
  { kind: typeof Kind.Ping | typeof Kind.Pong | typeof Kind.Disconnect | typeof Kind.Prune | typeof Kind.Graft | typeof Kind.RepairRequest }
>;

/** Peer<->peer control (0x10-0x1f, and NAT traversal's 0x60-0x6f) carries the grid-key tag on its raw bytes (PROTOCOL.md 6.6). */
export function isTaggedControl(kind: number): boolean {
  return (kind >= 0x10 && kind <= 0x1f) || (kind >= 0x60 && kind <= 0x6f);
}

/** The relay family (0x01-0x0f: Data, Repair, Message, Routed), peer<->peer control and NAT traversal's kinds carry the grid-key tag. */
export function isTaggedKind(kind: number): boolean {
  return (kind >= 0x01 && kind <= 0x0f) || isTaggedControl(kind);
}

/** A link's delivery record is judged (links.ts neighbours) once it is this many ping intervals old. */
export const JUDGE_AFTER_PINGS = 3;

export class PeerCore {
  readonly cfg: ResolvedPeerConfig;
  readonly random: Random;
  private current: Phase = "idle";
  /** The current phase's row of the phase table: 1 where a kind is accepted. */
  accepting: Uint8Array = ACCEPTS.idle;
  grid = 0;
  gridName = "";
  /** This peer's id in the grid (0 until admitted). */
  self = 0;
  limit: number;
  /** Members' addresses learned from the lobby, join messages and hints (at most cfg.maxKnownMembers). */
  readonly members = new Map<number, Address>();
  /**
   * The members of `members` the lobby named (Members, RepairHint, Introduction: all framed
   * under the session key) or a lobby-signed ticket proved (a link): the origins whose
   * duplicate windows fake origin ids cannot evict (lib/relay/origin-table.ts). A Join or
   * Available names its sender without proof, so it does not vouch.
   */
  readonly vouched = new Set<number>();
  readonly links: LinkTable;
  readonly credentials: GridCredentials;
  readonly requests: RequestTable;
  readonly timers = new TimerTable();
  readonly outbox = new Queue<Transmit>();
  readonly events = new Queue<PeerEvent>();
  readonly counters = new PeerCounters();
  /** Connect and Force nonces already acted on (nonce-memory.ts): each request at most once. */
  readonly nonces = new NonceMemory();
  private readonly observers: LinkObserver[] = [];

  constructor(cfg: ResolvedPeerConfig) {
    this.cfg = cfg;
    this.random = cfg.random;
    this.limit = cfg.connectionLimit;
    this.links = new LinkTable(cfg);
    this.requests = new RequestTable(cfg.random.nextU32(), cfg.retransmitMs, cfg.maxAttempts);
    this.credentials = new GridCredentials(cfg.crypto, cfg.lobbyKey);
  }

  get phase(): Phase {
    return this.current;
  }

  /** The only writer of the phase. A move the phase table does not list is a Peer bug. */
  setPhase(to: Phase): void {
    if (!canMove(this.current, to)) throw new Error(`relaygrid bug: phase ${this.current} -> ${to} is not in the phase table`);
    this.current = to;
    this.accepting = ACCEPTS[to];
  }

  /** Registers a part that keeps per-link state; observers run in registration order. */
  observeLinks(observer: LinkObserver): void {
    this.observers.push(observer);
  }

  emit(e: PeerEvent): void {
    this.events.push(e);
  }

  transmit(to: Address, bytes: Uint8Array): void {
    this.outbox.push({ to, bytes });
  }

  /** `bytes` to `to` from `sockets` extra sockets of the driver's (Transmit.sockets: birthday probing). */
  spray(to: Address, bytes: Uint8Array, sockets: number): void {
    this.outbox.push({ to, bytes, sockets });
  }

  send(to: Address, msg: AnyMessage): void {
    const bytes = this.seal(msg);
    if (bytes !== undefined) this.transmit(to, bytes);
  }

  /**
   * Encodes `msg`; a peer<->peer message gets its tag under the current grid key (written
   * over the zero placeholder). Undefined when there is no grid key yet (not admitted).
   */
  seal(msg: AnyMessage): Uint8Array | undefined {
    const bytes = encode(msg);
    if (!isTaggedKind(msg.kind)) return bytes;
    const keyring = this.credentials.keyring;
    if (keyring.currentEpoch === undefined) {
      this.counters.fail(PeerFailure.NoGridKey);
      return undefined;
    }
    // The relay envelopes' tag leaves out the hop byte, which every relay rewrites (PROTOCOL.md 6.6).
    writeTag(keyring, bytes, bytes.length - TAG_FIELD_BYTES, isEnvelopeKind(msg.kind) ? RELAY_HOPS_OFFSET : -1);
    return bytes;
  }

  /**
   * Encodes a message on `link` with the link's next counter, stamps it under the link key,
   * then tags it under the grid key (PROTOCOL.md 6.13). Undefined without a grid key.
   */
  sealOnLink(link: Link, msg: LinkMessage): Uint8Array | undefined {
    return this.sealUnder(link.auth, msg);
  }

  sendOnLink(link: Link, msg: LinkMessage): void {
    const bytes = this.sealOnLink(link, msg);
    if (bytes !== undefined) this.transmit(link.address, bytes);
  }

  /** sealOnLink for a link this peer does not hold (a Disconnect for the neighbour's side of one it refused). */
  sealUnder(auth: LinkAuth, msg: LinkMessage): Uint8Array | undefined {
    msg.ctr = ++auth.sendCtr;
    const bytes = encode(msg);
    stampLinkAuth(auth.key, bytes);
    const keyring = this.credentials.keyring;
    if (keyring.currentEpoch === undefined) {
      this.counters.fail(PeerFailure.NoGridKey);
      return undefined;
    }
    writeTag(keyring, bytes, bytes.length - TAG_FIELD_BYTES, -1);
    return bytes;
  }

  /**
   * A message on `link` (its grid-key tag already checked): its link auth, then its counter
   * against the link's replay window. Undefined when it is the link's and fresh.
   */
  checkOnLink(link: Link, bytes: Uint8Array, ctr: number): DropReason | undefined {
    if (!checkLinkAuth(link.auth.key, bytes)) return PeerDrop.LinkAuth;
    return link.auth.window.take(ctr) === "fresh" ? undefined : PeerDrop.LinkReplay;
  }

  /** A fresh nonce for a Connect, a Force or a reply (from the CSPRNG: an insider must not guess it). */
  newNonce(): Uint8Array {
    return this.cfg.crypto.randomBytes(LINK_NONCE_BYTES);
  }

  /**
   * The key of the link `initiator` opened with `responder`, under the grid key of the epoch
   * the request was tagged with (`epochByte`); undefined when that key is gone.
   */
  linkKey(epochByte: number, initiatorNonce: Uint8Array, responderNonce: Uint8Array, initiator: number, responder: number): SipKey | undefined {
    const gridKey = this.credentials.keyring.keyForTagByte(epochByte);
    if (gridKey === undefined || initiatorNonce.length !== LINK_NONCE_BYTES || responderNonce.length !== LINK_NONCE_BYTES) return undefined;
    return deriveLinkKey(this.cfg.crypto, gridKey, initiatorNonce, responderNonce, initiator, responder);
  }

  /** Sends a request whose reply will be matched by `msg.req`; it retransmits until answered. */
  request(now: number, to: Address, msg: AnyMessage & { req: number }, tag: RequestTag): void {
    const bytes = this.seal(msg);
    if (bytes !== undefined) this.requestBytes(now, to, msg.req, bytes, tag);
  }

  /** request() for bytes already encoded (a session frame, lobby-client.ts). */
  requestBytes(now: number, to: Address, req: number, bytes: Uint8Array, tag: RequestTag): void {
    if (!this.requests.add(now, req, to, bytes, tag)) {
      this.counters.fail(PeerFailure.RequestTableFull);
      return;
    }
    this.transmit(to, bytes);
  }

  nextReq(): number {
    return this.requests.allocate();
  }

  /** Checks the ticket a neighbour showed for this grid, peer id and address (PROTOCOL.md 6.3). */
  checkTicket(peer: number, address: Address, ticket: Uint8Array): TicketVerdict | TicketV2Verdict | "no-lobby-key" {
    return this.credentials.checkTicket(this.grid, peer, address, ticket);
  }

  /** `vouched`: named by the lobby or proved by a ticket (see `vouched`). */
  rememberMember(peer: number, address: Address, vouched = false): void {
    if (peer === this.self || peer === 0) return;
    if (!this.members.has(peer) && this.members.size >= this.cfg.maxKnownMembers) {
      const oldest = this.members.keys().next();
      if (!oldest.done) this.forgetMember(oldest.value);
    }
    this.members.set(peer, address);
    if (vouched) this.vouched.add(peer);
  }

  /** Forgets a member (evicted, or gone silent): `vouched` stays a subset of `members`, so it is bounded by maxKnownMembers too. */
  forgetMember(peer: number): void {
    this.members.delete(peer);
    this.vouched.delete(peer);
  }

  /**
   * Opens a link, or returns false when `address` already belongs to another link: one
   * address is one peer (the relay path finds the sending link by address), so a reply or
   * request naming another id from a linked address (stale after a restart, or forged) is refused.
   *
   * `confirmed`: the neighbour is known to hold the link too (it accepted our Connect or
   * Force, and its ticket checked out). A link opened by accepting the neighbour's request is
   * confirmed by its first Pong or Ping (pings.ts): until then a joining peer is not "joined",
   * because the neighbour may still refuse our ticket and close it again at once (a flapping
   * link used to resolve joinGrid() and leave the peer alone with no error).
   */
  openLink(now: number, peer: number, address: Address, neighbourLinks: number, auth: LinkAuth, confirmed = true, forced = false): boolean {
    if (this.links.has(peer)) return true;
    if (this.links.byAddr(address) !== undefined) {
      this.counters.fail(PeerFailure.AddressInUse);
      return false;
    }
    const link = this.links.open(now, peer, address, neighbourLinks, auth, confirmed, forced);
    this.rememberMember(peer, address, true); // its ticket was checked (or it accepted ours)
    this.counters.linksOpened++;
    for (const o of this.observers) o.linkOpened(now, link);
    this.emit({ type: "linkOpen", peer, address, links: this.links.size });
    if (confirmed && this.current === "joining") this.becomeMember();
    return true;
  }

  /** The neighbour showed it holds the link (a Pong or a Ping on it). */
  confirmLink(link: Link): void {
    if (link.confirmed) return;
    link.confirmed = true;
    if (this.current === "joining") this.becomeMember();
  }

  /** The first link (or an empty grid): broadcasts now reach the grid. */
  becomeMember(): void {
    this.setPhase("member");
    this.emit({ type: "joined", grid: this.grid, peer: this.self, links: this.links.size });
  }

  /**
   * Closes a link locally and, unless the neighbour closed it (`remoteReason` given), asks
   * it to close its side too (a close handshake: Disconnect, DisconnectAck; claim 37).
   */
  closeLink(now: number, peer: number, reason: LinkCloseReason, remoteReason?: number): boolean {
    const link = this.links.close(peer);
    if (link === undefined) return false;
    this.counters.linksClosed++;
    if (remoteReason === undefined) {
      const req = this.nextReq();
      const bytes = this.sealOnLink(link, { kind: Kind.Disconnect, req, grid: this.grid, from: this.self, to: peer, reason: wireReason(reason), ctr: 0, auth: NO_AUTH, tag: NO_TAG });
      if (bytes !== undefined) this.requestBytes(now, link.address, req, bytes, { t: "disconnect", peer });
    }
    for (const o of this.observers) o.linkClosed(now, link, reason);
    const e: PeerEvent =
      remoteReason === undefined
        ? { type: "linkClosed", peer, reason, links: this.links.size }
        : { type: "linkClosed", peer, reason, remoteReason, links: this.links.size };
    this.emit(e);
    return true;
  }

  /**
   * An authenticated datagram from `from` (it carried a valid grid-key tag, so it really is
   * from a member) was invalid: it counts against the link there, and a link past
   * maxInvalidPerLink in one ping interval is closed as misbehaving. Unauthenticated garbage
   * never counts: anyone can spoof a neighbour's address.
   */
  chargeLink(now: number, from: Address): void {
    const link = this.links.byAddr(from);
    if (link === undefined) return;
    if (++link.invalid > this.cfg.maxInvalidPerLink) this.closeLink(now, link.peer, "misbehaving");
  }

  /**
   * The neighbour the drop policy (ConnectionRules.selectDrop, claim 32) gives up, or
   * undefined when it refuses. With `anyway` (the limit was lowered: the limit wins) the
   * most connected neighbour goes when the policy refuses every one. `forcedOnly`: choose
   * among forced links alone (a Force past forcedLinkCap, links.ts).
   */
  pickDrop(now: number, anyway = false, forcedOnly = false): NeighbourInfo | undefined {
    // A neighbour's reported count counts only once it proved itself (links.ts neighbours).
    const neighbours = this.links.neighbours(now, JUDGE_AFTER_PINGS * this.cfg.pingIntervalMs, forcedOnly);
    const pick = this.cfg.connectionRules.selectDrop(neighbours, this.random);
    if (pick !== undefined || !anyway || neighbours.length === 0) return pick;
    return neighbours.reduce((a, b) => (b.links > a.links ? b : a));
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
