/**
 * Drives one node at a time through the Endpoint contract: feed one input (a datagram or
 * a timeout), drain pollTransmit() then pollEvent() until undefined, and re-arm the
 * node's single timer at pollTimeout().
 *
 * An exception from an endpoint is a bug in the code under test: it is rethrown as a
 * SimulationError that names the node, the input, the seed and the virtual time.
 */
import type { Address, Millis } from "../../lib/endpoint.ts";
import { DELIVER, WAKE, type Agenda, type Entry } from "./agenda.ts";
import { SimulationError, describe } from "./error.ts";
import type { Fabric } from "./fabric.ts";
import type { NodeState } from "./node.ts";
import type { Counters } from "./stats.ts";
import type { TraceHash } from "./trace.ts";

export class Driver<E> {
  private readonly seed: number;
  private readonly agenda: Agenda<E>;
  private readonly fabric: Fabric<E>;
  private readonly counters: Counters;
  private readonly trace: TraceHash | undefined;
  private readonly onEvent: ((address: Address, event: E, now: Millis) => void) | undefined;

  constructor(
    seed: number,
    agenda: Agenda<E>,
    fabric: Fabric<E>,
    counters: Counters,
    trace: TraceHash | undefined,
    onEvent: ((address: Address, event: E, now: Millis) => void) | undefined,
  ) {
    this.seed = seed;
    this.agenda = agenda;
    this.fabric = fabric;
    this.counters = counters;
    this.trace = trace;
    this.onEvent = onEvent;
  }

  /** Handles one popped entry; true when it was a step (a delivery, a drop, a timer fire), false when stale. */
  process(entry: Entry<E>): boolean {
    const node = entry.node;
    const now = this.agenda.now;
    const t = this.trace;
    if (entry.kind === DELIVER) {
      const outcome = this.fabric.arrive(entry);
      if (outcome !== "deliver") return outcome === "dropped";
      if (t !== undefined) {
        t.byte(DELIVER);
        t.number(now);
        t.string(entry.from);
        t.string(node.address);
        t.bytes(entry.bytes);
      }
      try {
        node.endpoint.handleDatagram(now, entry.from, entry.bytes);
        this.drain(node, false);
      } catch (err) {
        throw this.wrap(err, `${node.address} threw handling a datagram from ${entry.from}`);
      }
      return true;
    }
    if (entry.gen !== node.timerGen) return false; // superseded by a re-arm or a crash
    node.wakeAt = undefined;
    const deadline = node.deadline;
    if (deadline === undefined) return false; // disarmed since
    if (deadline > now) {
      // The deadline moved later: re-arm now instead of leaving a stale entry per move.
      this.agenda.wake(node, deadline);
      return false;
    }
    node.deadline = undefined;
    this.counters.timerFires++;
    if (t !== undefined) {
      t.byte(WAKE);
      t.number(now);
      t.string(node.address);
    }
    try {
      node.endpoint.handleTimeout(now);
      this.drain(node, true);
    } catch (err) {
      throw this.wrap(err, `${node.address} threw handling a timeout`);
    }
    return true;
  }

  /** Drains a node after a command or on start; `context` says when, for the error message. */
  drainGuarded(node: NodeState<E>, context: string): void {
    try {
      this.drain(node, false);
    } catch (err) {
      throw this.wrap(err, `${node.address} threw ${context}`);
    }
  }

  private drain(node: NodeState<E>, afterTimeout: boolean): void {
    const endpoint = node.endpoint;
    const incarnation = node.incarnation;
    // A callback may crash this node mid-drain; a crashed node sends nothing more.
    const up = (): boolean => node.alive && node.incarnation === incarnation;
    for (let t = endpoint.pollTransmit(); t !== undefined; t = up() ? endpoint.pollTransmit() : undefined) {
      this.fabric.send(node.address, t);
    }
    for (let e = endpoint.pollEvent(); e !== undefined; e = up() ? endpoint.pollEvent() : undefined) {
      this.counters.eventsDropped += node.log.push(e);
      this.onEvent?.(node.address, e, this.agenda.now);
    }
    if (up()) this.arm(node, afterTimeout);
  }

  private arm(node: NodeState<E>, afterTimeout: boolean): void {
    let deadline = node.endpoint.pollTimeout();
    if (deadline === undefined) {
      node.deadline = undefined; // a pending wake-up will find nothing to do
      return;
    }
    const now = this.agenda.now;
    if (!(deadline > now)) {
      if (afterTimeout) {
        // handleTimeout(now) must fire everything due by now; a deadline still <= now
        // would spin forever at one instant, so move it 1 ms on and count it.
        this.counters.stuckTimers++;
        deadline = now + 1;
      } else {
        deadline = now; // never schedule in the past
      }
    }
    node.deadline = deadline;
    // An earlier pending wake-up will find the later deadline and re-arm itself.
    if (node.wakeAt !== undefined && node.wakeAt <= deadline) return;
    this.agenda.wake(node, deadline);
  }

  private wrap(err: unknown, context: string): SimulationError {
    if (err instanceof SimulationError) return err;
    return new SimulationError(`${context}: ${describe(err)}`, this.seed, this.agenda.now, err);
  }
}
