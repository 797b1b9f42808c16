/**
 * How a command's failure reaches the terminal: one line, never a stack trace, for
 * anything the user can act on; the exit code says whose mistake it was.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { UsageError } from "./args.ts";
import type { CommandIo } from "./io.ts";

/** RelayGridError codes that mean the command line asked for something wrong (exit 2). */
const CALLER_MISTAKES: ReadonlySet<string> = new Set<string>([
  ErrorCode.InvalidConfig,
  ErrorCode.InvalidAddress,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnknownGrid,
  // No --token, or one the lobby refused (expired, for another grid, used): the caller must bring a valid one.
  ErrorCode.NotAdmitted,
]);

/**
 * Prints what `command` threw and returns its exit code: 2 for a usage error or a caller's
 * mistake (a bad address, key file or option), 1 for a runtime failure (the lobby did not
 * answer, a bind failed), and 1 with a stack trace only for an unexpected exception (a bug).
 */
export function reportFailure(command: string, e: unknown, io: Pick<CommandIo, "err">): number {
  if (e instanceof UsageError) {
    io.err(`relaygrid ${command}: ${e.message} (see "relaygrid ${command} --help")`);
    return 2;
  }
  if (e instanceof RelayGridError) {
    io.err(`relaygrid ${command}: ${e.message}`);
    return CALLER_MISTAKES.has(e.code) ? 2 : 1;
  }
  io.err(`relaygrid ${command}: internal error, please report it: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
}
