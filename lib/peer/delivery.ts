/**
 * Delivery of Messages (PROTOCOL.md 4.1.1), the receiving side: reassembly of large messages,
 * reliable and ordered delivery per origin, teams. Built on the grid's repair (repair.ts), not
 * a second mechanism: a Message is an envelope in its origin's seq space, so a lost one (or a
 * lost fragment) is a gap that repair pulls from a neighbour, and only that envelope is sent
 * again.
 *
 *   - Every reliable message names `prev`, the seq that begins its origin's previous reliable
 *     message. A member that lacks it pulls it (repair.pull): a lost last reliable message is
 *     found by the next one, or by the quiet-origin Graft (redundancy.ts).
 *   - Reliable-unordered: delivered on arrival. Reliable-ordered: held until `prev` has been
 *     delivered (or reported lost), so an origin's reliable messages come out in send order.
 *   - A message repair gives up on, or one a receiver cannot hold for (more than
 *     maxHeldMessages of an origin or maxHeldBytes in all waiting, or one waiting maxHoldMs),
 *     is reported as an "error" event with code message-lost and skipped: the held ones behind
 *     it are delivered, and it is never delivered later. Memory stays bounded whatever the
 *     sender does.
 *   - A team message (flag TEAM) is delivered only by the team's members; everyone relays it.
 * Reliable delivery starts at the first seq of the origin this member saw (repair.since):
 * what an origin sent before a member joined is not owed to it.
 */
import { ErrorCode } from "../errors.ts";
import { MessageFlag, newMessageHeader, readMessageHeader, type RelayHeader } from "../../wire/index.ts";
import { Reassembly, type Assembled, type DropWhy, type Partial } from "../relay/reassembly.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { Repairer, RepairObserver } from "./repair.ts";
import { PeerTimer } from "./timers.ts";

/** What the delivery part counts (stats().messages). */
export interface MessageCounters {
  /** Messages delivered (reliable or not, whole), and large ones reassembled. */
  delivered: number;
  reassembled: number;
  /** Ordered messages that had to wait for an earlier one. */
  held: number;
  /** Reliable messages reported lost (message-lost events). */
  lost: number;
  /** Unfinished large messages dropped (timeout, memory, a fragment given up). */
  reassemblyDropped: number;
  /** Team messages relayed but not delivered here (not a member of the team). */
  notInTeam: number;
  /** A message that arrived after it had been reported lost (not delivered). */
  late: number;
}

interface Ready {
  readonly m: Assembled;
  readonly target: number | null;
  readonly at: number;
}

interface OriginState {
  /** Ordered messages waiting, by key. */
  readonly held: Map<number, Ready>;
  /** prev -> the key of the held message waiting for it, or WATCH (an unordered one names it). */
  readonly waits: Map<number, number>;
  /** Keys reported lost (never delivered later), the newest MAX_GONE. */
  readonly gone: Set<number>;
}

const WATCH = -1;
const MAX_GONE = 256;
const HALF = 0x80000000;
const before = (a: number, b: number): boolean => ((b - a) >>> 0) !== 0 && ((b - a) >>> 0) < HALF;

export class Delivery implements RepairObserver {
  readonly counters: MessageCounters = { delivered: 0, reassembled: 0, held: 0, lost: 0, reassemblyDropped: 0, notInTeam: 0, late: 0 };
  readonly reassembly: Reassembly;
  /** Teams this member belongs to (joinTeam / leaveTeam). */
  readonly teams = new Set<number>();
  private readonly header = newMessageHeader();
  private readonly origins = new Map<number, OriginState>();
  private heldBytes = 0;
  private heldCount = 0;

  constructor(
    private readonly core: PeerCore,
    private readonly repair: Repairer | undefined,
  ) {
    const c = core.cfg;
    this.reassembly = new Reassembly(c.reassemblyBytesPerOrigin, c.reassemblyBytes, c.reassemblyTimeoutMs, (p, why) => this.onPartialDropped(p, why));
    repair?.observe(this);
  }

