/**
 * Throughput and allocation measurement. Candidates that are compared run side by side in
 * every repeat (rotating who goes first), each in its own batch function so one candidate's
 * call sites never turn another's megamorphic.
 */
import { getHeapStatistics } from "node:v8";
import type { BenchContext } from "../types.ts";

export interface Candidate {
  readonly name: string;
  /** Runs `n` operations; returns something derived from the results, so nothing is dead code. */
  batch(n: number): number;
  /**
   * Optional: runs `n` operations and returns the milliseconds spent in them, timing itself
   * so that input it prepares per chunk (signing the datagrams a relay is fed, say) is left
   * out. When present, opsPerSecond uses it instead of timing batch().
   */
  timedBatch?(n: number): number;
}

/** Milliseconds `n` operations of `c` take (its own timing when it has timedBatch). */
function timeBatch(c: Candidate, n: number): number {
  if (c.timedBatch !== undefined) return c.timedBatch(n);
  const t0 = performance.now();
  sink ^= c.batch(n);
  return performance.now() - t0;
}

/** Keeps results alive across batches (see Candidate.batch). */
export let sink = 0;

/** How many operations take about `targetMs` (doubling from 1,000). */
function calibrate(c: Candidate, targetMs: number): number {
  let n = 1000;
  for (;;) {
    const ms = timeBatch(c, n);
    if (ms >= targetMs / 4 || n >= 1 << 26) return Math.max(1000, Math.round((n * targetMs) / Math.max(ms, 0.001)));
    n *= 2;
  }
}

/**
 * Ops per second of each candidate over `repeats` repeats, candidates interleaved in each
 * repeat. Returns the samples per candidate, in the candidates' order.
 */
export function opsPerSecond(ctx: BenchContext, candidates: readonly Candidate[], repeats: number, batchMs: number): number[][] {
  const sizes = candidates.map((c) => {
    calibrate(c, batchMs / 2); // warm-up: let the JIT settle before sizing
    return calibrate(c, batchMs);
  });
  const samples: number[][] = candidates.map(() => []);
  for (let r = 0; r < repeats; r++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (r + k) % candidates.length;
      const c = candidates[i] as Candidate;
      const n = sizes[i] as number;
      ctx.gc();
      const ms = timeBatch(c, n);
      (samples[i] as number[]).push(n / (ms / 1000));
    }
  }
  return samples;
}

/**
 * Heap bytes allocated per operation: the heap delta across `total` operations, read in
 * chunks of `chunk`. A chunk during which a scavenge ran shows a drop, not its allocation, so
 * only chunks whose delta is >= 0 count; the figure is the median of those, less what reading
 * the heap size costs. Exact when a GC is available to start from a clean young generation.
 */
export function bytesPerOp(ctx: BenchContext, c: Candidate, total: number, chunk = 1000): number {
  sink ^= c.batch(chunk * 10); // warm
  const readCost = chunkDeltas(ctx, { name: "empty", batch: () => 0 }, 200, 1);
  const base = median0(readCost);
  const deltas = chunkDeltas(ctx, c, Math.max(1, Math.floor(total / chunk)), chunk);
  return Math.max(0, (median0(deltas) - base) / chunk);
}

function chunkDeltas(ctx: BenchContext, c: Candidate, chunks: number, chunk: number): number[] {
  ctx.gc();
  const out: number[] = [];
  for (let i = 0; i < chunks; i++) {
    const h0 = getHeapStatistics().used_heap_size;
    sink ^= c.batch(chunk);
    const d = getHeapStatistics().used_heap_size - h0;
    if (d >= 0) out.push(d);
  }
  return out;
}

function median0(xs: number[]): number {
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1] as number;
}
