/**
 * Redundancy lists (US 7,685,301), the side of the peer that receives (PROTOCOL.md 4.2.1).
 * Per origin it keeps the link whose copies it takes (the first that delivered the origin's
 * data: its "parent" for that origin), and answers a copy of that origin's data from any
 * other link with a Prune ("your next messages of this origin are not to be sent to me"), so
 * after an origin's first message each member gets its messages once, over the path that was
 * fastest. The other side, the list each neighbour keeps and the relay rule that honours it,
 * is lib/relay/redundancy-list.ts; this part applies the Prunes and Grafts that arrive to it.
 *
 * The parent is the link that delivered first: the first copy of the origin's first message;
 * it stays while it delivers (the tree is the first message's fastest paths). When it falls
 * silent for 3 intervals and an unpruned link (a new one, a grafted one) delivers first, that
 * link becomes the parent and the old one is pruned. A copy from a link already pruned only
 * means the Prune is still in flight, so it changes nothing.
 *
 * A pruned path must never become a silent hole, so a prune is undone (Graft) when:
 *   - the parent's link closes: every link is grafted for the origins it delivered;
 *   - the parent sends a Graft for the origin: it lost its own feed, so this peer grafts
 *     every link too (the subtree below a cut reattaches at once, not one quiet spell per level);
 *   - an origin goes quiet (nothing fresh for max(quietMs, 6 x its mean interval)): its
 *     parent may have died or lost its own path, so every link is grafted, each Graft
 *     carrying the newest seq this peer holds so a neighbour that holds newer sends it
 *     (repair.ts catchUp: a lost last message is found this way too).
 * A new link starts unpruned both ways and is pruned like any other once it sends a copy
 * the parent also sends. Repaired copies (Kind.Repair) never prune. Prunes and Grafts are batched per link
 * and sent at the next redundancy tick (10 ms); a Prune is sent again to a link that keeps
 * sending after max(250 ms, 2 x its RTT) (the first was lost).
 *
 * In "flood" mode nothing is pruned and an arriving Prune changes nothing; with repair on, a
 * quiet origin still sends its parent a Graft, as a catch-up request.
 */
