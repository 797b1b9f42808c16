/**
 * test/vectors/addresses.json (PROTOCOL.md 4.5, "Address text form"): socket addresses as a
 * runtime may report them, and the one text every endpoint must make of them. The expected
 * texts are written out here by hand from RFC 5952 and the protocol's IPv4-mapped rule, not
 * computed by wire/address.ts; gen-vectors checks that the code agrees before it writes them.
 */
import { formatSocketAddress } from "../../wire/address.ts";

export interface AddressVector {
  /** The host as a socket API may report it (rinfo.address, without brackets). */
  readonly host: string;
  readonly port: number;
  /** The canonical text: what PeerEntry.addr, HintEntry.addr and a ticket's address hold. */
  readonly text: string;
  readonly why: string;
}

export function buildAddressVectors(): AddressVector[] {
  const v: AddressVector[] = [];
  const add = (host: string, port: number, text: string, why: string): void => {
    const got = formatSocketAddress(host, port);
    if (got !== text) throw new Error(`wire/address.ts formats ${host} port ${port} as ${got}, PROTOCOL.md 4.5 says ${text}`);
    v.push({ host, port, text, why });
  };
  add("203.0.113.7", 7000, "203.0.113.7:7000", "IPv4: dotted quad, decimal port");
  add("127.0.0.1", 1, "127.0.0.1:1", "loopback, the lowest port");
  add("0.0.0.0", 65535, "0.0.0.0:65535", "every octet 0, the highest port");
  add("10.000.0.01", 7000, "10.0.0.1:7000", "IPv4 octets lose their leading zeros");
  add("::1", 7000, "[::1]:7000", "IPv6 in brackets");
  add("::", 7000, "[::]:7000", "the unspecified address: all eight groups compressed");
  add("2001:DB8::1", 7000, "[2001:db8::1]:7000", "RFC 5952 4.3: lowercase hex");
  add("2001:0db8:0000:0000:0000:0000:0000:0001", 7000, "[2001:db8::1]:7000", "RFC 5952 4.1 and 4.2.1: no leading zeros, the zero run compressed");
  add("2001:db8:0:0:1:0:0:1", 7000, "[2001:db8::1:0:0:1]:7000", "RFC 5952 4.2.3: of two equal runs, the first is compressed");
  add("2001:0:0:1:0:0:0:1", 7000, "[2001:0:0:1::1]:7000", "RFC 5952 4.2.3: the longest run is compressed");
  add("2001:db8:0:1:1:1:1:1", 7000, "[2001:db8:0:1:1:1:1:1]:7000", "RFC 5952 4.2.2: a single zero group is not compressed");
  add("1:2:3:4:5:6:7:8", 7000, "[1:2:3:4:5:6:7:8]:7000", "no zero group: nothing to compress");
  add("1::", 7000, "[1::]:7000", "a trailing run");
  add("fe80::1%eth0", 7000, "[fe80::1%eth0]:7000", "a zone index is kept after % as the socket reports it");
  add("::ffff:192.0.2.1", 7000, "192.0.2.1:7000", "IPv4-mapped (a dual-stack socket's IPv4 peer): written as the IPv4 address");
  add("::FFFF:c000:0201", 7000, "192.0.2.1:7000", "IPv4-mapped in hex groups, uppercase: the same IPv4 address");
  add("0:0:0:0:0:ffff:7f00:1", 7000, "127.0.0.1:7000", "IPv4-mapped loopback, every group written out");
  add("::192.0.2.1", 7000, "[::c000:201]:7000", "IPv4-compatible (deprecated) is not mapped: hex groups");
  add("64:ff9b::192.0.2.1", 7000, "[64:ff9b::c000:201]:7000", "NAT64 well-known prefix: an IPv6 address like any other");
  add("::ffff:0:1:2", 7000, "[::ffff:0:1:2]:7000", "::ffff:0:0:0/96 (IPv4-translated) is not IPv4-mapped: hex groups");
  add("host-handle-42", 7000, "host-handle-42:7000", "not an IP literal: kept as it is");
  return v;
}
