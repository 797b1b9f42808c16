/**
 * The duplicate filter: one DuplicateWindow per origin (claims 3, 18, 19), in bounded memory.
 *
 * Claim 3: a peer "retrieve[s] identification information from a message to determine if a
 * message including the same data has already been sent by the peer system". The
 * identification is (origin, seq); this table maps origin -> window and holds at most
 * `maxOrigins` windows, so memory is O(origins) and never O(messages), whatever arrives.
 *
 * Keep one filter per grid: origin ids and seqs are scoped to the grid named in the
 * envelope (claim 4's addressing information).
 */
import { checkInt } from "../errors.ts";
import { DEFAULT_WINDOW_BITS, SeqResult, checkWindowBits } from "./duplicate-window.ts";
import { DEFAULT_SEQ_JUMP_QUIET_MS, OriginWindow, checkQuietMs, type JumpCounters } from "./origin-window.ts";

/**
 * Origins remembered at once. Set it above the number of members a grid can hold: an evicted
 * origin's window is forgotten, so a late copy of one of its messages would look Fresh again.
 * 4096 windows of 1024 bits is ~0.5 MiB of bitmaps. Defaults to 4096.
 */
export const DEFAULT_MAX_ORIGINS = 4096;
/** Upper bound on maxOrigins: 2^20 windows of the default size is 128 MiB of bitmaps. */
export const MAX_MAX_ORIGINS = 1 << 20;

export interface DuplicateFilterOptions {
  /** Origins remembered before the least recently heard one is evicted. Defaults to 4096 (DEFAULT_MAX_ORIGINS). */
  maxOrigins?: number;
  /** Window size per origin, a power of two from 32 to 65536. Defaults to 1024 (DEFAULT_WINDOW_BITS). */
  windowBits?: number;
  /**
   * Origins whose windows no unvouched origin may evict (issue 15, "replay after eviction"):
   * the Peer passes the members the lobby listed or a lobby-signed ticket proved. Without it,
   * every origin is equal (least recently heard goes first).
   */
  vouched?: (origin: number) => boolean;
  /**
   * A seq more than half a window ahead moves an origin's window only at its second new seq
   * and once the origin's own traffic has been quiet this long (origin-window.ts: the
   * one-packet mute). Defaults to DEFAULT_SEQ_JUMP_QUIET_MS (1000).
   */
  seqJumpQuietMs?: number;
}

export interface DuplicateFilterStats {
  /** Origins currently remembered (<= maxOrigins). */
  origins: number;
  /** Arrivals recorded as new. */
  fresh: number;
  /** Arrivals already recorded (claim 19). */
  duplicate: number;
  /** Arrivals older than their origin's window: not provably new, so not accepted. */
  stale: number;
  /** Origins forgotten to make room for a new one. */
  evictions: number;
  /** First arrivals of an unvouched origin refused because every window held a vouched one (counted in stale too). */
  refused: number;
  /** Arrivals more than half a window ahead, delivered once without moving the window (counted in fresh too). */
  jumpsHeld: number;
  /** Jumps taken: an origin's window moved to them after its own traffic was quiet. */
  jumpsTaken: number;
}

/**
 * Duplicate filter keyed by origin id (u32). When full, admitting a new origin evicts the one
 * least recently heard from (the one whose latest Fresh arrival is oldest). Each Fresh arrival
 * stamps its window from a counter (one store on the hot path); eviction scans for the oldest
 * stamp, which only happens when a new origin arrives at a full table. Only Fresh arrivals
 * count as "heard": duplicates arrive over the other links right after the Fresh copy and
 * would not change the order much. The evicted window is reset and reused.
 */
export class DuplicateFilter {
  readonly maxOrigins: number;
  readonly windowBits: number;
  readonly seqJumpQuietMs: number;
  private readonly windows = new Map<number, OriginWindow>();
  private readonly jumps: JumpCounters = { held: 0, taken: 0 };
  private fresh = 0;
  private duplicate = 0;
  private stale = 0;
  private evictions = 0;
  private refused = 0;
  private readonly vouched: ((origin: number) => boolean) | undefined;
  /** Counts fresh arrivals; a window's lastHeard is this counter's value at its latest one. */
  private clock = 0;

