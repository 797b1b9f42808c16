/**
 * Turns the fault matrix's cells (one per row and seed) into the bench's rows (medians over the
 * seeds with min-max, ratios against the no-fault row of the same seed under keys ending in
 * "Ratio"), and into the table of docs/RELIABILITY.md, which a full run rewrites between its
 * markers.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { figure, human, type Figure } from "../stats.ts";
import type { Row } from "../types.ts";
import { pct, type FaultRunResult, type PhaseDelivery } from "./fault-run.ts";
import { rowCommand, type FaultRow, type FaultSettings } from "./fault-rows.ts";

export const BASELINE_ROW = "loss0";
export const DOC_BEGIN = "<!-- fault-matrix:begin (written by npm run bench -- faults) -->";
export const DOC_END = "<!-- fault-matrix:end -->";

/** One row of the matrix over its seeds. */
export interface RowSummary {
  row: FaultRow;
  seeds: number[];
  cells: FaultRunResult[];
  all: Figure;
  during: Figure | null;
  after: Figure | null;
  heal: Figure | null;
  healed: number;
  repair: Figure | null;
  repaired: number;
  duplicates: Figure;
  redundant: Figure;
  redundantDuring: Figure | null;
  sameSide: Figure | null;
  healthyDuringFault: Figure | null;
  deliveryVsBaseline: Figure | null;
  redundantVsBaseline: Figure | null;
  command: string;
}

const finite = (xs: number[]): number[] => xs.filter((x) => Number.isFinite(x));
const orNull = (xs: number[], unit: string): Figure | null => (finite(xs).length === 0 ? null : figure(finite(xs), unit));
const phasePct = (cells: FaultRunResult[], f: (c: FaultRunResult) => PhaseDelivery | undefined): Figure | null =>
  orNull(
    cells.map((c) => {
      const d = f(c);
      return d === undefined ? NaN : pct(d);
    }),
    "%",
  );

export function summarize(rows: readonly FaultRow[], cells: readonly FaultRunResult[], quick: boolean): RowSummary[] {
  const base = new Map<number, FaultRunResult>();
  for (const c of cells) if (c.row === BASELINE_ROW) base.set(c.seed, c);
  return rows
    .map((row) => {
      const mine = cells.filter((c) => c.row === row.id).sort((a, b) => a.seed - b.seed);
      if (mine.length === 0) return undefined;
      const paired = mine.filter((c) => base.has(c.seed) && row.id !== BASELINE_ROW);
      const heals = mine.map((c) => (c.healMs === null ? NaN : c.healMs / 1000));
      const repairs = mine.map((c) => (c.repairMs === null ? NaN : c.repairMs / 1000));
      const s: RowSummary = {
        row,
        seeds: mine.map((c) => c.seed),
        cells: mine,
        all: figure(mine.map((c) => pct(c.all)), "%"),
        during: phasePct(mine, (c) => c.during),
        after: phasePct(mine, (c) => c.after),
        heal: orNull(heals, "s"),
        healed: finite(heals).length,
        repair: orNull(repairs, "s"),
        repaired: finite(repairs).length,
        duplicates: figure(mine.map((c) => c.duplicateDeliveries), "deliveries"),
        redundant: figure(mine.map((c) => c.redundantCopies), "copies"),
        redundantDuring: orNull(mine.map((c) => c.redundantCopiesDuring), "copies"),
        sameSide: phasePct(mine, (c) => c.sameSide),
        healthyDuringFault: orNull(mine.map((c) => c.healthyDuringFaultPct ?? NaN), "%"),
        deliveryVsBaseline:
          paired.length === 0 ? null : figure(paired.map((c) => pct(c.all) / pct((base.get(c.seed) as FaultRunResult).all)), "x"),
        redundantVsBaseline: orNull(
          paired.map((c) => c.redundantCopiesDuring / (base.get(c.seed) as FaultRunResult).redundantCopiesDuring),
          "x",
        ),
        command: rowCommand(row.id, mine.map((c) => c.seed), quick),
      };
      return s;
    })
    .filter((s): s is RowSummary => s !== undefined);
}

