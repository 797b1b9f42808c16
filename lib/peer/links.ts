/**
 * The peer's direct links (claim 1: at most connectionLimit of them), indexed by peer id
 * and by address, so the relay path finds the sending link from the datagram's source
 * address in one Map lookup.
 */
import type { Address } from "../endpoint.ts";
import { LinkReplayWindow } from "../security/link-auth.ts";
import type { SipKey } from "../security/siphash.ts";
import { TokenBucket } from "../util/rate-limit.ts";
import type { NeighbourInfo } from "./connection-rules.ts";
import type { LinkCloseReason } from "./events.ts";

export interface Link {
  readonly peer: number;
  readonly address: Address;
  readonly openedAt: number;
  /** Smoothed RTT (RFC 6298 style, alpha 1/8); 0 until the first pong. */
  srttMs: number;
  /** Consecutive unacceptable pongs (claim 49). */
  missed: number;
  /** The outstanding ping's id and send time, or -1 when none is out. */
  pingReq: number;
  pingSentAt: number;
  /** The neighbour's link count from its latest pong or reply. */
  neighbourLinks: number;
  /** Invalid datagrams from this link since the last ping tick (misbehaviour detection). */
  invalid: number;
  /**
   * Authenticated relay data this link may send (linkDataPerSecond, issue 15: 5,000 x 1 KB on
   * one link in a second used to be relayed in full) and tagged control (linkControlPerSecond).
   * Charged only after the grid-key tag verified (receive.ts), so a spoofer cannot mute a link.
   */
  readonly data: TokenBucket;
  readonly control: TokenBucket;
  /** The neighbour is known to hold the link too (core.ts openLink). */
  confirmed: boolean;
  /**
   * Opened because the neighbour forced us (Force, claim 32), not by our choice or our yes
   * to its Connect: forced links hold at most half the slots (forcedLinkCap), so members
   * forcing one after another cannot make every link theirs (issue 15, eclipse).
   */
  readonly forced: boolean;
  /** The link key and its counters (PROTOCOL.md 6.13, lib/security/link-auth.ts). */
  readonly auth: LinkAuth;
  /**
   * Relay data this link delivered first (a fresh copy no other link had brought yet): what
   * this peer saw itself of the link's worth, for the drop choice (core.ts pickDrop), where a
   * neighbour's reported link count is only its word.
   */
  firstDeliveries: number;
}

/** What authenticates one link's control messages (PROTOCOL.md 6.13). */
export interface LinkAuth {
  readonly key: SipKey;
  /** The nonces that made the key: a retransmitted Connect or Force carries the same initiator nonce and gets the same answer. */
  readonly initiatorNonce: Uint8Array;
  readonly responderNonce: Uint8Array;
  /** The last counter this peer sent on the link (the next message carries sendCtr + 1). */
  sendCtr: number;
  readonly window: LinkReplayWindow;
}

/** A link's auth state for a key both ends derived. */
export function newLinkAuth(key: SipKey, initiatorNonce: Uint8Array, responderNonce: Uint8Array): LinkAuth {
  return { key, initiatorNonce, responderNonce, sendCtr: 0, window: new LinkReplayWindow() };
}

/**
 * How many links a peer with `limit` slots lets Forces hold: half, rounded down, and at
 * least one (a one-slot peer can still be forced, claim 32). Past it a Force drops another
 * forced link, never one the peer chose or accepted.
 */
export function forcedLinkCap(limit: number): number {
  return Math.max(1, Math.floor(limit / 2));
}

/**
 * The link count the drop policy sees for a neighbour whose report is not believed (links.ts
 * neighbours): more than any peer holds, so it goes before every neighbour that proved useful.
 */
export const UNPROVEN_LINKS = 255;

/** Per-link token bucket rates (PeerConfig). */
export interface LinkBudgets {
  readonly linkDataPerSecond: number;
  readonly linkDataBurst: number;
  readonly linkControlPerSecond: number;
  readonly linkControlBurst: number;
}

