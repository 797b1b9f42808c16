/**
 * npm run fuzz -- [--seconds N] [--seed S] [--target wire|peer|lobby|all] [--path P]
 * npm run fuzz -- --flood [--count N] [--seed S]
 *
 * Issue 6, point 5: mutated and generated datagrams (seeded from test/vectors) into every
 * decoder, a Peer in a small simulated grid and a Lobby, with fast-check. Time-bounded by
 * --seconds (split evenly between the targets), deterministic for a given --seed (the i-th
 * run of a seed is always the same case; more seconds only add runs). On a failure it
 * prints the seed, the path and the shrunk counterexample as hex, with the entry to add to
 * test/vectors/fuzz-regressions.json, and exits 1. --path replays one case (with --seed).
 *
 * --flood runs the one-million-datagram flood of test/security-flood.test.ts at full size
 * (issue 6, point 4) and prints memory, tables and drops by reason.
 *
 * The targets and their properties are in test/support/fuzz/.
 */
import { formatFlood, heapGrowthBytes, runFlood } from "../test/support/fuzz/flood.ts";
import { lobbyTarget, peerTarget } from "../test/support/fuzz/grid-target.ts";
import { formatFailure, runTarget, type FuzzTarget } from "../test/support/fuzz/target.ts";
import { wireTarget } from "../test/support/fuzz/wire-target.ts";

const TARGETS: Record<string, FuzzTarget<never>> = {
  wire: wireTarget as FuzzTarget<never>,
  peer: peerTarget as FuzzTarget<never>,
  lobby: lobbyTarget as FuzzTarget<never>,
};

const USAGE = `usage: npm run fuzz -- [--seconds N] [--seed S] [--target wire|peer|lobby|all] [--path P]
       npm run fuzz -- --flood [--count N] [--seed S]`;

function parse(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const name = a.slice(2);
    if (name === "flood" || name === "help") out.set(name, "true");
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      out.set(name, v);
    }
  }
  return out;
}

function int(args: Map<string, string>, name: string, fallback: number): number {
  const v = args.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

function main(): number {
  const args = parse(process.argv.slice(2));
  if (args.has("help")) {
    console.log(USAGE);
    return 0;
  }
  const seed = int(args, "seed", Math.floor(Math.random() * 0x7fffffff)) | 0;
  if (args.has("flood")) {
    const count = int(args, "count", 1_000_000);
    console.log(`flood: seed ${seed}, ${count} datagrams (half at a peer, half at the lobby)`);
    const r = runFlood({ seed, atPeer: Math.ceil(count / 2), atLobby: Math.floor(count / 2) });
    console.log(formatFlood(r));
    const growth = heapGrowthBytes(r);
    const ok = r.overCap.length === 0 && r.missed.length === 0 && r.lobbyBooksBalance && r.newcomerJoined && (growth === undefined || growth < 16 * 1048576);
    console.log(ok ? "flood: ok" : `flood: FAILED (seed ${seed})`);
    return ok ? 0 : 1;
  }
  const which = args.get("target") ?? "all";
  const names = which === "all" ? Object.keys(TARGETS) : [which];
  for (const n of names) if (TARGETS[n] === undefined) throw new Error(`unknown target ${n}\n${USAGE}`);
  const path = args.get("path");
  if (path !== undefined && names.length !== 1) throw new Error("--path replays one case: give --target too");
  const seconds = int(args, "seconds", 60);
  console.log(`fuzz: seed ${seed}, ${seconds} s, targets ${names.join(", ")}`);
  for (const n of names) {
    const target = TARGETS[n] as FuzzTarget<never>;
    const timeLimitMs = path !== undefined ? undefined : Math.max(1, Math.floor((seconds * 1000) / names.length));
    const o = runTarget(target, { seed, path, timeLimitMs });
    if (o.failed) {
      console.log(formatFailure(o));
      return 1;
    }
    console.log(`${n}: ${o.runs} runs in ${(o.ms / 1000).toFixed(1)} s, no failure`);
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
