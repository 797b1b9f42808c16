/**
 * Repair (PROTOCOL.md 4.2.1): what a grid loses is pulled again from a neighbour that has it,
 * so a pruned grid (one copy per member) still loses nothing. The part other parts build on
 * (reliable delivery, issue 14): `has`, `holds`, `pull` and the repaired/abandoned observers.
 *
 *   - Every relay envelope this peer sends or takes fresh is kept in the retransmit buffer
 *     (lib/relay/retransmit-buffer.ts, bounded in messages and bytes, oldest out first).
 *   - Seqs of an origin are contiguous, so a seq that arrives past the newest one leaves a gap:
 *     each missing seq is asked for repairDelayMs later (a reordered copy lands first), of the
 *     link whose copies this peer keeps for the origin (redundancy.ts), then of the other
 *     links in turn (waitFor: about a round trip each, growing 1.5x, at most 2 s), at most
 *     maxRepairAttempts times. Requests to one link are batched into RepairRequests.
 *   - A lost last message leaves no gap; the quiet-origin Graft (redundancy.ts) finds it, and
 *     catchUp answers it.
 *   - A RepairRequest is answered from the buffer with Repair datagrams (the envelope with
 *     kind 0x02 and this peer's tag), if the relay rules would have sent the message to the
 *     asker (the redundancy list aside: a neighbour that pruned an origin may still miss one
 *     of its messages) and within the link's byte budget (repairBytesPerSecond). A seq this
 *     peer misses itself is answered when its own repair arrives.
 * Only linked members are answered (receive.ts drops the rest as not-linked), and never more
 * than 128 Repairs per request, so a request cannot be turned into a flood at a third party.
 */
