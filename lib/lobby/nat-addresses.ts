/**
 * Address checks for NAT traversal (PROTOCOL.md 4.7): what a member may report as a local
 * address, and whether two members are behind the same public address (then, and only then,
 * the lobby passes their local addresses to each other).
 */
import { formatSocketAddress } from "../../wire/address.ts";

/** "host" and port of an address text in the form of PROTOCOL.md 4.5, or undefined. */
export function splitSocketAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = (m[1] ?? m[2]) as string;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * True for a local address a member may report: an IP socket address in the canonical text
 * form, in a range that is private to a site: 10/8, 172.16/12, 192.168/16 (RFC 1918),
 * 100.64/10 (RFC 6598, behind a carrier NAT), 169.254/16 and fe80::/10 (link-local),
 * fc00::/7 (RFC 4193). A public address needs no local path, and loopback or a public
 * address would let a member aim other members' punches at a machine of its choosing.
 */
export function isLocalCandidate(text: string): boolean {
  const hp = splitSocketAddress(text);
  if (hp === undefined || formatSocketAddress(hp.host, hp.port) !== text) return false;
  const h = hp.host;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4 !== null) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  const first = parseInt(h.split(":")[0] ?? "", 16);
  if (!h.includes(":") || Number.isNaN(first)) return false;
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/**
 * Whether two members' admitted addresses are on one public IP address (one NAT, or one
 * carrier NAT): their local addresses may reach each other over a LAN. A non-IP handle is
 * never "the same" as another (an embedded host's handles are opaque).
 */
export function samePublicHost(a: string, b: string): boolean {
  const ha = splitSocketAddress(a)?.host;
  return ha !== undefined && ha === splitSocketAddress(b)?.host;
}
