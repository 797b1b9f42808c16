/**
 * The text form of a UDP socket address (PROTOCOL.md 4.5, "Address text form"): what
 * PeerEntry.addr, HintEntry.addr and a ticket's address hold, and what a member compares a
 * ticket's address with (6.3 step 4). Two endpoints must spell one address identically, so
 * there is exactly one form:
 *
 *   IPv4            a.b.c.d:port         four decimal octets without leading zeros
 *   IPv6            [h:h:...:h]:port     RFC 5952 section 4: lowercase hex, no leading
 *                                        zeros, the longest run of two or more zero
 *                                        groups (the first of equal runs) written "::"
 *   IPv4-mapped     a.b.c.d:port         ::ffff:a.b.c.d is the IPv4 address it maps
 *   zone            [fe80::1%eth0]:port  a zone index is kept after "%" as given
 *
 * with the port in decimal without leading zeros. A host that is not an IP literal (an
 * embedded host's handle) is kept as it is. Pure functions, no platform API.
 */

/** The octets of a dotted-quad IPv4 literal (each 0..255, at most 3 digits), or undefined. */
function parseIpv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 literal (with or without "::" and an IPv4 tail), or undefined. */
function parseIpv6(s: string): number[] | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const words = (part: string, last: boolean): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as string;
      if (last && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  if (halves.length === 1) {
    const all = words(s, true);
    return all !== undefined && all.length === 8 ? all : undefined;
  }
  const head = words(halves[0] as string, false);
  const tail = words(halves[1] as string, true);
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 section 4 text of eight groups. */
function formatIpv6(w: readonly number[]): string {
  let best = -1;
  let bestLen = 1; // a single zero group is never shortened (4.2.2)
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => w.slice(from, to).map((g) => g.toString(16)).join(":");
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

/**
 * The canonical text of an IP host: "a.b.c.d" for IPv4 and IPv4-mapped IPv6, RFC 5952 for
 * other IPv6 (a "%zone" suffix kept as given), and anything that is not an IP literal as it is.
 */
export function canonicalHost(host: string): string {
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return v4.join(".");
  if (!host.includes(":")) return host;
  const pct = host.indexOf("%");
  const ip = pct < 0 ? host : host.slice(0, pct);
  const zone = pct < 0 ? "" : host.slice(pct);
  const w = parseIpv6(ip);
  if (w === undefined) return host;
  if (zone === "" && w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `${(w[6] as number) >>> 8}.${(w[6] as number) & 0xff}.${(w[7] as number) >>> 8}.${(w[7] as number) & 0xff}`;
  }
  return formatIpv6(w) + zone;
}

/** "a.b.c.d:port" or "[v6]:port" in the canonical form of canonicalHost (port as a decimal integer). */
export function formatSocketAddress(host: string, port: number): string {
  const h = canonicalHost(host);
  return h.includes(":") ? `[${h}]:${port}` : `${h}:${port}`;
}

/** True when `host` (no brackets, no port) is an IPv4 literal: an IPv6 socket reaches it only as ::ffff:a.b.c.d. */
export function isIpv4Literal(host: string): boolean {
  return parseIpv4(host) !== undefined;
}

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
