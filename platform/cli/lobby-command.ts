/**
 * `relaygrid lobby`: runs a UDP lobby until SIGINT or SIGTERM. The first stdout line is
 * `relaygrid lobby listening on HOST:PORT` with the real port (scripts read it when they
 * pass --port 0), the second `relaygrid lobby key HEX`, the identity public key peers pin;
 * then one summary line every --stats-interval seconds.
 */
import { createLobby, type LobbyServer } from "../node/index.ts";
import { NodeCrypto } from "../node/node-crypto.ts";
import type { KeyPair } from "../../lib/security/crypto.ts";
import { loadOrCreateIdentity } from "./key-file.ts";
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_GRIDS,
  DEFAULT_MAX_MEMBERS_PER_GRID,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_REQUESTS_PER_SECOND_PER_SESSION,
} from "../../lib/lobby/config.ts";
import type { LobbyStats } from "../../lib/lobby/stats.ts";
import { parseFlags, type FlagSpec } from "./args.ts";
import { reportFailure } from "./failure.ts";
import type { CommandIo } from "./io.ts";
import { HTTP_FLAG_HELP, parseHttpFlag, startDashboard } from "../http/cli-flag.ts";

export type { CommandIo } from "./io.ts";

const FLAGS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "int", default: 7777, min: 0, max: 65535, short: "p" },
  "stats-interval": { type: "int", default: 5, min: 0, max: 86_400 },
  "heartbeat-ms": { type: "int", default: DEFAULT_HEARTBEAT_MS, min: 10, max: 3_600_000 },
  "max-grids": { type: "int", default: DEFAULT_MAX_GRIDS, min: 1, max: 1 << 20 },
  "max-members": { type: "int", default: DEFAULT_MAX_MEMBERS_PER_GRID, min: 1, max: 0xffff },
  "max-sessions": { type: "int", default: DEFAULT_MAX_SESSIONS, min: 1, max: 1 << 22 },
  rate: { type: "int", default: DEFAULT_REQUESTS_PER_SECOND_PER_SESSION, min: 1, max: 1_000_000 },
  // "" = none: a new identity for this run only.
  "key-file": { type: "string", default: "", short: "k" },
  // "" = no HTTP at all.
  http: { type: "string", default: "" },
  // "" = anyone may join; else comma-separated Ed25519 public keys of the game's backend.
  "join-token-keys": { type: "string", default: "" },
  help: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

export const LOBBY_HELP = `Usage: relaygrid lobby [options]

Runs a relaygrid lobby on UDP: it registers grids, admits peers, tracks their links and
sends repair hints to split grids. Game data never passes through it. Stops cleanly on
SIGINT (Ctrl-C) or SIGTERM.

Options:
  --host HOST             address to bind (default 127.0.0.1; 0.0.0.0 or :: for all)
  -p, --port PORT         UDP port, 0 picks a free one (default 7777)
  --stats-interval SECS   seconds between summary lines, 0 for none (default 5)
  --heartbeat-ms MS       heartbeat interval told to peers (default ${DEFAULT_HEARTBEAT_MS})
  --max-grids N           grids open at once (default ${DEFAULT_MAX_GRIDS})
  --max-members N         members per grid (default ${DEFAULT_MAX_MEMBERS_PER_GRID})
  --max-sessions N        peer sessions open at once (default ${DEFAULT_MAX_SESSIONS})
  --rate N                requests per second per lobby session (default ${DEFAULT_REQUESTS_PER_SECOND_PER_SESSION})
  -k, --key-file PATH     the lobby's Ed25519 identity seed, 64 hex characters; created
                          (mode 0600) when missing, so a restarted lobby keeps its identity
                          (default: a new identity every run)
  --http HOST:PORT        ${HTTP_FLAG_HELP}
  --join-token-keys HEX[,HEX]
                          admit only peers with a join token signed by one of these
                          Ed25519 public keys (the game backend's, 64 hex characters each;
                          createJoinToken in relaygrid/node mints them); default: anyone
  -h, --help              show this help

The first line printed is "relaygrid lobby listening on HOST:PORT" with the bound port, the
second "relaygrid lobby key HEX": the public key peers pin to trust this lobby. With --http,
the third is "relaygrid lobby dashboard on http://HOST:PORT/ ..."; a port in use exits 2.`;

/** One line: grids, peers, links, islands, datagrams in/out, drops by reason. */
export function summaryLine(s: LobbyStats): string {
  const drops = Object.entries(s.drops)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${reason}=${n}`)
    .join(" ");
  return (
    `grids=${s.grids} peers=${s.peers} links=${s.links} islands=${s.islands} ` +
    `in=${s.datagramsIn} out=${s.datagramsOut} drops: ${drops === "" ? "none" : drops}`
  );
}

/** Runs the lobby until a signal; resolves with the exit code. Throws UsageError on bad flags. */
export async function lobbyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (flags.help) {
    io.out(LOBBY_HELP);
    return 0;
  }
  const httpAt = flags.http === "" ? undefined : parseHttpFlag(flags.http);
  let server: LobbyServer;
  const crypto = new NodeCrypto();
  try {
    let identity: KeyPair | undefined;
    if (flags["key-file"] !== "") {
      const loaded = loadOrCreateIdentity(flags["key-file"], crypto);
      identity = loaded.identity;
      if (loaded.created) io.err(`relaygrid lobby: new identity written to ${flags["key-file"]}`);
    }
    server = await createLobby({
      crypto,
      identity,
      host: flags.host,
      port: flags.port,
      heartbeatMs: flags["heartbeat-ms"],
      maxGrids: flags["max-grids"],
      maxMembersPerGrid: flags["max-members"],
      maxSessions: flags["max-sessions"],
      requestsPerSecondPerSession: flags.rate,
      ...(flags["join-token-keys"] === "" ? {} : { joinTokenKeys: flags["join-token-keys"].split(",").map((k) => k.trim()) }),
    });
  } catch (e) {
    return reportFailure("lobby", e, io); // one line; 2 for a bad key file or option, 1 for a bind failure
  }
  server.on("error", (e) => io.err(`relaygrid lobby: ${e.message}`));
  io.out(`relaygrid lobby listening on ${server.address()}`);
  io.out(`relaygrid lobby key ${server.publicKey()}`);
  const dashboard = httpAt === undefined ? undefined : await startDashboard(server, httpAt, io, "lobby");
  if (httpAt !== undefined && dashboard === undefined) {
    await server.close("lobby shutting down");
    return 2;
  }
  const interval = flags["stats-interval"] > 0 ? setInterval(() => io.out(summaryLine(server.stats())), flags["stats-interval"] * 1000) : undefined;

  // Handlers installed by main before the first line (signals.ts): a Ctrl-C at any point lands here.
  await io.interrupts.stopped;
  if (interval !== undefined) clearInterval(interval);
  await dashboard?.close();
  await server.close("lobby shutting down");
  io.out(`relaygrid lobby closed: ${summaryLine(server.stats())}`);
  return 0;
}
