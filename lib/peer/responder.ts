/**
 * Answering other peers' requests: join and connection-available (positive when a link is
 * free, claims 27, 38), connect (re-checks room, so the limit holds even when several peers
 * picked us at once), force connection (claim 32: drop a link so the grid stays whole),
 * disconnect and ping. Every handler is idempotent: a retransmitted request gets the same
 * answer and changes nothing twice; a replayed one (a nonce taken before, a counter the link
 * took) changes nothing at all (PROTOCOL.md 6.13). The lobby's own messages (Probe, RepairHint) are the
 * lobby client's and the seeker's.
 */
import type { Address } from "../endpoint.ts";
import { DisconnectReason, Kind, type MessageOf } from "../../wire/index.ts";
import { NO_AUTH, NO_TAG, type PeerCore } from "./core.ts";
import { PeerDrop, TICKET_DROP, type DropReason } from "./drops.ts";
import type { NeighbourCounts } from "./pings.ts";
import type { Seeker } from "./seeker.ts";
import { responderAuth, sameNonce } from "./link-keys.ts";
import { forcedLinkCap, type Link, type LinkAuth } from "./links.ts";

const NO_TICKET = new Uint8Array(0);
/** A refusal carries no nonce: no link, no key (and the refusal stays small). */
const NO_NONCE = new Uint8Array(0);


type Ask = MessageOf<typeof Kind.Join> | MessageOf<typeof Kind.Available>;
type LinkRequest = MessageOf<typeof Kind.Connect> | MessageOf<typeof Kind.Force>;

/** Pings a link just opened on the neighbour's request, to confirm it (pings.ts). */
export interface LinkProbe {
  probe(now: number, peer: number): void;
}

export class Responder {
  constructor(
    private readonly core: PeerCore,
    /** Room and the slots held by our own requests in flight are the seeker's. */
    private readonly seeker: Seeker,
    /** Confirms links it opened (probe) and refreshes the neighbours' link counts (pings.ts). */
    private readonly pings: LinkProbe & NeighbourCounts,
  ) {}

  onAsk(from: Address, msg: Ask): DropReason | undefined {
    const core = this.core;
    core.rememberMember(msg.from, from);
    const positive = this.seeker.hasRoom() && !core.links.has(msg.from);
    const reply = { req: msg.req, grid: core.grid, from: core.self, to: msg.from, positive, links: core.links.size, tag: NO_TAG };
    if (msg.kind === Kind.Join) core.send(from, { kind: Kind.JoinReply, ...reply, limit: core.limit });
    else core.send(from, { kind: Kind.AvailableReply, ...reply });
    return undefined;
  }

  onConnect(now: number, from: Address, bytes: Uint8Array, msg: MessageOf<typeof Kind.Connect>): DropReason | undefined {
    const core = this.core;
    const pending = this.seeker.pending;
    const link = core.links.get(msg.from);
    if (this.retransmitted(link, from, msg)) {
      this.replyConnect(from, msg, true, this.ticketFor(undefined, from), (link as Link).auth.responderNonce);
      return undefined;
    }
    // A Connect acted on before and not the one that opened the link: a replay (PROTOCOL.md 6.13).
    if (core.nonces.seen(now, msg.from, msg.nonce)) return PeerDrop.RequestReplay;
    // Would it accept? Only then is the ticket checked (an Ed25519 verification): a full peer
    // that many joiners ask at once refuses them for nothing (issue 16 item 4, 10,000 members).
    const crossed = link === undefined && pending.has(msg.from) && core.self < msg.from;
    const fresh = link === undefined && core.links.byAddr(from) === undefined && this.seeker.hasRoom() && !pending.has(msg.from);
    // A linked id from another address is checked too: a replay or a forgery worth counting.
    const wants = link !== undefined || fresh || (crossed && core.links.byAddr(from) === undefined);
    const drop = wants ? this.ticketDrop(from, msg) : undefined;
    let accepted = false;
    let nonce: Uint8Array = NO_NONCE;
    if (wants && drop === undefined) {
      core.nonces.remember(now, msg.from, msg.nonce);
      // A link keyed by another request stays as it is: a request never re-keys a link
      // (a replayed Connect would otherwise cut it: the neighbour keeps the old key).
      const auth = link === undefined ? this.authFor(bytes, msg) : undefined;
      if (auth !== undefined) {
        // Both sides asked each other at once: the lower id yields its own request and accepts.
        if (crossed) pending.delete(msg.from);
        accepted = core.openLink(now, msg.from, from, 0, auth, false);
        if (accepted) nonce = auth.responderNonce;
      }
    }
    // Our ticket only to a request we would take and whose ticket held: a refusal stays small (<= 3x, PROTOCOL.md 6.2).
    this.replyConnect(from, msg, accepted, wants ? this.ticketFor(drop, from) : NO_TICKET, nonce);
    if (accepted) this.pings.probe(now, msg.from);
    return drop;
  }

