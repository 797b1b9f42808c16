/**
 * SimNetwork: a deterministic network of sans-IO endpoints in virtual time.
 *
 * It is sans-IO itself (STYLE 11): nothing here reads a clock or sets a timer. Virtual
 * time starts at 0 and moves only when the agenda of deliveries and timer wake-ups is
 * stepped. Every random choice comes from one SeededRandom, so a seed replays a run
 * exactly, and every SimulationError names the seed.
 *
 * Each node is driven as the Endpoint contract asks (see driver.ts): after any input (a
 * datagram, a timeout, a command through withNode or poke) the network drains
 * pollTransmit() and then pollEvent() until undefined, and re-arms the node's one timer
 * at pollTimeout(). Callbacks (inspect, onEvent) may issue commands to nodes, but must not step the network.
 */
import type { Address, Endpoint, Millis } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError, checkInt } from "../../lib/errors.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { Agenda } from "./agenda.ts";
import { Driver } from "./driver.ts";
import { SimulationError } from "./error.ts";
import { Fabric } from "./fabric.ts";
import { SimNode } from "./handle.ts";
import type { LinkModel, LinkOptions } from "./link.ts";
import type { RouterOptions } from "./nat.ts";
import { NodeState } from "./node.ts";
import {
  DEFAULT_EVENT_LOG_LIMIT,
  DEFAULT_MAX_STEPS,
  DEFAULT_MTU_BYTES,
  DEFAULT_STRICT_MTU,
  type RunOptions,
  type RunUntilOptions,
  type SimNetworkOptions,
} from "./options.ts";
import { createCounters, type LinkCounters, type SimStats } from "./stats.ts";
import { TraceHash } from "./trace.ts";

export class SimNetwork<E = unknown> {
  readonly seed: number;
  // A second stream so handing seeds to endpoints never shifts the network's own faults.
  private readonly seeds: SeededRandom;
  private readonly agenda = new Agenda<E>();
  private readonly nodes = new Map<Address, NodeState<E>>();
  private readonly counters = createCounters();
  private readonly fabric: Fabric<E>;
  private readonly driver: Driver<E>;
  private readonly trace: TraceHash | undefined;
  private readonly eventLogLimit: number;
  /** The first failure found while draining; thrown once the drain is done, so state stays consistent. */
  private failure: SimulationError | undefined;

  constructor(options: SimNetworkOptions<E>) {
    this.seed = checkInt("seed", options.seed, 0, 0xffffffff);
    this.seeds = new SeededRandom(this.seed ^ 0x5eed5eed);
    this.trace = options.traceHash === false ? undefined : new TraceHash();
    const config = {
      link: options.link,
      linkStats: options.linkStats !== false,
      mtuBytes: checkInt("mtuBytes", options.mtuBytes ?? DEFAULT_MTU_BYTES, 1, 65_535),
      strictMtu: options.strictMtu ?? DEFAULT_STRICT_MTU,
      inspect: options.inspect,
    };
    const fail = (message: string, cause?: unknown): void => {
      this.failure ??= new SimulationError(message, this.seed, this.agenda.now, cause);
    };
    const rng = new SeededRandom(this.seed);
    // NAT port choices draw from their own stream: adding a router never shifts the faults.
    this.fabric = new Fabric<E>(config, this.agenda, this.nodes, this.counters, rng, fail, new SeededRandom(this.seed ^ 0x4e415421));
    this.eventLogLimit = checkInt("eventLogLimit", options.eventLogLimit ?? DEFAULT_EVENT_LOG_LIMIT, 0, 2 ** 31 - 1);
    this.driver = new Driver<E>(this.seed, this.agenda, this.fabric, this.counters, this.trace, options.onEvent);
  }

  /** Virtual time in ms; starts at 0 and never goes backwards. */
  get now(): Millis {
    return this.agenda.now;
  }

  /** A hash of every delivery and timer fire so far (time, addresses, bytes); equal runs give equal hashes. */
  get traceHash(): number {
    if (this.trace === undefined) throw new RelayGridError(ErrorCode.InvalidConfig, "traceHash is off: this SimNetwork was made with traceHash: false");
    return this.trace.value;
  }

  /** A uint32 for seeding an endpoint's own Random, derived from the network seed. */
  nextSeed(): number {
    return this.seeds.nextU32();
  }

