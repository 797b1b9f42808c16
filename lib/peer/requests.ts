/**
 * Outstanding control requests (DESIGN.md "Control plane over UDP"): each has an id the
 * reply echoes, is retransmitted with exponential backoff, and gives up after a number
 * of sends. The tag says what the request was for, so a reply is matched by id and
 * checked for the right kind and sender: a forged or stale reply changes nothing.
 */
import type { Address } from "../endpoint.ts";

/** Retransmit backoff stops doubling here, so a lossy path keeps trying at a useful pace. */
export const MAX_BACKOFF_MS = 2000;

export type RequestTag =
  | { readonly t: "hello" }
  | { readonly t: "create" }
  | { readonly t: "list" }
  | { readonly t: "select"; readonly part: number }
  | { readonly t: "connUpdate" }
  | { readonly t: "status" }
  | { readonly t: "heartbeat" }
  | { readonly t: "leave" }
  | { readonly t: "rejoin" }
  | { readonly t: "probeReply" }
  | { readonly t: "join"; readonly peer: number; readonly round: number }
  | { readonly t: "available"; readonly peer: number; readonly round: number }
  | { readonly t: "connect"; readonly peer: number }
  | { readonly t: "force"; readonly peer: number }
  | { readonly t: "disconnect"; readonly peer: number };

export interface PendingRequest {
  readonly req: number;
  readonly to: Address;
  readonly bytes: Uint8Array;
  readonly tag: RequestTag;
  readonly firstSentAt: number;
  attempts: number;
  nextAt: number;
}

export class RequestTable {
  private readonly byId = new Map<number, PendingRequest>();
  private nextReq: number;
  /** Cached earliest nextAt; recomputed only after a change (pollTimeout runs per datagram). */
  private earliest: number | undefined;
  private dirty = false;

  constructor(
    firstReq: number,
    private readonly retransmitMs: number,
    private readonly maxAttempts: number,
    /** Upper bound on outstanding requests: a peer never has more in flight. */
    private readonly maxPending = 1024,
  ) {
    this.nextReq = firstReq >>> 0;
  }

  get size(): number {
    return this.byId.size;
  }

  /** A fresh request id (u32, wrapping). */
  allocate(): number {
    this.nextReq = (this.nextReq + 1) >>> 0;
    return this.nextReq;
  }

  /** Records a request that was just sent for the first time; false when the table is full. */
  add(now: number, req: number, to: Address, bytes: Uint8Array, tag: RequestTag): boolean {
    if (this.byId.size >= this.maxPending) return false;
    this.byId.set(req, { req, to, bytes, tag, firstSentAt: now, attempts: 1, nextAt: now + this.retransmitMs });
    this.dirty = true;
    return true;
  }

  get(req: number): PendingRequest | undefined {
    return this.byId.get(req);
  }

  /** Removes and returns the request answered by a reply carrying `req`. */
  take(req: number): PendingRequest | undefined {
    const p = this.byId.get(req);
    if (p !== undefined) {
      this.byId.delete(req);
      this.dirty = true;
    }
    return p;
  }

  /** Drops every request matching `pred` (a join round that ended, a closed link's requests). */
  cancel(pred: (p: PendingRequest) => boolean): void {
    for (const [id, p] of this.byId) {
      if (pred(p)) {
        this.byId.delete(id);
        this.dirty = true;
      }
    }
  }

  nextDeadline(): number | undefined {
    if (this.dirty) {
      let min: number | undefined;
      for (const p of this.byId.values()) if (min === undefined || p.nextAt < min) min = p.nextAt;
      this.earliest = min;
      this.dirty = false;
    }
    return this.earliest;
  }

  /**
   * For each request due at `now`: calls `resend` (and doubles its backoff) or, after
   * maxAttempts sends, removes it and calls `giveUp`.
   */
  due(now: number, resend: (p: PendingRequest) => void, giveUp: (p: PendingRequest) => void): void {
    const deadline = this.nextDeadline();
    if (deadline === undefined || deadline > now) return;
    const expired: PendingRequest[] = [];
    for (const p of this.byId.values()) {
      if (p.nextAt > now) continue;
      if (p.attempts >= this.maxAttempts) {
        expired.push(p);
        continue;
      }
      p.attempts++;
      p.nextAt = now + Math.min(this.retransmitMs * 2 ** (p.attempts - 1), MAX_BACKOFF_MS);
      resend(p);
    }
    for (const p of expired) this.byId.delete(p.req);
    this.dirty = true;
    for (const p of expired) giveUp(p);
  }
}