  private replyConnect(from: Address, msg: MessageOf<typeof Kind.Connect>, accepted: boolean, ticket: Uint8Array, nonce: Uint8Array): void {
    const core = this.core;
    core.send(from, { kind: Kind.ConnectReply, req: msg.req, grid: core.grid, from: core.self, to: msg.from, accepted, nonce, ticket, tag: NO_TAG });
  }

  /**
   * Claim 32: close one of this peer's links to make room for the forcing peer, then confirm.
   * Each Force is taken once (its nonce, PROTOCOL.md 6.13), and forced links hold at most
   * forcedLinkCap slots whether this peer is full or not (issue 15: colluders used to fill the
   * free slots of a peer that had just joined by Force, before its own seeker could).
   */
  onForce(now: number, from: Address, bytes: Uint8Array, msg: MessageOf<typeof Kind.Force>): DropReason | undefined {
    const core = this.core;
    const pending = this.seeker.pending;
    const link = core.links.get(msg.from);
    if (this.retransmitted(link, from, msg)) {
      this.replyForce(from, msg, true, this.ticketFor(undefined, from), (link as Link).auth.responderNonce);
      return undefined;
    }
    if (core.nonces.seen(now, msg.from, msg.nonce)) return PeerDrop.RequestReplay;
    const drop = this.ticketDrop(from, msg);
    let ok = false;
    let nonce: Uint8Array = NO_NONCE;
    const auth = drop === undefined && link === undefined ? this.authFor(bytes, msg) : undefined;
    if (drop === undefined) core.nonces.remember(now, msg.from, msg.nonce);
    if (auth !== undefined) {
      // Past the cap a Force takes the slot of another forced link, whatever the counts its
      // holders report, and the free slots and links of our own choosing stay ours.
      const capped = core.links.forcedCount() >= forcedLinkCap(core.limit);
      if (core.links.byAddr(from) !== undefined) ok = false; // another link's address: never drop a link for it
      else if (capped) {
        const d = core.pickDrop(now, true, true);
        if (d !== undefined && core.closeLink(now, d.peer, "forced")) ok = this.seeker.hasRoom();
      } else if (this.seeker.hasRoom() && !pending.has(msg.from)) ok = true;
      else if (pending.has(msg.from)) {
        // We asked it at the same time: the slot our own request holds is the room it wants.
        pending.delete(msg.from);
        ok = true;
      } else if (core.links.size > 0) {
        const d = core.pickDrop(now);
        if (d !== undefined && core.closeLink(now, d.peer, "forced")) ok = this.seeker.hasRoom();
        if (d === undefined) this.pings.refreshCounts(now); // a retried Force decides on fresh counts
      }
      if (ok) {
        ok = core.openLink(now, msg.from, from, 0, auth, false, true);
        if (ok) {
          core.counters.forcedConnections++;
          nonce = auth.responderNonce;
        }
      }
    }
    this.replyForce(from, msg, ok, this.ticketFor(drop, from), nonce);
    if (ok) this.pings.probe(now, msg.from);
    return drop;
  }

