/** Renders results as the stdout table, latest.md and latest.json. */
import { cpus, loadavg } from "node:os";
import { human, rounded, type Figure } from "./stats.ts";
import type { GroupResult, Row } from "./types.ts";

export interface RunMeta {
  command: string;
  date: string;
  node: string;
  runtime: string;
  cpu: string;
  cores: number;
  platform: string;
  quick: boolean;
  exposeGc: boolean;
  wallSeconds: number;
  /** 1-minute load average when the run started and when it ended (other work on the machine skews the figures). */
  loadAverage: [number, number];
}

export function runMeta(command: string, runtime: string, quick: boolean, exposeGc: boolean, wallSeconds: number, loadAtStart: number): RunMeta {
  const c = cpus();
  return {
    command,
    date: new Date().toISOString(),
    node: process.version,
    runtime,
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    platform: `${process.platform}-${process.arch}`,
    quick,
    exposeGc,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    loadAverage: [loadAtStart, Math.round((loadavg()[0] ?? 0) * 100) / 100],
  };
}

const HEAD = ["group", "measure", "median", "min-max", "unit", "n", "ratio (min-max)", "ratio is", "target"];

function cells(g: GroupResult, r: Row): string[] {
  const v = r.value;
  const range = (f: Figure): string => (f.repeats > 1 ? `${human(f.min)}-${human(f.max)}` : "");
  const ratio = r.ratio === undefined ? "" : `${human(r.ratio.median)}x${r.ratio.repeats > 1 ? ` (${human(r.ratio.min)}-${human(r.ratio.max)})` : ""}`;
  const target = r.target === undefined ? "" : `${r.target} ${r.met === undefined ? "" : r.met ? "met" : "MISSED"}`.trim();
  return [
    g.group,
    v === null && r.note !== undefined ? `${r.measure}: ${r.note}` : r.measure,
    v === null ? "-" : human(v.median),
    v === null ? "" : range(v),
    v === null ? "" : v.unit,
    v === null ? "" : String(v.repeats),
    ratio,
    r.baseline ?? "",
    target,
  ];
}

export function renderTable(results: readonly GroupResult[]): string {
  const rows = [HEAD, ...results.flatMap((g) => g.rows.map((r) => cells(g, r)))];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]): string => r.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join("  ").trimEnd();
  const out = [line(HEAD), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const g of results) {
    if (last !== "") out.push("");
    last = g.group;
    for (const r of g.rows) out.push(line(cells(g, r)));
  }
  return out.join("\n");
}

export function renderMarkdown(meta: RunMeta, results: readonly GroupResult[]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  const lines = [
    "# relaygrid benchmark results",
    "",
    `- command: \`${meta.command}\``,
    `- date: ${meta.date}`,
    `- runtime: Node ${meta.node}${meta.runtime === "node" ? "" : ` (${udpRuntime(results)})`}, ${meta.platform}${meta.exposeGc ? ", --expose-gc" : ""}`,
    `- CPU: ${meta.cpu} (${meta.cores} cores)`,
    `- wall time: ${meta.wallSeconds} s${meta.quick ? " (--quick)" : ""}`,
    `- 1-minute load average: ${meta.loadAverage[0]} at the start, ${meta.loadAverage[1]} at the end (${meta.cores} cores; at the start anything above ~0.3 is other work, and the bench itself keeps one or two cores busy)`,
    "",
    "Every figure is the median over n repeats with its min-max; every ratio is taken against a",
    "baseline measured in the same run (per repeat, then the median of those ratios).",
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map((_, i) => (i >= 2 && i <= 5 ? "---:" : "---")).join("|")}|`,
  ];
  for (const g of results) for (const r of g.rows) lines.push(`| ${cells(g, r).map(esc).join(" | ")} |`);
  lines.push("");
  for (const g of results) {
    if (g.notes.length === 0) continue;
    lines.push(`**${g.group}** (${g.title}${g.wallMs === undefined ? "" : `, ${(g.wallMs / 1000).toFixed(1)} s`}):`, "");
    for (const n of g.notes) lines.push(`- ${n}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** "udp-hop/bun on bun 1.4.5, ..." for the groups that ran on another runtime than Node. */
function udpRuntime(results: readonly GroupResult[]): string {
  const other = results.filter((g) => typeof g.info.runtime === "string" && g.info.runtime !== "node");
  return other.map((g) => `${g.group} on ${String(g.info.runtime)} ${String(g.info.runtimeVersion ?? "")}`.trim()).join(", ") || "UDP groups on Node";
}

export function toJson(meta: RunMeta, results: readonly GroupResult[]): Record<string, unknown> {
  const groups: Record<string, unknown> = {};
  for (const g of results) {
    const figures: Record<string, unknown> = {};
    for (const r of g.rows) {
      figures[r.key] = r.value === null ? { unavailable: r.note ?? "not measured" } : rounded(r.value);
      if (r.ratio !== undefined && r.ratioKey !== undefined) {
        figures[r.ratioKey] = { ...rounded(r.ratio), of: r.baseline, ...(r.target === undefined ? {} : { target: r.target, met: r.met }) };
      }
    }
    groups[g.group] = { title: g.title, status: g.status, wallMs: g.wallMs, figures, info: g.info, notes: g.notes };
  }
  return { ...meta, groups };
}
