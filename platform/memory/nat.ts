/**
 * A model of NAT routers for the simulator (RFC 4787's terms), so NAT traversal has
 * deterministic tests beside the real-NAT suites: each router has a WAN address in its
 * upstream realm (the Internet, or a carrier NAT's LAN), a mapping behaviour (endpoint-
 * independent: one public port per inside socket, the inside port kept when free; endpoint-
 * dependent: a fresh random port per remote, "symmetric"), a filtering behaviour (who may
 * send in on a mapping: anyone, only addresses, or only address:port pairs the inside sent
 * to), idle timeouts for mappings and permissions, and hairpinning (off by default, as on
 * most home routers).
 *
 * Addresses behind a router are "ip:port" like every other; the realms form a tree, and a
 * datagram climbs from its sender's realm, translated at each router, until it reaches a
 * realm that holds its destination (a node, or a router's WAN address), then descends
 * through each router's inbound mapping and filter. Nodes behind one router reach each
 * other directly (their LAN). A LAN address of another home is unknown from outside it.
 */
import type { Address, Millis } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError, checkInt } from "../../lib/errors.ts";
import type { Random } from "../../lib/rng.ts";

export type NatMapping = "endpoint-independent" | "endpoint-dependent";
export type NatFiltering = "endpoint-independent" | "address" | "address-and-port";

/** Idle time after which a router forgets a mapping or a permission: 30 s, as many home routers and the NAT bench. */
export const DEFAULT_MAPPING_TIMEOUT_MS = 30_000;

export interface RouterOptions {
  /** The router's WAN IP address in its upstream realm, e.g. "198.18.3.1". Required. */
  readonly wan: string;
  /** The router this one sits behind (a carrier NAT), by name. Defaults to none: the Internet. */
  readonly upstream?: string;
  /** Defaults to "endpoint-independent". */
  readonly mapping?: NatMapping;
  /** Defaults to "address-and-port" (a port-restricted cone, or symmetric with endpoint-dependent mapping). */
  readonly filtering?: NatFiltering;
  /** Defaults to DEFAULT_MAPPING_TIMEOUT_MS (30000). */
  readonly mappingTimeoutMs?: number;
  /** Whether an inside host reaches another one through the router's own WAN address. Defaults to false. */
  readonly hairpin?: boolean;
}

/** The usual names, as RouterOptions. */
export const NAT_KINDS = {
  "full-cone": { mapping: "endpoint-independent", filtering: "endpoint-independent" },
  restricted: { mapping: "endpoint-independent", filtering: "address" },
  "port-restricted": { mapping: "endpoint-independent", filtering: "address-and-port" },
  symmetric: { mapping: "endpoint-dependent", filtering: "address-and-port" },
} as const satisfies Record<string, Pick<RouterOptions, "mapping" | "filtering">>;

/** Why the NAT model dropped a datagram (SimStats.natDrops counts them all). */
export type NatDrop = "filtered" | "no-mapping" | "hairpin";

interface Mapping {
  readonly inside: Address;
  readonly port: number;
  /** Last datagram through it, either way. */
  lastMs: Millis;
  /** Remotes the inside sent to ("ip:port", and "ip" for address filtering) -> last use. */
  readonly permits: Map<string, Millis>;
}

const hostOf = (a: Address): string => a.slice(0, a.lastIndexOf(":"));
const portOf = (a: Address): number => Number(a.slice(a.lastIndexOf(":") + 1));

class Router {
  readonly mapping: NatMapping;
  readonly filtering: NatFiltering;
  readonly timeoutMs: number;
  readonly hairpin: boolean;
  /** endpoint-independent: inside -> mapping; endpoint-dependent: inside|remote -> mapping. */
  private readonly out = new Map<string, Mapping>();
  private readonly byPort = new Map<number, Mapping>();

  constructor(
    readonly name: string,
    readonly wan: string,
    readonly upstream: string | undefined,
    o: RouterOptions,
    private readonly rng: Random,
  ) {
    this.mapping = o.mapping ?? "endpoint-independent";
    this.filtering = o.filtering ?? "address-and-port";
    this.timeoutMs = checkInt("mappingTimeoutMs", o.mappingTimeoutMs ?? DEFAULT_MAPPING_TIMEOUT_MS, 1, 3_600_000);
    this.hairpin = o.hairpin ?? false;
  }

  /** Mappings alive now (for tests). */
  get size(): number {
    return this.byPort.size;
  }

  /** Translates an outgoing datagram's source; records the remote as permitted. */
  outbound(now: Millis, inside: Address, remote: Address): Address {
    const key = this.mapping === "endpoint-independent" ? inside : `${inside}|${remote}`;
    let m = this.out.get(key);
    if (m !== undefined && now - m.lastMs > this.timeoutMs) {
      this.forget(key, m);
      m = undefined;
    }
    if (m === undefined) {
      m = { inside, port: this.allocate(portOf(inside)), lastMs: now, permits: new Map() };
      this.out.set(key, m);
      this.byPort.set(m.port, m);
    }
    m.lastMs = now;
    m.permits.set(remote, now);
    m.permits.set(hostOf(remote), now);
    return `${this.wan}:${m.port}`;
  }

