/**
 * `npm run bench`: runs the bench groups, prints a table (or JSON with --json) and writes
 * bench/results/latest.json and latest.md (a --quick run: under bench/results/quick/, which
 * git ignores, so CI's quick run never dirties the tracked full-run results). See
 * bench/args.ts for the command line.
 *
 * Each group runs in its own child process (`node --expose-gc --import tsx`), so one group's
 * JIT feedback and heap never colour another's figures, and allocation figures can start from
 * a clean heap. The child sends its GroupResult back over the IPC channel.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, USAGE, type Args } from "./args.ts";
import { codecGroup } from "./groups/codec.ts";
import { deliveryGroup } from "./groups/delivery.ts";
import { faultsGroup } from "./groups/faults.ts";
import { gameGroup } from "./groups/game.ts";
import { relayCoreGroup } from "./groups/relay-core.ts";
import { scaleGroup } from "./groups/scale.ts";
import { securityGroup } from "./groups/security.ts";
import { udpGameGroup } from "./groups/udp-game.ts";
import { udpGridGroup } from "./groups/udp-grid.ts";
import { udpHopGroup } from "./groups/udp-hop.ts";
import { lobbyCapacityGroup } from "./groups/lobby-capacity.ts";
import { natGroup } from "./groups/nat.ts";
import { currentRuntime, scriptCommand } from "./support/runtime.ts";
import { renderMarkdown, renderTable, runMeta, toJson } from "./report.ts";
import type { BenchContext, Group, GroupResult, Runtime } from "./types.ts";

const GROUPS: readonly Group[] = [codecGroup, relayCoreGroup, securityGroup, scaleGroup, gameGroup, udpHopGroup, udpGridGroup, udpGameGroup, lobbyCapacityGroup, faultsGroup, deliveryGroup, natGroup];
/** Set in a child: the group it runs. */
const CHILD_ENV = "RELAYGRID_BENCH_GROUP";
const here = dirname(fileURLToPath(import.meta.url));
/** Where a run writes: quick runs (CI's) apart from the tracked full-run results. */
const resultsDirFor = (args: Args): string => (args.quick ? join(here, "results", "quick") : join(here, "results"));
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

/** One group on one runtime. */
interface Job {
  readonly group: Group;
  readonly runtime: Runtime;
}

/** Runs one group in a fresh process on its runtime (`node --expose-gc` for Node) and returns what it sent back. */
function runInChild(job: Job, argv: readonly string[]): Promise<GroupResult> {
  const { group: g, runtime } = job;
  return new Promise((resolve, reject) => {
    const [cmd, cmdArgs] = scriptCommand(runtime, fileURLToPath(import.meta.url), ["--expose-gc", "--max-old-space-size=6144"]);
    const child = spawn(cmd, [...cmdArgs, ...argv], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      env: { ...process.env, [CHILD_ENV]: g.name },
    });
    let result: GroupResult | undefined;
    child.on("message", (m) => (result = m as GroupResult));
    child.on("error", (e) => reject(new Error(`could not start ${runtime} (${cmd}): ${e.message}`)));
    child.on("exit", (code, signal) => {
      // A group run on another runtime than Node is its own entry: "udp-hop/bun".
      if (result !== undefined) resolve(runtime === "node" || !g.udp ? result : { ...result, group: `${result.group}/${runtime}` });
      else reject(new Error(`the ${g.name} process exited with ${signal ?? String(code)} before reporting`));
    });
  });
}

/** In a child: run the one group and send its result to the parent. */
async function childMain(name: string, args: Args): Promise<number> {
  const g = GROUPS.find((x) => x.name === name);
  if (g === undefined) throw new Error(`unknown group ${name}`);
  const gcFn = (globalThis as { gc?: () => void }).gc;
  const ctx: BenchContext = {
    quick: args.quick,
    runtime: currentRuntime().name,
    log,
    gc: gcFn ?? ((): void => {}),
    hasGc: gcFn !== undefined,
    resultsDir: resultsDirFor(args),
  };
  const result = await g.run(ctx);
  await new Promise<void>((resolve) => process.send?.(result, () => resolve()));
  return 0;
}

