/**
 * The demo's bookkeeping: which broadcasts each peer should get and did get, with hops
 * and one-way latency (the sender's clock travels in the payload; one process, one clock).
 */
interface Sent {
  readonly sentAt: number;
  readonly expected: number;
  got: number;
  /** Old enough to count in settledDeliveryPercent: its deliveries, late ones included, count there. */
  settled: boolean;
}

export class DemoTally {
  /** "origin:seq" -> when it was sent, recipients expected, deliveries so far */
  private readonly open = new Map<string, Sent>();
  /** Broadcasts in the order sent; those from inFlightHead on are not yet settled. */
  private inFlight: Sent[] = [];
  private inFlightHead = 0;
  private settledExpected = 0;
  private settledDelivered = 0;
  sent = 0;
  expected = 0;
  delivered = 0;
  duplicates = 0;
  hopsSum = 0;
  hopsMax = 0;
  latencies: number[] = [];
  private windowDelivered = 0;

  onSent(origin: number, seq: number, now: number, recipients: number): void {
    const m: Sent = { sentAt: now, expected: recipients, got: 0, settled: false };
    this.open.set(`${origin}:${seq}`, m);
    this.inFlight.push(m);
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
    if (m.settled) this.settledDelivered++;
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

  /**
   * Delivery over the broadcasts sent at or before `cutoff` only: a live figure that does not
   * count messages still in flight as missed (a broadcast sent 5 ms ago has not arrived yet).
   */
  settledDeliveryPercent(cutoff: number): number {
    for (let m = this.inFlight[this.inFlightHead]; m !== undefined && m.sentAt <= cutoff; m = this.inFlight[this.inFlightHead]) {
      this.inFlightHead++;
      m.settled = true;
      this.settledExpected += m.expected;
      this.settledDelivered += m.got;
    }
    if (this.inFlightHead > 4096 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight = this.inFlight.slice(this.inFlightHead);
      this.inFlightHead = 0;
    }
    return this.settledExpected === 0 ? 100 : (100 * this.settledDelivered) / this.settledExpected;
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
