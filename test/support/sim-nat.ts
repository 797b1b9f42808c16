/**
 * The NAT bench's standard topology (test/support/netns/standard.ts) in the simulator
 * (platform/memory/nat.ts): the same kinds of homes, so the peer's NAT traversal has
 * deterministic tests beside the real-NAT suite. Differences from the real bench: every home
 * LAN has its own subnet (simulated addresses are unique), and the routers are RFC 4787
 * models rather than Linux conntrack.
 *
 *   open1, open2        198.18.0.2, .3            no NAT
 *   fc1h, fc2h          full cone                 198.18.1.1, 198.18.2.1
 *   pr1h, pr2h          port-restricted           198.18.3.1, 198.18.4.1
 *   sy1h, sy2h          symmetric                 198.18.5.1, 198.18.6.1
 *   samea, sameb        one port-restricted NAT   198.18.7.1
 *   d1h, d2h            port-restricted behind a port-restricted carrier NAT: 198.18.8.1, 198.18.9.1
 */
import type { PeerConfig } from "../../lib/peer/config.ts";
import { NAT_KINDS, type RouterOptions } from "../../platform/memory/index.ts";
import { SimGrid, type GridOptions, type PeerNode } from "./sim-grid.ts";
import { HOST_KINDS, MEMBER_HOSTS, type HostKind } from "./netns/standard.ts";

// The same host names and kinds as the real bench.
export { HOST_KINDS, MEMBER_HOSTS, type HostKind };

export const NAT_LOBBY = "198.18.0.1:7777";

interface HostSpec {
  readonly kind: HostKind;
  readonly address: string;
  readonly behind?: string;
}

const ROUTERS: Record<string, RouterOptions> = {
  fc1: { wan: "198.18.1.1", ...NAT_KINDS["full-cone"] },
  fc2: { wan: "198.18.2.1", ...NAT_KINDS["full-cone"] },
  pr1: { wan: "198.18.3.1", ...NAT_KINDS["port-restricted"] },
  pr2: { wan: "198.18.4.1", ...NAT_KINDS["port-restricted"] },
  sy1: { wan: "198.18.5.1", ...NAT_KINDS.symmetric },
  sy2: { wan: "198.18.6.1", ...NAT_KINDS.symmetric },
  same: { wan: "198.18.7.1", ...NAT_KINDS["port-restricted"] },
  cg1: { wan: "198.18.8.1", ...NAT_KINDS["port-restricted"] },
  d1: { wan: "100.64.8.11", upstream: "cg1", ...NAT_KINDS["port-restricted"] },
  cg2: { wan: "198.18.9.1", ...NAT_KINDS["port-restricted"] },
  d2: { wan: "100.64.9.11", upstream: "cg2", ...NAT_KINDS["port-restricted"] },
};

export const HOSTS: Readonly<Record<string, HostSpec>> = {
  open1: { kind: "open", address: "198.18.0.2:4000" },
  open2: { kind: "open", address: "198.18.0.3:4000" },
  fc1h: { kind: "full-cone", address: "192.168.1.2:4000", behind: "fc1" },
  fc2h: { kind: "full-cone", address: "192.168.2.2:4000", behind: "fc2" },
  pr1h: { kind: "port-restricted", address: "192.168.3.2:4000", behind: "pr1" },
  pr2h: { kind: "port-restricted", address: "192.168.4.2:4000", behind: "pr2" },
  sy1h: { kind: "symmetric", address: "192.168.5.2:4000", behind: "sy1" },
  sy2h: { kind: "symmetric", address: "192.168.6.2:4000", behind: "sy2" },
  samea: { kind: "same-nat", address: "192.168.7.2:4000", behind: "same" },
  sameb: { kind: "same-nat", address: "192.168.7.3:4001", behind: "same" },
  d1h: { kind: "double-nat", address: "192.168.8.2:4000", behind: "d1" },
  d2h: { kind: "double-nat", address: "192.168.9.2:4000", behind: "d2" },
};


/**
 * Which pairs plain hole punching opens on these NATs (the bench's measurement, docs/NAT.md):
 * every pair but a symmetric NAT with one that filters by address and port.
 */
export function punchable(a: HostKind, b: HostKind): boolean {
  const hard = (k: HostKind): boolean => k === "port-restricted" || k === "same-nat" || k === "double-nat" || k === "symmetric";
  return !((a === "symmetric" && hard(b)) || (b === "symmetric" && hard(a)));
}

/** A SimGrid whose lobby is on the simulated Internet, with every router of the standard bench. */
export class NatSim {
  readonly g: SimGrid;

  constructor(options: Omit<GridOptions, "lobbyAddress"> & { mappingTimeoutMs?: number }) {
    this.g = new SimGrid({ ...options, lobbyAddress: NAT_LOBBY });
    for (const [name, r] of Object.entries(ROUTERS)) this.g.sim.addRouter(name, { ...r, mappingTimeoutMs: options.mappingTimeoutMs ?? 30_000 });
  }

  /** A peer on `host` (its localAddresses: its own socket address), joining (or creating) `grid`. */
  join(host: string, grid: string, create: boolean, peer: Omit<PeerConfig, "random" | "lobby"> = {}): PeerNode {
    const h = HOSTS[host];
    if (h === undefined) throw new Error(`no host ${host}`);
    return this.g.addPeerAt(h.address, { localAddresses: [h.address], ...peer }, grid, create, h.behind);
  }

  /** The public address a host's router shows the Internet (its own address when open). */
  static publicIp(host: string): string {
    const h = HOSTS[host] as HostSpec;
    let r = h.behind === undefined ? undefined : ROUTERS[h.behind];
    while (r?.upstream !== undefined) r = ROUTERS[r.upstream];
    return r === undefined ? h.address.split(":")[0] as string : r.wan;
  }
}
