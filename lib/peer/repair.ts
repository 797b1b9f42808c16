/**
 * Repair (PROTOCOL.md 4.2.1): what a grid loses is pulled again from a neighbour that has it,
 * so a pruned grid (one copy per member) still loses nothing. The part other parts build on
 * (reliable delivery, issue 14): `has`, `holds`, `pull` and the repaired/abandoned observers.
 *
 *   - Every relay envelope this peer sends or takes fresh is kept in the retransmit buffer
 *     (lib/relay/retransmit-buffer.ts, bounded in messages and bytes, oldest out first).
 *   - Seqs of an origin are contiguous, so a seq that arrives past the newest one leaves a gap:
 *     each missing seq is asked for repairDelayMs later (a reordered copy lands first; one
 *     round trip more when the parent is not the origin: it probably missed it too, and
 *     passes its own repair on), of the parent, then of the other links in turn
 *     (repair-asker.ts), at most maxRepairAttempts times, batched per link.
 *   - A lost last message leaves no gap; the quiet-origin Graft (redundancy.ts) finds it, and
 *     catchUp answers it. A fresh Repair goes on to the members below (relay-path.ts).
 *   - A RepairRequest is answered from the buffer with Repair datagrams (the envelope with
 *     kind 0x02 and this peer's tag), if the relay rules would have sent the message to the
 *     asker (the redundancy list aside: a neighbour that pruned an origin may still miss one
 *     of its messages) and within the link's byte budget (repairBytesPerSecond). A seq this
 *     peer misses itself is answered when its own repair arrives.
 * Only linked members are answered (receive.ts drops the rest as not-linked), and never more
 * than 128 Repairs per request, so a request cannot be turned into a flood at a third party.
 */
import type { Kind, MessageOf } from "../../wire/index.ts";
import type { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { newOriginIndex, RetransmitBuffer } from "../relay/retransmit-buffer.ts";
import type { PeerCore } from "./core.ts";
import type { DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";
import { MAX_WAIT_MS, RepairAsker, type Gap, type Track } from "./repair-asker.ts";
import { newRepairCounters, RepairServer, type RepairCounters } from "./repair-server.ts";
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

const HALF = 0x80000000;
/** Missing seqs tracked per origin; older ones are given up. */
export const MAX_GAPS_PER_ORIGIN = 64;
/** Missing seqs tracked in all. */
export const MAX_GAPS = 4096;
const MAX_WAITING = 8;
const TICK_MS = 10;

export class Repairer implements LinkObserver {
  readonly counters: RepairCounters = newRepairCounters();
  readonly buffer: RetransmitBuffer;
  private readonly server: RepairServer;
  private readonly tracks = new Map<number, Track>();
  private readonly withGaps = new Set<Track>();
  private readonly observers: RepairObserver[] = [];
  private readonly asker: RepairAsker;
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
    this.asker = new RepairAsker(core, parents, this.counters);
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
   * repairDelayMs, the parent first. True when it is being pulled (now or already): its
   * arrival (or the give-up) reaches the observers. False when it is here already or the
   * bounds are full.
   */
  pull(now: number, origin: number, seq: number): boolean {
    if (this.has(origin, seq)) return false;
    const t = this.track(origin, seq);
    return t.gaps.some((g) => g.seq === seq >>> 0) || this.open(now, t, seq >>> 0);
  }

  /** The first seq of `origin` this peer saw (those before it are not repaired), or null. */
  since(origin: number): number | null {
    return this.tracks.get(origin)?.first ?? null;
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
        const peer = this.asker.pick(origin, g);
        g.dueAt = now + (peer === 0 ? MAX_WAIT_MS : this.asker.waitFor(peer, g.attempts, peer !== origin && peer === this.parents.parentOf(origin)));
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
    for (const [peer, list] of wants) this.asker.request(peer, list);
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
    t = { idx: newOriginIndex(origin), first: seq >>> 0, top: (seq - 1) >>> 0, gaps: [] };
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
    const due = now + this.core.cfg.repairDelayMs + (parent !== 0 && parent !== origin ? this.asker.slowestRtt() : 0);
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
      if (this.sent.sentTo(peer) || now - (g.waitingSince[k] as number) > this.asker.waitFor(peer, 0, true)) continue;
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

  private schedule(at: number): void {
    const t = Math.ceil(at / TICK_MS) * TICK_MS;
    if (t >= this.tickAt) return;
    this.tickAt = t;
    this.core.timers.armEarlier(PeerTimer.RepairTick, t);
  }
}
