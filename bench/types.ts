/** What a bench group gets and gives back. */
import type { Figure } from "./stats.ts";

export type Runtime = "node" | "bun" | "deno";

export interface BenchContext {
  /** --quick: fewer repeats and smaller N, everything under 60 s (CI). */
  readonly quick: boolean;
  /** The runtime this group runs on (a UDP group: the one --runtime named, or one of its runtimes). */
  readonly runtime: Runtime;
  /** Progress to stderr (stdout is the table or the JSON). */
  log(message: string): void;
  /** A full GC when the process has --expose-gc, else nothing. */
  gc(): void;
  readonly hasGc: boolean;
  /** Where latest.json, latest.md and charts go. */
  readonly resultsDir: string;
}

export interface Row {
  /** JSON key of the figure, e.g. "oursOpsPerSec". */
  readonly key: string;
  /** Table label. */
  readonly measure: string;
  /** The figure, or null with `note` when it cannot be measured yet. */
  readonly value: Figure | null;
  readonly note?: string;
  /** A ratio against a baseline measured in the same run; stored in JSON under `ratioKey` (ends in "Ratio"). */
  readonly ratio?: Figure;
  readonly ratioKey?: string;
  /** What the ratio divides, e.g. "ours / this" or "LDH / log3(N)". */
  readonly baseline?: string;
  /** Target text (">= 2.5x") and whether this run met it. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface GroupResult {
  readonly group: string;
  readonly title: string;
  /** "unavailable": a placeholder that needs code that does not exist yet (nothing measured). */
  readonly status: "ok" | "partial" | "unavailable";
  readonly rows: Row[];
  /** Extra facts for the JSON (sizes, settings). */
  readonly info: Record<string, unknown>;
  readonly notes: string[];
  readonly wallMs?: number;
}

export interface Group {
  readonly name: string;
  readonly title: string;
  /** UDP groups honour --runtime; the others always run in this Node process. */
  readonly udp: boolean;
  /** A UDP group's runtimes when no --runtime is given (it runs once on each, Node first). Defaults to Node only. */
  readonly runtimes?: readonly Runtime[];
  /** The same for --quick (CI's time budget). Defaults to `runtimes`. */
  readonly quickRuntimes?: readonly Runtime[];
  run(ctx: BenchContext): Promise<GroupResult>;
}
