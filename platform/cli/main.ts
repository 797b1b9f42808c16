/**
 * `relaygrid <command>`: a small dispatcher. Each subcommand lives in its own module and is
 * registered in COMMANDS with a one-line summary; `run` resolves with the exit code.
 * Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
import { UsageError } from "./args.ts";
import { demoCommand } from "./demo-command.ts";
import { lobbyCommand, type CommandIo } from "./lobby-command.ts";
import { peerCommand } from "./peer-command.ts";

interface Command {
  readonly summary: string;
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  lobby: { summary: "run a UDP lobby (grid registry, admission, link tracking)", run: lobbyCommand },
  peer: { summary: "join a grid from a terminal: stdin lines are broadcast, arrivals printed", run: peerCommand },
  demo: { summary: "run a lobby and a crowd of peers on loopback and show the grid working", run: demoCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: relaygrid <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun "relaygrid <command> --help" for a command's options.`;
}

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`relaygrid: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`relaygrid ${name}: ${e.message} (see "relaygrid ${name} --help")`);
      return 2;
    }
    io.err(`relaygrid ${name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return 1;
  }
}

const io: CommandIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};
process.exitCode = await main(process.argv.slice(2), io);
