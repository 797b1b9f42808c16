/**
 * Link liveness (claims 45-51): ping every link each pingIntervalMs; a pong that is not back
 * within pongTimeoutMs is unacceptable (claims 47, 48); maxMissedPings of those in a row
 * (claim 49) close the link, ask the lobby for the connection's status (claim 50) and report
 * the close (claim 51, the lobby client's link observer). Arms the ping-tick and
 * pong-deadline timers; the per-link ping state lives on the Link.
 *
 * A new link is pinged at once, not at the next tick: its Pong carries the neighbour's link
 * count, which the drop policy needs (claim 32: never strand a neighbour) when this peer is
 * forced or repairs an island within its first second (issue 18, item 3).
 */
import { Kind, type MessageOf } from "../../wire/index.ts";
import type { Address } from "../endpoint.ts";
import { NO_AUTH, NO_TAG, type PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";
import { PeerTimer } from "./timers.ts";

/** Asks the neighbours for their link counts again (Pinger.refreshCounts). */
export interface NeighbourCounts {
  refreshCounts(now: number): void;
}

/** Who is asked about a link whose pings went unanswered (the lobby client, claim 50). */
export interface LinkStatusSource {
  askLinkStatus(now: number, other: number): void;
}

export class Pinger implements LinkObserver {
  constructor(
    private readonly core: PeerCore,
    private readonly status: LinkStatusSource,
  ) {}

  /** Admitted: the first ping tick one interval from now. */
  start(now: number): void {
    this.core.timers.arm(PeerTimer.PingTick, now + this.core.cfg.pingIntervalMs);
  }

  onPingTick(now: number): void {
    const core = this.core;
    core.timers.arm(PeerTimer.PingTick, now + core.cfg.pingIntervalMs);
    if (core.links.size === 0) return;
    for (const link of core.links.all()) {
      link.invalid = 0;
      this.ping(now, link);
    }
    core.timers.arm(PeerTimer.PongDeadline, now + core.cfg.pongTimeoutMs);
  }

  /**
   * A link this peer opened on its own request (the neighbour accepted, so it is confirmed)
   * is pinged at once; one opened by accepting a request is pinged by probe() after the reply.
   */
  linkOpened(now: number, link: Link): void {
    if (this.core.phase !== "member" && this.core.phase !== "joining") return;
    if (!link.confirmed) return;
    this.ping(now, link);
    this.core.timers.armEarlier(PeerTimer.PongDeadline, now + this.core.cfg.pongTimeoutMs);
  }

  linkClosed(): void {}

  /**
   * The drop policy refused on the neighbours' link counts (claim 32): they may be stale (a
   * Pong tells a count as of the last ping, and neighbours that joined at once kept linking
   * after it). Every link without a ping out is pinged now, so the next Force or repair
   * decides on fresh counts.
   */
  refreshCounts(now: number): void {
    const core = this.core;
    let sent = false;
    for (const link of core.links.all()) {
      if (link.pingReq !== -1) continue;
      this.ping(now, link);
      sent = true;
    }
    if (sent) core.timers.armEarlier(PeerTimer.PongDeadline, now + core.cfg.pongTimeoutMs);
  }

  private ping(now: number, link: Link): void {
    const core = this.core;
    const req = core.nextReq();
    link.pingReq = req;
    link.pingSentAt = now;
    core.sendOnLink(link, { kind: Kind.Ping, req, grid: core.grid, from: core.self, to: link.peer, ctr: 0, auth: NO_AUTH, tag: NO_TAG });
  }

  /**
   * A link we opened by accepting its request is pinged at once, right after our reply: its
   * Pong confirms it (core.ts openLink). Before the reply, the neighbour would answer as one
   * whose Connect is still unanswered, whatever it then makes of our ticket.
   */
  probe(now: number, peer: number): void {
    const link = this.core.links.get(peer);
    if (link === undefined || link.confirmed) return;
    this.ping(now, link);
    this.core.timers.armEarlier(PeerTimer.PongDeadline, now + this.core.cfg.pongTimeoutMs);
  }

  /** Pings out for pongTimeoutMs are missed; the deadline moves to the next one still out. */
  onPongDeadline(now: number): void {
    const core = this.core;
    core.timers.disarm(PeerTimer.PongDeadline);
    const dead: number[] = [];
    let next = Infinity;
    for (const link of core.links.all()) {
      if (link.pingReq === -1) continue;
      const due = link.pingSentAt + core.cfg.pongTimeoutMs;
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      link.pingReq = -1;
      link.missed++;
      if (link.missed >= core.cfg.maxMissedPings) dead.push(link.peer);
    }
    if (next < Infinity) core.timers.arm(PeerTimer.PongDeadline, next);
    for (const peer of dead) {
      core.closeLink(now, peer, "unresponsive");
      this.status.askLinkStatus(now, peer);
    }
  }

  onPong(now: number, from: Address, bytes: Uint8Array, msg: MessageOf<typeof Kind.Pong>): DropReason | undefined {
    const link = this.core.links.get(msg.from);
    if (link === undefined) return PeerDrop.PongNotLinked;
    if (link.address !== from) return PeerDrop.LatePong;
    // Under the link's key and fresh: a forged or replayed Pong neither keeps a dead link up nor moves its RTT.
    const bad = this.core.checkOnLink(link, bytes, msg.ctr);
    if (bad !== undefined) return bad;
    if (link.pingReq !== msg.req) return PeerDrop.LatePong;
    const rtt = now - link.pingSentAt;
    link.pingReq = -1;
    link.missed = 0;
    link.neighbourLinks = msg.links;
    link.srttMs = link.srttMs === 0 ? rtt : link.srttMs + (rtt - link.srttMs) / 8;
    this.core.confirmLink(link);
    return undefined;
  }
}
