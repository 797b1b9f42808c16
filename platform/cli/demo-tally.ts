/**
 * The demo's bookkeeping: which broadcasts each peer should get and did get, with hops
 * and one-way latency (the sender's clock travels in the payload; one process, one clock).
 */
export class DemoTally {
  /** "origin:seq" -> [sentAt, recipients expected, deliveries so far] */
  private readonly open = new Map<string, { sentAt: number; expected: number; got: number }>();
  sent = 0;
  expected = 0;
  delivered = 0;
  duplicates = 0;
  hopsSum = 0;
  hopsMax = 0;
  latencies: number[] = [];
  private windowDelivered = 0;

  onSent(origin: number, seq: number, now: number, recipients: number): void {
    this.open.set(`${origin}:${seq}`, { sentAt: now, expected: recipients, got: 0 });
    this.sent++;
    this.expected += recipients;
  }

  onDelivered(origin: number, seq: number, hops: number, now: number): void {
    const m = this.open.get(`${origin}:${seq}`);
    if (m === undefined) return; // sent before the demo started counting
    if (m.got >= m.expected) {
      this.duplicates++;
      return;
    }
    m.got++;
    this.delivered++;
    this.windowDelivered++;
    this.hopsSum += hops;
    if (hops > this.hopsMax) this.hopsMax = hops;
    if (this.latencies.length < 200_000) this.latencies.push(now - m.sentAt);
  }

  /** Deliveries since the last call (for a per-second rate). */
  takeWindow(): number {
    const n = this.windowDelivered;
    this.windowDelivered = 0;
    return n;
  }

  deliveryPercent(): number {
    return this.expected === 0 ? 100 : (100 * this.delivered) / this.expected;
  }

  meanHops(): number {
    return this.delivered === 0 ? 0 : this.hopsSum / this.delivered;
  }

  latencyPercentile(p: number): number {
    if (this.latencies.length === 0) return 0;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  }

  /** Broadcasts that did not reach every peer they should have. */
  incomplete(): number {
    let n = 0;
    for (const m of this.open.values()) if (m.got < m.expected) n++;
    return n;
  }
}
