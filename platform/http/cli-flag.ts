/**
 * `--http HOST:PORT` for `relaygrid lobby` and `relaygrid demo`: parsing, starting the
 * dashboard, the startup line. The address is always explicit (no default host), so serving
 * a page is a decision; a port in use is a clear error and the command exits 2.
 */
import { UsageError } from "../cli/args.ts";
import type { CommandIo } from "../cli/io.ts";
import type { HostPort } from "../node/address.ts";
import { serveLobbyHttp, type LobbyHttpServer } from "./lobby-http.ts";
import type { LobbyHttpSource } from "./source.ts";

export const HTTP_FLAG_HELP = "serve the live dashboard and /metrics on HOST:PORT (e.g. 127.0.0.1:8080; off by default)";

/** "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:9000"; port 0 picks a free one. Throws UsageError. */
export function parseHttpFlag(value: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--http needs HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "${value}")`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * Starts the dashboard for `source` and prints `relaygrid COMMAND dashboard on URL`; on
 * failure prints the reason and returns undefined (the caller closes its lobby and exits 2).
 */
export async function startDashboard(source: LobbyHttpSource, at: HostPort, io: CommandIo, command: string): Promise<LobbyHttpServer | undefined> {
  try {
    const http = await serveLobbyHttp(source, { host: at.host, port: at.port });
    io.out(`relaygrid ${command} dashboard on ${http.url} (Prometheus metrics: ${http.url}metrics)`);
    return http;
  } catch (e) {
    io.err(`relaygrid ${command}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
