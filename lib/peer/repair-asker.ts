/**
 * Whom repair asks for a missing seq, how long it waits for the answer, and the RepairRequests
 * it sends (PROTOCOL.md 4.2.1): the origin itself when it is a link (it holds all its own
 * messages), else the parent (the link that delivers the origin here) on every other try and
 * the other links in turn between; the asks due at one tick go out packed per link as
 * (origin, first, mask) entries.
 */
import { Kind, MAX_REPAIR_WANTS, type RepairWant } from "../../wire/index.ts";
import type { OriginIndex } from "../relay/retransmit-buffer.ts";
import { NO_AUTH, NO_TAG, type PeerCore } from "./core.ts";
import type { Link } from "./links.ts";
import type { ParentSource } from "./repair.ts";

/** One missing seq of one origin (repair.ts keeps them per origin). */
export interface Gap {
  readonly seq: number;
  dueAt: number;
  attempts: number;
  /** The link asked last (0: none yet), and the last link asked that is not the parent. */
  asked: number;
  other: number;
  /** Links that asked us for this seq while we miss it too, and when: answered when it arrives, if they still wait. */
  readonly waiting: number[];
  readonly waitingSince: number[];
}

/** One origin's repair state (repair.ts). */
export interface Track {
  readonly idx: OriginIndex;
  /** The first seq seen of this origin, and the newest. */
  readonly first: number;
  top: number;
  /** Missing seqs, oldest first. */
  readonly gaps: Gap[];
}

const DEFAULT_RTT_MS = 200;
/** The longest wait for an answer. */
export const MAX_WAIT_MS = 1000;

export class RepairAsker {
  constructor(
    private readonly core: PeerCore,
    private readonly parents: ParentSource,
    private readonly counters: { asked: number; requestsSent: number },
  ) {}

  /**
   * The link to ask (0: no link): the origin itself when linked (it holds every message of its
   * own), else the parent on every other try (the likeliest to hold it, or to get it soon:
   * it answers then), and the other links in turn in between.
   */
  pick(origin: number, g: Gap): number {
    const links = this.core.links;
    if (links.has(origin)) return origin;
    const p = this.parents.parentOf(origin);
    const parent = p !== 0 && links.has(p) ? p : 0;
    if (parent !== 0 && g.attempts % 2 === 0) return parent;
    const ids = links.ids;
    if (ids.length === 0) return 0;
    let at = ids.indexOf(g.other);
    for (let k = 0; k < ids.length; k++) {
      at = (at + 1) % ids.length;
      const peer = ids[at] as number;
      if (peer !== parent || ids.length === 1) {
        g.other = peer;
        return peer;
      }
    }
    return parent;
  }

  /**
   * How long to wait for `peer`'s answer after `tried` earlier tries: 2 x RTT + 20 ms, growing a
   * quarter per try (at most MAX_WAIT_MS). A parent that misses the seq too answers once its own repair lands,
   * about one round trip further up: waiting on it covers the slowest of this peer's links too.
   */
  waitFor(peer: number, tried: number, parent: boolean): number {
    const srtt = this.core.links.get(peer)?.srttMs || DEFAULT_RTT_MS;
    let wait = 2 * srtt + 20;
    if (parent) wait = Math.max(wait, 1.5 * this.slowestRtt() + 20);
    return Math.min(MAX_WAIT_MS, Math.max(50, wait) * (1 + 0.25 * tried));
  }

  /** The slowest of this peer's links' smoothed RTT (about one round trip anywhere in the grid). */
  slowestRtt(): number {
    let slowest = 0;
    for (const l of this.core.links.all()) slowest = Math.max(slowest, l.srttMs || DEFAULT_RTT_MS);
    return slowest;
  }

  /** Sends `peer` RepairRequests for the (origin, seq) pairs in `list`, packed into (origin, first, mask). */
  request(peer: number, list: number[]): void {
    const core = this.core;
    const link = core.links.get(peer);
    if (link === undefined) return;
    let wants: RepairWant[] = [];
    let last: RepairWant | undefined;
    for (let i = 0; i < list.length; i += 2) {
      const origin = list[i] as number;
      const seq = list[i + 1] as number;
      const d = last === undefined ? -1 : (seq - last.first) >>> 0;
      if (last !== undefined && last.origin === origin && d < 32) last.mask = (last.mask | (1 << d)) >>> 0;
      else {
        if (wants.length === MAX_REPAIR_WANTS) {
          this.send(link, wants);
          wants = [];
        }
        last = { origin, first: seq, mask: 1 };
        wants.push(last);
      }
      this.counters.asked++;
    }
    if (wants.length > 0) this.send(link, wants);
  }

  private send(link: Link, wants: RepairWant[]): void {
    const core = this.core;
    core.sendOnLink(link, { kind: Kind.RepairRequest, grid: core.grid, from: core.self, to: link.peer, wants, ctr: 0, auth: NO_AUTH, tag: NO_TAG });
    this.counters.requestsSent++;
  }

}
