/**
 * Claim 41: a member this peer was disconnected from is not chosen again for
 * disconnectPeriodMs. Bounded like the member list: past `max` entries the oldest (the first
 * to run out) goes first, so a peer that churns through many neighbours keeps O(max) state.
 */
export class Cooldowns {
  private readonly until = new Map<number, number>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.until.size;
  }

  /** `peer` is not chosen again before `untilMs`. */
  start(peer: number, untilMs: number): void {
    this.until.delete(peer); // re-inserted last: the map's order is the order they run out
    this.until.set(peer, untilMs);
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value as number);
  }

  end(peer: number): void {
    this.until.delete(peer);
  }

  /** Whether `peer` is still cooling down at `now` (an expired entry is forgotten). */
  active(now: number, peer: number): boolean {
    const until = this.until.get(peer);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(peer);
    return false;
  }
}