  /**
   * Adds a NAT router (nat.ts): nodes added `behind` it send through its mappings and
   * receive through its filter. Its WAN address is in its upstream's LAN (a carrier NAT),
   * or on the Internet, where every node added without `behind` is.
   */
  addRouter(name: string, options: RouterOptions): void {
    this.fabric.nat.addRouter(name, options);
  }

  /** Mappings router `name` holds now (idle ones expire on use). */
  natMappings(name: string): number {
    return this.fabric.nat.mappings(name);
  }

  /**
   * Adds a node and drains it at the current time (its constructor may have queued work).
   * With `behind`, the node sits on that router's LAN; its address must be "ip:port".
   */
  add<T extends Endpoint<E>>(address: Address, endpoint: T, options: { readonly behind?: string } = {}): SimNode<T, E> {
    if (this.nodes.has(address)) {
      throw new RelayGridError(ErrorCode.InvalidAddress, `a node at ${address} already exists; use restart() to replace it`);
    }
    if (options.behind !== undefined) this.fabric.nat.place(address, options.behind);
    const node = new NodeState<E>(address, endpoint, this.eventLogLimit);
    this.nodes.set(address, node);
    return this.start(node, endpoint);
  }

  /**
   * Stops a node: it receives nothing more, its queued deliveries and its timer are
   * dropped (stats().crashedDrops), and datagrams sent to it are dropped until restart().
   * Its event log is kept for takeEvents(). Crashing a crashed node does nothing.
   */
  crash(address: Address): void {
    const node = this.known(address);
    if (!node.alive) return;
    node.alive = false;
    node.incarnation++; // makes every delivery already queued to it stale
    this.fabric.crashed(node);
    node.timerGen++; // makes its pending wake-up stale
    node.wakeAt = undefined;
    node.deadline = undefined;
  }

  /** Brings a node back with a fresh endpoint (crashing it first if it is up); returns the new handle. */
  restart<T extends Endpoint<E>>(address: Address, endpoint: T): SimNode<T, E> {
    const node = this.known(address);
    this.crash(address);
    node.endpoint = endpoint;
    node.alive = true;
    return this.start(node, endpoint);
  }

  isAlive(address: Address): boolean {
    return this.nodes.get(address)?.alive ?? false;
  }

  /** Drops every datagram between groupA and groupB, sent or already in flight, until heal(). */
  partition(groupA: readonly Address[], groupB: readonly Address[]): void {
    this.fabric.cuts.add(groupA, groupB);
  }

  /** Removes every partition. */
  heal(): void {
    this.fabric.cuts.clear();
  }

  /** Replaces the network-wide default link; per-link overrides keep their own fields. */
  setDefaultLink(options: Partial<LinkOptions>): void {
    this.fabric.links.setDefault(options);
  }

  /**
   * Sets a link model (link.ts LinkModel): per directed pair, the options it returns laid over
   * the default (setLink overrides still win). undefined removes it.
   */
  setLinkModel(model: LinkModel | undefined): void {
    this.fabric.links.setModel(model);
  }

  /** Overrides the link both ways between a and b; fields left out follow the default. */
  setLink(a: Address, b: Address, options: Partial<LinkOptions>): void {
    this.fabric.links.setDirected(a, b, options);
    this.fabric.links.setDirected(b, a, options);
  }

  /** Overrides the link from -> to only; fields left out follow the default. */
  setDirectedLink(from: Address, to: Address, options: Partial<LinkOptions>): void {
    this.fabric.links.setDirected(from, to, options);
  }

  /** The options in force from -> to. */
  linkOptions(from: Address, to: Address): LinkOptions {
    return this.fabric.links.get(from, to);
  }

  /**
   * Runs a command on a live node at the current virtual time, then drains the node.
   * The endpoint comes typed as Endpoint<E>; a SimNode handle's with() keeps its class.
   */
  withNode<R>(address: Address, fn: (endpoint: Endpoint<E>, now: Millis) => R): R {
    const node = this.live(address);
    let result: R;
    try {
      result = fn(node.endpoint, this.agenda.now);
    } finally {
      // Drain even if the command threw: it may have queued work before failing.
      this.driver.drainGuarded(node, "after a command");
    }
    this.throwIfFailed();
    return result;
  }

  /** Drains a live node without input, e.g. after changing it behind the network's back. */
  poke(address: Address): void {
    this.driver.drainGuarded(this.live(address), "when poked");
    this.throwIfFailed();
  }