/** The bench rows of one matrix row. */
export function benchRows(s: RowSummary): Row[] {
  const id = s.row.id;
  const at = `${s.row.label}`;
  const k = s.row.kind.t;
  const n = s.cells.length;
  const out: Row[] = [
    {
      key: `${id}DeliveryPct`,
      measure: `${at}: delivery to live members, whole window`,
      value: s.all,
      ...(s.deliveryVsBaseline === null
        ? {}
        : { ratio: s.deliveryVsBaseline, ratioKey: `${id}DeliveryVsNoFaultRatio`, baseline: "this / no-fault row, same seed" }),
    },
    s.during === null
      ? { key: `${id}DuringPct`, measure: `${at}: delivery during the fault`, value: null, note: "no broadcast fell in it" }
      : { key: `${id}DuringPct`, measure: `${at}: delivery during the fault (until repaired)`, value: s.during },
    s.after === null
      ? { key: `${id}AfterPct`, measure: `${at}: delivery after repair`, value: null, note: "not repaired within the window" }
      : { key: `${id}AfterPct`, measure: `${at}: delivery after repair`, value: s.after },
  ];
  if (s.sameSide !== null) out.push({ key: `${id}SameSidePct`, measure: `${at}: delivery within the origin's side, during the cut`, value: s.sameSide });
  if (s.healthyDuringFault !== null && k !== "lobby-restart") {
    const what = k === "partition" ? "each half whole (1 component, all >= 2 links inside it)" : "grid whole (1 component, all >= 2 links)";
    out.push({ key: `${id}WholeDuringFaultPct`, measure: `${at}: ${what} while the fault lasted, % of samples`, value: s.healthyDuringFault });
  }
  const healWhat = k === "lobby-restart" ? "lobby knows every peer and grid whole" : "1 component, every live peer >= 2 live links";
  out.push(
    s.heal === null
      ? { key: `${id}HealSec`, measure: `${at}: time to heal (${healWhat})`, value: null, note: `not healed within the search (${n} seeds)` }
      : { key: `${id}HealSec`, measure: `${at}: time to heal (${healWhat})${s.healed < n ? `, healed in ${s.healed} of ${n} seeds` : ""}`, value: s.heal },
  );
  if (k === "crash") {
    out.push(
      s.repair === null
        ? { key: `${id}RepairSec`, measure: `${at}: time to repair (no link to a dead peer left)`, value: null, note: "not repaired within the search" }
        : { key: `${id}RepairSec`, measure: `${at}: time to repair (no link to a dead peer left)`, value: s.repair },
    );
  }
  out.push(
    { key: `${id}DuplicateDeliveries`, measure: `${at}: duplicates delivered to the application`, value: s.duplicates, target: "0", met: s.duplicates.max === 0 },
    s.redundantDuring === null
      ? { key: `${id}RedundantCopiesDuring`, measure: `${at}: redundant copies per broadcast during the fault`, value: null, note: "no broadcast fell in it" }
      : {
          key: `${id}RedundantCopiesDuring`,
          measure: `${at}: redundant copies per broadcast during the fault (dropped by the duplicate filter)`,
          value: s.redundantDuring,
          ...(s.redundantVsBaseline === null
            ? {}
            : { ratio: s.redundantVsBaseline, ratioKey: `${id}RedundantVsNoFaultRatio`, baseline: "this / no-fault row, same seed" }),
        },
    { key: `${id}RedundantCopiesWindow`, measure: `${at}: redundant copies per broadcast, whole window`, value: s.redundant },
  );
  return out;
}

const fmt = (f: Figure | null, digits = 1, suffix = ""): string => {
  if (f === null) return "-";
  const v = (x: number): string => (Math.abs(x) >= 1000 ? human(x) : x.toFixed(digits));
  const [m, lo, hi] = [v(f.median), v(f.min), v(f.max)];
  return f.repeats > 1 && lo !== hi ? `${m}${suffix} (${lo}-${hi})` : `${m}${suffix}`;
};

/** Delivery %: "100" only when nothing was lost; three decimals from 99.99 up (99.998 is not 100). */
const pctText = (x: number): string => (x === 100 ? "100" : x >= 99.99 ? x.toFixed(3) : x.toFixed(2));
const fmtPct = (f: Figure | null): string => {
  if (f === null) return "-";
  const [m, lo, hi] = [pctText(f.median), pctText(f.min), pctText(f.max)];
  return f.repeats > 1 && lo !== hi ? `${m} (${lo}-${hi})` : m;
};

export interface DocMeta {
  date: string;
  command: string;
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  wallSeconds: number;
  /** The commit measured, "+ local changes" when lib/, wire/ or platform/ differ from it. */
  code: string;
}

