/**
 * The NAT matrix on the standard NAT bench (test/support/netns): which pairs of NAT kinds
 * link, how long it takes, and what a grid over every kind does. Needs root, `ip` and `nft`
 * (apt-get install -y nftables iproute2); builds the bench, runs, removes the bench.
 *
 *   npx tsx scripts/nat-matrix.ts [--pairs | --grid | --punches]... [--out FILE]
 *
 * With none of --pairs, --grid, --punches: all three.
 *
 * Prints markdown (and writes it to FILE with --out), and the raw results as JSON to
 * FILE.json. About 1 to 2 minutes: a pair that cannot link waits out joinGrid()'s 10 s.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import {
  gridReport,
  NatBench,
  natBenchAvailability,
  pairTable,
  punchTable,
  runGrid,
  runPairs,
  runPunches,
  LOBBY_ADDR,
  STANDARD_BENCH,
  startMatrix,
  stopMatrix,
  type GridResult,
  type PairResult,
  type PunchResult,
} from "../test/support/netns/index.ts";

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args[outAt + 1] : undefined;

function commit(): string {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

const avail = natBenchAvailability();
if (!avail.ok) {
  console.error(`nat-matrix: the NAT bench cannot be built here: ${avail.reason}`);
  process.exit(2);
}

const bench = NatBench.create(STANDARD_BENCH);
try {
  const { ctx, lobbyAgent } = await startMatrix(bench, 600_000);
  const started = new Date().toISOString();
  const all = !["--pairs", "--grid", "--punches"].some((f) => args.includes(f));
  let pairs: PairResult[] = [];
  let grid: GridResult | undefined;
  let punches: PunchResult[] = [];
  if (all || args.includes("--pairs")) pairs = await runPairs(ctx);
  if (all || args.includes("--grid")) grid = await runGrid(ctx, lobbyAgent);
  if (all || args.includes("--punches")) {
    punches = await runPunches(ctx, { agent: lobbyAgent, endpoint: `${LOBBY_ADDR}:3478` }, (h) => bench.addrOf(h));
  }
  const md = [
    `NAT matrix, ${started}: scripts/nat-matrix.ts at commit ${commit()} on the standard bench (test/support/netns/standard.ts).`,
    "",
    ...(pairs.length > 0 ? ["Pairs (a two-member grid per cell; rows: the joiner's NAT, columns: the member's):", "", pairTable(pairs), ""] : []),
    ...(grid !== undefined ? ["Grid (one peer per member host, the open host first):", "", gridReport(grid), ""] : []),
    ...(punches.length > 0
      ? ["Plain hole punching between the hosts (both send at once to the mapping a reflector on the lobby's address saw, and to the LAN address behind one NAT):", "", punchTable(punches), ""]
      : []),
  ].join("\n");
  console.log(md);
  if (out !== undefined) {
    writeFileSync(out, `${md}\n`);
    writeFileSync(`${out}.json`, `${JSON.stringify({ started, pairs, grid, punches }, null, 2)}\n`);
  }
  await stopMatrix(ctx);
} finally {
  bench.destroy();
}
