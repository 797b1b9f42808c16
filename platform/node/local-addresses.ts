/**
 * The peer's socket addresses on its own interfaces (PeerConfig.localAddresses, PROTOCOL.md
 * 4.7): what it registers with the lobby so that members behind the same NAT link over the
 * LAN, and what tells it whether the lobby sees it behind a NAT. A socket bound to every
 * interface ("0.0.0.0" or "::") has one address per interface of its family (loopback left
 * out); one bound to a single address has that one. The core keeps only site-private ones
 * for Register.
 */
import { networkInterfaces } from "node:os";
import { formatAddress } from "./address.ts";

export function localSocketAddresses(bound: { address: string; family: string; port: number }): string[] {
  const v6 = bound.family === "IPv6";
  if (bound.address !== "0.0.0.0" && bound.address !== "::") return [formatAddress(bound.address, bound.port)];
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === "IPv6") !== v6) continue;
      if (v6 && a.scopeid !== undefined && a.scopeid !== 0) continue; // link-local needs a zone: not reachable by text alone
      out.push(formatAddress(a.address, bound.port));
    }
  }
  return out;
}
