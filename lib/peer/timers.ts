/**
 * The Peer's timer table (STYLE.md 3, quinn-proto's timer table): every deadline the Peer
 * keeps has a name here. pollTimeout() is the minimum over them and nextTimer() says which
 * one it is; Peer.handleTimeout walks them in this order and fires each one that is due, so
 * when several fall due at once they always fire in the same order (a seed replays exactly).
 *
 * Each part arms only its own timers. A timer with many deadlines (the request table's
 * retransmits) is one entry whose deadline is its earliest; it keeps its own index.
 * A new timer is one entry here and one handler in the Peer's table (peer.ts), which the
 * compiler asks for.
 */

export const PeerTimer = {
  /** A control request is due for a retransmit or gives up (request-table.ts; its earliest deadline). */
  Retransmit: "retransmit",
  /** A join or connection-available round's time limit (claims 29, 39; seeker.ts). */
  RoundEnd: "round-end",
  /** Pongs not back by now are unacceptable (claims 47, 48; pings.ts). */
  PongDeadline: "pong-deadline",
  /** Ping every link (claim 46; pings.ts). */
  PingTick: "ping-tick",
  /** Heartbeat to the lobby (lobby-client.ts). */
  Heartbeat: "heartbeat",
  /** Below the limit: look for links (claim 36; seeker.ts). */
  SeekTick: "seek-tick",
  /** The previous grid key's grace after a switch is over: forget it (lobby-client.ts; PROTOCOL.md 6.5). */
  KeyGrace: "key-grace",
  /** Send the Prunes and Grafts batched per link; look for origins gone quiet (redundancy.ts). */
  RedundancyTick: "redundancy-tick",
  /** Ask for the missing seqs that are due, give up the ones out of attempts (repair.ts). */
  RepairTick: "repair-tick",
  /** Unfinished large messages time out; ordered messages that waited maxHoldMs skip their gap (delivery.ts). */
  DeliveryTick: "delivery-tick",
  /** NAT traversal (nat-client.ts): the next Punch round, a punch's budget, a prepared round's wait, the proven-path sweep. */
  Punch: "punch",
  /** A joining peer that still holds no link is told it reaches nobody (nat-client.ts; PROTOCOL.md 7.2). */
  Unreachable: "unreachable",
  /** Reliable routed messages not acknowledged in time are sent again, or given up (routed-outbox.ts). */
  RoutedRetransmit: "routed-retransmit",
  /** leave() stops waiting for acks (peer.ts); due early once no request is outstanding. */
  CloseDeadline: "close-deadline",
} as const;
export type PeerTimer = (typeof PeerTimer)[keyof typeof PeerTimer];

/** The order handleTimeout fires due timers in. */
export const TIMER_ORDER: readonly PeerTimer[] = Object.values(PeerTimer);

const INDEX = new Map<PeerTimer, number>(TIMER_ORDER.map((name, i) => [name, i]));
const UNSET = Infinity;

/** One deadline per named timer (Infinity while unarmed), plus the sources that compute theirs. */
export class TimerTable {
  private readonly at = new Float64Array(TIMER_ORDER.length).fill(UNSET);
  private readonly sources: ((() => number | undefined) | undefined)[] = [];

  /** `name`'s deadline comes from `source` (a table with its own index) instead of arm(). */
  source(name: PeerTimer, source: () => number | undefined): void {
    this.sources[INDEX.get(name) as number] = source;
  }

  arm(name: PeerTimer, atMs: number): void {
    this.at[INDEX.get(name) as number] = atMs;
  }

  /** Arms `name` at `atMs` unless it is already armed earlier. */
  armEarlier(name: PeerTimer, atMs: number): void {
    const i = INDEX.get(name) as number;
    if (atMs < (this.at[i] as number)) this.at[i] = atMs;
  }

  disarm(name: PeerTimer): void {
    this.at[INDEX.get(name) as number] = UNSET;
  }

  /** Disarms every timer that arm() sets (leave()). */
  disarmAll(): void {
    this.at.fill(UNSET);
  }

  /** `name`'s deadline, or undefined when it is not armed. */
  deadline(name: PeerTimer): number | undefined {
    const i = INDEX.get(name) as number;
    return this.deadlineAt(i);
  }

  /** The earliest deadline, or undefined (pollTimeout: no allocation, it runs per datagram). */
  earliest(): number | undefined {
    let min = UNSET;
    for (let i = 0; i < TIMER_ORDER.length; i++) {
      const at = this.deadlineAt(i) ?? UNSET;
      if (at < min) min = at;
    }
    return min === UNSET ? undefined : min;
  }

  /** The earliest deadline and its timer's name (on a tie, the one that fires first). */
  next(): { name: PeerTimer; atMs: number } | undefined {
    let best: { name: PeerTimer; atMs: number } | undefined;
    for (let i = 0; i < TIMER_ORDER.length; i++) {
      const at = this.deadlineAt(i);
      if (at !== undefined && (best === undefined || at < best.atMs)) best = { name: TIMER_ORDER[i] as PeerTimer, atMs: at };
    }
    return best;
  }

  /** Timers armed now (for footprint()). */
  get armed(): number {
    let n = 0;
    for (let i = 0; i < TIMER_ORDER.length; i++) if (this.deadlineAt(i) !== undefined) n++;
    return n;
  }

  private deadlineAt(i: number): number | undefined {
    const source = this.sources[i];
    if (source !== undefined) return source();
    const at = this.at[i] as number;
    return at === UNSET ? undefined : at;
  }
}
