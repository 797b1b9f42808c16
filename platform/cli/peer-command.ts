/**
 * `relaygrid peer`: joins a grid from a terminal. Each line read from stdin is broadcast;
 * each arrival is printed with its origin and hops. Ctrl-C (or the end of stdin) leaves
 * the grid gracefully.
 */
import { createInterface } from "node:readline";
import { joinGrid } from "../node/index.ts";
import { parseFlags, type FlagSpec } from "./args.ts";
import type { CommandIo } from "./lobby-command.ts";

const FLAGS = {
  lobby: { type: "string", default: "127.0.0.1:7777" },
  grid: { type: "string", default: "lobby" },
  create: { type: "boolean" },
  limit: { type: "int", default: 4, min: 2, max: 64 },
  name: { type: "string", default: "terminal" },
  "lobby-key": { type: "string", default: "" },
  help: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

export const PEER_HELP = `Usage: relaygrid peer [options]

Joins a grid and relays for it. Every line you type is broadcast to the grid; every
message that arrives is printed as "<origin> (+hops): text". Ctrl-C leaves the grid.

Options:
  --lobby HOST:PORT  the lobby (default 127.0.0.1:7777)
  --grid NAME        the grid to join (default "lobby")
  --create           create the grid if it does not exist
  --limit N          connection limit (default 4)
  --name NAME        a name the lobby shows (default "terminal")
  --lobby-key HEX    the lobby's public key, as "relaygrid lobby" prints it; without it
                     the peer trusts the key the lobby presents on first contact
  -h, --help         show this help`;

export async function peerCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags(argv, FLAGS);
  if (f.help) {
    io.out(PEER_HELP);
    return 0;
  }
  const peer = await joinGrid({
    lobby: f.lobby,
    grid: f.grid,
    create: f.create,
    connectionLimit: f.limit,
    name: f.name,
    ...(f["lobby-key"] === "" ? {} : { lobbyKey: f["lobby-key"] }),
  });
  io.out(`joined grid "${f.grid}" as peer ${peer.id} from ${peer.address()}; type a line to broadcast it`);
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
      try {
        peer.broadcast(bytes.length > 1150 ? bytes.subarray(0, 1150) : bytes);
      } catch (e) {
        io.err(`cannot broadcast: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    rl.on("close", () => resolve());
    process.once("SIGINT", () => rl.close());
    process.once("SIGTERM", () => rl.close());
  });
  await done;
  await peer.close();
  io.err("left the grid");
  return 0;
}