  /** Messages held for ordering now, and their bytes. */
  get holding(): { messages: number; bytes: number } {
    return { messages: this.heldCount, bytes: this.heldBytes };
  }

  /**
   * A fresh Message envelope (relay-path.ts, before it is relayed on): its header is checked,
   * then it is reassembled, ordered and delivered. A malformed header is the drop returned
   * (the envelope is then not relayed).
   */
  accept(now: number, r: RelayHeader, bytes: Uint8Array): DropReason | undefined {
    const h = this.header;
    if (!readMessageHeader(bytes, r.payloadOffset, r.payloadLength, h)) return PeerDrop.BadMessage;
    const body = bytes.subarray(h.bodyOffset, h.bodyOffset + h.bodyLength);
    let m: Assembled;
    if (h.flags & MessageFlag.Fragment) {
      const key = (r.seq - h.index) >>> 0;
      const got = this.reassembly.add(now, r.origin, key, h.index, h.count, h.flags, h.prev, h.team, r.hops, body);
      if (got === "kept") {
        this.schedule(now + this.reassembly.timeoutMs);
        return undefined;
      }
      if (got === "mismatch" || got === "too-large") return PeerDrop.BadMessage;
      this.counters.reassembled++;
      m = got;
    } else m = { key: r.seq, flags: h.flags, prev: h.prev, team: h.team, hops: r.hops, body };
    this.complete(now, r.origin, r.target, m);
    return undefined;
  }

  // ---- repair observer -------------------------------------------------------------------
  abandoned(now: number, origin: number, seq: number): void {
    this.reassembly.abandoned(origin, seq);
    const st = this.origins.get(origin);
    if (st !== undefined && st.waits.has(seq)) this.lose(now, origin, st, seq, "given up by repair");
  }

  /** The delivery tick: unfinished messages past their timeout, ordered ones waiting too long. */
  onTick(now: number): void {
    this.core.timers.disarm(PeerTimer.DeliveryTick);
    let next = this.reassembly.expire(now);
    const limit = this.core.cfg.maxHoldMs;
    for (const [origin, st] of [...this.origins]) {
      for (;;) {
        const head = this.head(st);
        if (head === undefined) break;
        if (head.at + limit > now) {
          next = Math.min(next, head.at + limit);
          break;
        }
        this.lose(now, origin, st, head.m.prev, `not here after maxHoldMs ${limit}`);
      }
    }
    if (next !== Infinity) this.schedule(next);
  }

  // ---- internals ---------------------------------------------------------------------------
  private complete(now: number, origin: number, target: number | null, m: Assembled): void {
    if (!(m.flags & MessageFlag.Reliable)) return this.emit(origin, target, m);
    const st = this.state(origin);
    if (st.gone.has(m.key)) {
      this.counters.late++;
      return;
    }
    if (!(m.flags & MessageFlag.Ordered)) {
      this.emit(origin, target, m);
      if (!this.resolved(now, origin, st, m.prev) && !st.waits.has(m.prev)) st.waits.set(m.prev, WATCH);
    } else if (this.resolved(now, origin, st, m.prev)) this.emit(origin, target, m);
    else return this.hold(now, origin, st, target, m);
    this.release(origin, st, m.key);
  }

  /** Whether the reliable message beginning at `p` has been delivered or reported lost (pulling it when missing). */
  private resolved(now: number, origin: number, st: OriginState, p: number): boolean {
    if (p === 0 || st.gone.has(p)) return true;
    if (st.held.has(p) || this.reassembly.has(origin, p)) return false;
    const repair = this.repair;
    if (repair === undefined || repair.has(origin, p)) return true; // without repair, ordering is best effort
    const since = repair.since(origin);
    if (since === null || before(p, since)) return true; // sent before this member was following the origin
    if (repair.pull(now, origin, p)) return false;
    this.markGone(st, p);
    this.report(origin, p, "could not be pulled (repair bounds full)");
    return true;
  }

