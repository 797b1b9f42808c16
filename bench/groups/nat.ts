/**
 * nat (real NAT, needs root): relaygrid's NAT traversal (PROTOCOL.md 4.7) on the NAT bench
 * (test/support/netns: network namespaces, home routers made with nftables: full cone,
 * port-restricted, symmetric, two hosts behind one router, double NAT). Real Node peers
 * (joinGrid) in the namespaces, driven by the NAT matrix (test/support/netns/matrix.ts):
 *
 * - grid: 12 peers, two behind every kind of home: joined, components, every broadcast to
 *   every member exactly once, time to join;
 * - pairs (not with --quick): every (joiner kind, member kind), a two-member grid: how many
 *   link directly, time to link, punches until the proof, and how soon a peer that reaches
 *   nobody is told (`unreachable`, target < 10 s);
 * - baseline, same run: plain UDP hole punching between the same hosts (both learn their
 *   mapping from a reflector and send to each other at once, no relaygrid): which pairs it
 *   opens and how fast; relaygrid's pairs and times are given as ratios against it.
 *
 * Without root, `ip` or `nft` the group measures nothing and says why (status partial).
 * scripts/nat-matrix.ts prints the same measurements as the tables of docs/NAT.md.
 */
import {
  LOBBY_ADDR,
  NatBench,
  natBenchAvailability,
  runGrid,
  runPairs,
  runPunches,
  STANDARD_BENCH,
  startMatrix,
  stopMatrix,
  type GridResult,
  type PairResult,
  type PunchResult,
} from "../../test/support/netns/index.ts";
import { exact, figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

/** PROTOCOL.md 7.2: a peer that reaches no member is told within 10 s. */
const TOLD_WITHIN_MS = 10_000;

function gridRows(g: GridResult): Row[] {
  const joined = g.members.filter((m) => m.error === undefined);
  const expected = (joined.length - 1) * (g.broadcastsSent / Math.max(1, joined.length));
  const once = joined.reduce((n, m) => n + m.received - m.receivedTwice, 0);
  return [
    { key: "gridJoined", measure: `grid over every NAT kind: peers joined (of ${g.members.length})`, value: exact(joined.length, "peers") },
    { key: "gridComponents", measure: "grid: components of the lobby's link graph", value: exact(g.components.length, ""), target: "1", met: g.components.length === 1 },
    {
      key: "gridOncePct",
      measure: "grid: broadcasts delivered to every other member exactly once",
      value: exact(joined.length === 0 ? 0 : (100 * once) / (joined.length * expected), "%"),
      target: "100%",
      met: g.everyBroadcastEverywhere,
    },
    { key: "gridJoinMs", measure: "grid: time to join (joinGrid until its first confirmed link), per peer", value: figure(joined.map((m) => m.joinedMs ?? 0), "ms") },
  ];
}

/** The plain-punch result for a pair of kinds, either order. */
const plainFor = (punches: readonly PunchResult[], a: string, b: string): PunchResult | undefined =>
  punches.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));

