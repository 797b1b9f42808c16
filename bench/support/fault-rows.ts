/**
 * The rows of the fault matrix (security and fault-tolerance issue, point 6) and the shape of
 * one run: a grid of real Peers and a real Lobby on the simulator, every peer broadcasting at
 * a game rate, one fault applied in the middle of the measured window.
 *
 * Every row runs on the same seeds, and a seed builds the same grid and the same broadcast
 * schedule for every row up to the fault, so rows compare on identical grids.
 */
import type { LinkOptions } from "../../platform/memory/index.ts";
import type { Redundancy } from "../../lib/peer/config.ts";

/** What happens at the fault. */
export type FaultKind =
  /** The default link of every pair (peers and lobby) changes for `faultMs`, then goes back. */
  | { readonly t: "link"; readonly link: Partial<LinkOptions> }
  /** This fraction of the peers crash at one instant and never come back. */
  | { readonly t: "crash"; readonly fraction: number }
  /** The peers split into two random halves that cannot reach each other (both reach the lobby) for `faultMs`. */
  | { readonly t: "partition" }
  /** The lobby node crashes, and `faultMs` later a fresh Lobby (empty state) starts at the same address. */
  | { readonly t: "lobby-restart" };

export interface FaultRow {
  /** Short id, used in JSON keys and in RELAYGRID_FAULTS. */
  readonly id: string;
  /** Table label. */
  readonly label: string;
  readonly kind: FaultKind;
  /** Virtual ms the fault lasts (0: an instant). */
  readonly faultMs: number;
  /** Virtual ms of broadcasting after the fault ended. */
  readonly postMs: number;
}

export interface FaultTiming {
  /** Broadcasting before the fault (the pre-fault baseline), virtual ms. */
  readonly preMs: number;
  /** How long a link condition lasts, and the broadcasting after it. */
  readonly conditionMs: number;
  readonly conditionPostMs: number;
  /** Broadcasting after a crash (healing takes about one ping time limit, ~3-4 s). */
  readonly crashPostMs: number;
  /** How long the partition lasts (long enough for the links across to be declared dead), and after. */
  readonly partitionMs: number;
  readonly partitionPostMs: number;
  /** How long the lobby is down before the fresh one starts, and the broadcasting after. */
  readonly lobbyDownMs: number;
  readonly lobbyPostMs: number;
  /** After the last broadcast, time for the copies in flight to land. */
  readonly drainMs: number;
  /**
   * Broadcasts sent this long before the fault were still spreading when it hit: they count as
   * "during", not "pre" (the last-delivery hop count here is about 5 x 10-20 ms).
   */
  readonly edgeMs: number;
}

/** The grid every row runs on. */
export interface GridShape {
  readonly peers: number;
  readonly connectionLimit: number;
  /** Broadcasts per second per peer. */
  readonly rateHz: number;
  readonly payloadBytes: number;
  readonly link: Partial<LinkOptions>;
  /** The broadcast clock: every peer broadcasts once per 1000 / rateHz ms at its own offset (a multiple of tickMs). */
  readonly tickMs: number;
  /** How often the grid's health (components, links) is sampled. */
  readonly sampleMs: number;
}

export interface FaultSettings {
  readonly grid: GridShape;
  readonly timing: FaultTiming;
  readonly seeds: readonly number[];
}

/**
 * Full: 64 peers, limit 4, 10 broadcasts/s each, seeds 1-3 (RELAYGRID_FAULT_SEEDS=1,2,3,4,5 for
 * more): about 1.5 minutes on 2 cores with the pre-security Peer, about 3 with the security
 * layer's pure-JS handshakes in the grid builder and a MAC per hop.
 * --quick: 24 peers and shorter windows, 1 seed (under 20 s), a smoke test of the same matrix.
 */