  constructor(options: DuplicateFilterOptions = {}) {
    this.maxOrigins = checkInt("maxOrigins", options.maxOrigins ?? DEFAULT_MAX_ORIGINS, 1, MAX_MAX_ORIGINS);
    this.windowBits = checkWindowBits(options.windowBits ?? DEFAULT_WINDOW_BITS);
    this.vouched = options.vouched;
    this.seqJumpQuietMs = checkQuietMs(options.seqJumpQuietMs ?? DEFAULT_SEQ_JUMP_QUIET_MS);
  }

  /** Origins currently remembered. */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Classifies message (origin, seq) arriving at `now` (ms; it times jumps ahead, see
   * origin-window.ts), records it when Fresh, and counts the result. The relay forwards and
   * delivers only Fresh arrivals (claims 2, 16).
   */
  check(origin: number, seq: number, now: number): SeqResult {
    const windows = this.windows;
    let window = windows.get(origin);
    if (window === undefined) {
      // A new origin's first arrival is Fresh, and set() already put it last.
      window = this.admit(origin);
      if (window === undefined) {
        this.refused++;
        this.stale++;
        return SeqResult.Stale;
      }
      window.check(seq, now);
      window.lastHeard = ++this.clock;
      this.fresh++;
      return SeqResult.Fresh;
    }
    const result = window.check(seq, now);
    if (result === SeqResult.Fresh) {
      this.fresh++;
      window.lastHeard = ++this.clock;
    } else if (result === SeqResult.Duplicate) {
      this.duplicate++;
    } else {
      this.stale++;
    }
    return result;
  }

  /** What check(origin, seq) would answer, without recording, counting or reordering. */
  peek(origin: number, seq: number): SeqResult {
    const window = this.windows.get(origin);
    return window === undefined ? SeqResult.Fresh : window.peek(seq);
  }

  /**
   * Drops what is known about `origin` (it left the grid, or rejoined with a new seq
   * space). Returns whether it was known.
   */
  forget(origin: number): boolean {
    return this.windows.delete(origin);
  }

  stats(): DuplicateFilterStats {
    return {
      origins: this.windows.size,
      fresh: this.fresh,
      duplicate: this.duplicate,
      stale: this.stale,
      evictions: this.evictions,
      refused: this.refused,
      jumpsHeld: this.jumps.held,
      jumpsTaken: this.jumps.taken,
    };
  }

  /**
   * A window for a new origin. At a full table the least recently heard origin goes, but a
   * vouched origin's window only for another vouched origin: thousands of fake origin ids
   * (any member can write any id under a valid tag) evict only each other, so a real
   * member's window, and with it the memory of what was delivered, stays. An unvouched
   * origin arriving at a table full of vouched ones gets none (undefined: not provably new).
   */
  private admit(origin: number): OriginWindow | undefined {
    let window: OriginWindow | undefined;
    if (this.windows.size >= this.maxOrigins) {
      // A scan, but only when a new origin arrives at a full table; the fresh path stays one
      // stamp instead of a Map delete + set.
      const vouched = this.vouched;
      let victim = -1;
      let oldest = Infinity;
      let victimAny = -1;
      let oldestAny = Infinity;
      for (const [o, w] of this.windows) {
        if (w.lastHeard < oldestAny) {
          oldestAny = w.lastHeard;
          victimAny = o;
        }
        if (w.lastHeard < oldest && (vouched === undefined || !vouched(o))) {
          oldest = w.lastHeard;
          victim = o;
        }
      }
      if (victim === -1) {
        if (vouched !== undefined && !vouched(origin)) return undefined;
        victim = victimAny;
      }
      const victimWindow = this.windows.get(victim);
      if (victimWindow !== undefined) {
        this.windows.delete(victim);
        victimWindow.reset();
        window = victimWindow;
        this.evictions++;
      }
    }
    window ??= new OriginWindow(this.windowBits, this.seqJumpQuietMs, this.jumps);
    this.windows.set(origin, window);
    return window;
  }
}
