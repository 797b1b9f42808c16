/**
 * Per-source token buckets (the lobby's requests, the peer's strangers), in bounded
 * memory: at most maxTrackedSources buckets, the least recently seen evicted first. An evicted
 * source comes back with a full bucket, which only ever favours the sender, so eviction cannot
 * make the lobby refuse an honest peer.
 */
import type { Address } from "../endpoint.ts";

interface Bucket {
  tokens: number;
  lastMs: number;
  /** When this source was last answered with Error RateLimited. */
  lastWarnMs: number;
}

/** At most one Error RateLimited per source per this many ms. */
export const RATE_LIMIT_WARN_INTERVAL_MS = 1000;

export class SourceLimiter {
  /** Map order is least recently seen first (every use re-inserts). */
  private readonly buckets = new Map<Address, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxSources: number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `from`'s bucket; false when it is empty. */
  allow(nowMs: number, from: Address): boolean {
    let b = this.buckets.get(from);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      b = { tokens: this.burst, lastMs: nowMs, lastWarnMs: -Infinity };
    } else {
      this.buckets.delete(from);
      const elapsed = nowMs - b.lastMs;
      if (elapsed > 0) {
        b.tokens = Math.min(this.burst, b.tokens + (elapsed * this.perSecond) / 1000);
        b.lastMs = nowMs;
      }
    }
    this.buckets.set(from, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** True at most once per RATE_LIMIT_WARN_INTERVAL_MS for a limited source: time to tell it. */
  shouldWarn(nowMs: number, from: Address): boolean {
    const b = this.buckets.get(from);
    if (b === undefined || nowMs - b.lastWarnMs < RATE_LIMIT_WARN_INTERVAL_MS) return false;
    b.lastWarnMs = nowMs;
    return true;
  }
}

/**
 * One token bucket (a session's requests at the lobby, one link's Data or control at a
 * peer): `perSecond` tokens a second up to `burst`, one taken per datagram. Charged only
 * after the datagram authenticated (PROTOCOL.md 6.10, 6.7), so nobody can spend another's
 * tokens by spoofing its address. Allocates nothing per call.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  /** When the owner was last told it is over its rate (at most once per RATE_LIMIT_WARN_INTERVAL_MS). */
  private lastWarnMs = -Infinity;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token; false when the bucket is empty. */
  take(nowMs: number): boolean {
    const elapsed = nowMs - this.lastMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True at most once per RATE_LIMIT_WARN_INTERVAL_MS: time to tell the owner it is limited. */
  shouldWarn(nowMs: number): boolean {
    if (nowMs - this.lastWarnMs < RATE_LIMIT_WARN_INTERVAL_MS) return false;
    this.lastWarnMs = nowMs;
    return true;
  }
}
