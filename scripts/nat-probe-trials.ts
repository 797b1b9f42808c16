/**
 * Birthday probing on the NAT bench (lib/peer/birthday.ts): `--runs N` trials of each pair
 * of kinds that plain punching cannot open and probing may (a symmetric NAT against a
 * port-restricted, same-NAT or double-NAT one, both ways), `--parallel P` pairs at a time.
 * Prints per pair how many linked, the median time to link and the probes sent, as JSON
 * lines and a summary. Needs root, `ip` and `nft`; about 15 s per failed trial.
 *
 *   npx tsx scripts/nat-probe-trials.ts [--runs 5] [--parallel 3] [--pairs sy-pr,pr-sy]
 */
import { NatBench, natBenchAvailability, runPair, STANDARD_BENCH, startMatrix, stopMatrix, type HostKind, type PairResult } from "../test/support/netns/index.ts";

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] as string) : dflt);
const runs = Number(arg("--runs", "5"));
const parallel = Number(arg("--parallel", "3"));
const KINDS: Record<string, HostKind> = { op: "open", fc: "full-cone", pr: "port-restricted", sy: "symmetric", sn: "same-nat", dn: "double-nat" };
const pairs = arg("--pairs", "sy-pr,pr-sy,sy-sn,sn-sy,sy-dn,dn-sy,sy-sy")
  .split(",")
  .map((p) => p.split("-").map((k) => KINDS[k] as HostKind) as [HostKind, HostKind]);

const avail = natBenchAvailability();
if (!avail.ok) {
  console.error(`nat-probe-trials: no NAT bench here: ${avail.reason}`);
  process.exit(2);
}
const bench = NatBench.create(STANDARD_BENCH);
const results: PairResult[] = [];
try {
  const { ctx } = await startMatrix(bench, 3_600_000);
  const todo = pairs.flatMap((p) => Array.from({ length: runs }, () => p));
  // A pair's hosts are fixed (runPair): one trial per pair of kinds at a time.
  while (todo.length > 0) {
    const batch: [HostKind, HostKind][] = [];
    for (let i = 0; i < todo.length && batch.length < parallel; i++) {
      const [j, m] = todo[i] as [HostKind, HostKind];
      const busy = (k: HostKind): boolean => batch.some(([a, b]) => a === k || b === k);
      if (!busy(j) && !busy(m)) batch.push(...todo.splice(i--, 1));
    }
    const got = await Promise.all(batch.map(([j, m]) => runPair(ctx, j, m)));
    for (const r of got) {
      results.push(r);
      console.log(JSON.stringify({ joiner: r.joinerKind, member: r.memberKind, linked: r.linked, ms: r.timeToLinkMs, punch: r.punch, error: r.error?.code }));
    }
  }
  await stopMatrix(ctx);
} finally {
  bench.destroy();
}
const median = (xs: number[]): number | undefined => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : (s[Math.floor((s.length - 1) / 2)] as number);
};
for (const [j, m] of pairs) {
  const rs = results.filter((r) => r.joinerKind === j && r.memberKind === m);
  const ok = rs.filter((r) => r.linked);
  console.log(`${j} -> ${m}: ${ok.length} of ${rs.length} linked; median time to link ${median(ok.map((r) => r.timeToLinkMs ?? 0))} ms`);
}
const all = results.filter((r) => !(r.joinerKind === "symmetric" && r.memberKind === "symmetric"));
const ok = all.filter((r) => r.linked);
console.log(`probed pairs (symmetric against an address-and-port filtering NAT): ${ok.length} of ${all.length} linked; median ${median(ok.map((r) => r.timeToLinkMs ?? 0))} ms`);
