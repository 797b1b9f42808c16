/**
 * The NAT bench: real Linux NAT between network namespaces, built for a test and removed by
 * it (issue 13, item 5). One namespace is the "Internet", a bridge in 198.18.0.0/15 (the
 * benchmarking range of RFC 2544, never routed on the real Internet); Internet hosts (the
 * lobby, open members, probe servers) sit on it un-NATed; every router namespace has a `wan`
 * on an upstream (the Internet bridge, or another router's LAN for a double NAT), a `lan`
 * bridge for its hosts, and the nftables rules of its NAT behaviour (nft.ts). Nothing leaves
 * the namespaces the bench made: none of them has a route to the machine's own network.
 *
 * Names: every namespace is `rgnat-<pid>-<n>-<name>`, so a run never touches another
 * run's bench, and sweepStale() removes what a killed run left behind (its pid is gone).
 * destroy() kills what still runs inside, deletes each router's nft table and each veth,
 * then the namespaces; it is also hooked to process exit, so a failing test cleans up too.
 */
import { LAN_IF, natRuleset, NFT_TABLE, type NatBehaviour, DEFAULT_MAPPING_TIMEOUT_S, WAN_IF } from "./nft.ts";
import { execIn, ipIn, NetnsError, run, tryRun } from "./shell.ts";

/** 198.18.0.0/15: every Internet address of the bench is in it. */
export const INTERNET_PREFIX_LENGTH = 15;
const NS_PREFIX = "rgnat-";

export interface RouterSpec {
  readonly nat: NatBehaviour;
  /** "internet", or the name of the router whose LAN this router's WAN is on (double NAT). */
  readonly upstream: string;
  /** The WAN address: in 198.18.0.0/15 on the Internet, else in the upstream's LAN. */
  readonly wan: string;
  /** The router's LAN address with its prefix length, e.g. "192.168.1.1/24". */
  readonly lan: string;
  /** Seconds an idle UDP mapping lives. Defaults to DEFAULT_MAPPING_TIMEOUT_S (30). */
  readonly mappingTimeoutS?: number;
}

export interface HostSpec {
  /** The router whose LAN the host is on. */
  readonly router: string;
  /** Its LAN address, e.g. "192.168.1.2" (the router's prefix length applies). */
  readonly addr: string;
}

export interface BenchSpec {
  /** Un-NATed hosts on the Internet bridge: name -> addresses in 198.18.0.0/15. */
  readonly internet: Readonly<Record<string, readonly string[]>>;
  readonly routers: Readonly<Record<string, RouterSpec>>;
  readonly hosts: Readonly<Record<string, HostSpec>>;
}

export type Availability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let benchCount = 0;
let availability: Availability | undefined;

/**
 * Whether this machine can build the bench: root, `ip` and `nft` installed, and a network
 * namespace with an nft table can actually be made (a container may forbid it). Checked once.
 */
export function natBenchAvailability(): Availability {
  availability ??= probeAvailability();
  return availability;
}

function probeAvailability(): Availability {
  if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { ok: false, reason: "not root: creating network namespaces needs root (CI runs .ci/run as root)" };
  }
  const ns = `${NS_PREFIX}${process.pid}-probe`;
  try {
    run("ip", ["-V"]);
    run("nft", ["--version"]);
    run("ip", ["netns", "add", ns]);
    execIn(ns, "nft", ["-f", "-"], natRuleset("full-cone"));
    return { ok: true };
  } catch (e) {
    const hint = "install them with apt-get install -y nftables iproute2";
    return { ok: false, reason: e instanceof NetnsError ? `${e.message} (${hint})` : String(e) };
  } finally {
    tryRun("ip", ["netns", "del", ns]);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function listNamespaces(): string[] {
  return run("ip", ["netns", "list"])
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n !== "");
}

