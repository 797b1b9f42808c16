/**
 * The Node driver's Address strings: "1.2.3.4:5" for IPv4 and "[::1]:5" for IPv6, the same
 * text in both directions (what the endpoint receives is what it can send to), in the one
 * canonical form of PROTOCOL.md 4.5 (wire/address.ts), whatever text the runtime's socket
 * reports: RFC 5952 for IPv6, and an IPv4-mapped source (::ffff:a.b.c.d, what a dual-stack
 * socket reports for an IPv4 peer) as the IPv4 address, so a ticket the lobby issued on a
 * dual-stack socket matches the source address an IPv4-only member sees.
 */
import { formatSocketAddress, isIpv4Literal } from "../../wire/address.ts";


export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** "host:port" or "[v6]:port" for a socket address, in the canonical form (PROTOCOL.md 4.5). */
export function formatAddress(host: string, port: number): string {
  return formatSocketAddress(host, port);
}

/**
 * The host to hand socket.send(): an IPv6 socket (dual-stack) reaches an IPv4 address only
 * as ::ffff:a.b.c.d (Node answers EINVAL to the dotted quad), the form formatAddress() undid.
 */
export function sendHost(host: string, socketIsIpv6: boolean): string {
  return socketIsIpv6 && isIpv4Literal(host) ? `::ffff:${host}` : host;
}

/** Parses "1.2.3.4:5", "name:5" or "[::1]:5"; undefined for anything else (port 1-65535). */
export function parseAddress(address: string): HostPort | undefined {
  let host: string;
  let port: string;
  if (address.startsWith("[")) {
    const end = address.indexOf("]:");
    if (end < 2) return undefined;
    host = address.slice(1, end);
    port = address.slice(end + 2);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 1) return undefined;
    host = address.slice(0, colon);
    port = address.slice(colon + 1);
    if (host.includes(":")) return undefined; // a bare IPv6 address needs brackets
  }
  if (!/^[0-9]{1,5}$/.test(port)) return undefined;
  const n = Number(port);
  return n >= 1 && n <= 65535 ? { host, port: n } : undefined;
}

/** The dgram socket type for a bind host: udp6 for an IPv6 literal, udp4 otherwise. */
export function socketTypeFor(host: string): "udp4" | "udp6" {
  return host.includes(":") ? "udp6" : "udp4";
}
