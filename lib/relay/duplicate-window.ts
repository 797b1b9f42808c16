/**
 * Per-origin duplicate detection for relayed messages.
 *
 * Claim 18: "storing information identifying the received data"; claim 19: "comparing
 * information identifying said received data with information stored by the relaying peer
 * system to determine if said received data has been previously received". The identifying
 * information is (origin, seq) from the relay envelope (claim 4); this file keeps the seq
 * half for one origin, in a fixed-size bitmap, so memory is O(1) per origin and never grows
 * with the number of messages (DESIGN.md, Hot path).
 *
 * Sequence numbers are u32 and wrap. Order is RFC 1982 serial-number arithmetic: `a` is
 * newer than `b` iff `(a - b) >>> 0` is in 1..2^31-1. At exactly 2^31 the order is
 * undefined (RFC 1982 section 3.2), so such an arrival is Stale: it cannot be proven fresh.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";

/**
 * What one arrival means. Small ints (not a TS enum) so the sources run under
 * type-stripping runtimes and the hot path compares numbers.
 */
export const SeqResult = {
  /** First arrival of this seq: now recorded. The only result that may be delivered or forwarded. */
  Fresh: 0,
  /** This seq was recorded before (claim 19): drop it. */
  Duplicate: 1,
  /**
   * Older than the window, or exactly 2^31 away from the newest seq: the window no longer
   * knows, so it is treated as not fresh and counted apart from Duplicate.
   */
  Stale: 2,
} as const;
export type SeqResult = (typeof SeqResult)[keyof typeof SeqResult];

/**
 * How many consecutive seqs (ending at the newest) one window remembers. 1024 covers
 * ~17 s of reordering at 60 updates per second and costs 128 bytes per origin.
 * Defaults to 1024.
 */
export const DEFAULT_WINDOW_BITS = 1024;
/** Smallest window: one Uint32Array word. */
export const MIN_WINDOW_BITS = 32;
/** Largest window: 8 KiB per origin. Far below 2^31, so "inside the window" is never ambiguous. */
export const MAX_WINDOW_BITS = 65536;

const HALF = 0x80000000;

/**
 * A sliding bitmap over the newest `windowBits` seqs of one origin.
 *
 * Slot of a seq = `seq mod windowBits`. The window size must be a power of two: 2^32 is then a
 * multiple of it, so seqs that are consecutive across the u32 wrap (0xFFFFFFFF, 0) also have
 * consecutive slots and the `windowBits` seqs in the window never share a slot. (A size such as
 * 96, a multiple of 32 but not a power of two, would alias slots across the wrap.)
 */
export class DuplicateWindow {
  /** Seqs remembered, ending at the newest. A power of two from 32 to 65536. */
  readonly windowBits: number;
  private readonly mask: number;
  private readonly bits: Uint32Array;
  private highest = 0;
  private empty = true;

  /** @param windowBits Defaults to DEFAULT_WINDOW_BITS (1024). */
  constructor(windowBits: number = DEFAULT_WINDOW_BITS) {
    checkWindowBits(windowBits);
    this.windowBits = windowBits;
    this.mask = windowBits - 1;
    this.bits = new Uint32Array(windowBits >>> 5);
  }

  /** The newest seq recorded, or undefined before the first arrival. */
  get highestSeq(): number | undefined {
    return this.empty ? undefined : this.highest;
  }

  /**
   * How far `seq` is ahead of the newest seq, as a u32 ((seq - newest) mod 2^32: 2^31 and
   * more means behind), or -1 before the first arrival. The origin window (origin-window.ts)
   * reads it to tell a jump from ordinary progress.
   */
  aheadBy(seq: number): number {
    return this.empty ? -1 : (seq - this.highest) >>> 0;
  }

  /**
   * Classifies `seq` (a u32) and records it when Fresh. Claims 2 and 16 rest on this:
   * the relay forwards only a Fresh arrival, so the same data is never sent twice.
   */
  check(seq: number): SeqResult {
    seq >>>= 0;
    if (this.empty) {
      this.empty = false;
      this.highest = seq;
      this.setBit(seq);
      return SeqResult.Fresh;
    }
    const ahead = (seq - this.highest) >>> 0;
    if (ahead === 0) return SeqResult.Duplicate;
    if (ahead < HALF) {
      // Newer: slide forward. Slots of the seqs skipped over still hold bits from
      // `windowBits` seqs ago; clear them (at most every word once, whatever the jump).
      if (ahead >= this.windowBits) this.bits.fill(0);
      else this.clearSlots(this.highest + 1, ahead);
      this.highest = seq;
      this.setBit(seq);
      return SeqResult.Fresh;
    }
    // Older (behind in 1..2^31; 2^31 itself is the undefined case and lands in Stale).
    if (((this.highest - seq) >>> 0) >= this.windowBits) return SeqResult.Stale;
    const word = (seq & this.mask) >>> 5;
    const bit = 1 << (seq & 31);
    const held = this.bits[word] as number;
    if ((held & bit) !== 0) return SeqResult.Duplicate;
    this.bits[word] = held | bit;
    return SeqResult.Fresh;
  }

  /** What `check(seq)` would answer, without recording anything. */
  peek(seq: number): SeqResult {
    seq >>>= 0;
    if (this.empty) return SeqResult.Fresh;
    const ahead = (seq - this.highest) >>> 0;
    if (ahead === 0) return SeqResult.Duplicate;
    if (ahead < HALF) return SeqResult.Fresh;
    if (((this.highest - seq) >>> 0) >= this.windowBits) return SeqResult.Stale;
    const held = this.bits[(seq & this.mask) >>> 5] as number;
    return (held & (1 << (seq & 31))) !== 0 ? SeqResult.Duplicate : SeqResult.Fresh;
  }

  /** Forgets everything, as if new (the origin table reuses evicted windows this way). */
  reset(): void {
    this.bits.fill(0);
    this.highest = 0;
    this.empty = true;
  }

  private setBit(seq: number): void {
    const word = (seq & this.mask) >>> 5;
    this.bits[word] = (this.bits[word] as number) | (1 << (seq & 31));
  }

  /** Clears the slots of `count` (< windowBits) seqs from `fromSeq` on, a word at a time. */
  private clearSlots(fromSeq: number, count: number): void {
    let slot = fromSeq & this.mask;
    while (count > 0) {
      const offset = slot & 31;
      const n = Math.min(32 - offset, count);
      const word = slot >>> 5;
      // n bits starting at `offset`; the window is whole words, so a run never crosses the ring's end.
      const clear = n === 32 ? -1 : ((1 << n) - 1) << offset;
      this.bits[word] = (this.bits[word] as number) & ~clear;
      count -= n;
      slot = (slot + n) & this.mask;
    }
  }
}

/** Throws InvalidConfig unless `windowBits` is a power of two from 32 to 65536. */
export function checkWindowBits(windowBits: number): number {
  const powerOfTwo = Number.isInteger(windowBits) && windowBits > 0 && (windowBits & (windowBits - 1)) === 0;
  if (!powerOfTwo || windowBits < MIN_WINDOW_BITS || windowBits > MAX_WINDOW_BITS) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `windowBits must be a power of two from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS} ` +
        `(so the bitmap stays contiguous across the u32 seq wrap), got ${String(windowBits)}`,
    );
  }
  return windowBits;
}
