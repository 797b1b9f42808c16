/**
 * The fabric between nodes: what happens to a datagram from pollTransmit() to
 * handleDatagram(). Checks run in a fixed order, cheapest and most structural first, and
 * every datagram ends in exactly one stats bucket:
 *
 *   send:    NAT routing (nat.ts, once a router exists) -> inspect -> MTU -> NAT drops
 *            -> unknown address -> partition -> crashed receiver -> loss -> schedule (jitter, reorder)
 *            -> maybe a duplicate
 *   arrival: stale (receiver crashed meanwhile, counted at crash) -> partition -> deliver
 *
 * Partitions, link options and link counters are between nodes (the sender's and the
 * receiver's addresses), whatever source address a NAT gave the datagram on the way.
 *
 * Random draws happen only for faults that are switched on, in that same order, so a
 * seed replays the same faults for the same traffic.
 */
import type { Address, Transmit } from "../../lib/endpoint.ts";
import type { Random } from "../../lib/rng.ts";
import { describe } from "./error.ts";
import type { Agenda, Delivery } from "./agenda.ts";
import { LinkTable, rollPercent, sampleJitterMs, type LinkOptions } from "./link.ts";
import { NatTable } from "./nat.ts";
import type { NodeState } from "./node.ts";
import type { InspectFn } from "./options.ts";
import { Partitions } from "./partition.ts";
import { LinkCounterTable, type Counters } from "./stats.ts";

/** No node has this address (the unknown-address bucket). */
const UNKNOWN = "\u0000unknown";

export interface FabricConfig {
  readonly link: Partial<LinkOptions> | undefined;
  readonly mtuBytes: number;
  readonly strictMtu: boolean;
  readonly inspect: InspectFn | undefined;
  /** Keep per-link counters (SimNetworkOptions.linkStats). */
  readonly linkStats: boolean;
}

export class Fabric<E> {
  readonly links: LinkTable;
  readonly cuts = new Partitions();
  readonly linkCounters: LinkCounterTable;
  private readonly countLinks: boolean;
  readonly nat: NatTable;
  private readonly mtuBytes: number;
  private readonly strictMtu: boolean;
  private readonly inspect: InspectFn | undefined;
  private readonly agenda: Agenda<E>;
  private readonly nodes: ReadonlyMap<Address, NodeState<E>>;
  private readonly counters: Counters;
  private readonly rng: Random;
  /** Records a run failure; the network throws it once the current drain is done. */
  private readonly fail: (message: string, cause?: unknown) => void;

  constructor(
    config: FabricConfig,
    agenda: Agenda<E>,
    nodes: ReadonlyMap<Address, NodeState<E>>,
    counters: Counters,
    rng: Random,
    fail: (message: string, cause?: unknown) => void,
    natRng: Random,
  ) {
    this.nat = new NatTable(natRng);
    this.agenda = agenda;
    this.nodes = nodes;
    this.counters = counters;
    this.rng = rng;
    this.fail = fail;
    this.links = new LinkTable(config.link);
    this.mtuBytes = config.mtuBytes;
    this.strictMtu = config.strictMtu;
    this.inspect = config.inspect;
    this.countLinks = config.linkStats;
    this.linkCounters = new LinkCounterTable();
  }

  send(from: Address, transmit: Transmit): void {
    const c = this.counters;
    const bytes = transmit.bytes;
    let to = transmit.to;
    let source = from;
    c.sent++;
    // Routed first (a NAT gives the source its mapping), so inspect knows which node it reaches.
    const r = this.nat.active ? this.nat.route(this.agenda.now, from, to, (a) => this.nodes.has(a)) : undefined;
    this.inspectTransmit(from, transmit, typeof r === "object" ? r.to : r === undefined ? to : undefined);
    if (bytes.length > this.mtuBytes) {
      if (this.countLinks) this.linkCounters.sent(from, to, bytes.length);
      c.mtuDrops++;
      if (this.strictMtu) this.fail(`${from} sent ${bytes.length} bytes to ${to} > mtuBytes ${this.mtuBytes}`);
      return;
    }
    if (r === "unknown") to = UNKNOWN;
    else if (typeof r === "string") {
      if (this.countLinks) this.linkCounters.sent(from, to, bytes.length);
      c.natDrops++;
      return;
    } else if (r !== undefined) {
      to = r.to;
      source = r.from;
    }
    if (this.countLinks) this.linkCounters.sent(from, to, bytes.length);
    // With routers, "unknown" is also a LAN address of another home: reachable only from inside it.
    const dest = to === UNKNOWN ? undefined : this.nodes.get(to);
    if (dest === undefined) {
      c.lost++;
      c.unknownAddress++;
      return;
    }
    if (this.cuts.active && this.cuts.crosses(from, to)) {
      c.partitionDrops++;
      return;
    }
    if (!dest.alive) {
      c.crashedDrops++;
      return;
    }
    const link = this.links.get(from, to);
    if (rollPercent(this.rng, link.lossPercent)) {
      c.lost++;
      return;
    }
    this.enqueue(from, source, dest, bytes, link);
    if (rollPercent(this.rng, link.duplicatePercent)) {
      c.duplicated++;
      this.enqueue(from, source, dest, bytes, link);
    }
  }

  private inspectTransmit(from: Address, transmit: Transmit, landsAt: Address | undefined): void {
    const { to, bytes } = transmit;
    if (this.inspect !== undefined) {
      try {
        this.inspect(this.agenda.now, from, to, bytes, landsAt);
      } catch (err) {
        // Keep going so the books balance; the run fails when this drain ends.
        this.fail(`inspect rejected ${bytes.length} bytes ${from} -> ${to}: ${describe(err)}`, err);
      }
    }
  }

  /** Settles a popped delivery: "stale" did nothing, "dropped" was a step, "deliver" goes to the receiver. */
  arrive(d: Delivery<E>): "stale" | "dropped" | "deliver" {
    const node = d.node;
    if (d.incarnation !== node.incarnation) return "stale"; // already counted by crash
    const c = this.counters;
    node.inFlight--;
    c.inFlight--;
    if (this.cuts.active && this.cuts.crosses(d.sender, node.address)) {
      c.partitionDrops++;
      return "dropped";
    }
    c.delivered++;
    if (this.countLinks) this.linkCounters.delivered(d.sender, node.address, d.bytes.length);
    return "deliver";
  }

  /** Drops whatever is in flight to a node that just crashed. */
  crashed(node: NodeState<E>): void {
    this.counters.crashedDrops += node.inFlight;
    this.counters.inFlight -= node.inFlight;
    node.inFlight = 0;
  }

  private enqueue(sender: Address, from: Address, dest: NodeState<E>, bytes: Uint8Array, link: LinkOptions): void {
    let delayMs = link.latencyMs + sampleJitterMs(this.rng, link.jitterMs);
    if (rollPercent(this.rng, link.reorderPercent)) {
      this.counters.reordered++;
      delayMs += link.reorderDelayMs;
    }
    dest.inFlight++;
    this.counters.inFlight++;
    // Each copy gets its own bytes: the sender may reuse its buffer after pollTransmit(),
    // and a receiver may rewrite hop fields in place before forwarding.
    this.agenda.deliver(dest, from, bytes.slice(), delayMs, sender);
  }
}
