/**
 * Runs the system tools the NAT bench is made of (`ip`, `nft`, `sysctl`), synchronously and
 * bounded in time: a command that fails or hangs throws a NetnsError that names the command
 * and quotes its stderr, so a broken bench says what broke instead of timing out later.
 */
import { execFileSync } from "node:child_process";

/** No single `ip` / `nft` call takes this long on a healthy machine. */
export const COMMAND_TIMEOUT_MS = 10_000;

export class NetnsError extends Error {
  constructor(
    message: string,
    readonly command: readonly string[],
  ) {
    super(message);
    this.name = "NetnsError";
  }
}

/** Runs `cmd args...`; returns its stdout. Throws NetnsError on a non-zero exit, a timeout, or a missing binary. */
export function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      input,
      encoding: "utf8",
      timeout: COMMAND_TIMEOUT_MS,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; status?: number | null; signal?: string | null };
    const why =
      err.code === "ENOENT"
        ? `${cmd} is not installed`
        : err.signal === "SIGTERM"
          ? `timed out after ${COMMAND_TIMEOUT_MS} ms`
          : `exit ${String(err.status)}: ${(err.stderr ?? err.message).trim()}`;
    throw new NetnsError(`${[cmd, ...args].join(" ")}: ${why}`, [cmd, ...args]);
  }
}

/** run(), but a failure is returned as false (for cleanup, where "already gone" is fine). */
export function tryRun(cmd: string, args: readonly string[], input?: string): boolean {
  try {
    run(cmd, args, input);
    return true;
  } catch {
    return false;
  }
}

/** `ip -n NS args...`: an ip command inside namespace NS. */
export function ipIn(ns: string, args: readonly string[]): string {
  return run("ip", ["-n", ns, ...args]);
}

/** `ip netns exec NS cmd args...`. */
export function execIn(ns: string, cmd: string, args: readonly string[], input?: string): string {
  return run("ip", ["netns", "exec", ns, cmd, ...args], input);
}