function pairRows(pairs: readonly PairResult[], punches: readonly PunchResult[]): Row[] {
  const linked = pairs.filter((p) => p.linked);
  const plainOpened = pairs.filter((p) => plainFor(punches, p.joinerKind, p.memberKind)?.opened === true);
  const timed = linked.filter((p) => plainFor(punches, p.joinerKind, p.memberKind)?.openMs !== undefined);
  const told = pairs.filter((p) => p.error?.code === "unreachable").map((p) => p.error?.afterMs ?? 0);
  const otherErrors = pairs.filter((p) => p.error !== undefined && p.error.code !== "unreachable").length;
  const closed = pairs.filter((p) => plainFor(punches, p.joinerKind, p.memberKind)?.opened === false);
  const probed = closed.filter((p) => p.linked);
  return [
    {
      key: "pairsLinked",
      measure: `pairs of NAT kinds (joiner -> member, ${pairs.length}) that link directly`,
      value: exact(linked.length, "pairs"),
      ratio: exact(plainOpened.length === 0 ? NaN : linked.length / plainOpened.length, "x"),
      ratioKey: "pairsLinkedRatio",
      baseline: `ours / pairs plain punching opens (${plainOpened.length})`,
      target: "1x",
      met: linked.length >= plainOpened.length,
    },
    {
      key: "pairLinkMs",
      measure: "pairs: time to link (joinGrid until its first confirmed link)",
      value: figure(linked.map((p) => p.timeToLinkMs ?? 0), "ms"),
      ratio: ratio(timed.map((p) => p.timeToLinkMs ?? 0), timed.map((p) => plainFor(punches, p.joinerKind, p.memberKind)?.openMs ?? 0)),
      ratioKey: "pairLinkMsRatio",
      baseline: "ours / plain punching's time to open, same kinds (its 50 ms send interval)",
    },
    { key: "pairPunches", measure: "pairs: Punches the joiner sent until the proof", value: figure(linked.flatMap((p) => (p.punch?.ok === true ? [p.punch.attempts] : [])), "punches") },
    {
      key: "pairsProbed",
      measure: `pairs plain punching cannot open (${closed.length}) that link by birthday probing (lib/peer/birthday.ts)`,
      value: exact(probed.length, "pairs"),
      target: `${closed.filter((p) => !(p.joinerKind === "symmetric" && p.memberKind === "symmetric")).length} (all but two symmetric NATs)`,
      met: probed.length >= closed.filter((p) => !(p.joinerKind === "symmetric" && p.memberKind === "symmetric")).length,
    },
    { key: "pairProbedMs", measure: "pairs linked by probing: time to link", value: probed.length === 0 ? null : figure(probed.map((p) => p.timeToLinkMs ?? 0), "ms") },
    {
      key: "unreachableMs",
      measure: `pairs that reach nobody (${told.length}): told \`unreachable\` after${otherErrors > 0 ? ` (${otherErrors} failed otherwise)` : ""}`,
      value: told.length === 0 ? null : figure(told, "ms"),
      ...(told.length === 0 ? { note: "every pair linked" } : {}),
      target: `< ${TOLD_WITHIN_MS} ms`,
      met: otherErrors === 0 && told.every((t) => t < TOLD_WITHIN_MS),
    },
  ];
}

export const natGroup: Group = {
  name: "nat",
  title: "NAT traversal through real NATs in network namespaces (needs root)",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const avail = natBenchAvailability();
    if (!avail.ok) {
      const note = `the NAT bench cannot be built here: ${avail.reason}`;
      return { group: "nat", title: this.title, status: "partial", rows: [{ key: "gridJoined", measure: "NAT bench", value: null, note }], info: {}, notes: [note] };
    }
    const bench = NatBench.create(STANDARD_BENCH);
    try {
      const { ctx: mctx, lobbyAgent } = await startMatrix(bench, 600_000);
      ctx.log("nat: grid of 12 over every NAT kind");
      const grid = await runGrid(mctx, lobbyAgent);
      const rows = gridRows(grid);
      const notes = ["One run on the NAT bench; figures over its peers (grid) or its pairs (pairs), not over repeats."];
      let pairs: PairResult[] = [];
      let punches: PunchResult[] = [];
      if (ctx.quick) notes.push("--quick: the grid only; the pairs and the plain-punching baseline run in the full bench.");
      else {
        ctx.log("nat: 36 pairs of NAT kinds");
        pairs = await runPairs(mctx);
        ctx.log("nat: plain hole punching, the baseline");
        punches = await runPunches(mctx, { agent: lobbyAgent, endpoint: `${LOBBY_ADDR}:3478` }, (h) => bench.addrOf(h));
        rows.push(...pairRows(pairs, punches));
      }
      await stopMatrix(mctx);
      const met = rows.every((r) => r.met !== false);
      return { group: "nat", title: this.title, status: met ? "ok" : "partial", rows, info: { grid, pairs, punches }, notes };
    } finally {
      bench.destroy();
    }
  },
};