  /** The inside address a datagram from `remote` to WAN port `port` goes to, or why it is dropped. */
  inbound(now: Millis, remote: Address, port: number): Address | NatDrop {
    const m = this.byPort.get(port);
    if (m === undefined) return "no-mapping";
    if (now - m.lastMs > this.timeoutMs) {
      this.forget(this.keyOf(m), m);
      return "no-mapping";
    }
    if (this.filtering !== "endpoint-independent") {
      const key = this.filtering === "address" ? hostOf(remote) : remote;
      const at = m.permits.get(key);
      if (at === undefined || now - at > this.timeoutMs) return "filtered";
      m.permits.set(key, now);
    }
    m.lastMs = now;
    return m.inside;
  }

  private keyOf(m: Mapping): string {
    for (const [k, v] of this.out) if (v === m) return k;
    return "";
  }

  private forget(key: string, m: Mapping): void {
    this.out.delete(key);
    if (this.byPort.get(m.port) === m) this.byPort.delete(m.port);
  }

  /** endpoint-independent keeps the inside port when free (as Linux masquerade); endpoint-dependent picks at random. */
  private allocate(preferred: number): number {
    this.sweep();
    if (this.mapping === "endpoint-independent" && !this.byPort.has(preferred) && preferred >= 1024) return preferred;
    for (let tries = 0; tries < 64_512; tries++) {
      const p = this.mapping === "endpoint-dependent" ? 1024 + Math.floor(this.rng.next() * 64_512) : 1024 + ((preferred + tries + 1 - 1024 + 64_512) % 64_512);
      if (!this.byPort.has(p)) return p;
    }
    throw new RelayGridError(ErrorCode.LimitReached, `router ${this.name}: every WAN port is mapped`);
  }

  /** Forgets idle mappings once the table is large (bounded memory in long runs). */
  private sweep(): void {
    if (this.byPort.size < 4096) return;
    let latest = -Infinity;
    for (const m of this.byPort.values()) latest = Math.max(latest, m.lastMs);
    for (const [k, m] of [...this.out]) if (latest - m.lastMs > this.timeoutMs) this.forget(k, m);
  }
}

/** The routers of one simulated network, and which realm each node sits in. */
export class NatTable {
  private readonly routers = new Map<string, Router>();
  private readonly byWan = new Map<string, Router>();
  /** node address -> the router it sits behind (nodes on the Internet are not listed). */
  private readonly behind = new Map<Address, Router>();

  constructor(private readonly rng: Random) {}

  /** True once a router exists: until then the fabric skips routing altogether. */
  get active(): boolean {
    return this.routers.size > 0;
  }

  addRouter(name: string, o: RouterOptions): void {
    if (this.routers.has(name)) throw new RelayGridError(ErrorCode.InvalidConfig, `a router named ${name} already exists`);
    if (typeof o.wan !== "string" || o.wan.length === 0 || o.wan.includes(":")) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `router ${name}: wan must be an IPv4 address such as "198.18.3.1", got ${String(o.wan)}`);
    }
    if (this.byWan.has(o.wan)) throw new RelayGridError(ErrorCode.InvalidConfig, `router ${name}: wan ${o.wan} is another router's`);
    if (o.upstream !== undefined && !this.routers.has(o.upstream)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `router ${name}: upstream ${o.upstream} is not a router; add it first`);
    }
    const r = new Router(name, o.wan, o.upstream, o, this.rng);
    this.routers.set(name, r);
    this.byWan.set(o.wan, r);
  }

  /** Places a node behind `router` (before it is added to the network). */
  place(address: Address, router: string): void {
    const r = this.routers.get(router);
    if (r === undefined) throw new RelayGridError(ErrorCode.InvalidConfig, `no router named ${router}; addRouter() it first`);
    if (!/^[^:]+:\d+$/.test(address)) throw new RelayGridError(ErrorCode.InvalidAddress, `a node behind a router needs an "ip:port" address, got ${address}`);
    this.behind.set(address, r);
  }

  /** Live mappings of a router (for tests). */
  mappings(router: string): number {
    return this.routers.get(router)?.size ?? 0;
  }

  /**
   * Where a datagram from node `from` to `to` lands: the receiving node's address and the
   * source it sees, or a NatDrop, or "unknown" when no node or router `from` can reach holds `to`.
   */
  route(now: Millis, from: Address, to: Address, isNode: (a: Address) => boolean): { to: Address; from: Address } | NatDrop | "unknown" {
    let src = from;
    let realm = this.behind.get(from);
    // Climb until the destination is in this realm: a node there, or a router's WAN there.
    while (!this.holds(realm, to, isNode)) {
      if (realm === undefined) return "unknown";
      src = realm.outbound(now, src, to);
      realm = realm.upstream === undefined ? undefined : this.routers.get(realm.upstream);
    }
    // Descend through the routers whose WAN is addressed.
    let dst = to;
    for (;;) {
      if (isNode(dst) && this.behind.get(dst) === realm) return { to: dst, from: src };
      const r = this.byWan.get(hostOf(dst));
      if (r === undefined) return "unknown";
      if (hostOf(src) === r.wan && !r.hairpin) return "hairpin";
      const inside = r.inbound(now, src, portOf(dst));
      if (inside === "no-mapping" || inside === "filtered") return inside;
      dst = inside;
      realm = r;
    }
  }

  private holds(realm: Router | undefined, to: Address, isNode: (a: Address) => boolean): boolean {
    if (isNode(to) && this.behind.get(to) === realm) return true;
    const r = this.byWan.get(hostOf(to));
    return r !== undefined && r.upstream === realm?.name;
  }
}
