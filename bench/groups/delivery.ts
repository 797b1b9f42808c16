/**
 * delivery (simulator): what the delivery modes of send() cost (PROTOCOL.md 4.1.1, 4.1.2).
 *
 *   - Reliable-ordered (`send(payload, { ordered: true })`) against unreliable (`send(payload)`)
 *     on the same seed (one grid, the two modes in turn at each loss level), N = 16, limit 4, every member sending 64 B
 *     at 10 Hz, 0, 5 and 20% loss on every link in turn: delivery %, duplicates, throughput
 *     (deliveries per virtual second), datagrams received per delivery, latency p50 / p99.
 *     Plus N = 64 at 20% loss (everyone sending, ordered and unreliable).
 *   - A message to one member, routed (`send(payload, { to })`) against a flooded targeted
 *     broadcast (`broadcast(payload, target)`), N = 32 and 128: datagrams per message on the
 *     wire, median over pairs, and whether only the target delivered it.
 * Definitions: support/delivery-run.ts. The game group's link model (pairs 20-80 ms one way,
 * 0-10 ms jitter); redundancy lists + repair ("prune"), which reliable delivery needs.
 */
import { runModeCell, runRoutedCell, type ModeCell } from "../support/delivery-run.ts";
import { exact, figure, human } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const RATE_HZ = 10;
const PAYLOAD_BYTES = 64;

interface ModePlan {
  n: number;
  losses: number[];
}

function modeRows(c: ModeCell): Row[] {
  const rows: Row[] = [];
  for (const w of c.windows) {
    const b = w.mode === "ordered" ? c.windows.find((x) => x.mode === "unreliable" && x.lossPct === w.lossPct) : undefined;
    const at = `N=${c.n} L=${c.limit} ${w.mode}, ${w.lossPct}% loss`;
    const k = `n${c.n}${w.mode === "ordered" ? "Ordered" : "Unreliable"}Loss${w.lossPct}`;
    const vs = (x: number, y: number | undefined, name: string): Partial<Row> =>
      y === undefined ? {} : { ratio: exact(x / y, "x"), ratioKey: `${k}${name}VsUnreliableRatio`, baseline: "ordered / unreliable, same grid" };
    rows.push({
      key: `${k}DeliveryPct`,
      measure: `${at}: delivery (${w.messages} messages, ${w.lostEvents} message-lost)`,
      value: exact(w.deliveryPct, "%"),
      ...(w.mode === "ordered" ? { target: w.lossPct >= 20 ? ">= 99.9%" : "100%", met: w.deliveryPct >= (w.lossPct >= 20 ? 99.9 : 100) - 1e-9 } : {}),
    });
    rows.push({ key: `${k}DeliveriesPerSec`, measure: `${at}: throughput, deliveries per virtual s`, value: exact(w.deliveriesPerSec, "/s"), ...vs(w.deliveriesPerSec, b?.deliveriesPerSec, "Throughput") });
    rows.push({ key: `${k}DatagramsPerDelivery`, measure: `${at}: datagrams received per delivery (all kinds)`, value: exact(w.datagramsPerDelivery, "dgram"), ...vs(w.datagramsPerDelivery, b?.datagramsPerDelivery, "Datagrams") });
    rows.push({ key: `${k}P99Ms`, measure: `${at}: latency p99 (p50 ${human(w.p50Ms)} ms)`, value: exact(w.p99Ms, "ms"), ...vs(w.p99Ms, b?.p99Ms, "P99") });
  }
  const dup = c.windows.reduce((a, w) => a + w.duplicates, 0);
  rows.push({ key: `n${c.n}Duplicates`, measure: `N=${c.n}: duplicates delivered, every window, both modes`, value: exact(dup, ""), target: "0", met: dup === 0 });
  return rows;
}

