/** Options of SimNetwork and of its run methods, with their named defaults. */
import type { Address, Millis } from "../../lib/endpoint.ts";
import type { LinkOptions } from "./link.ts";

export const DEFAULT_MTU_BYTES = 1200;
export const DEFAULT_STRICT_MTU = true;
export const DEFAULT_MAX_STEPS = 10_000_000;
export const DEFAULT_EVENT_LOG_LIMIT = 1024;

/**
 * Sees every transmit (at send time, before faults); throwing fails the run with the seed.
 * `landsAt` is the node it reaches: `to` itself, or the node behind a NAT's mapping at `to`
 * (undefined when a NAT drops it or no node is there).
 */
export type InspectFn = (now: Millis, from: Address, to: Address, bytes: Uint8Array, landsAt?: Address) => void;

/** Gets every event a node emits, as it is drained. */
export type OnEventFn<E> = (address: Address, event: E, now: Millis) => void;

export interface SimNetworkOptions<E> {
  /** Seeds every random choice; a uint32. The same seed and endpoints give the same run. */
  readonly seed: number;
  /** The network-wide default link. Each field defaults as documented on LinkOptions. */
  readonly link?: Partial<LinkOptions>;
  /** Larger datagrams are never delivered (stats().mtuDrops). Defaults to 1200 (DEFAULT_MTU_BYTES). */
  readonly mtuBytes?: number;
  /** An oversized datagram also fails the run with a SimulationError naming the sender. Defaults to true. */
  readonly strictMtu?: boolean;
  /** Checks every transmit, e.g. the relay rules. Defaults to none. */
  readonly inspect?: InspectFn;
  /** Gets every event any node emits. Defaults to none. */
  readonly onEvent?: OnEventFn<E>;
  /**
   * Events kept per node for takeEvents(); older ones are dropped (stats().eventsDropped),
   * so 1,000 chatty nodes stay bounded. 0 keeps none. Defaults to 1024 (DEFAULT_EVENT_LOG_LIMIT).
   */
  readonly eventLogLimit?: number;
  /**
   * Keep traceHash (an FNV-1a hash over every byte delivered). A 10,000-node run that never
   * reads it spends a tenth of its time there: pass false. Defaults to true.
   */
  readonly traceHash?: boolean;
  /** Keep per-directed-link counters for linkStats(). Pass false for very large runs. Defaults to true. */
  readonly linkStats?: boolean;
}

export interface RunOptions {
  /** Fail after this many steps (deliveries and timer fires). Defaults to 1e7 (DEFAULT_MAX_STEPS). */
  readonly maxSteps?: number;
}

export interface RunUntilOptions extends RunOptions {
  /** Fail once this much virtual time has passed since the call. Defaults to no limit. */
  readonly maxTimeMs?: number;
}
