/**
 * Reconciling one-sided links (claims 44, 51). A pair of members where exactly one end reports
 * the link (one ConnUpdate lost, or A says open and B says closed) is armed here; if it is still
 * one-sided after unconfirmedEdgeMs the lobby sends a Probe to the silent end, whose ProbeReply
 * settles it, and re-arms, so a lost Probe is sent again.
 *
 * ProbeTable remembers the Probes in flight, so that only a ProbeReply answering one of them
 * changes the graph.
 */
import { TimerHeap, type Deadline } from "./timers.ts";

export interface PendingEdge extends Deadline {
  readonly key: string;
  readonly grid: number;
  readonly lo: number;
  readonly hi: number;
}

export class PendingEdges {
  private readonly byKey = new Map<string, PendingEdge>();
  readonly heap = new TimerHeap<PendingEdge>();

  get size(): number {
    return this.byKey.size;
  }

  /** Arms the check for the pair when it is one-sided and not armed yet; cancels it otherwise. */
  update(dueMs: number, grid: number, a: number, b: number, oneSided: boolean): void {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const key = `${grid}:${lo}:${hi}`;
    const existing = this.byKey.get(key);
    if (!oneSided) {
      if (existing !== undefined) {
        this.byKey.delete(key);
        this.heap.delete(existing);
      }
      return;
    }
    if (existing !== undefined) return;
    const edge: PendingEdge = { key, grid, lo, hi, deadlineMs: dueMs, heapIndex: -1 };
    this.byKey.set(key, edge);
    this.heap.set(edge, dueMs);
  }

  /** The next pair whose check is due, disarmed; rearm() it to keep checking. */
  popDue(nowMs: number): PendingEdge | undefined {
    const edge = this.heap.popDue(nowMs);
    if (edge !== undefined) this.byKey.delete(edge.key);
    return edge;
  }

  rearm(edge: PendingEdge, dueMs: number): void {
    this.byKey.set(edge.key, edge);
    this.heap.set(edge, dueMs);
  }
}

export interface OutstandingProbe {
  readonly req: number;
  readonly grid: number;
  /** The probed (silent) end. */
  readonly peer: number;
  /** The end that reported the link, or asked for its status. */
  readonly other: number;
  readonly sentMs: number;
  answered: boolean;
}

export type ProbeMatch = "first" | "duplicate" | "unsolicited";

export class ProbeTable {
  /** In send order, so the oldest is first. */
  private readonly byReq = new Map<number, OutstandingProbe>();

  constructor(
    private readonly maxProbes: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.byReq.size;
  }

  add(probe: OutstandingProbe): void {
    for (const old of this.byReq.values()) {
      if (old.sentMs + this.ttlMs > probe.sentMs && this.byReq.size < this.maxProbes) break;
      this.byReq.delete(old.req);
    }
    this.byReq.delete(probe.req);
    this.byReq.set(probe.req, probe);
  }

  /** Whether a ProbeReply answers a Probe in flight; marks it answered. */
  match(req: number, grid: number, peer: number, other: number): ProbeMatch {
    const p = this.byReq.get(req);
    if (p === undefined || p.grid !== grid || p.peer !== peer || p.other !== other) return "unsolicited";
    if (p.answered) return "duplicate";
    p.answered = true;
    return "first";
  }
}