/**
 * A part that keeps state per link (the seeker's cooldowns, the lobby's link reports, the
 * relay rules): PeerCore calls each observer, in the order the Peer registered them, right
 * after a link opened or closed.
 */
export interface LinkObserver {
  linkOpened(now: number, link: Link): void;
  linkClosed(now: number, link: Link, reason: LinkCloseReason): void;
}

export class LinkTable {
  private readonly byPeer = new Map<number, Link>();
  private readonly byAddress = new Map<Address, Link>();
  /** Peer ids in a dense array for the relay loop (no iterator allocation per message). */
  ids: number[] = [];
  addresses: Address[] = [];

  constructor(private readonly budgets: LinkBudgets) {}

  get size(): number {
    return this.byPeer.size;
  }

  has(peer: number): boolean {
    return this.byPeer.has(peer);
  }

  get(peer: number): Link | undefined {
    return this.byPeer.get(peer);
  }

  byAddr(address: Address): Link | undefined {
    return this.byAddress.get(address);
  }

  open(now: number, peer: number, address: Address, neighbourLinks: number, auth: LinkAuth, confirmed = true, forced = false): Link {
    const existing = this.byPeer.get(peer);
    if (existing !== undefined) return existing;
    const link: Link = {
      peer,
      address,
      openedAt: now,
      srttMs: 0,
      missed: 0,
      pingReq: -1,
      pingSentAt: 0,
      neighbourLinks,
      invalid: 0,
      data: new TokenBucket(this.budgets.linkDataPerSecond, this.budgets.linkDataBurst, now),
      control: new TokenBucket(this.budgets.linkControlPerSecond, this.budgets.linkControlBurst, now),
      confirmed,
      forced,
      auth,
      firstDeliveries: 0,
    };
    this.byPeer.set(peer, link);
    this.byAddress.set(address, link);
    this.rebuild();
    return link;
  }

  close(peer: number): Link | undefined {
    const link = this.byPeer.get(peer);
    if (link === undefined) return undefined;
    this.byPeer.delete(peer);
    if (this.byAddress.get(link.address) === link) this.byAddress.delete(link.address);
    this.rebuild();
    return link;
  }

  all(): IterableIterator<Link> {
    return this.byPeer.values();
  }

  /**
   * What the drop policy (ConnectionRules.selectDrop, claim 32) knows of each neighbour;
   * `forcedOnly`: of forced links alone. A neighbour's link count is only its word (its
   * Pong), so it is believed from a neighbour this peer has seen deliver relay data first (a
   * fresh copy no other link had brought), or one too new to judge (opened less than
   * `judgeAfterMs` ago). Once some link has delivered (there is traffic to judge by), a
   * neighbour that delivered nothing first in all its time is shown with UNPROVEN_LINKS, so
   * "drop the most connected" takes it first whatever it reports (issue 15: colluders that
   * reported few links and relayed nothing were spared, and honest links went instead).
   */
  neighbours(now: number, judgeAfterMs: number, forcedOnly = false): NeighbourInfo[] {
    let judging = false;
    for (const l of this.byPeer.values()) if (l.firstDeliveries > 0) judging = true;
    const out: NeighbourInfo[] = [];
    for (const l of this.byPeer.values()) {
      if (forcedOnly && !l.forced) continue;
      const believed = !judging || l.firstDeliveries > 0 || now - l.openedAt < judgeAfterMs;
      out.push({ peer: l.peer, links: believed ? l.neighbourLinks : UNPROVEN_LINKS, rttMs: l.srttMs });
    }
    return out;
  }

  /** Links opened because the neighbour forced us. */
  forcedCount(): number {
    let n = 0;
    for (const l of this.byPeer.values()) if (l.forced) n++;
    return n;
  }

  private rebuild(): void {
    this.ids = [...this.byPeer.keys()];
    this.addresses = this.ids.map((id) => (this.byPeer.get(id) as Link).address);
  }
}
