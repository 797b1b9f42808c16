/**
 * Per-host quotas (PROTOCOL.md 6.11; issue 15, point 4: "per-IP quotas (sessions, grids
 * created, memberships per grid, handshakes per second)"). One host can open many source
 * ports, so the lobby counts what a host holds by its address without the port: an IPv4
 * address, an IPv6 /64 (one subscriber's prefix: an attacker with a /64 holds 2^64
 * addresses), or, for a transport that is not IP (an embedded host's handles, the
 * simulator's names), the text before a trailing ":port", else the whole handle.
 *
 * Addresses arrive in the one text form of PROTOCOL.md 4.5 (wire/address.ts), so equal
 * hosts always give equal keys.
 */
import type { Address } from "../endpoint.ts";

const PORT = /^(.*):([0-9]{1,5})$/;

/** The 8 groups of an RFC 5952 IPv6 text (no brackets, no zone), or undefined. */
function ipv6Groups(text: string): string[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : (halves[1] as string).split(":");
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || head.length + fill + tail.length !== 8) return undefined;
  return [...head, ...new Array<string>(fill).fill("0"), ...tail];
}

/** The key per-host quotas count under: see the file comment. */
export function hostOf(address: Address): string {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close > 0) {
      const ip = address.slice(1, close);
      const pct = ip.indexOf("%");
      const groups = ipv6Groups(pct < 0 ? ip : ip.slice(0, pct));
      if (groups !== undefined) return `${groups.slice(0, 4).join(":")}::/64`;
      return ip;
    }
  }
  const m = PORT.exec(address);
  return m === null ? address : (m[1] as string);
}

/** Counts per host (sessions a host holds, grids it created), dropping a host at zero so the map stays bounded by what is held. */
export class HostCounts {
  private readonly counts = new Map<string, number>();

  get(host: string): number {
    return this.counts.get(host) ?? 0;
  }

  add(host: string, delta: 1 | -1): void {
    const n = (this.counts.get(host) ?? 0) + delta;
    if (n <= 0) this.counts.delete(host);
    else this.counts.set(host, n);
  }

  /** Hosts holding something (for footprint()). */
  get size(): number {
    return this.counts.size;
  }
}
