/**
 * Normalizes a user-supplied "host:port" to the exact text the driver formats for a
 * datagram's source, so the Peer can compare its lobby address with `from`. Only IP
 * literals and "localhost" are accepted: resolving DNS names is the application's choice.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { formatAddress, parseAddress } from "./address.ts";

export function normalizeAddress(what: string, address: string): string {
  const hp = parseAddress(address);
  if (hp === undefined) {
    throw new RelayGridError(ErrorCode.InvalidAddress, `${what} "${address}" is not "HOST:PORT" (e.g. "127.0.0.1:7777" or "[::1]:7777")`);
  }
  const host = hp.host === "localhost" ? "127.0.0.1" : hp.host;
  if (!/^[0-9.]+$/.test(host) && !host.includes(":")) {
    throw new RelayGridError(ErrorCode.InvalidAddress, `${what} host "${hp.host}" must be an IP address or localhost`);
  }
  return formatAddress(host, hp.port);
}