import { MAX_LINKS, type Kind, type MessageOf } from "../../wire/index.ts";
import type { RedundancyList } from "../relay/redundancy-list.ts";
import type { PeerCore } from "./core.ts";
import type { DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";
import { RedundancyOutbox } from "./redundancy-outbox.ts";
import { PeerTimer } from "./timers.ts";

/** What a Graft asks of the repair part (repair.ts): what this peer holds, and a catch-up. */
export interface CatchUp {
  /** The newest seq held of `origin`, or null when none. */
  newest(origin: number): number | null;
  /** Sends `peer` what this peer holds of `origin` after `have`, taking from budget.left. */
  catchUp(now: number, peer: number, origin: number, have: number, budget: { left: number }): void;
}

/** One origin as this peer receives it. */
interface Route {
  readonly origin: number;
  /** The link whose copies this peer keeps, 0 when none (before the first copy, after a quiet spell or a close). */
  parent: number;
  /** When the parent last delivered a fresh copy. */
  parentAt: number;
  lastAt: number;
  /** Mean interval between fresh Data arrivals (EWMA, 1/8), 0 until the second. */
  gapMs: number;
  /** Quiet rounds done since the last fresh arrival (0: not quiet; see checkQuiet). */
  round: number;
  /** The parent when the origin went quiet: asked again in every quiet round. */
  lastParent: number;
  /** Links this peer sent a Prune for this origin, and when (a link that keeps sending gets it again). */
  pruned: number[];
  prunedAt: number[];
}

const BATCH_MS = 10;
/**
 * Quiet rounds before an origin is left alone: round k comes 2^k quiet limits after the last
 * arrival (250 ms, 0.5, 1, 2, 4, 8 s by default). Three rounds (all within 1 s) lost a tail
 * message for good at 20% loss now and then (asks and answers both lost, 5 tries): a reliable
 * message nobody knew was missing, so not even message-lost was reported (peer-messages test,
 * seed 0x14b). Six rounds keep asking past a lossy spell of a few seconds, for at most a few
 * Grafts per quiet origin.
 */
const QUIET_ROUNDS = 6;
/** A parent that delivered nothing fresh for max(this, STALE_INTERVALS x the mean interval) has lost its feed. */
const STALE_MIN_MS = 100;
const STALE_INTERVALS = 3;
/** Mean intervals without a fresh arrival before an origin is quiet (a lossy path still loses a few in a row). */
const QUIET_INTERVALS = 6;
const MIN_PRUNE_RESEND_MS = 250;
/** Repairs one Graft may ask for, all its origins together. */
export const CATCH_UP_PER_GRAFT = 32;

export interface RedundancyCounters {
  prunesSent: number;
  prunesReceived: number;
  graftsSent: number;
  graftsReceived: number;
  /** Origins found quiet (and grafted). */
  quiet: number;
  /** Origins whose parent's link closed (and were grafted). */
  parentsLost: number;
}

export class Redundancy implements LinkObserver {
  readonly counters: RedundancyCounters = { prunesSent: 0, prunesReceived: 0, graftsSent: 0, graftsReceived: 0, quiet: 0, parentsLost: 0 };
  private readonly routes = new Map<number, Route>();
  private readonly out: RedundancyOutbox;
  private quietCheckAt = Infinity;
  private flushAt = Infinity;
  private readonly pruning: boolean;

  /**
   * `list` is this Peer's redundancy-list rule ("prune" mode; undefined for "flood"); `repair`
   * the repair part, when repair is on.
   */
  constructor(
    private readonly core: PeerCore,
    private readonly list: RedundancyList | undefined,
    private readonly repair: CatchUp | undefined,
  ) {
    this.pruning = list !== undefined;
    this.out = new RedundancyOutbox(core, this.counters);
  }

  /** Origins tracked (at most maxOrigins). */
  get size(): number {
    return this.routes.size;
  }

  /** The link whose copies of `origin` this peer keeps (0: none). */
  parentOf(origin: number): number {
    return this.routes.get(origin)?.parent ?? 0;
  }

  /** Links this peer pruned for `origin` (a copy). */
  prunedBy(origin: number): number[] {
    return [...(this.routes.get(origin)?.pruned ?? [])];
  }

  /**
   * A Data copy of `origin`'s from link `from` (the relay path calls it for every copy from a
   * link; `fresh` when it was new). A copy from any link but the parent is pruned.
   */
  onCopy(now: number, from: number, origin: number, fresh: boolean): void {
    let r = this.routes.get(origin);
    if (r === undefined) {
      if (!fresh) return;
      r = this.admit(origin);
    }
    if (fresh) {
      if (r.lastAt > 0) r.gapMs = r.gapMs === 0 ? now - r.lastAt : r.gapMs + (now - r.lastAt - r.gapMs) / 8;
      this.heard(now, r);
      if (r.parent === from) {
        r.parentAt = now;
        return;
      }
      // First over a link this peer did not prune while the parent has been silent for a few
      // intervals: the parent lost its feed, this link has one; keep it, prune the old parent.
      // (While the parent delivers, a first copy from elsewhere is a lost or late parent copy,
      // not a better path: the tree stays put. A link already pruned that still delivers first
      // only has a Prune in flight.)
      const stale = now - r.parentAt > Math.max(STALE_MIN_MS, STALE_INTERVALS * r.gapMs);
      if (r.parent === 0 || !this.pruning || (stale && !r.pruned.includes(from))) {
        const old = r.parent;
        r.parent = from;
        r.parentAt = now;
        if (this.pruning && old !== 0 && this.core.links.has(old)) this.prune(now, r, old);
        return;
      }
    }
    if (this.pruning && from !== r.parent) this.prune(now, r, from);
  }

  /** A Repair of `origin` that was new here: the origin is not quiet (its path may just be lossy). */
  onRepaired(now: number, origin: number): void {
    const r = this.routes.get(origin);
    if (r !== undefined) this.heard(now, r);
  }

  /** A Prune from a link: its sender wants no more of these origins from us (it names only itself). */
  onPrune(link: Link, msg: MessageOf<typeof Kind.Prune>): DropReason | undefined {
    this.counters.prunesReceived++;
    const list = this.list;
    if (list === undefined) return undefined;
    for (const origin of msg.origins) if (origin !== link.peer) list.prune(origin, link.peer);
    return undefined;
  }

  /** A Graft from a link: send it these origins again, and what we hold after its `have`. */
  onGraft(now: number, link: Link, msg: MessageOf<typeof Kind.Graft>): DropReason | undefined {
    this.counters.graftsReceived++;
    const budget = { left: CATCH_UP_PER_GRAFT };
    for (const e of msg.origins) {
      this.list?.graft(e.origin, link.peer);
      if (e.have !== null) this.repair?.catchUp(now, link.peer, e.origin, e.have, budget);
      // A Graft from the link this peer takes the origin from: that link lost its own feed,
      // so this peer did too; it takes the origin from every link again.
      const r = this.routes.get(e.origin);
      if (this.pruning && r !== undefined && r.parent === link.peer) {
        r.parent = 0;
        this.graftAll(now, r, link.peer);
      }
    }
    this.rearm();
    return undefined;
  }

  /** The redundancy tick: send the batched Prunes and Grafts, look for quiet origins. */
  onTick(now: number): void {
    if (now >= this.quietCheckAt) this.checkQuiet(now);
    if (now >= this.flushAt) {
      this.flushAt = Infinity;
      this.out.flush();
    }
    this.rearm();
  }

  linkOpened(): void {}

  linkClosed(now: number, link: Link): void {
    const peer = link.peer;
    this.out.forget(peer);
    for (const r of this.routes.values()) {
      const i = r.pruned.indexOf(peer);
      if (i >= 0) {
        r.pruned.splice(i, 1);
        r.prunedAt.splice(i, 1);
      }
      if (r.parent !== peer) continue;
      // Its copies came over the closed link: take them from every other link until one
      // delivers first again (and ask one of them what it holds after our newest).
      r.parent = 0;
      this.counters.parentsLost++;
      if (this.pruning) this.graftAll(now, r, 0);
    }
    this.rearm();
  }

  private admit(origin: number): Route {
    if (this.routes.size >= this.core.cfg.maxOrigins) {
      const oldest = this.routes.keys().next();
      if (!oldest.done) this.routes.delete(oldest.value);
    }
    const r: Route = { origin, parent: 0, parentAt: 0, lastAt: 0, gapMs: 0, round: 0, lastParent: 0, pruned: [], prunedAt: [] };
    this.routes.set(origin, r);
    return r;
  }

  private prune(now: number, r: Route, peer: number): void {
    const i = r.pruned.indexOf(peer);
    if (i >= 0) {
      const srtt = this.core.links.get(peer)?.srttMs ?? 0;
      if (now - (r.prunedAt[i] as number) < Math.max(MIN_PRUNE_RESEND_MS, 2 * srtt)) return;
      r.prunedAt[i] = now;
    } else {
      if (r.pruned.length >= MAX_LINKS) return;
      r.pruned.push(peer);
      r.prunedAt.push(now);
    }
    this.out.prune(peer, r.origin);
    this.scheduleFlush(now);
  }

  private heard(now: number, r: Route): void {
    r.lastAt = now;
    r.round = 0;
    if (this.quietCheckAt === Infinity) this.scheduleQuietCheck(now);
  }

  /**
   * Undoes this peer's prunes for `r` on every link. Two of the Grafts (the link `first`, when
   * linked, and the first link this peer had pruned, or else the first other link) carry the
   * newest seq held, asking for what the link holds past it; the rest only resume.
   */
  private graftAll(now: number, r: Route, first: number): void {
    const ids = this.core.links.ids;
    const ask: number[] = [];
    if (first !== 0 && this.core.links.has(first)) ask.push(first);
    for (const p of [...r.pruned, ...ids]) if (ask.length < 2 && !ask.includes(p) && this.core.links.has(p)) ask.push(p);
    r.pruned.length = 0;
    r.prunedAt.length = 0;
    const have = this.repair?.newest(r.origin) ?? null;
    for (const peer of ids) this.out.graft(peer, r.origin, ask.includes(peer) ? have : null);
    this.scheduleFlush(now);
  }

  /**
   * Origins gone quiet: nothing fresh (Data, or a Repair) for max(quietMs, 6 x the mean
   * interval) after the last. Round 1 grafts every link (prune mode; its parent may be gone)
   * and asks two of them for what they hold past our newest; rounds 2 to 6, each after twice
   * as long, ask two more links each (a lost last message, or a lost answer). In
   * flood mode each round asks the parent or the next link. Then the origin is left alone
   * until it is heard again.
   */
  private checkQuiet(now: number): void {
    const quietMs = this.core.cfg.quietMs;
    const ids = this.core.links.ids;
    let watching = false;
    for (const r of this.routes.values()) {
      if (r.round >= QUIET_ROUNDS || r.lastAt === 0) continue;
      const limit = (r.gapMs === 0 ? QUIET_INTERVALS * quietMs : Math.max(quietMs, QUIET_INTERVALS * r.gapMs)) * 2 ** r.round;
      watching = true;
      if (now - r.lastAt < limit) continue;
      if (r.round++ === 0) {
        this.counters.quiet++;
        r.lastParent = r.parent;
        // Already grafted (its parent's link closed, or the parent grafted us): the later rounds ask.
        if (r.parent !== 0 && this.pruning) this.graftAll(now, r, r.parent);
        else if (r.parent !== 0 && this.repair !== undefined && this.core.links.has(r.parent)) this.ask(now, r, r.parent);
        r.parent = 0;
        continue;
      }
      if (this.repair === undefined || ids.length === 0) continue;
      // The old parent again (upstream: the likeliest to hold it by now), and the next link.
      if (this.core.links.has(r.lastParent)) this.ask(now, r, r.lastParent);
      if (this.pruning) this.ask(now, r, ids[r.round % ids.length] as number);
    }
    this.quietCheckAt = Infinity;
    if (watching) this.scheduleQuietCheck(now);
  }

  /** A catch-up Graft of `r` to `peer`: it holds more than our newest? */
  private ask(now: number, r: Route, peer: number): void {
    const have = this.repair?.newest(r.origin) ?? null;
    if (have === null) return;
    this.out.graft(peer, r.origin, have);
    this.scheduleFlush(now);
  }

  private scheduleQuietCheck(now: number): void {
    this.quietCheckAt = now + this.core.cfg.quietMs / 2;
    this.core.timers.armEarlier(PeerTimer.RedundancyTick, this.quietCheckAt);
  }

  private scheduleFlush(now: number): void {
    if (this.flushAt !== Infinity) return;
    this.flushAt = now + BATCH_MS;
    this.core.timers.armEarlier(PeerTimer.RedundancyTick, this.flushAt);
  }

  private rearm(): void {
    const next = Math.min(this.quietCheckAt, this.flushAt);
    if (next === Infinity) this.core.timers.disarm(PeerTimer.RedundancyTick);
    else this.core.timers.arm(PeerTimer.RedundancyTick, next);
  }
}
