/**
 * `relaygrid peer`: joins a grid from a terminal. Each line read from stdin is broadcast;
 * each arrival is printed with its origin and hops. Ctrl-C (or the end of stdin) leaves
 * the grid gracefully.
 */
import { createInterface } from "node:readline";
import { ErrorCode, joinGrid, MAX_PAYLOAD_BYTES, RelayGridError } from "../node/index.ts";
import { parseFlags, type FlagSpec } from "./args.ts";
import type { CommandIo } from "./io.ts";

const FLAGS = {
  lobby: { type: "string", default: "127.0.0.1:7777", short: "l" },
  grid: { type: "string", default: "lobby", short: "g" },
  create: { type: "boolean", short: "c" },
  limit: { type: "int", default: 4, min: 2, max: 64 },
  name: { type: "string", default: "terminal", short: "n" },
  "lobby-key": { type: "string", default: "", short: "k" },
  token: { type: "string", default: "" },
  host: { type: "string", default: "" },
  port: { type: "int", default: 0, min: 0, max: 65535, short: "p" },
  help: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

export const PEER_HELP = `Usage: relaygrid peer [options]

Joins a grid and relays for it. Every line you type is broadcast to the grid; every
message that arrives is printed as "<origin> (+hops): text". A line over ${MAX_PAYLOAD_BYTES} bytes
(UTF-8) is refused, not cut. Ctrl-C leaves the grid.

Options:
  -l, --lobby HOST:PORT  the lobby, an IP or a host name (default 127.0.0.1:7777)
  -g, --grid NAME        the grid to join (default "lobby")
  -c, --create           create the grid if it does not exist
  --limit N              connection limit (default 4)
  -n, --name NAME        a name the lobby shows (default "terminal")
  -k, --lobby-key HEX    the lobby's public key, as "relaygrid lobby" prints it; without it
                         the peer trusts the key the lobby presents on first contact
  --token HEX            a join token from the game's backend, for a lobby started with
                         --join-token-keys
  --host HOST            local address to bind (default: loopback for a loopback lobby,
                         else 0.0.0.0, or :: for an IPv6 lobby)
  -p, --port PORT        local UDP port (default 0: any free port)
  -h, --help             show this help`;

/** --token: hex, an even number of digits. */
function tokenBytes(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new RelayGridError(ErrorCode.InvalidConfig, `--token must be hex (the token's bytes), got ${hex.length} characters`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

export async function peerCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags(argv, FLAGS);
  if (f.help) {
    io.out(PEER_HELP);
    return 0;
  }
  const abort = new AbortController();
  void io.interrupts.stopped.then(() => abort.abort());
  let peer: Awaited<ReturnType<typeof joinGrid>>;
  try {
    peer = await joinGrid({
      lobby: f.lobby,
      grid: f.grid,
      create: f.create,
      connectionLimit: f.limit,
      name: f.name,
      port: f.port,
      signal: abort.signal,
      ...(f.host === "" ? {} : { host: f.host }),
      ...(f["lobby-key"] === "" ? {} : { lobbyKey: f["lobby-key"] }),
      ...(f.token === "" ? {} : { token: tokenBytes(f.token) }),
    });
  } catch (e) {
    if (abort.signal.aborted && e instanceof RelayGridError && e.code === "closed") {
      io.err("interrupted before joining");
      return 0;
    }
    throw e;
  }
  io.out(`joined grid "${f.grid}" as peer ${peer.id} from ${peer.address()}; type a line to broadcast it`);
  // Links opened while joining, before anyone listened for linkOpen (issue 11, bug 2).
  const early = peer.stats().links;
  for (const l of early) io.err(`link to ${l.peer} open (${early.length} links at join)`);
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  peer.on("data", (payload, info) => io.out(`${info.origin} (+${info.hops}): ${decoder.decode(payload)}`));
  peer.on("linkOpen", (e) => io.err(`link to ${e.peer} open (${e.links} links)`));
  peer.on("linkClosed", (e) => io.err(`link to ${e.peer} closed: ${e.reason} (${e.links} links)`));
  peer.on("error", (e) => io.err(`error: ${e.message}`));

  const done = new Promise<void>((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (line) => {
      const bytes = encoder.encode(line);
      if (bytes.length > MAX_PAYLOAD_BYTES) {
        io.err(`not sent: the line is ${bytes.length} bytes of UTF-8, over the ${MAX_PAYLOAD_BYTES}-byte payload limit; split it`);
        return;
      }
      try {
        peer.broadcast(bytes);
      } catch (e) {
        io.err(`cannot broadcast: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    rl.on("close", () => resolve());
    void io.interrupts.stopped.then(() => rl.close());
  });
  await done;
  await peer.close();
  io.err("left the grid");
  return 0;
}