export function settings(quick: boolean): FaultSettings {
  const grid = {
    connectionLimit: 4,
    rateHz: 10,
    payloadBytes: 64,
    // One way: 10 ms + 0-10 ms uniform jitter, as in the scale group.
    link: { latencyMs: 10, jitterMs: 10 },
    tickMs: 10,
    sampleMs: 50,
  };
  return quick
    ? {
        grid: { ...grid, peers: 24 },
        timing: {
          preMs: 1000,
          conditionMs: 3000,
          conditionPostMs: 2000,
          crashPostMs: 5000,
          partitionMs: 4000,
          partitionPostMs: 4000,
          lobbyDownMs: 1000,
          lobbyPostMs: 3000,
          drainMs: 1000,
          edgeMs: 250,
        },
        seeds: [1],
      }
    : {
        grid: { ...grid, peers: 64 },
        timing: {
          preMs: 1000,
          conditionMs: 4000,
          conditionPostMs: 3000,
          crashPostMs: 6000,
          partitionMs: 5000,
          partitionPostMs: 4000,
          lobbyDownMs: 1000,
          lobbyPostMs: 4000,
          drainMs: 1000,
          edgeMs: 250,
        },
        seeds: [1, 2, 3],
      };
}

export function rows(t: FaultTiming): FaultRow[] {
  const link = (id: string, label: string, l: Partial<LinkOptions>): FaultRow => ({
    id,
    label,
    kind: { t: "link", link: l },
    faultMs: t.conditionMs,
    postMs: t.conditionPostMs,
  });
  const crash = (pct: number): FaultRow => ({
    id: `crash${pct}`,
    label: `${pct}% of peers crash at once`,
    kind: { t: "crash", fraction: pct / 100 },
    faultMs: 0,
    postMs: t.crashPostMs,
  });
  return [
    link("loss0", "no fault (0% loss)", { lossPercent: 0 }),
    link("loss5", "5% loss on every link", { lossPercent: 5 }),
    link("loss10", "10% loss on every link", { lossPercent: 10 }),
    link("loss20", "20% loss on every link", { lossPercent: 20 }),
    link("loss30", "30% loss on every link", { lossPercent: 30 }),
    link("dup20", "20% duplication on every link", { duplicatePercent: 20 }),
    link("reorder20", "20% reordering (+25 ms) on every link", { reorderPercent: 20, reorderDelayMs: 25 }),
    crash(10),
    crash(30),
    crash(50),
    {
      id: "partition",
      label: `two-way partition (random halves, ${t.partitionMs / 1000} s)`,
      kind: { t: "partition" },
      faultMs: t.partitionMs,
      postMs: t.partitionPostMs,
    },
    {
      id: "lobbyRestart",
      label: `lobby restart (${t.lobbyDownMs / 1000} s down, fresh state)`,
      kind: { t: "lobby-restart" },
      faultMs: t.lobbyDownMs,
      postMs: t.lobbyPostMs,
    },
  ];
}

/** Environment variables that narrow a run to some rows and seeds (the runner's argv has no room for them). */
export const ROWS_ENV = "RELAYGRID_FAULTS";
export const SEEDS_ENV = "RELAYGRID_FAULT_SEEDS";
/**
 * RELAYGRID_FAULT_REDUNDANCY=prune runs the matrix with redundancy lists + repair, =flood with
 * flooding and repair off; unset, the Peer's defaults (redundancy lists + repair since issue 12). Only a run
 * with the defaults rewrites docs/RELIABILITY.md.
 */
export const REDUNDANCY_ENV = "RELAYGRID_FAULT_REDUNDANCY";

/** The Peer options the matrix runs with (REDUNDANCY_ENV). */
export function redundancyOptions(): { redundancy?: Redundancy; repair?: boolean } {
  const v = process.env[REDUNDANCY_ENV];
  if (v === undefined || v === "") return {};
  if (v === "prune") return { redundancy: "prune", repair: true };
  if (v === "flood") return { redundancy: "flood", repair: false };
  throw new Error(`${REDUNDANCY_ENV} must be "flood" or "prune", got ${JSON.stringify(v)}`);
}

/** The command that reproduces one row (all its seeds, or one). */
export function rowCommand(id: string, seeds: readonly number[], quick: boolean): string {
  const r = redundancyOptions().redundancy;
  const mode = r === undefined ? "" : `${REDUNDANCY_ENV}=${r} `;
  return `${mode}${ROWS_ENV}=${id} ${SEEDS_ENV}=${seeds.join(",")} npm run bench -- faults${quick ? " --quick" : ""}`;
}

/** Parses a comma list from the environment; undefined when unset or empty. */
export function envList(name: string): string[] | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return undefined;
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
