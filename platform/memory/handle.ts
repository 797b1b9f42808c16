/**
 * A test's handle on one incarnation of a simulated node, typed as the concrete endpoint
 * it was added with (a Peer, a Lobby), so commands need no casts:
 *
 *   const alice = sim.add("alice", new Peer(...));
 *   alice.with((peer, now) => peer.broadcast(now, payload));
 */
import type { Address, Endpoint, Millis } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError } from "../../lib/errors.ts";
import type { SimNetwork } from "./network.ts";
import type { NodeState } from "./node.ts";

export class SimNode<T extends Endpoint<E>, E> {
  /** The endpoint this handle was made with (a restart makes a new handle). */
  readonly endpoint: T;
  private readonly net: SimNetwork<E>;
  private readonly state: NodeState<E>;
  private readonly incarnation: number;

  /** @internal Made by SimNetwork.add() and restart(). */
  constructor(net: SimNetwork<E>, state: NodeState<E>, endpoint: T, incarnation: number) {
    this.net = net;
    this.state = state;
    this.endpoint = endpoint;
    this.incarnation = incarnation;
  }

  get address(): Address {
    return this.state.address;
  }

  /** True until this node crashes or restarts; after that the handle is stale and commands throw. */
  get alive(): boolean {
    return this.state.alive && this.state.incarnation === this.incarnation;
  }

  /** Runs a command on the endpoint at the current virtual time, then drains it (see SimNetwork.withNode). */
  with<R>(fn: (endpoint: T, now: Millis) => R): R {
    this.check();
    return this.net.withNode(this.state.address, (_endpoint, now) => fn(this.endpoint, now));
  }

  /** Drains the endpoint without input (see SimNetwork.poke). */
  poke(): void {
    this.check();
    this.net.poke(this.state.address);
  }

  /** Removes and returns the node's logged events, oldest first. */
  takeEvents(): E[] {
    return this.net.takeEvents(this.state.address);
  }

  private check(): void {
    if (this.alive) return;
    // A stale handle would silently command an endpoint the network no longer drives.
    throw new RelayGridError(
      ErrorCode.Closed,
      `node ${this.state.address} crashed or restarted since this handle was made; use the handle restart() returned`,
    );
  }
}
