/**
 * One origin's duplicate window, hardened against the one-packet mute (issue 15; docs/SECURITY.md).
 *
 * Every member holds the grid key, so any member can send one Data under another member's
 * origin id. Into a bare DuplicateWindow, a seq 2^31 - 2 ahead slides the window there, and the
 * real origin's next broadcasts are all "older than the window": stale, never delivered. Here a
 * seq more than half a window ahead of the newest does not move the window. It is recorded in a
 * second, "aside" window and delivered once (duplicates of it are found there). The aside
 * window becomes the origin's window only at its second new seq, and only once the origin's
 * own traffic in the main window has been quiet for `quietMs`: an origin that really jumped
 * (this member missed hundreds of its messages, so nothing arrived in the main window) moves
 * on at its second message after the gap; a forger who sends while the real origin is
 * talking moves nothing.
 *
 * What it does not stop: a forger who sends two packets while the origin has been silent for
 * `quietMs`, and any member delivering data under another's id (the `originAuth` option signs
 * origins; docs/SECURITY.md). Seqs far behind the window stay stale: taking them aside would let
 * a captured old message be delivered again.
 */
import { checkInt } from "../errors.ts";
import { DuplicateWindow, SeqResult } from "./duplicate-window.ts";

/**
 * How long the origin's in-window traffic must have been quiet before a jump ahead is taken
 * as its new window: 1 s, 30 messages of a 30 Hz game. Defaults to 1000.
 */
export const DEFAULT_SEQ_JUMP_QUIET_MS = 1000;

const HALF = 0x80000000;

/** What the windows of one filter count between them (DuplicateFilter.stats()). */
export interface JumpCounters {
  /** Arrivals more than half a window ahead, delivered once from an aside window. */
  held: number;
  /** Aside windows that became their origin's window (a jump taken). */
  taken: number;
}

/** The main window, and an aside window while a jump ahead is pending. */
export class OriginWindow {
  private main: DuplicateWindow;
  private aside: DuplicateWindow | undefined;
  /** The aside window's object, kept for reuse once it was taken or dropped. */
  private spare: DuplicateWindow | undefined;
  /** New seqs recorded in the aside window. */
  private asideFresh = 0;
  /** `now` at the latest new seq in the main window. */
  private mainHeardAt = -Infinity;
  /** Seqs more than this ahead of the newest are a jump: half the window. */
  private readonly jump: number;
  /** When this origin was last heard fresh, on the owning DuplicateFilter's counter (for eviction). */
  lastHeard = 0;

  constructor(
    readonly windowBits: number,
    private readonly quietMs: number,
    private readonly counters: JumpCounters,
  ) {
    this.main = new DuplicateWindow(windowBits);
    this.jump = windowBits >>> 1;
  }

  /** The newest seq of the main window, or undefined before the first arrival. */
  get highestSeq(): number | undefined {
    return this.main.highestSeq;
  }

  /** Classifies `seq` (a u32) arriving at `now` and records it when Fresh. */
  check(seq: number, now: number): SeqResult {
    seq >>>= 0;
    if (this.aside === undefined) {
      // The hot path: one subtraction more than a bare window.
      const ahead = this.aheadOfMain(seq);
      if (ahead <= this.jump || ahead >= HALF) return this.inMain(seq, now);
      return this.holdAside(seq);
    }
    return this.checkWithAside(seq, now);
  }

  /** What check(seq, now) would answer, without recording anything. */
  peek(seq: number): SeqResult {
    if (this.aside !== undefined && this.aside.peek(seq) === SeqResult.Duplicate) return SeqResult.Duplicate;
    return this.main.peek(seq);
  }

  /** Forgets everything, as if new (the origin table reuses evicted windows this way). */
  reset(): void {
    this.main.reset();
    this.dropAside();
    this.mainHeardAt = -Infinity;
  }

  /**
   * How far `seq` is ahead of the main window's newest (u32). An empty window counts as at 0
   * (an origin's seqs start at 1): a first arrival more than half a window from there is a
   * jump too, so a forger who speaks first under a new member's id does not set its window
   * (and a member that joins late takes a long-running origin's window at its second message).
   */
  private aheadOfMain(seq: number): number {
    const ahead = this.main.aheadBy(seq);
    if (ahead !== -1) return ahead;
    return seq <= this.jump ? seq : this.jump + 1;
  }

  private inMain(seq: number, now: number): SeqResult {
    const r = this.main.check(seq);
    if (r === SeqResult.Fresh) this.mainHeardAt = now;
    return r;
  }

  /** A first jump: recorded aside and delivered once; the main window stays where it is. */
  private holdAside(seq: number): SeqResult {
    const aside = this.spare ?? new DuplicateWindow(this.windowBits);
    this.spare = undefined;
    aside.reset();
    aside.check(seq);
    this.aside = aside;
    this.asideFresh = 1;
    this.counters.held++;
    return SeqResult.Fresh;
  }

  private checkWithAside(seq: number, now: number): SeqResult {
    const aside = this.aside as DuplicateWindow;
    // Already delivered from the aside window, whichever window it would fall in now.
    if (aside.peek(seq) === SeqResult.Duplicate) return SeqResult.Duplicate;
    const ahead = this.aheadOfMain(seq);
    if (ahead <= this.jump) {
      const r = this.inMain(seq, now);
      // The main window moved a whole window past the aside one: no seq of it can be
      // confused with the aside's any more (they are all stale in the main window).
      const behind = (0 - this.main.aheadBy(aside.highestSeq as number)) >>> 0;
      if (behind >= this.windowBits && behind < HALF) this.dropAside();
      return r;
    }
    const fromAside = aside.aheadBy(seq);
    const nearAside = fromAside <= this.jump || (fromAside >= HALF && ((0 - fromAside) >>> 0) < this.windowBits);
    if (nearAside) {
      aside.check(seq); // not a duplicate (above), so fresh: delivered once
      this.counters.held++;
      this.asideFresh++;
      if (this.asideFresh >= 2 && now - this.mainHeardAt >= this.quietMs) this.takeAside(now);
      return SeqResult.Fresh;
    }
    if (ahead >= HALF) return this.inMain(seq, now); // behind the main window's newest: as always
    return this.holdAside(seq); // another jump, far from both: the newest jump is the one kept
  }

  /** The jump is taken: the aside window becomes the origin's window. */
  private takeAside(now: number): void {
    const old = this.main;
    this.main = this.aside as DuplicateWindow;
    this.aside = undefined;
    this.spare = old;
    this.asideFresh = 0;
    this.mainHeardAt = now;
    this.counters.taken++;
  }

  private dropAside(): void {
    if (this.aside !== undefined) this.spare = this.aside;
    this.aside = undefined;
    this.asideFresh = 0;
  }
}

/** Throws InvalidConfig unless `quietMs` is an integer from 0 to 1 hour. */
export function checkQuietMs(quietMs: number): number {
  return checkInt("seqJumpQuietMs", quietMs, 0, 3_600_000);
}
