/**
 * game ("the cost of a game", simulator): what a game pays per member per second when members
 * broadcast at a game rate, for flooding (`redundancy: "flood"`, repair off: the Peer before
 * redundancy lists) against redundancy lists with repair (`"prune"`, the default since issue 12), beside a
 * full mesh and a star server computed for the same members, datagram and link model.
 * Definitions: support/game-run.ts. Grids: N = 16, 64, 256, 1000, limits 4 and 8; loss 0, 5
 * and 20% on every link, in that order on the same grid.
 *
 * Who broadcasts: everyone at N = 16 and 64; at N = 256 and 1000, 64 and 16 members (the
 * simulator handles about 30-60 k deliveries per wall second, and everyone at 10 Hz in 1,000
 * members is 10 M per virtual second). The per-delivery figures (datagrams per delivery,
 * delivery %, latency, hops) do not depend on how many broadcast (each origin's messages take
 * their own paths; the pings and heartbeats are then spread over fewer deliveries, which only
 * raises datagrams per delivery); the bytes per member per second are also given scaled to
 * everyone broadcasting (x N / broadcasters), marked "extrapolated".
 *
 * The cells run while the wall-clock budget allows (540 s, 40 s with --quick), smallest first;
 * a cell whose projection does not fit is listed as skipped. The full table goes to
 * results/game.md (and info.cells in latest.json).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { JITTER_MS, pairLatencyMs, runGameCell, type GameCell, type GameWindow } from "../support/game-run.ts";
import { exact, human, type Figure } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";
import type { Redundancy } from "../../lib/peer/config.ts";

const RATE_HZ = 10;
const PAYLOAD_BYTES = 64;

interface Plan {
  n: number;
  limit: number;
  mode: Redundancy;
  losses: number[];
  broadcasters: number;
}

function plans(quick: boolean): Plan[] {
  const out: Plan[] = [];
  const add = (n: number, limits: number[], broadcasters: number, flood: number[], prune: number[]): void => {
    for (const limit of limits) {
      out.push({ n, limit, mode: "flood", losses: flood, broadcasters });
      out.push({ n, limit, mode: "prune", losses: prune, broadcasters });
    }
  };
  if (quick) {
    add(16, [4, 8], 16, [0, 5, 20], [0, 5, 20]);
    add(64, [4], 64, [0], [0, 20]);
    return out;
  }
  add(16, [4, 8], 16, [0, 5, 20], [0, 5, 20]);
  add(64, [4, 8], 64, [0, 5, 20], [0, 5, 20]);
  add(256, [4, 8], 64, [0], [0, 5, 20]);
  add(1000, [4, 8], 16, [0], [0, 5]);
  return out;
}

/** Virtual ms of broadcasting per loss level, as a cost unit (times the deliveries it makes). */
const cost = (p: Plan): number => p.losses.length * p.broadcasters * (p.n - 1) * (p.mode === "flood" ? p.limit - 1 : 1.3);

/** Mesh and star, computed for the cell's members, datagram and link model (no simulation). */
interface Baseline {
  upBps: number;
  downBps: number;
  busiestUpBps: number;
  p50Ms: number;
  p99Ms: number;
  ldh: number;
}

function percentiles(samples: Float64Array, count: number): [number, number] {
  const s = samples.subarray(0, count).sort();
  return [s[Math.floor(0.5 * (count - 1))] as number, s[Math.floor(0.99 * (count - 1))] as number];
}

