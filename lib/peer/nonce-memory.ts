/**
 * The link-opening requests this peer has taken, by (sender, nonce) (PROTOCOL.md 6.13): a
 * Connect or Force is acted on at most once. A captured Force replayed at its receiver used
 * to drop one of its links each time; now the replay finds its nonce here and is refused
 * (request-replay). A retransmission is told apart by the link it opened (same nonce: the
 * same answer, nothing changes twice; responder.ts).
 *
 * Bounded: entries are forgotten after NONCE_MEMORY_MS, and past NONCE_MEMORY_ENTRIES the
 * oldest goes first. Filling it takes 4,096 requests with valid tickets (each charged to a
 * link's or an address's control budget first), and what falls out is the oldest request,
 * whose link has long been settled.
 */
/** How long a taken request's nonce is remembered: 10 minutes. */
export const NONCE_MEMORY_MS = 600_000;
/** At most this many remembered nonces. */
export const NONCE_MEMORY_ENTRIES = 4096;

export class NonceMemory {
  /** key -> when it is forgotten; a Map keeps insertion order, so the first entry is the oldest. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs = NONCE_MEMORY_MS,
    private readonly max = NONCE_MEMORY_ENTRIES,
  ) {}

  get size(): number {
    return this.until.size;
  }

  /** Whether `peer` already used `nonce` (within the memory). */
  seen(now: number, peer: number, nonce: Uint8Array): boolean {
    const at = this.until.get(keyOf(peer, nonce));
    return at !== undefined && at > now;
  }

  /** Remembers (peer, nonce) as taken. */
  remember(now: number, peer: number, nonce: Uint8Array): void {
    this.expire(now);
    const key = keyOf(peer, nonce);
    this.until.delete(key);
    while (this.until.size >= this.max) {
      const oldest = this.until.keys().next();
      if (oldest.done === true) break;
      this.until.delete(oldest.value);
    }
    this.until.set(key, now + this.ttlMs);
  }

  private expire(now: number): void {
    for (const [key, at] of this.until) {
      if (at > now) return; // insertion order is expiry order (one ttl for all)
      this.until.delete(key);
    }
  }
}

function keyOf(peer: number, nonce: Uint8Array): string {
  let k = `${peer >>> 0}:`;
  for (const b of nonce) k += String.fromCharCode(b);
  return k;
}