  private replyForce(from: Address, msg: MessageOf<typeof Kind.Force>, ok: boolean, ticket: Uint8Array, nonce: Uint8Array): void {
    const core = this.core;
    core.send(from, { kind: Kind.ForceReply, req: msg.req, grid: core.grid, from: core.self, to: msg.from, ok, nonce, ticket, tag: NO_TAG });
  }

  /** The request that opened `link`, sent again (its reply was lost): the same nonce from the same address. */
  private retransmitted(link: Link | undefined, from: Address, msg: LinkRequest): boolean {
    return link !== undefined && link.address === from && sameNonce(link.auth.initiatorNonce, msg.nonce);
  }

  /** The auth of the link a request would open: our fresh nonce and the key from both (PROTOCOL.md 6.13). */
  private authFor(bytes: Uint8Array, msg: LinkRequest): LinkAuth | undefined {
    return responderAuth(this.core, bytes, msg.from, msg.nonce);
  }

  onDisconnect(now: number, from: Address, bytes: Uint8Array, msg: MessageOf<typeof Kind.Disconnect>): DropReason | undefined {
    const core = this.core;
    const link = core.links.get(msg.from);
    if (link !== undefined && link.address === from) {
      // Only the neighbour holds the link key: a Disconnect forged "from" it at its address,
      // or a captured one replayed, is dropped and unanswered (issue 15, link cutting).
      const bad = core.checkOnLink(link, bytes, msg.ctr);
      if (bad !== undefined) return bad;
      core.closeLink(now, msg.from, "remote", msg.reason);
    }
    core.send(from, { kind: Kind.DisconnectAck, req: msg.req, grid: core.grid, from: core.self, to: msg.from, tag: NO_TAG });
    return undefined;
  }

  onPing(from: Address, bytes: Uint8Array, msg: MessageOf<typeof Kind.Ping>): DropReason | undefined {
    const core = this.core;
    const link = core.links.get(msg.from);
    if (link !== undefined && link.address === from) {
      const bad = core.checkOnLink(link, bytes, msg.ctr);
      if (bad !== undefined) return bad;
      core.sendOnLink(link, { kind: Kind.Pong, req: msg.req, grid: core.grid, from: core.self, to: msg.from, links: core.links.size, ctr: 0, auth: NO_AUTH, tag: NO_TAG });
      core.confirmLink(link); // it pings us: it holds the link
      return undefined;
    }
    // Our connect or force to it is still unanswered (its reply was lost): it has linked us,
    // but the key needs its reply's nonce, which our retransmit will get. Until then its
    // pings cannot be checked, so none is answered.
    if (link === undefined && this.seeker.pending.has(msg.from)) return undefined;
    // The sender thinks we are linked but we are not (our close or its connect got lost).
    // Without the link's key nothing we could say would be believed (a Disconnect NotLinked
    // is exactly what a forger would send), so its side closes by missed pings (claim 49).
    return PeerDrop.PingNotLinked;
  }

  /**
   * The ticket a reply shows: ours when the requester's verified, none when it did not. A
   * request whose ticket failed may come from anywhere (a member can tag a Connect and send
   * it from a victim's address), and our ticket would make the reply up to 5 times its size;
   * without it the refusal is about as large as the request (PROTOCOL.md 6.2: never 3x).
   */
  private ticketFor(drop: DropReason | undefined, from: Address): Uint8Array {
    return drop === undefined ? this.core.credentials.ticketFor(from) : NO_TICKET;
  }

  /**
   * A link-opening request must show a ticket the lobby signed for this peer id and address,
   * or a key-bound one whose key the source proved (PROTOCOL.md 6.3).
   */
  private ticketDrop(from: Address, msg: LinkRequest): DropReason | undefined {
    const verdict = this.core.checkTicket(msg.from, from, msg.ticket);
    return verdict === "ok" ? undefined : TICKET_DROP[verdict];
  }
}