import { Kind, MAX_REPAIR_WANTS, type MessageOf, type RepairWant } from "../../wire/index.ts";
import type { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { newOriginIndex, RetransmitBuffer, type OriginIndex } from "../relay/retransmit-buffer.ts";
import { NO_TAG, type PeerCore } from "./core.ts";
import type { DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";
import { RepairServer } from "./repair-server.ts";
import { PeerTimer } from "./timers.ts";

/** Who delivers an origin's copies here (redundancy.ts): the first link asked for a repair. */
export interface ParentSource {
  parentOf(origin: number): number;
}

/** Whether the relay path just sent the envelope being handled to `peer` (relay-path.ts). */
export interface SentSource {
  sentTo(peer: number): boolean;
}

/** Told when a pulled (origin, seq) arrives, or is given up. */
export interface RepairObserver {
  repaired?(now: number, origin: number, seq: number): void;
  abandoned?(now: number, origin: number, seq: number): void;
}

interface Gap {
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

/** One origin's repair state. */
interface Track {
  readonly idx: OriginIndex;
  /** The newest seq seen of this origin. */
  top: number;
  /** Missing seqs, oldest first. */
  readonly gaps: Gap[];
}

const HALF = 0x80000000;
/** Missing seqs tracked per origin; older ones are given up. */
export const MAX_GAPS_PER_ORIGIN = 64;
/** Missing seqs tracked in all. */
export const MAX_GAPS = 4096;
const MAX_WAITING = 8;
const TICK_MS = 10;
const DEFAULT_RTT_MS = 200;
const MAX_WAIT_MS = 1000;

export interface RepairCounters {
  /** Seqs found missing (gaps opened, pull() included). */
  missing: number;
  /** Missing seqs that arrived: by a Repair, or a late Data copy. */
  repaired: number;
  /** Missing seqs given up (out of attempts, out of the window, over the bounds). */
  abandoned: number;
  /** RepairRequest datagrams sent, and the seqs they asked for. */
  requestsSent: number;
  asked: number;
  requestsReceived: number;
  /** Repair datagrams sent (requests, catch-ups and waiting askers), and refused (rules, budget). */
  served: number;
  refused: number;
  servedWaiting: number;
  servedCatchUp: number;
  /** Repair datagrams that arrived for a seq already had (a reordered copy won, or two answers). */
  duplicates: number;
}

export class Repairer implements LinkObserver {
  readonly counters: RepairCounters = { missing: 0, repaired: 0, abandoned: 0, requestsSent: 0, asked: 0, requestsReceived: 0, served: 0, refused: 0, duplicates: 0, servedWaiting: 0, servedCatchUp: 0 };
  readonly buffer: RetransmitBuffer;
  private readonly server: RepairServer;
  private readonly tracks = new Map<number, Track>();
  private readonly withGaps = new Set<Track>();
  private readonly observers: RepairObserver[] = [];
  private gapCount = 0;
  private tickAt = Infinity;

  constructor(
    private readonly core: PeerCore,
    private readonly seen: DuplicateFilter,
    server: RepairServer,
    private readonly parents: ParentSource,
    private readonly sent: SentSource,
  ) {
    this.buffer = server.buffer;
    this.server = server;
  }

  // ---- the API other parts build on ------------------------------------------------------

  /** Whether (origin, seq) arrived here (the duplicate window remembers it). */
  has(origin: number, seq: number): boolean {
    return this.seen.peek(origin, seq) === SeqResult.Duplicate;
  }

  /** Whether (origin, seq) is in the retransmit buffer (so this peer can repair it for others). */
  holds(origin: number, seq: number): boolean {
    const t = this.tracks.get(origin);
    return t !== undefined && this.buffer.has(t.idx, seq);
  }

  /**
   * Pulls (origin, seq) from the neighbours, as if a gap had shown it missing: asked after
   * repairDelayMs, the parent first. False when it is here already, already pulled, or the
   * bounds are full. Its arrival (or the give-up) reaches the observers.
   */
  pull(now: number, origin: number, seq: number): boolean {
    if (this.has(origin, seq)) return false;
    const t = this.track(origin, seq);
    if (t.gaps.some((g) => g.seq === seq >>> 0)) return false;
    return this.open(now, t, seq >>> 0);
  }

  /** Registers an observer of repairs and give-ups (in registration order). */
  observe(o: RepairObserver): void {
    this.observers.push(o);
  }

  /** The newest seq seen of `origin`, or null. */
  newest(origin: number): number | null {
    return this.tracks.get(origin)?.top ?? null;
  }

  /** Missing seqs being pulled now. */
  get pending(): number {
    return this.gapCount;
  }

  /** Origins tracked. */
  get size(): number {
    return this.tracks.size;
  }

  // ---- called by the relay path ----------------------------------------------------------

  /**
   * An envelope taken fresh (Data or Repair, or this peer's own broadcast with fromPeer its
   * own id): kept for others, and a seq past the newest opens gaps for those in between.
   * Returns whether it was past the newest (a Repair that was: a lost last message, which
   * the members below this one cannot know they miss, so the relay path passes it on).
   */
  onArrival(now: number, fromPeer: number, origin: number, seq: number, hops: number, bytes: Uint8Array): boolean {
    const t = this.tracks.get(origin) ?? this.track(origin, seq);
    const ahead = (seq - t.top) >>> 0;
    const newer = ahead !== 0 && ahead < HALF;
    if (newer) {
      if (ahead > 1) this.openRange(now, t, ahead - 1);
      t.top = seq >>> 0;
    }
    this.buffer.store(t.idx, seq, hops, fromPeer, bytes);
    if (!newer && t.gaps.length > 0) this.filled(now, t, seq >>> 0, bytes, hops, fromPeer);
    return newer;
  }

  /** A Repair for a seq already had. */
  onDuplicateRepair(): void {
    this.counters.duplicates++;
  }

  // ---- inbound control ---------------------------------------------------------------------

  /** A RepairRequest from a link: answer from the buffer, or wait for our own repair. */
  onRequest(now: number, link: Link, msg: MessageOf<typeof Kind.RepairRequest>): DropReason | undefined {
    this.counters.requestsReceived++;
    const budget = { left: RepairServer.MAX_PER_REQUEST };
    for (const w of msg.wants) {
      const t = this.tracks.get(w.origin);
      if (t === undefined) continue;
      for (let i = 0; i < 32 && budget.left > 0; i++) {
        if (((w.mask >>> i) & 1) === 0) continue;
        const seq = (w.first + i) >>> 0;
        const id = this.buffer.find(t.idx, seq);
        if (id >= 0) {
          budget.left--;
          this.serveId(now, link.peer, w.origin, seq, id);
          continue;
        }
        const g = t.gaps.find((x) => x.seq === seq);
        if (g === undefined) continue;
        const at = g.waiting.indexOf(link.peer);
        if (at >= 0) g.waitingSince[at] = now;
        else if (g.waiting.length < MAX_WAITING) {
          g.waiting.push(link.peer);
          g.waitingSince.push(now);
        }
      }
    }
    return undefined;
  }

  /** After a Graft: `peer` holds `origin` up to `have`; send it the newest we hold past that. */
  catchUp(now: number, peer: number, origin: number, have: number, budget: { left: number }): void {
    const t = this.tracks.get(origin);
    if (t === undefined) return;
    const behind = (t.top - have) >>> 0;
    if (behind === 0 || behind >= HALF) return;
    const n = Math.min(behind, RepairServer.CATCH_UP);
    for (let k = n - 1; k >= 0 && budget.left > 0; k--) {
      const seq = (t.top - k) >>> 0;
      const id = this.buffer.find(t.idx, seq);
      if (id < 0) continue;
      budget.left--;
      this.counters.servedCatchUp++;
      this.serveId(now, peer, origin, seq, id);
    }
  }

  // ---- timer and links ---------------------------------------------------------------------

  /** The repair tick: ask for every missing seq that is due, give up those out of attempts. */
  onTick(now: number): void {
    this.tickAt = Infinity;
    this.core.timers.disarm(PeerTimer.RepairTick);
    const cfg = this.core.cfg;
    const wants = new Map<number, number[]>(); // peer -> [origin, seq, origin, seq, ...]
    let next = Infinity;
    for (const t of this.withGaps) {
      const origin = t.idx.origin;
      for (let i = 0; i < t.gaps.length; ) {
        const g = t.gaps[i] as Gap;
        if (((t.top - g.seq) >>> 0) >= cfg.windowBits || (g.dueAt <= now && g.attempts >= cfg.maxRepairAttempts)) {
          this.close(now, t, i, false);
          continue;
        }
        i++;
        if (g.dueAt > now) {
          next = Math.min(next, g.dueAt);
          continue;
        }
        const peer = this.pick(origin, g);
        g.dueAt = now + (peer === 0 ? MAX_WAIT_MS : this.waitFor(peer, g.attempts, peer !== origin && peer === this.parents.parentOf(origin)));
        next = Math.min(next, g.dueAt);
        if (peer === 0) continue;
        g.attempts++;
        g.asked = peer;
        let list = wants.get(peer);
        if (list === undefined) wants.set(peer, (list = []));
        list.push(origin, g.seq);
      }
      if (t.gaps.length === 0) this.withGaps.delete(t);
    }
    for (const [peer, list] of wants) this.request(peer, list);
    if (next !== Infinity) this.schedule(next);
  }

  linkOpened(): void {}

  linkClosed(now: number, link: Link): void {
    this.server.forgetLink(link.peer);
    for (const t of this.withGaps) {
      for (const g of t.gaps) {
        const i = g.waiting.indexOf(link.peer);
        if (i >= 0) {
          g.waiting.splice(i, 1);
          g.waitingSince.splice(i, 1);
        }
        // Asked over the closed link: ask another one now.
        if (g.asked === link.peer && g.attempts > 0) g.dueAt = Math.min(g.dueAt, now);
      }
    }
    if (this.withGaps.size > 0) this.schedule(now);
  }

  // ---- internals -----------------------------------------------------------------------------

  private track(origin: number, seq: number): Track {
    let t = this.tracks.get(origin);
    if (t !== undefined) return t;
    if (this.tracks.size >= this.core.cfg.maxOrigins) this.evictOne();
    t = { idx: newOriginIndex(origin), top: (seq - 1) >>> 0, gaps: [] };
    this.tracks.set(origin, t);
    return t;
  }

  private evictOne(): void {
    const oldest = this.tracks.entries().next();
    if (oldest.done) return;
    const [origin, t] = oldest.value;
    while (t.gaps.length > 0) this.close(0, t, 0, false);
    this.withGaps.delete(t);
    this.buffer.forget(t.idx);
    this.tracks.delete(origin);
  }

  /** Gaps for the `count` seqs before the new top (only the newest MAX_GAPS_PER_ORIGIN of a long run). */
  private openRange(now: number, t: Track, count: number): void {
    const skipped = Math.max(0, count - MAX_GAPS_PER_ORIGIN);
    this.counters.missing += skipped;
    this.counters.abandoned += skipped;
    for (let k = skipped; k < count; k++) this.open(now, t, (t.top + 1 + k) >>> 0);
  }

  private open(now: number, t: Track, seq: number): boolean {
    if (t.gaps.length >= MAX_GAPS_PER_ORIGIN) this.close(now, t, 0, false);
    if (this.gapCount >= MAX_GAPS) {
      this.counters.missing++;
      this.counters.abandoned++;
      return false;
    }
    // A parent that is not the origin most likely missed it too (the loss was further up):
    // its own repair, relayed on to us, comes about one round trip up the tree later, so we
    // ask only once that has had time to land.
    const origin = t.idx.origin;
    const parent = this.parents.parentOf(origin);
    const due = now + this.core.cfg.repairDelayMs + (parent !== 0 && parent !== origin ? this.slowestRtt() : 0);
    t.gaps.push({ seq, dueAt: due, attempts: 0, asked: 0, other: 0, waiting: [], waitingSince: [] });
    this.gapCount++;
    this.counters.missing++;
    this.withGaps.add(t);
    this.schedule(due);
    return true;
  }

  /** (t, seq) arrived: close its gap and answer the links that were waiting for it. */
  private filled(now: number, t: Track, seq: number, bytes: Uint8Array, hops: number, fromPeer: number): void {
    const i = t.gaps.findIndex((g) => g.seq === seq);
    if (i < 0) return;
    const g = t.gaps[i] as Gap;
    const server = this.server.at(now);
    for (let k = 0; k < g.waiting.length; k++) {
      // Not to one the relay path just sent it to, nor to an asker that waited longer than it
      // waits for us (it has asked someone else by now).
      const peer = g.waiting[k] as number;
      if (this.sent.sentTo(peer) || now - (g.waitingSince[k] as number) > this.waitFor(peer, 0, true)) continue;
      this.counters.servedWaiting++;
      server.serve(this.counters, peer, t.idx.origin, seq, bytes, hops, fromPeer);
    }
    this.close(now, t, i, true);
  }

  private close(now: number, t: Track, i: number, arrived: boolean): void {
    const g = t.gaps[i] as Gap;
    t.gaps.splice(i, 1);
    this.gapCount--;
    if (arrived) this.counters.repaired++;
    else this.counters.abandoned++;
    for (const o of this.observers) {
      if (arrived) o.repaired?.(now, t.idx.origin, g.seq);
      else o.abandoned?.(now, t.idx.origin, g.seq);
    }
  }

  private serveId(now: number, peer: number, origin: number, seq: number, id: number): void {
    const b = this.buffer;
    this.server.at(now).serve(this.counters, peer, origin, seq, b.bytesOf(id), b.hopsOf(id), b.fromOf(id));
  }

  /**
   * The link to ask (0: no link): the origin itself when linked (it holds every message of its
   * own), else the parent on every other try (the likeliest to hold it, or to get it soon:
   * it answers then), and the other links in turn in between.
   */
  private pick(origin: number, g: Gap): number {
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
   * How long to wait for `peer`'s answer after `tried` earlier tries: 2 x RTT + 20 ms, x1.5 per
   * try (at most 2 s). A parent that misses the seq too answers once its own repair lands,
   * about one round trip further up: waiting on it covers the slowest of this peer's links too.
   */
  private waitFor(peer: number, tried: number, parent: boolean): number {
    const srtt = this.core.links.get(peer)?.srttMs || DEFAULT_RTT_MS;
    let wait = 2 * srtt + 20;
    if (parent) wait = Math.max(wait, 1.5 * this.slowestRtt() + 20);
    return Math.min(MAX_WAIT_MS, Math.max(50, wait) * (1 + 0.25 * tried));
  }

  /** The slowest of this peer's links' smoothed RTT (about one round trip anywhere in the grid). */
  private slowestRtt(): number {
    let slowest = 0;
    for (const l of this.core.links.all()) slowest = Math.max(slowest, l.srttMs || DEFAULT_RTT_MS);
    return slowest;
  }

  /** Sends `peer` RepairRequests for the (origin, seq) pairs in `list`, packed into (origin, first, mask). */
  private request(peer: number, list: number[]): void {
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
    core.send(link.address, { kind: Kind.RepairRequest, grid: core.grid, from: core.self, wants, tag: NO_TAG });
    this.counters.requestsSent++;
  }

  private schedule(at: number): void {
    const t = Math.ceil(at / TICK_MS) * TICK_MS;
    if (t >= this.tickAt) return;
    this.tickAt = t;
    this.core.timers.armEarlier(PeerTimer.RepairTick, t);
  }
}
