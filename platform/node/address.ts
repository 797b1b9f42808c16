/**
 * The Node driver's Address strings: "1.2.3.4:5" for IPv4 and "[::1]:5" for IPv6, the same
 * text in both directions (what the endpoint receives is what it can send to).
 */

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** "host:port" or "[v6]:port" for a socket address. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
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

/** Entries an AddressCache holds in each direction before it starts over. Defaults to 4096. */
export const DEFAULT_ADDRESS_CACHE_ENTRIES = 4096;

/**
 * The driver's per-datagram address work, done once per address: the "host:port" text of a
 * datagram's source (the same string object every time, so the Peer's Map lookups by address
 * hash it once) and the parsed destination of a transmit. Bounded both ways: past `maxEntries`
 * a side is cleared and refilled, so a spoofer cycling through source addresses costs a
 * format per datagram (what an uncached driver pays), never memory.
 */
export class AddressCache<D = HostPort> {
  private readonly sources = new Map<string, Map<number, string>>();
  private sourceCount = 0;
  private readonly destinations = new Map<string, D | null>();

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
    let d = this.destinations.get(address);
    if (d === undefined) {
      const hp = parseAddress(address);
      d = hp === undefined ? null : this.toDestination(hp);
      if (this.destinations.size >= this.maxEntries) this.destinations.clear();
      this.destinations.set(address, d);
    }
    return d;
  }

  /** Cached entries (sources, destinations), for tests and stats. */
  get size(): { sources: number; destinations: number } {
    return { sources: this.sourceCount, destinations: this.destinations.size };
  }

  private addSource(host: string, port: number): string {
    if (this.sourceCount >= this.maxEntries) this.clearSources();
    let ports = this.sources.get(host);
    if (ports === undefined) this.sources.set(host, (ports = new Map()));
    const text = formatAddress(host, port);
    ports.set(port, text);
    this.sourceCount++;
    return text;
  }

  private clearSources(): void {
    this.sources.clear();
    this.sourceCount = 0;
  }
}

/** True for an IPv4 dotted quad or an IPv6 literal (no brackets): what a native send takes without DNS. */
export function isIpLiteral(host: string): boolean {
  if (host.includes(":")) return /^[0-9a-fA-F:.]+(%[0-9A-Za-z_.-]+)?$/.test(host);
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}
