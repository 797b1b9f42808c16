/**
 * One cell of the bench's "cost of a game" (bench/groups/game.ts) with every member
 * broadcasting, at sizes the group's time budget cannot hold (N = 256 with all 256
 * broadcasting took 498 s wall on 2 cores). Same seed, rate, payload and windows as the group.
 *
 *   npx tsx scripts/game-cell.ts 256 4 prune 0,5,20
 *
 * Prints one JSON line per loss level (delivery %, duplicates, datagrams per delivery and
 * their kinds, latency p50/p99 ms, upload/download B/s per member, mean and busiest).
 */
import { runGameCell } from "../bench/support/game-run.ts";

const [nArg, limitArg, modeArg, lossArg] = process.argv.slice(2);
const n = Number(nArg);
const limit = Number(limitArg);
const mode = modeArg === "flood" ? "flood" : "prune";
const losses = (lossArg ?? "0,5,20").split(",").map(Number);
if (!Number.isInteger(n) || n < 2 || !Number.isInteger(limit) || limit < 1 || losses.some((x) => !(x >= 0 && x <= 100))) {
  console.error("usage: npx tsx scripts/game-cell.ts N LIMIT flood|prune [LOSS%,LOSS%,...]");
  process.exit(2);
}
const t0 = performance.now();
const cell = runGameCell({ n, limit, mode, seed: 1200 + n + limit, broadcasters: n, rateHz: 10, payloadBytes: 64, losses, warmMs: 1000, windowMs: 1000, coolMs: 500, drainMs: 3000 });
for (const w of cell.windows) {
  console.log(JSON.stringify({ n, limit, mode, broadcasting: n, lossPct: w.lossPct, deliveryPct: w.deliveryPct, duplicates: w.duplicates, datagramsPerDelivery: w.datagramsPerDelivery, kinds: w.kindsPerDelivery, p50Ms: w.p50Ms, p99Ms: w.p99Ms, upMeanBps: w.upMeanBps, upMaxBps: w.upMaxBps, downMeanBps: w.downMeanBps, downMaxBps: w.downMaxBps, ldh: w.ldh, abandoned: w.abandoned }));
}
console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} s, ${cell.meanLinks.toFixed(2)} links per member, settled ${cell.settled}`);