function select(args: Args, log: (m: string) => void): Job[] {
  const chosen =
    args.groups.length === 0
      ? GROUPS.filter((g) => args.runtime === undefined || args.runtime === "node" || g.udp)
      : GROUPS.filter((g) => args.groups.some((s) => g.name.startsWith(s)));
  const unknown = args.groups.filter((s) => !GROUPS.some((g) => g.name.startsWith(s)));
  if (unknown.length > 0) throw new Error(`no bench group matches ${unknown.join(", ")}; groups: ${GROUPS.map((g) => g.name).join(", ")}`);
  const runtime = args.runtime;
  if (runtime !== undefined && runtime !== "node") {
    for (const g of chosen.filter((g) => !g.udp)) log(`${g.name}: runs on Node only (--runtime applies to the UDP groups); skipped`);
    return chosen.filter((g) => g.udp).map((group) => ({ group, runtime }));
  }
  if (runtime === "node") return chosen.map((group) => ({ group, runtime }));
  // No --runtime: every group on Node, and a UDP group with more runtimes once on each (in order).
  const jobs: Job[] = chosen.map((group) => ({ group, runtime: "node" as Runtime }));
  for (const group of chosen) {
    for (const r of (args.quick ? group.quickRuntimes : undefined) ?? group.runtimes ?? []) if (r !== "node") jobs.push({ group, runtime: r });
  }
  return jobs;
}

/** "node", or "node, bun, deno" when some groups ran on more runtimes. */
function runtimesOf(jobs: readonly Job[]): string {
  return [...new Set(jobs.map((j) => j.runtime))].join(", ");
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const childGroup = process.env[CHILD_ENV];
  if (childGroup !== undefined) return childMain(childGroup, args);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  let jobs: Job[];
  try {
    jobs = select(args, log);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const resultsDir = resultsDirFor(args);
  mkdirSync(resultsDir, { recursive: true });
  const t0 = performance.now();
  const loadAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const results: GroupResult[] = [];
  let failed = false;
  for (const job of jobs) {
    const g = job.group;
    const g0 = performance.now();
    log(`${g.name}${job.runtime === "node" ? "" : ` on ${job.runtime}`}: ${g.title}`);
    try {
      const r = await runInChild(job, process.argv.slice(2));
      results.push({ ...r, wallMs: Math.round(performance.now() - g0) });
    } catch (e) {
      failed = true;
      const message = e instanceof Error ? e.message : String(e);
      log(`${g.name} failed: ${message}`);
      results.push({
        group: job.runtime === "node" ? g.name : `${g.name}/${job.runtime}`,
        title: g.title,
        status: "partial",
        rows: [{ key: "error", measure: "failed", value: null, note: message }],
        info: {},
        notes: [`failed: ${message.split("\n")[0] ?? ""}`],
        wallMs: Math.round(performance.now() - g0),
      });
    }
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const meta = runMeta(command, args.runtime ?? runtimesOf(jobs), args.quick, true, (performance.now() - t0) / 1000, loadAtStart);
  const json = toJson(meta, results);
  writeFileSync(join(resultsDir, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(resultsDir, "latest.md"), renderMarkdown(meta, results));
  if (args.json) console.log(JSON.stringify(json, null, 2));
  else {
    console.log(renderTable(results));
    console.log(`\n${meta.command} | ${meta.date} | Node ${meta.node} | ${meta.cpu} x${meta.cores} | ${meta.wallSeconds} s | load ${meta.loadAverage[0]} -> ${meta.loadAverage[1]}`);
    console.log("figures: median over n repeats (min-max); ratios against baselines measured in the same run");
    const shown = relative(join(here, ".."), resultsDir);
    console.log(`written: ${join(shown, "latest.json")}, ${join(shown, "latest.md")}`);
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