/** Kills every process still inside `ns` (processes a bench started there), by pid. */
function killInside(ns: string): void {
  let pids: string;
  try {
    pids = run("ip", ["netns", "pids", ns]);
  } catch {
    return;
  }
  for (const p of pids.split(/\s+/).filter((x) => x !== "")) {
    try {
      process.kill(Number(p), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Removes the namespaces of benches whose process is gone (a run killed before its cleanup); returns them. */
export function sweepStale(): string[] {
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const m = /^rgnat-(\d+)-/.exec(ns);
    if (m === null || pidAlive(Number(m[1]))) continue;
    killInside(ns);
    tryRun("ip", ["netns", "del", ns]);
    swept.push(ns);
  }
  return swept;
}

interface Node {
  readonly name: string;
  readonly ns: string;
  readonly kind: "internet" | "router" | "host" | "switch";
  /** Interfaces this bench added to the namespace (deleted one by one on destroy). */
  readonly links: string[];
}

export class NatBench {
  /** The prefix of every namespace of this bench: `rgnat-<pid>-<n>`. */
  readonly prefix: string;
  private readonly nodes = new Map<string, Node>();
  private readonly order: Node[] = [];
  private readonly addrs = new Map<string, string>();
  private readonly exitHook = (): void => this.destroy();
  private destroyed = false;
  private vethCount = 0;

  private constructor(readonly spec: BenchSpec) {
    this.prefix = `${NS_PREFIX}${process.pid}-${++benchCount}`;
  }

  /**
   * Builds the bench of `spec` (after sweeping stale benches). Throws NetnsError when a
   * command fails, having removed whatever it had made.
   */
  static create(spec: BenchSpec): NatBench {
    const avail = natBenchAvailability();
    if (!avail.ok) throw new NetnsError(`the NAT bench cannot be built here: ${avail.reason}`, []);
    sweepStale();
    const bench = new NatBench(spec);
    process.once("exit", bench.exitHook);
    try {
      bench.build();
    } catch (e) {
      bench.destroy();
      throw e;
    }
    return bench;
  }

  /** The namespace a host, router or Internet host runs in. */
  nsOf(name: string): string {
    const n = this.nodes.get(name);
    if (n === undefined) throw new NetnsError(`no host, router or Internet host "${name}" in this bench`, []);
    return n.ns;
  }

  /** A host's first address (its LAN address behind a NAT, its Internet address when open). */
  addrOf(name: string): string {
    const a = this.addrs.get(name);
    if (a === undefined) throw new NetnsError(`"${name}" has no address in this bench`, []);
    return a;
  }

  /** Names of the bench's hosts behind NATs and on the Internet. */
  hostNames(): string[] {
    return [...Object.keys(this.spec.internet), ...Object.keys(this.spec.hosts)];
  }

  /** `nft list table` of a router: its rules, and the cone map's entries for a full cone. */
  rulesOf(router: string): string {
    return execIn(this.nsOf(router), "nft", ["list", "table", "ip", NFT_TABLE]);
  }

  /** Namespaces that exist now and carry this bench's prefix (empty after destroy()). */
  leftovers(): string[] {
    return listNamespaces().filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Kills what runs inside, deletes nft tables, veths and namespaces. Idempotent, never throws. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener("exit", this.exitHook);
    for (const node of [...this.order].reverse()) {
      killInside(node.ns);
      if (node.kind === "router") tryRun("ip", ["netns", "exec", node.ns, "nft", "delete", "table", "ip", NFT_TABLE]);
      for (const link of node.links) tryRun("ip", ["-n", node.ns, "link", "del", link]);
      tryRun("ip", ["netns", "del", node.ns]);
    }
  }

  // ---- building -----------------------------------------------------------------------

  private build(): void {
    const { internet, routers, hosts } = this.spec;
    const inet = this.addNode("internet", "switch");
    this.bridge(inet, "br0");
    for (const [name, addrs] of Object.entries(internet)) {
      const node = this.addNode(name, "internet");
      this.veth(node, "eth0", inet, "br0", addrs.map((a) => `${a}/${INTERNET_PREFIX_LENGTH}`));
      this.addrs.set(name, addrs[0] as string);
    }
    // Routers in dependency order: a router's upstream is built before it.
    const built = new Set<string>();
    const buildRouter = (name: string, seen: string[]): void => {
      if (built.has(name)) return;
      const r = routers[name];
      if (r === undefined) throw new NetnsError(`router "${seen[seen.length - 1] ?? name}" names an unknown upstream "${name}"`, []);
      if (seen.includes(name)) throw new NetnsError(`routers ${[...seen, name].join(" -> ")} form a loop`, []);
      if (r.upstream !== "internet") buildRouter(r.upstream, [...seen, name]);
      this.buildRouter(name, r);
      built.add(name);
    };
    for (const name of Object.keys(routers)) buildRouter(name, []);
    for (const [name, h] of Object.entries(hosts)) {
      const r = routers[h.router];
      if (r === undefined) throw new NetnsError(`host "${name}" is behind an unknown router "${h.router}"`, []);
      const node = this.addNode(name, "host");
      const [gw, len] = r.lan.split("/") as [string, string];
      this.veth(node, "eth0", this.nodes.get(h.router) as Node, LAN_IF, [`${h.addr}/${len}`]);
      ipIn(node.ns, ["route", "add", "default", "via", gw]);
      this.addrs.set(name, h.addr);
    }
  }

  private buildRouter(name: string, r: RouterSpec): void {
    const node = this.addNode(name, "router");
    this.bridge(node, LAN_IF);
    ipIn(node.ns, ["addr", "add", r.lan, "dev", LAN_IF]);
    if (r.upstream === "internet") {
      this.veth(node, WAN_IF, this.nodes.get("internet") as Node, "br0", [`${r.wan}/${INTERNET_PREFIX_LENGTH}`]);
    } else {
      const up = this.spec.routers[r.upstream] as RouterSpec;
      const [gw, len] = up.lan.split("/") as [string, string];
      this.veth(node, WAN_IF, this.nodes.get(r.upstream) as Node, LAN_IF, [`${r.wan}/${len}`]);
      ipIn(node.ns, ["route", "add", "default", "via", gw]);
    }
    this.addrs.set(name, r.wan);
    const timeout = r.mappingTimeoutS ?? DEFAULT_MAPPING_TIMEOUT_S;
    execIn(node.ns, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    execIn(node.ns, "nft", ["-f", "-"], natRuleset(r.nat, timeout));
    // Conntrack's own UDP timeouts are the mapping lifetime (per namespace; the table above loaded conntrack).
    execIn(node.ns, "sysctl", ["-qw", `net.netfilter.nf_conntrack_udp_timeout=${timeout}`]);
    execIn(node.ns, "sysctl", ["-qw", `net.netfilter.nf_conntrack_udp_timeout_stream=${timeout}`]);
  }

  private addNode(name: string, kind: Node["kind"]): Node {
    if (this.nodes.has(name)) throw new NetnsError(`"${name}" is defined twice in the bench spec`, []);
    if (!/^[a-z][a-z0-9]{0,15}$/.test(name)) throw new NetnsError(`bench name "${name}": use 1-16 lowercase letters and digits`, []);
    const node: Node = { name, ns: `${this.prefix}-${name}`, kind, links: [] };
    this.nodes.set(name, node);
    this.order.push(node);
    run("ip", ["netns", "add", node.ns]);
    ipIn(node.ns, ["link", "set", "lo", "up"]);
    return node;
  }

  private bridge(node: Node, name: string): void {
    ipIn(node.ns, ["link", "add", name, "type", "bridge"]);
    ipIn(node.ns, ["link", "set", name, "up"]);
    node.links.push(name);
  }

  /** A veth pair: `ifname` in `node` with `addrs`, its peer end a port of `bridge` in `on`. */
  private veth(node: Node, ifname: string, on: Node, bridge: string, addrs: readonly string[]): void {
    const port = `p${++this.vethCount}`;
    run("ip", ["link", "add", ifname, "netns", node.ns, "type", "veth", "peer", "name", port, "netns", on.ns]);
    node.links.push(ifname);
    ipIn(on.ns, ["link", "set", port, "master", bridge, "up"]);
    for (const a of addrs) ipIn(node.ns, ["addr", "add", a, "dev", ifname]);
    ipIn(node.ns, ["link", "set", ifname, "up"]);
  }
}