  private hold(now: number, origin: number, st: OriginState, target: number | null, m: Assembled): void {
    st.held.set(m.key, { m, target, at: now });
    st.waits.set(m.prev, m.key);
    this.heldBytes += m.body.length;
    this.heldCount++;
    this.counters.held++;
    const cfg = this.core.cfg;
    while (st.held.size > cfg.maxHeldMessages || this.heldBytes > cfg.maxHeldBytes) {
      // Over the origin's bound: skip its oldest gap; over the bytes in all: the first origin's.
      let [o, s] = [origin, st];
      if (st.held.size <= cfg.maxHeldMessages) for (const [k, v] of this.origins) if (v.held.size > 0) [o, s] = [k, v];
      const head = this.head(s);
      if (head === undefined) break;
      this.lose(now, o, s, head.m.prev, "receiver fell behind (maxHeldMessages / maxHeldBytes)");
    }
    this.schedule(now + cfg.maxHoldMs);
  }

  /** `p` is lost: report it, never deliver it later, and release what waits for it. */
  private lose(_now: number, origin: number, st: OriginState, p: number, why: string): void {
    this.markGone(st, p);
    this.report(origin, p, why);
    this.release(origin, st, p);
  }

  /** `key` is delivered or lost: deliver the chain of held messages waiting behind it. */
  private release(origin: number, st: OriginState, key: number): void {
    for (;;) {
      const w = st.waits.get(key);
      if (w === undefined) break;
      st.waits.delete(key);
      const r = w === WATCH ? undefined : st.held.get(w);
      if (r === undefined) break;
      st.held.delete(w);
      this.heldBytes -= r.m.body.length;
      this.heldCount--;
      this.emit(origin, r.target, r.m);
      key = w;
    }
    if (st.held.size === 0 && st.waits.size === 0 && st.gone.size === 0) this.origins.delete(origin);
  }

  /** The held message of `st` that waits for something not held itself, the oldest such. */
  private head(st: OriginState): Ready | undefined {
    let best: Ready | undefined;
    for (const r of st.held.values()) if (!st.held.has(r.m.prev) && (best === undefined || before(r.m.key, best.m.key))) best = r;
    return best;
  }

  private onPartialDropped(p: Partial, why: DropWhy): void {
    this.counters.reassemblyDropped++;
    if (!(p.flags & MessageFlag.Reliable)) return;
    const st = this.state(p.origin);
    this.lose(0, p.origin, st, p.key, `fragments ${why === "memory" ? "over the reassembly bounds" : why === "timeout" ? "not all here after reassemblyTimeoutMs" : why}`);
  }

  private markGone(st: OriginState, key: number): void {
    st.gone.add(key);
    if (st.gone.size > MAX_GONE) st.gone.delete(st.gone.values().next().value as number);
  }

  private report(origin: number, seq: number, why: string): void {
    this.counters.lost++;
    this.core.emit({ type: "error", code: ErrorCode.MessageLost, message: `reliable message ${seq} of origin ${origin} lost: ${why}`, origin, seq });
  }

  private emit(origin: number, target: number | null, m: Assembled): void {
    const core = this.core;
    if (target !== null && target !== core.self) return; // addressed to another member
    if (m.flags & MessageFlag.Team && !this.teams.has(m.team)) {
      this.counters.notInTeam++;
      return;
    }
    core.counters.delivered++;
    this.counters.delivered++;
    const reliable = (m.flags & MessageFlag.Reliable) !== 0;
    const ordered = (m.flags & MessageFlag.Ordered) !== 0;
    core.emit({ type: "data", payload: m.body, origin, seq: m.key, hops: m.hops, target, reliable, ordered, team: m.flags & MessageFlag.Team ? m.team : null });
  }

  private state(origin: number): OriginState {
    let st = this.origins.get(origin);
    if (st === undefined) this.origins.set(origin, (st = { held: new Map(), waits: new Map(), gone: new Set() }));
    return st;
  }

  private schedule(at: number): void {
    this.core.timers.armEarlier(PeerTimer.DeliveryTick, at);
  }
}
