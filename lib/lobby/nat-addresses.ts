/**
 * Address checks for NAT traversal (PROTOCOL.md 4.7): what a member may report as a local
 * address, and whether two members are behind the same public address (then, and only then,
 * the lobby passes their local addresses to each other).
 */
import { splitSocketAddress } from "../../wire/address.ts";

// What a member may report as a local address is the protocol's rule (PROTOCOL.md 4.7, 6.9),
// so it lives in wire/address.ts, where the peer checks its own before it registers them.
export { isLocalCandidate, splitSocketAddress } from "../../wire/address.ts";

/**
 * Whether two members' admitted addresses are on one public IP address (one NAT, or one
 * carrier NAT): their local addresses may reach each other over a LAN. A non-IP handle is
 * never "the same" as another (an embedded host's handles are opaque).
 */
export function samePublicHost(a: string, b: string): boolean {
  const ha = splitSocketAddress(a)?.host;
  return ha !== undefined && ha === splitSocketAddress(b)?.host;
}
