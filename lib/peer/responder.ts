/**
 * Answering other peers' requests: join and connection-available (positive when a link is
 * free, claims 27, 38), connect (re-checks room, so the limit holds even when several peers
 * picked us at once), force connection (claim 32: drop a link so the grid stays whole),
 * disconnect and ping. Every handler is idempotent: a retransmitted request gets the same
 * answer and changes nothing twice. The lobby's own messages (Probe, RepairHint) are the
 * lobby client's and the seeker's.
 */
import type { Address } from "../endpoint.ts";
import { DisconnectReason, Kind, type MessageOf } from "../../wire/index.ts";
import { NO_TAG, type PeerCore } from "./core.ts";
import { PeerDrop, TICKET_DROP, type DropReason } from "./drops.ts";
import type { NeighbourCounts } from "./pings.ts";
import type { Seeker } from "./seeker.ts";

const NO_TICKET = new Uint8Array(0);

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
    const reply = { req: msg.req, grid: core.grid, from: core.self, positive, links: core.links.size, tag: NO_TAG };
    if (msg.kind === Kind.Join) core.send(from, { kind: Kind.JoinReply, ...reply, limit: core.limit });
    else core.send(from, { kind: Kind.AvailableReply, ...reply });
    return undefined;
  }

  onConnect(now: number, from: Address, msg: MessageOf<typeof Kind.Connect>): DropReason | undefined {
    const core = this.core;
    const pending = this.seeker.pending;
    const link = core.links.get(msg.from);
    // Would it accept? Only then is the ticket checked (an Ed25519 verification): a full peer
    // that many joiners ask at once refuses them for nothing (issue 16 item 4, 10,000 members).
    const crossed = link === undefined && pending.has(msg.from) && core.self < msg.from;
    const fresh = link === undefined && core.links.byAddr(from) === undefined && this.seeker.hasRoom() && !pending.has(msg.from);
    // A linked id from another address is checked too: a replay or a forgery worth counting.
    const wants = link !== undefined || fresh || (crossed && core.links.byAddr(from) === undefined);
    const drop = wants ? this.ticketDrop(from, msg) : undefined;
    let accepted = false;
    if (wants && drop === undefined) {
      if (link !== undefined) accepted = link.address === from;
      else {
        // Both sides asked each other at once: the lower id yields its own request and accepts.
        if (crossed) pending.delete(msg.from);
        accepted = core.openLink(now, msg.from, from, 0, false);
      }
    }
    // Our ticket only to a request we would take and whose ticket held: a refusal stays small (<= 3x, PROTOCOL.md 6.2).
    const ticket = wants ? this.ticketFor(drop, from) : NO_TICKET;
    core.send(from, { kind: Kind.ConnectReply, req: msg.req, grid: core.grid, from: core.self, accepted, ticket, tag: NO_TAG });
    if (accepted) this.pings.probe(now, msg.from);
    return drop;
  }

  /** Claim 32: close one of this peer's links to make room for the forcing peer, then confirm. */
  onForce(now: number, from: Address, msg: MessageOf<typeof Kind.Force>): DropReason | undefined {
    const core = this.core;
    const pending = this.seeker.pending;
    const drop = this.ticketDrop(from, msg);
    let ok = false;
    if (drop === undefined) {
      const link = core.links.get(msg.from);
      if (link !== undefined) ok = link.address === from;
      else if (core.links.byAddr(from) !== undefined) ok = false; // another link's address: never drop a link for it
      else if (this.seeker.hasRoom() && !pending.has(msg.from)) ok = true;
      else if (pending.has(msg.from)) {
        // We asked it at the same time: the slot our own request holds is the room it wants.
        pending.delete(msg.from);
        ok = true;
      } else if (core.links.size > 0) {
        const d = core.pickDrop();
        if (d !== undefined && core.closeLink(now, d.peer, "forced")) ok = this.seeker.hasRoom();
        if (d === undefined) this.pings.refreshCounts(now); // a retried Force decides on fresh counts
      }
      if (ok && !core.links.has(msg.from)) {
        ok = core.openLink(now, msg.from, from, 0, false);
        if (ok) core.counters.forcedConnections++;
      }
    }
    core.send(from, { kind: Kind.ForceReply, req: msg.req, grid: core.grid, from: core.self, ok, ticket: this.ticketFor(drop, from), tag: NO_TAG });
    if (ok) this.pings.probe(now, msg.from);
    return drop;
  }

  onDisconnect(now: number, from: Address, msg: MessageOf<typeof Kind.Disconnect>): DropReason | undefined {
    const core = this.core;
    const link = core.links.get(msg.from);
    if (link !== undefined && link.address === from) core.closeLink(now, msg.from, "remote", msg.reason);
    core.send(from, { kind: Kind.DisconnectAck, req: msg.req, grid: core.grid, from: core.self, tag: NO_TAG });
    return undefined;
  }

  onPing(from: Address, msg: MessageOf<typeof Kind.Ping>): DropReason | undefined {
    const core = this.core;
    // Our connect or force to it is still unanswered (its reply was lost): it has linked us,
    // and our retransmit will get the same yes. Answer, so it does not count us dead
    // meanwhile; saying "not linked" would undo the link.
    const link = core.links.get(msg.from);
    if ((link !== undefined && link.address === from) || (link === undefined && this.seeker.pending.has(msg.from))) {
      core.send(from, { kind: Kind.Pong, req: msg.req, grid: core.grid, from: core.self, links: core.links.size, tag: NO_TAG });
      if (link !== undefined) core.confirmLink(link); // it pings us: it holds the link
      return undefined;
    }
    // The sender thinks we are linked but we are not (our close or its connect got lost):
    // tell it, so its side closes too instead of counting misses (same size as the ping).
    core.send(from, { kind: Kind.Disconnect, req: msg.req, grid: core.grid, from: core.self, reason: DisconnectReason.NotLinked, tag: NO_TAG });
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