export const deliveryGroup: Group = {
  name: "delivery",
  title: "delivery modes: reliable-ordered vs unreliable at 0/5/20% loss, routed vs flooded to one member",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const q = ctx.quick;
    const rows: Row[] = [];
    const notes: string[] = [];
    const cells: ModeCell[] = [];
    const plans: ModePlan[] = [
      { n: 16, losses: [0, 5, 20] },
      { n: 64, losses: [20] },
    ];
    for (const plan of plans) {
      const t0 = performance.now();
      const c = runModeCell({
        n: plan.n,
        limit: 4,
        seed: 1400 + plan.n,
        rateHz: RATE_HZ,
        payloadBytes: PAYLOAD_BYTES,
        losses: plan.losses,
        warmMs: q && plan.n > 16 ? 500 : 1000,
        windowMs: q || plan.n > 16 ? 1000 : 2000,
        coolMs: 500,
        drainMs: plan.n > 16 ? 5000 : 3000,
      });
      cells.push(c);
      ctx.log(`delivery: N=${plan.n} in ${((performance.now() - t0) / 1000).toFixed(1)} s (build ${(c.buildWallMs / 1000).toFixed(1)} s): ${c.windows.map((w) => `${w.mode} ${w.lossPct}%: ${w.deliveryPct.toFixed(3)}% p50/p99 ${w.p50Ms.toFixed(0)}/${w.p99Ms.toFixed(0)} ms ${w.datagramsPerDelivery.toFixed(2)} dgram/delivery`).join("; ")}`);
      rows.push(...modeRows(c));
    }
    const routed: Record<string, unknown>[] = [];
    for (const n of [32, 128]) {
      const t0 = performance.now();
      const c = runRoutedCell({ n, limit: 4, seed: 1500 + n, pairs: q ? 4 : 16, warmMs: 1500 });
      const r = figure(c.routed, "dgram");
      const f = figure(c.flooded, "dgram");
      ctx.log(`delivery: routed N=${n} in ${((performance.now() - t0) / 1000).toFixed(1)} s (build ${(c.buildWallMs / 1000).toFixed(1)} s): routed ${c.routed.join(",")} flooded ${c.flooded.join(",")}`);
      rows.push({
        key: `routedN${n}Datagrams`,
        measure: `N=${n} L=4: a message to one member, routed: datagrams (target only: ${c.routedOk}/${c.routed.length}; floods for want of a route: ${c.routedFloods})`,
        value: r,
        ratio: exact(r.median / f.median, "x"),
        ratioKey: `routedN${n}VsFloodedRatio`,
        baseline: "routed / flooded, same pairs",
        target: "O(path length): < N/4",
        met: r.median < n / 4 && c.routedOk === c.routed.length,
      });
      rows.push({ key: `floodedN${n}Datagrams`, measure: `N=${n} L=4: the same, a flooded targeted broadcast: datagrams (target only: ${c.floodedOk}/${c.flooded.length})`, value: f });
      routed.push({ ...c });
    }
    notes.push(
      `Every member sends ${PAYLOAD_BYTES} B at ${RATE_HZ} Hz with one mode; links 20-80 ms one way per pair + 0-10 ms jitter; loss on every link; per loss level: each mode in turn on the same grid: 1 s warm-up, the measured window (${q ? "1 s" : "2 s at N=16, 1 s at N=64"}), 0.5 s more sending, 3 s drain. Delivery % counts the window's messages after the drain; throughput = those deliveries / (window + 0.5 s + drain); latency: send -> delivery, every (message, member) pair.`,
      "Routed vs flooded: everyone broadcasts at 2 Hz throughout (routes follow broadcasts); after 1.5 s, each pair (a seeded choice) sends one 64 B message routed and one as a flooded targeted broadcast; datagrams = Routed resp. Data envelopes on the wire for it; figure = median over pairs (min-max).",
    );
    return { group: "delivery", title: this.title, status: "ok", rows, info: { rateHz: RATE_HZ, payloadBytes: PAYLOAD_BYTES, cells, routed }, notes };
  },
};
