/**
 * The standard NAT bench: one home of every kind the issue names, two of each where a pair
 * of the same kind matters, on a 198.18.0.0/15 "Internet" with the lobby, two open hosts and
 * a three-address reflector for the NAT probe. Every home LAN is 192.168.1.0/24, as real
 * homes are: a LAN address says nothing about which home it is in.
 *
 *   name    kind                 path to the Internet
 *   open1   open                 198.18.0.2, no NAT
 *   open2   open                 198.18.0.3, no NAT
 *   fc1h    full cone            fc1 198.18.1.1
 *   fc2h    full cone            fc2 198.18.2.1
 *   pr1h    port-restricted      pr1 198.18.3.1
 *   pr2h    port-restricted      pr2 198.18.4.1
 *   sy1h    symmetric            sy1 198.18.5.1
 *   sy2h    symmetric            sy2 198.18.6.1
 *   samea   same NAT (a)         same 198.18.7.1 (port-restricted, two hosts)
 *   sameb   same NAT (b)         same 198.18.7.1
 *   d1h     double NAT           d1 100.64.0.11 -> carrier cg1 198.18.8.1 (both port-restricted)
 *   d2h     double NAT           d2 100.64.0.11 -> carrier cg2 198.18.9.1
 */
import type { BenchSpec } from "./bench.ts";
import type { NatBehaviour } from "./nft.ts";

export const LOBBY_HOST = "lobby";
export const LOBBY_ADDR = "198.18.0.1";
export const LOBBY_PORT = 7777;
export const REFLECTOR_HOST = "stun";
export const REFLECTOR_ADDRS = ["198.18.0.10", "198.18.0.11", "198.18.0.12"] as const;

/** What a member host sits behind: the column and row labels of the NAT tables. */
export type HostKind = "open" | "full-cone" | "port-restricted" | "symmetric" | "same-nat" | "double-nat";
export const HOST_KINDS: readonly HostKind[] = ["open", "full-cone", "port-restricted", "symmetric", "same-nat", "double-nat"];

const home = (nat: NatBehaviour, wan: string) => ({ nat, upstream: "internet", wan, lan: "192.168.1.1/24" }) as const;
const carrier = (wan: string) => ({ nat: "port-restricted", upstream: "internet", wan, lan: "100.64.0.1/24" }) as const;
const inner = (upstream: string) => ({ nat: "port-restricted", upstream, wan: "100.64.0.11", lan: "192.168.1.1/24" }) as const;

export const STANDARD_BENCH: BenchSpec = {
  internet: {
    [LOBBY_HOST]: [LOBBY_ADDR],
    open1: ["198.18.0.2"],
    open2: ["198.18.0.3"],
    [REFLECTOR_HOST]: [...REFLECTOR_ADDRS],
  },
  routers: {
    fc1: home("full-cone", "198.18.1.1"),
    fc2: home("full-cone", "198.18.2.1"),
    pr1: home("port-restricted", "198.18.3.1"),
    pr2: home("port-restricted", "198.18.4.1"),
    sy1: home("symmetric", "198.18.5.1"),
    sy2: home("symmetric", "198.18.6.1"),
    same: home("port-restricted", "198.18.7.1"),
    cg1: carrier("198.18.8.1"),
    d1: inner("cg1"),
    cg2: carrier("198.18.9.1"),
    d2: inner("cg2"),
  },
  hosts: {
    fc1h: { router: "fc1", addr: "192.168.1.2" },
    fc2h: { router: "fc2", addr: "192.168.1.2" },
    pr1h: { router: "pr1", addr: "192.168.1.2" },
    pr2h: { router: "pr2", addr: "192.168.1.2" },
    sy1h: { router: "sy1", addr: "192.168.1.2" },
    sy2h: { router: "sy2", addr: "192.168.1.2" },
    samea: { router: "same", addr: "192.168.1.2" },
    sameb: { router: "same", addr: "192.168.1.3" },
    d1h: { router: "d1", addr: "192.168.1.2" },
    d2h: { router: "d2", addr: "192.168.1.2" },
  },
};

/** Member hosts by kind, two of each (the same-NAT pair is one home). */
export const MEMBER_HOSTS: Readonly<Record<HostKind, readonly [string, string]>> = {
  open: ["open1", "open2"],
  "full-cone": ["fc1h", "fc2h"],
  "port-restricted": ["pr1h", "pr2h"],
  symmetric: ["sy1h", "sy2h"],
  "same-nat": ["samea", "sameb"],
  "double-nat": ["d1h", "d2h"],
};

/** The kind of a member host of the standard bench. */
export function kindOf(host: string): HostKind {
  for (const kind of HOST_KINDS) if (MEMBER_HOSTS[kind].includes(host)) return kind;
  throw new Error(`${host} is not a member host of the standard bench`);
}

/** The public (outermost) WAN address in front of a host of the standard bench. */
export function publicAddressOf(host: string): string {
  const spec = STANDARD_BENCH;
  const internet = spec.internet[host];
  if (internet !== undefined) return internet[0] as string;
  let router = spec.hosts[host]?.router;
  if (router === undefined) throw new Error(`${host} is not a host of the standard bench`);
  for (let r = spec.routers[router]; r !== undefined && r.upstream !== "internet"; r = spec.routers[router]) router = r.upstream;
  return (spec.routers[router] as { wan: string }).wan;
}
