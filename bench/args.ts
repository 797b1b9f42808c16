/** Command line of `npm run bench`. */
import type { Runtime } from "./types.ts";

export interface Args {
  quick: boolean;
  json: boolean;
  help: boolean;
  /** --runtime: every UDP group on this runtime (and nothing else). Undefined: UDP groups on Node, and those with more runtimes on each. */
  runtime: Runtime | undefined;
  /** Group selectors: a group runs when its name starts with one of them. Empty: all. */
  groups: string[];
}

export const USAGE = `usage: npm run bench -- [group ...] [--quick] [--json] [--runtime node|bun|deno]

  group            run only the groups whose name starts with this (codec, relay-core, security,
                   scale, game, udp-hop, udp-grid, udp-game, lobby-capacity, faults, delivery,
                   nat; "udp"
                   selects the three UDP groups)
  --quick          fewer repeats and smaller N: everything in about a minute (CI)
  --json           print the results as JSON instead of the table
  --runtime NAME   run only the UDP groups, on this runtime; without it they run on Node and
                   udp-hop also on Bun and Deno (its native-transport targets)

Writes bench/results/latest.json, bench/results/latest.md and, with the scale group,
bench/results/scale.svg; --quick writes the same files under bench/results/quick/ (git-ignored).`;

export function parseArgs(argv: readonly string[]): Args {
  const a: Args = { quick: false, json: false, help: false, runtime: undefined, groups: [] };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i] as string;
    if (s === "--quick") a.quick = true;
    else if (s === "--json") a.json = true;
    else if (s === "--help" || s === "-h") a.help = true;
    else if (s === "--runtime" || s.startsWith("--runtime=")) {
      const v = s.includes("=") ? s.slice(s.indexOf("=") + 1) : argv[++i];
      if (v !== "node" && v !== "bun" && v !== "deno") throw new Error(`--runtime must be node, bun or deno, got ${String(v)}`);
      a.runtime = v;
    } else if (s.startsWith("-")) throw new Error(`unknown option ${s}`);
    else a.groups.push(s);
  }
  return a;
}
