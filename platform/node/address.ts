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

/** Addresses an AddressCache keeps in each direction (at least; at most twice this). Defaults to 4096. */
export const DEFAULT_ADDRESS_CACHE_ENTRIES = 4096;

type SourceTable = Map<string, Map<number, string>>;

/**
 * The driver's per-datagram address work, done once per address: the "host:port" text of a
 * datagram's source (the same string object every time, so the Peer's Map lookups by address
 * hash it once) and the parsed destination of a transmit.
 *
 * Bounded both ways, in two generations: entries go into the current one; when it holds
 * `maxEntries` it becomes the old one (the older is dropped) and an entry found only in the
 * old one moves back. So the last `maxEntries` addresses in use always hit, at most twice
 * that many are held, and a spoofer cycling through source addresses costs a format per
 * datagram (what an uncached driver pays), never memory. Size it to the addresses an
 * endpoint talks to: a peer's links and lobby, a lobby's sessions.
 */
export class AddressCache<D = HostPort> {
  private sources: SourceTable = new Map();
  private oldSources: SourceTable = new Map();
  private sourceCount = 0;
  private destinations = new Map<string, D | null>();
  private oldDestinations = new Map<string, D | null>();

  constructor(
    /** Turns a parsed destination into what the transport sends to (a HostPort, or a native address object). */
    private readonly toDestination: (hp: HostPort) => D | null,
    private readonly maxEntries: number = DEFAULT_ADDRESS_CACHE_ENTRIES,
  ) {}

  /** formatAddress(host, port), cached. */
  source(host: string, port: number): string {
    return this.sources.get(host)?.get(port) ?? this.addSource(host, port);
  }

  /** The transport's destination for `address`, or null when it does not parse (or the transport cannot send there). Cached, failures too. */
  destination(address: string): D | null {
    const d = this.destinations.get(address);
    return d !== undefined ? d : this.addDestination(address);
  }

  /** Cached entries (sources, destinations) in both generations, for tests and stats. */
  get size(): { sources: number; destinations: number } {
    let old = 0;
    for (const ports of this.oldSources.values()) old += ports.size;
    return { sources: this.sourceCount + old, destinations: this.destinations.size + this.oldDestinations.size };
  }

  private addSource(host: string, port: number): string {
    const text = this.oldSources.get(host)?.get(port) ?? formatAddress(host, port);
    if (this.sourceCount >= this.maxEntries) {
      this.oldSources = this.sources;
      this.sources = new Map();
      this.sourceCount = 0;
    }
    let ports = this.sources.get(host);
    if (ports === undefined) this.sources.set(host, (ports = new Map()));
    ports.set(port, text);
    this.sourceCount++;
    return text;
  }

  private addDestination(address: string): D | null {
    let d = this.oldDestinations.get(address);
    if (d === undefined) {
      const hp = parseAddress(address);
      d = hp === undefined ? null : this.toDestination(hp);
    }
    if (this.destinations.size >= this.maxEntries) {
      this.oldDestinations = this.destinations;
      this.destinations = new Map();
    }
    this.destinations.set(address, d);
    return d;
  }
}

/** True for an IPv4 dotted quad or an IPv6 literal (no brackets): what a native send takes without DNS. */
export function isIpLiteral(host: string): boolean {
  if (host.includes(":")) return /^[0-9a-fA-F:.]+(%[0-9A-Za-z_.-]+)?$/.test(host);
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}