/** One-way latency of a-b with the model's jitter, sampled (a seeded LCG, the same every run). */
function baselines(n: number, broadcasters: number, datagramBytes: number): { mesh: Baseline; star: Baseline } {
  let x = 0x2545f491;
  const jitter = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return Math.floor((x / 0x100000000) * (JITTER_MS + 1));
  };
  const names = Array.from({ length: n }, (_, i) => `p${i}`);
  const pairs = Math.min(n * (n - 1), 200_000);
  const mesh = new Float64Array(pairs);
  const star = new Float64Array(pairs);
  let k = 0;
  for (let a = 0; a < n && k < pairs; a++) {
    for (let b = 0; b < n && k < pairs; b++) {
      if (a === b) continue;
      mesh[k] = pairLatencyMs(names[a] as string, names[b] as string) + jitter();
      star[k] = pairLatencyMs(names[a] as string, "server") + pairLatencyMs("server", names[b] as string) + jitter() + jitter();
      k++;
    }
  }
  const [m50, m99] = percentiles(mesh, k);
  const [s50, s99] = percentiles(star, k);
  const perSender = RATE_HZ * datagramBytes;
  const down = (broadcasters - 1) * perSender; // a member hears every broadcaster but itself
  return {
    // Each member sends each of its messages to the N-1 others.
    mesh: { upBps: ((n - 1) * perSender * broadcasters) / n, downBps: down, busiestUpBps: (n - 1) * perSender, p50Ms: m50, p99Ms: m99, ldh: 1 },
    // Each member sends each message once to the server, which sends it to the N-1 others.
    star: { upBps: (perSender * broadcasters) / n, downBps: down, busiestUpBps: broadcasters * (n - 1) * perSender, p50Ms: s50, p99Ms: s99, ldh: 2 },
  };
}

function cellRows(c: GameCell, flood: GameCell | undefined, broadcasters: number): Row[] {
  const rows: Row[] = [];
  const at = `N=${c.n} L=${c.limit} ${c.mode}`;
  const p = `n${c.n}L${c.limit}${c.mode}`;
  for (const w of c.windows) {
    const f = flood?.windows.find((x) => x.lossPct === w.lossPct);
    const l = `${w.lossPct}% loss`;
    const k = `${p}Loss${w.lossPct}`;
    const one = (x: number, unit: string): Figure => exact(x, unit);
    const dpdTarget = c.mode !== "prune" || (c.n !== 16 && c.n !== 256) ? undefined : w.lossPct === 0 ? 1.15 : 1.5;
    const deliveryTarget = c.mode !== "prune" ? undefined : w.lossPct === 0 ? 100 : w.lossPct === 5 ? 99.99 : w.lossPct === 20 ? 99.9 : undefined;
    rows.push({
      key: `${k}DeliveryPct`,
      measure: `${at}, ${l}: delivery`,
      value: one(w.deliveryPct, "%"),
      ...(deliveryTarget === undefined ? {} : { target: `>= ${deliveryTarget}%`, met: w.deliveryPct >= deliveryTarget - 1e-9 }),
    });
    rows.push({
      key: `${k}DatagramsPerDelivery`,
      measure: `${at}, ${l}: datagrams received per delivery (all kinds)`,
      value: one(w.datagramsPerDelivery, "dgram"),
      ...(f === undefined || f === w ? {} : { ratio: one(w.datagramsPerDelivery / f.datagramsPerDelivery, "x"), ratioKey: `${k}DatagramsVsFloodRatio`, baseline: "this / flood, same seed" }),
      ...(dpdTarget === undefined ? {} : { target: `<= ${dpdTarget}`, met: w.datagramsPerDelivery <= dpdTarget }),
    });
    rows.push({
      key: `${k}P99Ms`,
      measure: `${at}, ${l}: latency p99 (p50 ${human(w.p50Ms)} ms)`,
      value: one(w.p99Ms, "ms"),
      ...(f === undefined || f === w ? {} : { ratio: one(w.p99Ms / f.p99Ms, "x"), ratioKey: `${k}P99VsFloodRatio`, baseline: "this / flood, same seed" }),
      ...(c.mode === "prune" && w.lossPct === 0 && f !== undefined ? { target: "<= 1.2x flood", met: w.p99Ms <= 1.2 * f.p99Ms } : {}),
    });
  }
  const dup = c.windows.reduce((a, w) => a + w.duplicates, 0);
  rows.push({ key: `${p}Duplicates`, measure: `${at}: duplicates delivered, every window`, value: exact(dup, ""), target: "0", met: dup === 0 });
  void broadcasters;
  return rows;
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : "-");
const kb = (x: number): string => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)} k` : "-");

function markdown(cells: readonly { plan: Plan; cell: GameCell }[], skipped: string[], command: string): string {
  const lines = [
    `# The cost of a game (simulator)`,
    "",
    `\`${command}\`, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}.`,
    `Every broadcasting member sends ${PAYLOAD_BYTES} B at ${RATE_HZ} Hz; links 20-80 ms one way per pair + 0-${JITTER_MS} ms jitter; loss on every link.`,
    "Per member per second; \"everyone\" columns scale a partial run to everyone broadcasting (x N / broadcasters).",
    "",
    "| N | L | system | loss % | broadcasting | delivery % | dup | datagrams / delivery | data / repair / prune+graft / request / other per delivery | up mean B/s | up busiest B/s | down mean B/s | down busiest B/s | down mean, everyone | p50 ms | p99 ms | last-delivery hops |",
    "|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { plan, cell } of cells) {
    const scale = plan.n / plan.broadcasters;
    for (const w of cell.windows) {
      const k = w.kindsPerDelivery;
      lines.push(
        `| ${cell.n} | ${cell.limit} | ${cell.mode === "prune" ? "redundancy lists + repair" : "flood"} | ${w.lossPct} | ${plan.broadcasters} | ${fmt(w.deliveryPct, 3)} | ${w.duplicates} | ${fmt(w.datagramsPerDelivery, 3)} | ${fmt(k.data, 2)} / ${fmt(k.repair, 2)} / ${fmt(k.pruneGraft, 2)} / ${fmt(k.request, 2)} / ${fmt(k.other, 2)} | ${kb(w.upMeanBps)} | ${kb(w.upMaxBps)} | ${kb(w.downMeanBps)} | ${kb(w.downMaxBps)} | ${kb(w.downMeanBps * scale)} | ${fmt(w.p50Ms)} | ${fmt(w.p99Ms)} | ${w.ldh} |`,
      );
    }
    if (cell.mode === "prune") {
      const size = cell.windows[0]?.datagramBytes ?? 0;
      const b = baselines(plan.n, plan.broadcasters, size);
      for (const [name, x] of [["full mesh (computed)", b.mesh], ["star server (computed)", b.star]] as const) {
        lines.push(
          `| ${cell.n} | - | ${name} | 0 | ${plan.broadcasters} | 100 | 0 | 1.000 | - | ${kb(x.upBps)} | ${kb(x.busiestUpBps)} | ${kb(x.downBps)} | ${kb(x.downBps)} | ${kb(x.downBps * scale)} | ${fmt(x.p50Ms)} | ${fmt(x.p99Ms)} | ${x.ldh} |`,
        );
      }
    }
  }
  lines.push("");
  lines.push("Mesh and star: computed from the same link model (no loss; with loss p a mesh delivers 1 - p and a star (1 - p)^2, with no repair); the star's busiest is its server.");
  for (const s of skipped) lines.push(`- ${s}`);
  return `${lines.join("\n")}\n`;
}

