/**
 * faults (simulator): the fault matrix of the security and fault-tolerance issue. A grid of real
 * Peers and a real Lobby, every member broadcasting at a game rate, and one fault per row: loss
 * of 0/5/10/20/30% on every link, 20% duplication, 20% reordering, 10/30/50% of the peers
 * crashing at once, a partition into two halves lifted later, and a lobby restart with empty
 * state. Per row, over a few seeds: delivery % to the members live for the whole window (and
 * during / after the fault), time to heal, duplicates delivered (must be 0) and redundant copies
 * per broadcast, with the command that reproduces the row. Definitions: support/fault-run.ts.
 *
 * A run of every row without --quick (any seeds) also rewrites the table section of
 * docs/RELIABILITY.md, naming the command, commit and machine.
 *
 * Narrowing (the runner's command line has no room for it): RELAYGRID_FAULTS=loss20,crash30
 * runs those rows, RELAYGRID_FAULT_SEEDS=2 (or 1,2,3,4,5) those seeds, RELAYGRID_FAULT_WORKERS=1
 * runs the cells in this process instead of on worker processes, RELAYGRID_FAULT_REDUNDANCY=prune
 * (redundancy lists + repair) or =flood (flooding, repair off) instead of the Peer's defaults,
 * for comparison; such a run leaves docs/RELIABILITY.md alone.
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { benchRows, docMeta, renderDocTable, summarize, writeDocSection } from "../support/fault-report.ts";
import { envList, REDUNDANCY_ENV, redundancyOptions, ROWS_ENV, rows, SEEDS_ENV, settings } from "../support/fault-rows.ts";
import { runJobs, type FaultJob } from "../support/fault-worker.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const WORKERS_ENV = "RELAYGRID_FAULT_WORKERS";

/** Rough cost of a row (virtual seconds with broadcasts), to start the long ones first. */
const cost = (kind: string, faultMs: number, preMs: number, postMs: number): number =>
  (preMs + (kind === "lobby-restart" ? 0 : faultMs) + postMs) * (kind === "crash" ? 0.6 : 1);