/** The commit of the code under test, from git (run in `cwd`); "unknown" outside a checkout. */
function codeVersion(cwd: string): string {
  try {
    const git = (args: string[]): string => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const commit = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--untracked-files=no", "--", "lib", "wire", "platform"]) !== "";
    return `${commit}${dirty ? " + local changes to lib/, wire/ or platform/" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function docMeta(command: string, wallSeconds: number, repoDir: string): DocMeta {
  const c = cpus();
  return {
    code: codeVersion(repoDir),
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    command,
    node: process.version,
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    platform: `${process.platform}-${process.arch}`,
    wallSeconds: Math.round(wallSeconds),
  };
}

/** The generated section of docs/RELIABILITY.md (between the markers). */
export function renderDocTable(summaries: readonly RowSummary[], s: FaultSettings, seeds: readonly number[], meta: DocMeta): string {
  const g = s.grid;
  const t = s.timing;
  const lines = [
    `Generated by \`${meta.command}\` on ${meta.date} at commit ${meta.code}: Node ${meta.node}, ${meta.platform}, ${meta.cpu} x${meta.cores}, ${meta.wallSeconds} s wall.`,
    `Grid: ${g.peers} peers, connection limit ${g.connectionLimit}, a real Lobby; links ${g.link.latencyMs} ms + 0-${g.link.jitterMs} ms jitter one way;`,
    `every member broadcasts ${g.payloadBytes} B at ${g.rateHz} Hz from ${t.preMs / 1000} s before the fault until some seconds after it ended`,
    `(link conditions last ${t.conditionMs / 1000} s + ${t.conditionPostMs / 1000} s after; crashes: ${t.crashPostMs / 1000} s after; the partition ${t.partitionMs / 1000} s + ${t.partitionPostMs / 1000} s;`,
    `the lobby is down ${t.lobbyDownMs / 1000} s + ${t.lobbyPostMs / 1000} s after). Seeds ${seeds.join(", ")} for every row;`,
    "each figure is the median over the seeds with (min-max). Heal and repair times are virtual seconds from the end of the fault.",
    "",
    "| fault | delivery, whole window % | during % | after % | time to heal s | time to repair s | duplicates delivered | redundant copies / broadcast, during | seeds |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of summaries) {
    const n = r.cells.length;
    const heal = r.heal === null ? "not healed" : `${fmt(r.heal, 2)}${r.healed < n ? ` (${r.healed}/${n} healed)` : ""}`;
    const repair = r.row.kind.t === "crash" ? (r.repair === null ? "not repaired" : fmt(r.repair, 2)) : "= heal";
    const extra = r.sameSide !== null ? `; within the origin's half during the cut: ${fmtPct(r.sameSide)}` : "";
    lines.push(
      `| ${r.row.label} | ${fmtPct(r.all)} | ${fmtPct(r.during)}${extra} | ${fmtPct(r.after)} | ${heal} | ${repair} | ${fmt(r.duplicates, 0)} | ${fmt(r.redundantDuring, 1)} | ${r.seeds.join(", ")} |`,
    );
  }
  lines.push("", "Reproduce a row (all its seeds; one seed with a single number in `RELAYGRID_FAULT_SEEDS`):", "");
  for (const r of summaries) lines.push(`- ${r.row.label}: \`${r.command}\``);
  const links = summaries.filter((r) => r.healthyDuringFault !== null && r.row.kind.t !== "lobby-restart");
  if (links.length > 0) {
    lines.push("", "Grid whole (one component, every live member with >= 2 live links; for the partition: each half whole on its own) while the fault lasted, % of 50 ms samples:", "");
    lines.push(links.map((r) => `${r.row.label} ${fmt(r.healthyDuringFault, 0)}`).join("; ") + ".");
  }
  return lines.join("\n");
}

/** Rewrites the section between the markers of `path`; false (and nothing written) when the markers are missing. */
export function writeDocSection(path: string, section: string): boolean {
  if (!existsSync(path)) return false;
  const text = readFileSync(path, "utf8");
  const a = text.indexOf(DOC_BEGIN);
  const b = text.indexOf(DOC_END);
  if (a < 0 || b < a) return false;
  writeFileSync(path, `${text.slice(0, a + DOC_BEGIN.length)}\n${section}\n${text.slice(b)}`);
  return true;
}
