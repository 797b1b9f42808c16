/**
 * The lobby address a user gives joinGrid, turned into what the driver needs: the exact
 * "HOST:PORT" text the driver formats for a datagram's source (so the Peer can compare its
 * lobby address with `from`), the address family, and whether it is loopback (which picks
 * the default local bind address).
 *
 * Host names are resolved with node:dns lookup() (the system resolver, /etc/hosts
 * included), once, when joining: a name with an IPv4 address resolves to its first one
 * (the lobby's default bind, DEFAULT_LOBBY_HOST, is IPv4), else to its first IPv6 one.
 * Pass an IP literal to choose the family yourself.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { formatAddress, parseAddress } from "./address.ts";

export interface ResolvedAddress {
  /** "1.2.3.4:5" or "[::1]:5", as the driver formats datagram sources. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly loopback: boolean;
}

/** A resolver: every address of `host`, in the resolver's order. node:dns lookup by default. */
export type HostLookup = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemLookup: HostLookup = (host) => lookup(host, { all: true, verbatim: true });

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z). */
export function isLoopback(ip: string): boolean {
  const v = ip.toLowerCase();
  return v.startsWith("127.") || v === "::1" || v.startsWith("::ffff:127.");
}

/** Resolves `text` ("HOST:PORT", "[v6]:PORT", "name:PORT"). Rejects with RelayGridError invalid-address, saying how to fix it. */
export async function resolveAddress(what: string, text: string, resolve: HostLookup = systemLookup): Promise<ResolvedAddress> {
  const hp = typeof text === "string" ? parseAddress(text) : undefined;
  if (hp === undefined) {
    throw new RelayGridError(
      ErrorCode.InvalidAddress,
      `${what} "${String(text)}" is not "HOST:PORT" (e.g. "127.0.0.1:7777", "[::1]:7777" or "lobby.example.com:7777")`,
    );
  }
  let host = hp.host;
  let family = isIP(host);
  if (family === 0) {
    let found: readonly { address: string; family: number }[];
    try {
      found = await resolve(host);
    } catch (e) {
      const reason = (e as { code?: unknown }).code ?? (e instanceof Error ? e.message : String(e));
      throw new RelayGridError(ErrorCode.InvalidAddress, `${what} host "${host}" did not resolve (${String(reason)}): check the name, or pass an IP address`);
    }
    const pick = found.find((a) => a.family === 4) ?? found.find((a) => a.family === 6);
    if (pick === undefined) {
      throw new RelayGridError(ErrorCode.InvalidAddress, `${what} host "${host}" resolved to no IPv4 or IPv6 address: check the name, or pass an IP address`);
    }
    host = pick.address;
    family = pick.family;
  }
  return { address: formatAddress(host, hp.port), host, port: hp.port, family: family === 6 ? 6 : 4, loopback: isLoopback(host) };
}

/**
 * The local address a peer binds when the application names none: loopback for a loopback
 * lobby (nothing else can reach it anyway), otherwise every interface of the lobby's family
 * ("0.0.0.0" or "::"), so members on other hosts can reach this peer.
 */
export function defaultBindHost(lobby: ResolvedAddress): string {
  if (lobby.loopback) return lobby.family === 6 ? "::1" : "127.0.0.1";
  return lobby.family === 6 ? "::" : "0.0.0.0";
}