export const gameGroup: Group = {
  name: "game",
  title: "the cost of a game: every member broadcasting, flood vs redundancy lists + repair, mesh and star",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const budgetMs = ctx.quick ? 40_000 : 540_000;
    const start = performance.now();
    const done: { plan: Plan; cell: GameCell }[] = [];
    const rows: Row[] = [];
    const skipped: string[] = [];
    // Wall ms per cost unit, per mode: a flooded message costs the simulator far less per
    // datagram than a pruned one with its repairs, so one figure for both skipped flood cells
    // that fitted (N=256 L=8 flood: 432 s projected at the pruned cells' rate, about 50 s at the
    // flooded cells').
    const msPerUnit = new Map<Redundancy, number>();
    for (const plan of plans(ctx.quick)) {
      const left = budgetMs - (performance.now() - start);
      const unit = msPerUnit.get(plan.mode) ?? Math.max(0, ...msPerUnit.values());
      const projected = unit * cost(plan) * (plan.n >= 1000 ? 2 : 1);
      const label = `N=${plan.n} L=${plan.limit} ${plan.mode}`;
      if (projected > left) {
        const why = `${label}: skipped, projected ${(projected / 1000).toFixed(0)} s > ${(left / 1000).toFixed(0)} s left of the ${budgetMs / 1000} s budget`;
        ctx.log(`game: ${why}`);
        skipped.push(why);
        rows.push({ key: `n${plan.n}L${plan.limit}${plan.mode}Skipped`, measure: label, value: null, note: why });
        continue;
      }
      ctx.log(`game: ${label}, losses ${plan.losses.join("/")}%, ${plan.broadcasters} broadcasting`);
      const t0 = performance.now();
      const cell = runGameCell({
        n: plan.n,
        limit: plan.limit,
        mode: plan.mode,
        seed: 1200 + plan.n + plan.limit,
        broadcasters: plan.broadcasters,
        rateHz: RATE_HZ,
        payloadBytes: PAYLOAD_BYTES,
        losses: plan.losses,
        warmMs: 1000,
        windowMs: ctx.quick ? 1000 : plan.n >= 256 ? 1000 : 2000,
        coolMs: 500,
        drainMs: 3000,
      });
      const ms = performance.now() - t0;
      msPerUnit.set(plan.mode, Math.max(msPerUnit.get(plan.mode) ?? 0, (ms - cell.buildWallMs) / cost(plan)));
      done.push({ plan, cell });
      const flood = done.find((d) => d.plan.n === plan.n && d.plan.limit === plan.limit && d.plan.mode === "flood")?.cell;
      if (plan.mode === "prune" && flood !== undefined && flood.linkSet !== cell.linkSet) {
        ctx.log(`game: ${label}: the flood and prune grids of seed ${1200 + plan.n + plan.limit} differ (compare with care)`);
      }
      rows.push(...cellRows(cell, plan.mode === "prune" ? flood : undefined, plan.broadcasters));
      ctx.log(`game: ${label} done in ${(ms / 1000).toFixed(1)} s (build ${(cell.buildWallMs / 1000).toFixed(1)} s): ${cell.windows.map((w: GameWindow) => `${w.lossPct}%: ${w.deliveryPct.toFixed(3)}% ${w.datagramsPerDelivery.toFixed(2)} dgram/delivery p99 ${w.p99Ms.toFixed(0)} ms`).join("; ")}`);
    }
    const command = `npm run bench -- game${ctx.quick ? " --quick" : ""}`;
    const md = join(ctx.resultsDir, "game.md");
    writeFileSync(md, markdown(done, skipped, command));
    const notes = [
      `Every broadcasting member sends ${PAYLOAD_BYTES} B at ${RATE_HZ} Hz; each pair of members 20-80 ms apart one way (a hash of the pair), 0-${JITTER_MS} ms jitter per datagram; loss 0, 5, 20% on every link in turn on one grid (1 s warm-up, then the measured window, 0.5 s more broadcasting, 3 s drain). flood = redundancy "flood" with repair off (the Peer before redundancy lists); prune = redundancy "prune" with repair (redundancy lists + repair).`,
      "Datagrams per delivery = every datagram the members received during the window (data, repairs, prunes, grafts, requests, pings, the lobby's) / deliveries during it. Delivery % counts the window's broadcasts after the drain. Latency: broadcast to delivery, all (broadcast, member) pairs. The full table (per-member upload and download, mean and busiest, mesh and star, hops): results/game.md.",
      "N=256 and 1000: 64 and 16 members broadcast (the simulator's speed); per-delivery figures are unaffected, bytes per member scale with the broadcasters (game.md gives them scaled to everyone).",
      ...skipped,
    ];
    const info = {
      rateHz: RATE_HZ,
      payloadBytes: PAYLOAD_BYTES,
      budgetSeconds: budgetMs / 1000,
      table: md,
      cells: done.map(({ plan, cell }) => ({ ...plan, settled: cell.settled, meanLinks: Number(cell.meanLinks.toFixed(2)), buildWallMs: Math.round(cell.buildWallMs), runWallMs: Math.round(cell.runWallMs), warmupDatagramsPerDelivery: Number(cell.warmupDatagramsPerDelivery.toFixed(3)), windows: cell.windows })),
    };
    return { group: "game", title: this.title, status: skipped.length === 0 ? "ok" : "partial", rows, info, notes };
  },
};
