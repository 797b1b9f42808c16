/**
 * The nftables rules that make a router namespace behave like one kind of home NAT, in the
 * terms of RFC 4787: how an outbound flow is mapped to an external port, and which inbound
 * datagrams the mapping lets through. The NAT bench's own test (test/nat-bench.test.ts)
 * checks each behaviour with a probe; the comments say what was measured there.
 *
 *   kind             mapping (4.1)              filtering (5)
 *   full-cone        endpoint-independent       endpoint-independent
 *   port-restricted  endpoint-independent       address and port-dependent
 *   symmetric        endpoint-dependent         address and port-dependent
 *
 * - `masquerade` keeps the internal source port whenever that (external address, port,
 *   remote) tuple is free, so one socket talking to two remotes shows both the same
 *   external port: endpoint-independent mapping (probed on Linux 6.x; a clash, e.g. two
 *   LAN hosts on one port talking to one remote, gets another port).
 * - `masquerade random` picks a fresh random port for every new flow: endpoint-dependent.
 * - Filtering is conntrack's: the forward chain lets in from the WAN only datagrams that
 *   belong to a flow the inside opened (`ct state established`), so a remote the inside
 *   never sent to, or the same remote on another port, is dropped.
 * - Full cone adds a dynamic map, external port -> internal address . port, written after
 *   source NAT from the conntrack entry's own tuples (`ct reply proto-dst` is the external
 *   port the NAT chose), and a prerouting rule that sends any inbound datagram for a mapped
 *   port there; the forward chain then also accepts what that rule translated.
 *
 * - The router itself drops what arrives on its WAN unsolicited (chain `router_input`), as a
 *   home router's firewall does. Without that, such a datagram (the other side's first
 *   Punch, which the router has no mapping for) is answered with ICMP and leaves a conntrack
 *   entry behind; the inside's own first datagram to that remote then clashes with it and
 *   masquerade picks another port, so the mapping the other side punches goes nowhere
 *   (seen on the bench: port-restricted pairs did not open until this chain was added).
 *
 * Only UDP is mapped by the cone map; TCP keeps conntrack's usual behaviour. The prerouting
 * nat chain is there even when empty: without one registered, the kernel does no reverse
 * translation for inbound datagrams.
 */

export type NatBehaviour = "full-cone" | "port-restricted" | "symmetric";
export const NAT_BEHAVIOURS: readonly NatBehaviour[] = ["full-cone", "port-restricted", "symmetric"];

/** The one table the bench adds to a router namespace. */
export const NFT_TABLE = "relaygrid_nat";
/** The router's interfaces: `wan` towards its upstream, `lan` (a bridge) towards its hosts. */
export const WAN_IF = "wan";
export const LAN_IF = "lan";

/**
 * Seconds a UDP mapping lives without traffic. 30 s is the shortest common home-router
 * value (RFC 4787 REQ-5 asks for at least 120 s, many routers use 30-60 s), so a peer that
 * keeps a mapping open against it keeps it open against most.
 */
export const DEFAULT_MAPPING_TIMEOUT_S = 30;

/** The `nft -f` script for a router of `behaviour`. */
export function natRuleset(behaviour: NatBehaviour, mappingTimeoutS = DEFAULT_MAPPING_TIMEOUT_S): string {
  const cone = behaviour === "full-cone";
  const lines = [
    `table ip ${NFT_TABLE} {`,
    ...(cone
      ? [
          "  map cone {",
          "    type inet_service : ipv4_addr . inet_service",
          "    flags dynamic,timeout",
          `    timeout ${mappingTimeoutS}s`,
          "    size 65536",
          "  }",
        ]
      : []),
    "  chain outbound_nat {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "${WAN_IF}" ${behaviour === "symmetric" ? "masquerade random" : "masquerade"}`,
    "  }",
    ...(cone
      ? [
          // After srcnat, so the conntrack entry already holds the external port it chose.
          "  chain record_mapping {",
          "    type filter hook postrouting priority srcnat + 10; policy accept;",
          `    oifname "${WAN_IF}" meta l4proto udp update @cone { ct reply proto-dst timeout ${mappingTimeoutS}s : ct original ip saddr . ct original proto-src }`,
          "  }",
        ]
      : []),
    "  chain inbound_nat {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    ...(cone ? [`    iifname "${WAN_IF}" meta l4proto udp dnat ip to udp dport map @cone`] : []),
    "  }",
    "  chain gate {",
    "    type filter hook forward priority filter; policy accept;",
    `    iifname "${WAN_IF}" ct state established,related accept`,
    ...(cone ? [`    iifname "${WAN_IF}" ct status dnat accept`] : []),
    `    iifname "${WAN_IF}" counter drop`,
    "  }",
    "  chain router_input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname "${WAN_IF}" ct state established,related accept`,
    `    iifname "${WAN_IF}" drop`,
    "  }",
    "}",
  ];
  return `${lines.join("\n")}\n`;
}
