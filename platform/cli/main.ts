/**
 * `relaygrid <command>`: a small dispatcher. Each subcommand lives in its own module and is
 * registered in COMMANDS with a one-line summary; `run` resolves with the exit code.
 * Exit codes: 0 success (Ctrl-C included), 1 runtime failure, 2 the caller's mistake (a
 * usage error, or a RelayGridError such as an address that does not parse). Errors the
 * user can act on print one line, never a stack trace.
 */
import pkg from "../../package.json" with { type: "json" };
import { demoCommand } from "./demo-command.ts";
import { reportFailure } from "./failure.ts";
import type { CommandIo } from "./io.ts";
import { lobbyCommand } from "./lobby-command.ts";
import { peerCommand } from "./peer-command.ts";
import { installInterrupts } from "./signals.ts";
import { closest } from "./suggest.ts";

interface Command {
  readonly summary: string;
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  lobby: { summary: "run a UDP lobby (grid registry, admission, link tracking)", run: lobbyCommand },
  peer: { summary: "join a grid from a terminal: stdin lines are broadcast, arrivals printed", run: peerCommand },
  demo: { summary: "run a lobby and a crowd of peers on loopback and show the grid working", run: demoCommand },
};

export const VERSION: string = pkg.version;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return (
    `Usage: relaygrid <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n` +
    `Options: -h, --help  this help; -V, --version  print the version (${VERSION})\n\n` +
    `Run "relaygrid <command> --help" for a command's options.`
  );
}

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "-v" || name === "version") {
    io.out(`relaygrid ${VERSION}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const guess = closest(name.replace(/^-+/, ""), Object.keys(COMMANDS));
    io.err(`relaygrid: unknown command "${name}"${guess === undefined ? "" : ` (did you mean "relaygrid ${guess}"?)`}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    return reportFailure(name, e, io);
  }
}

// First, before any line is printed: a Ctrl-C from then on is a clean shutdown (signals.ts).
const interrupts = installInterrupts();
const io: CommandIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  interrupts,
};
// No top-level await: the package builds this entry with the library's ES2020 target.
void main(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