export const faultsGroup: Group = {
  name: "faults",
  title: "fault matrix on the simulator (loss, duplication, reordering, crashes, partition, lobby restart)",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const s = settings(ctx.quick);
    const all = rows(s.timing);
    const wantRows = envList(ROWS_ENV);
    const wantSeeds = envList(SEEDS_ENV)?.map((x) => Number(x));
    const unknown = wantRows?.filter((id) => !all.some((r) => r.id === id)) ?? [];
    if (unknown.length > 0) throw new Error(`${ROWS_ENV}: no row ${unknown.join(", ")}; rows: ${all.map((r) => r.id).join(", ")}`);
    if (wantSeeds?.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) throw new Error(`${SEEDS_ENV} must be a comma list of uint32 seeds`);
    const chosen = all.filter((r) => wantRows === undefined || wantRows.includes(r.id));
    const seeds = wantSeeds ?? [...s.seeds];
    const mode = redundancyOptions().redundancy;
    const everyRow = chosen.length === all.length && mode === undefined;

    const jobs: FaultJob[] = [];
    for (const seed of seeds) for (const r of chosen) jobs.push({ row: r.id, seed, quick: ctx.quick });
    const rowOf = new Map(all.map((r) => [r.id, r]));
    const jobCost = (j: FaultJob): number => {
      const r = rowOf.get(j.row);
      return r === undefined ? 0 : cost(r.kind.t, r.faultMs, s.timing.preMs, r.postMs);
    };
    jobs.sort((a, b) => jobCost(b) - jobCost(a));
    const envWorkers = Number(process.env[WORKERS_ENV] ?? NaN);
    const workers = Number.isInteger(envWorkers) && envWorkers >= 1 ? envWorkers : Math.max(1, Math.min(2, cpus().length));
    ctx.log(`faults: ${chosen.length} rows x ${seeds.length} seeds, ${s.grid.peers} peers, on ${workers} worker${workers === 1 ? "" : "s"}`);

    const t0 = performance.now();
    let done = 0;
    const cells = await runJobs(jobs, workers, (j, r) => {
      done++;
      const heal = r.healMs === null ? "not healed" : `heal ${(r.healMs / 1000).toFixed(2)} s`;
      const d = r.all.expected === 0 ? NaN : (r.all.delivered / r.all.expected) * 100;
      ctx.log(`faults: [${done}/${jobs.length}] ${j.row} seed ${j.seed}: ${d.toFixed(3)}% delivered, ${heal}, ${r.duplicateDeliveries} duplicates (${((r.buildWallMs + r.runWallMs) / 1000).toFixed(1)} s)`);
    });
    const wallSeconds = (performance.now() - t0) / 1000;

    const summaries = summarize(chosen, cells, ctx.quick);
    const rowsOut: Row[] = summaries.flatMap(benchRows);
    const argv = process.argv.slice(2).join(" ");
    const envPrefix = [
      mode === undefined ? "" : `${REDUNDANCY_ENV}=${mode} `,
      wantRows === undefined ? "" : `${ROWS_ENV}=${wantRows.join(",")} `,
      wantSeeds === undefined ? "" : `${SEEDS_ENV}=${wantSeeds.join(",")} `,
    ].join("");
    const command = `${envPrefix}npm run bench${argv === "" ? "" : ` -- ${argv}`}`;

    let docNote = "docs/RELIABILITY.md not touched (written only by a run of every row without --quick).";
    if (!ctx.quick && everyRow) {
      const repo = join(ctx.resultsDir, "..", "..");
      const path = join(repo, "docs", "RELIABILITY.md");
      const ok = writeDocSection(path, renderDocTable(summaries, s, seeds, docMeta(command, wallSeconds, repo)));
      docNote = ok ? "docs/RELIABILITY.md: table section rewritten from this run." : "docs/RELIABILITY.md or its markers missing: table not written.";
      ctx.log(`faults: ${docNote}`);
    }

    const g = s.grid;
    const t = s.timing;
    const notes = [
      `${g.peers} real Peers (limit ${g.connectionLimit}) and a real Lobby on the simulator, links ${g.link.latencyMs} ms + 0-${g.link.jitterMs} ms jitter; every member broadcasts ${g.payloadBytes} B at ${g.rateHz} Hz from ${t.preMs / 1000} s before the fault until a few seconds after it ended (link conditions ${t.conditionMs / 1000} s + ${t.conditionPostMs / 1000} s after; crashes + ${t.crashPostMs / 1000} s; partition ${t.partitionMs / 1000} s + ${t.partitionPostMs / 1000} s; lobby down ${t.lobbyDownMs / 1000} s + ${t.lobbyPostMs / 1000} s). Medians over seeds ${seeds.join(", ")} (n = seeds), min-max.`,
      "Delivery % = deliveries to members live for the whole window / (broadcasts x those members, origin excluded). During = broadcasts sent from 250 ms before the fault until repaired; after = from repaired to the end. Heal = 1 component with every live member at >= 2 live links (lobby restart: and the lobby lists every live member); repair = also no link to a dead peer left; both from the end of the fault (crash: its instant; partition and conditions: the lift; lobby: the restart).",
      "Redundant copies per broadcast = Data datagrams that reached a peer which already had that broadcast (dropped by the duplicate filter), all peers, per broadcast: during the fault (arrivals from the fault to repaired / broadcasts sent then) and over the whole window. Ratios: against the no-fault row of the same seed, same run (its during = the same span with no fault).",
      ...summaries.map((r) => `${r.row.label}: seeds ${r.seeds.join(", ")}; reproduce with \`${r.command}\``),
      docNote,
    ];
    const info: Record<string, unknown> = {
      grid: g,
      timing: t,
      seeds,
      workers,
      cellsWallSeconds: Number(wallSeconds.toFixed(1)),
      rows: summaries.map((r) => ({
        id: r.row.id,
        label: r.row.label,
        seeds: r.seeds,
        command: r.command,
        cells: r.cells.map((c) => ({
          seed: c.seed,
          livePeers: c.livePeers,
          broadcasts: c.broadcasts,
          deliveryPct: Number(((c.all.delivered / Math.max(1, c.all.expected)) * 100).toFixed(4)),
          pre: c.pre,
          during: c.during,
          after: c.after,
          ...(c.sameSide === undefined ? {} : { sameSide: c.sameSide }),
          healMs: c.healMs,
          repairMs: c.repairMs,
          duplicateDeliveries: c.duplicateDeliveries,
          redundantCopies: Number(c.redundantCopies.toFixed(2)),
          redundantCopiesDuring: Number.isFinite(c.redundantCopiesDuring) ? Number(c.redundantCopiesDuring.toFixed(2)) : null,
          unresponsiveCloses: c.unresponsiveCloses,
          drops: c.drops,
          meanLinksAtFault: Number(c.meanLinksAtFault.toFixed(2)),
          settled: c.settled,
          runWallMs: Math.round(c.runWallMs),
        })),
      })),
    };
    const allSettled = cells.every((c) => c.settled);
    if (!allSettled) notes.push("Some grids did not settle before the window (see info.rows[].cells[].settled).");
    return { group: "faults", title: this.title, status: allSettled ? "ok" : "partial", rows: rowsOut, info, notes };
  },
};