  /** Removes and returns a node's logged events, oldest first (see eventLogLimit). */
  takeEvents(address: Address): E[] {
    return this.known(address).log.take();
  }

  /** Processes the next delivery or timer fire; false when nothing is scheduled. */
  step(): boolean {
    return this.advance(Infinity);
  }

  /** Processes everything due in the next `ms` of virtual time, then sets now to that time. */
  runFor(ms: number, options: RunOptions = {}): void {
    if (!(ms >= 0 && ms < Infinity)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `runFor: ms must be a finite number >= 0, got ${String(ms)}`);
    }
    const maxSteps = checkMaxSteps(options.maxSteps);
    const target = this.agenda.now + ms;
    for (let steps = 0; this.advance(target); ) {
      const next = this.agenda.nextTime();
      if (++steps >= maxSteps && next !== undefined && next <= target) {
        throw new SimulationError(`runFor(${ms}) hit maxSteps ${maxSteps} before its end`, this.seed, this.agenda.now);
      }
    }
    this.agenda.now = target;
  }

  /**
   * Steps until `predicate()` is true (checked before every step). Throws a
   * SimulationError with the seed and the virtual time when maxSteps or maxTimeMs is hit,
   * or when nothing is left to happen while the predicate is still false.
   */
  runUntil(predicate: () => boolean, options: RunUntilOptions = {}): void {
    const maxSteps = checkMaxSteps(options.maxSteps);
    const maxTimeMs = options.maxTimeMs;
    if (maxTimeMs !== undefined && !(maxTimeMs >= 0)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `runUntil: maxTimeMs must be >= 0, got ${String(maxTimeMs)}`);
    }
    const deadline = maxTimeMs === undefined ? Infinity : this.agenda.now + maxTimeMs;
    for (let steps = 0; !predicate(); steps++) {
      if (steps >= maxSteps) {
        throw new SimulationError(`runUntil hit maxSteps ${maxSteps} with the predicate still false`, this.seed, this.agenda.now);
      }
      if (this.advance(deadline)) continue;
      if (this.agenda.size === 0) {
        throw new SimulationError(`runUntil: the network went idle after ${steps} steps with the predicate still false`, this.seed, this.agenda.now);
      }
      this.agenda.now = deadline;
      throw new SimulationError(`runUntil hit maxTimeMs ${String(maxTimeMs)} with the predicate still false`, this.seed, this.agenda.now);
    }
  }

  /** A snapshot of the counters. */
  stats(): SimStats {
    return { ...this.counters };
  }

  /** Traffic from -> to, or undefined if nothing was ever sent that way (always, with linkStats: false). */
  linkStats(from: Address, to: Address): LinkCounters | undefined {
    return this.fabric.linkCounters.get(from, to);
  }

  private start<T extends Endpoint<E>>(node: NodeState<E>, endpoint: T): SimNode<T, E> {
    const handle = new SimNode<T, E>(this, node, endpoint, node.incarnation);
    this.driver.drainGuarded(node, "right after being added");
    this.throwIfFailed();
    return handle;
  }

  /** Pops entries due by `limit` until one does something; false when none is left by then. */
  private advance(limit: Millis): boolean {
    for (let next = this.agenda.popBy(limit); next !== undefined; next = this.agenda.popBy(limit)) {
      if (this.driver.process(next)) {
        this.counters.steps++;
        this.throwIfFailed();
        return true;
      }
    }
    return false;
  }

  private throwIfFailed(): void {
    const failure = this.failure;
    if (failure === undefined) return;
    this.failure = undefined;
    throw failure;
  }

  private known(address: Address): NodeState<E> {
    const node = this.nodes.get(address);
    if (node === undefined) throw new RelayGridError(ErrorCode.InvalidAddress, `no node at ${address}; add() it first`);
    return node;
  }

  private live(address: Address): NodeState<E> {
    const node = this.known(address);
    if (!node.alive) throw new RelayGridError(ErrorCode.Closed, `node ${address} is crashed; restart() it first`);
    return node;
  }
}

function checkMaxSteps(maxSteps: number | undefined): number {
  return checkInt("maxSteps", maxSteps ?? DEFAULT_MAX_STEPS, 1, Number.MAX_SAFE_INTEGER);
}
