/**
 * A fuzz target and the runner that drives it with fast-check (issue 6, point 5).
 *
 * A target turns a generated input into concrete lines ("describe": each datagram as its
 * source and hex, each clock step) and checks its properties by replaying those lines
 * against a fresh world ("replay"), so a counterexample printed as hex replays exactly,
 * without fast-check, even after the generators change.
 *
 * The runner searches (time- or count-bounded) without shrinking, then replays the first
 * failure from its seed and path and lets fast-check shrink it to completion: a time limit
 * never cuts a shrink short, and one seed gives one search.
 */
import fc from "fast-check";

export interface FuzzTarget<T> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws when a property fails. */
  check(input: T): void;
  /** The input as replayable lines (hex datagrams with their sources, clock steps). */
  describe(input: T): string[];
  /** Runs the lines against a fresh world and checks every property; throws on a failure. */
  replay(lines: readonly string[]): void;
}

export interface FuzzOptions {
  seed: number;
  /** Runs to try; unbounded (until timeLimitMs) when undefined. */
  numRuns?: number;
  timeLimitMs?: number;
  /** Replay exactly this case (with `seed`; one run unless numRuns says more), as a regression does. */
  path?: string;
}

export interface FuzzOutcome {
  target: string;
  seed: number;
  runs: number;
  failed: boolean;
  /** The shrunk counterexample's path (replay with the same seed). */
  path?: string;
  /** The shrunk counterexample as replayable lines (hex). */
  lines?: string[];
  error?: string;
  shrinks?: number;
  ms: number;
}

export function runTarget<T>(target: FuzzTarget<T>, options: FuzzOptions): FuzzOutcome {
  const started = performance.now();
  const property = fc.property(target.arbitrary, (input) => {
    target.check(input);
  });
  const search = fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns ?? (options.path !== undefined ? 1 : Number.MAX_SAFE_INTEGER),
    path: options.path,
    endOnFailure: true,
    plugins: options.timeLimitMs === undefined ? [] : [fc.interruptAfterTimeLimit(options.timeLimitMs)],
  });
  const base = { target: target.name, seed: options.seed, runs: search.numRuns };
  if (!search.failed || search.counterexamplePath === null) {
    return { ...base, failed: search.failed, error: search.failed ? "interrupted before any run" : undefined, ms: performance.now() - started };
  }
  // Shrink from the failing case to completion (no time limit).
  const shrunk = fc.check(property, { seed: options.seed, path: search.counterexamplePath });
  const details = shrunk.failed && shrunk.counterexample !== null ? shrunk : search;
  const example = (details.counterexample as [T] | null)?.[0];
  return {
    ...base,
    failed: true,
    path: details.counterexamplePath ?? search.counterexamplePath,
    lines: example === undefined ? undefined : target.describe(example),
    error: errorText(details.errorInstance),
    shrinks: shrunk.numShrinks,
    ms: performance.now() - started,
  };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.stack ?? e.message;
  return String(e);
}

/** What to print for a failure, including the regression entry to paste into test/vectors/fuzz-regressions.json. */
export function formatFailure(o: FuzzOutcome): string {
  const entry = { target: o.target, seed: o.seed, path: o.path, hex: o.lines, note: "what broke, and the fix" };
  return [
    `FAIL ${o.target}: seed ${o.seed} path ${o.path ?? "?"} after ${o.runs} runs (${o.shrinks ?? 0} shrinks)`,
    `replay: npm run fuzz -- --target ${o.target} --seed ${o.seed} --path ${o.path ?? "?"}`,
    "counterexample (shrunk):",
    ...(o.lines ?? ["(none)"]).map((l) => `  ${l}`),
    "error:",
    ...(o.error ?? "").split("\n").slice(0, 12).map((l) => `  ${l}`),
    "regression entry:",
    `  ${JSON.stringify(entry)}`,
  ].join("\n");
}
