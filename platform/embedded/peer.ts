/**
 * createEmbeddedPeer: a host-driven Peer for runtimes that own the socket and the clock
 * (a console title, an engine with an embedded JS VM such as QuickJS). The host feeds
 * datagrams with receive(now, address, bytes), calls update(now) every frame, and supplies
 * send(address, bytes); every call drains the Peer's output to `send` before it returns.
 *
 * Nothing here needs timers, promises or any API beyond ECMAScript 2020.
 */
import type { Address, Millis } from "../../lib/endpoint.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { Phase } from "../../lib/peer/core.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import { Peer, type JoinOptions } from "../../lib/peer/peer.ts";
import type { PeerStats } from "../../lib/peer/stats.ts";
import type { SendOptions } from "../../lib/peer/messages.ts";
import type { MemberRoleName } from "../../lib/relay/spectators.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { HostPump, type SendFn } from "./host-pump.ts";
import { resolveRandom, type RandomSource } from "./random-source.ts";

/** A delivered broadcast's metadata (the "data" event without its payload). */
export type DataInfo = Pick<Extract<PeerEvent, { type: "data" }>, "origin" | "seq" | "hops" | "target">;

export type EmbeddedPeerOptions = Omit<PeerConfig, "random"> &
  RandomSource & {
    /** Sends one datagram on the host's socket (see SendFn: copy `bytes` to keep them). Must not throw: a datagram it cannot send is loss, which the protocol retries. */
    send: SendFn;
    /**
     * Each broadcast from another member, once. `payload` is a view into the received
     * datagram: copy it to keep it past the callback. Defaults to passing "data" to onEvent.
     */
    onData?: (payload: Uint8Array, info: DataInfo) => void;
    /** Every other event (and "data" too when onData is absent). Without it, events wait for pollEvent(). */
    onEvent?: (event: PeerEvent) => void;
    /** Events held for pollEvent() when no callback takes them. Defaults to DEFAULT_MAX_QUEUED_EVENTS (4096). */
    maxQueuedEvents?: number;
  };

export interface EmbeddedPeerStats extends PeerStats {
  /** Events dropped because nobody polled them and the queue was full. */
  readonly eventsDropped: number;
}

/**
 * Every method that takes an optional `now` uses the latest time the host passed in when
 * it is omitted; times that go backwards are ignored. A callback that throws propagates
 * out of the call that ran it; events not yet delivered are delivered on the next call.
 */
export interface EmbeddedPeer {
  /** This peer's id in its grid; 0 until admitted. */
  readonly id: number;
  readonly phase: Phase;
  /**
   * Finds (or, with create, creates) the grid through the lobby and joins it. Watch for the
   * "joined" event (its first link) or "connected" (the lobby confirms it is in the grid's
   * main component).
   */
  join(options: JoinOptions, now?: Millis): void;
  /**
   * One datagram from the host's socket. Never throws on bad bytes (they are counted in
   * stats().drops). Takes ownership of `bytes`: the peer may patch and forward them and
   * hand out views of them, so a host that reuses its receive buffer must pass a copy.
   */
  receive(now: Millis, address: Address, bytes: Uint8Array): void;
  /** Fires the timers that are due at `now` and sends what they queue. Call it every frame. */
  update(now: Millis): void;
  /** Sends `payload` to every member once. Throws RelayGridError "not-joined" before joining. Returns its sequence value. */
  broadcast(payload: Uint8Array, now?: Millis): number;
  /** Claim 10: changes the connection limit while running (2..64). */
  setConnectionLimit(limit: number, now?: Millis): void;
  /** Leaves gracefully; keep calling update() until the "closed" event. */
  leave(now?: Millis): void;
  /** The next event no callback took, or undefined. */
  pollEvent(): PeerEvent | undefined;
  /** When update() next has work to do, on the host's clock; undefined when nothing is scheduled. */
  nextDeadline(): Millis | undefined;
  stats(): EmbeddedPeerStats;
}

export function createEmbeddedPeer(options: EmbeddedPeerOptions): EmbeddedPeer {
  return new HostedPeer(options);
}

class HostedPeer implements EmbeddedPeer {
  private readonly peer: Peer;
  private readonly pump: HostPump<PeerEvent>;

  constructor(options: EmbeddedPeerOptions) {
    const { send, onData, onEvent, maxQueuedEvents, seed, random, randomBytes, ...config } = options;
    const source = resolveRandom({ randomBytes, seed, random });
    // Keys come from the host's CSPRNG, never from the seed's SeededRandom (random-source.ts).
    this.peer = new Peer({ ...config, random: source.random, crypto: config.crypto ?? new NobleCrypto(source.randomBytes) });
    this.pump = new HostPump<PeerEvent>(
      this.peer,
      send,
      (e) => {
        // The event itself carries origin/seq/hops/target, so no per-delivery object is built.
        if (e.type === "data" && onData !== undefined) onData(e.payload, e);
        else if (onEvent !== undefined) onEvent(e);
        else return false;
        return true;
      },
      maxQueuedEvents,
    );
  }

  get id(): number {
    return this.peer.id;
  }

  get phase(): Phase {
    return this.peer.phase;
  }

  join(options: JoinOptions, now?: Millis): void {
    this.peer.join(this.pump.stamp(now), options);
    this.pump.flush();
  }

  receive(now: Millis, address: Address, bytes: Uint8Array): void {
    this.pump.receive(now, address, bytes);
  }

  update(now: Millis): void {
    this.pump.update(now);
  }

  broadcast(payload: Uint8Array, now?: Millis): number {
    const seq = this.peer.broadcast(this.pump.stamp(now), payload);
    this.pump.flush();
    return seq;
  }

  /** Peer.send: `payload` (up to 256 KiB) to everyone or `to` one member, `reliable`, `ordered`, to a `team` (PROTOCOL.md 4.1.1). */
  send(payload: Uint8Array, options: SendOptions & { to?: number } = {}, now?: Millis): number {
    const seq = this.peer.send(this.pump.stamp(now), payload, options);
    this.pump.flush();
    return seq;
  }

  joinTeam(team: number): void {
    this.peer.joinTeam(team);
  }

  leaveTeam(team: number): void {
    this.peer.leaveTeam(team);
  }

  /** "spectator" when the lobby granted that role (join({ role })). */
  get role(): MemberRoleName {
    return this.peer.role;
  }

  setConnectionLimit(limit: number, now?: Millis): void {
    this.peer.setConnectionLimit(this.pump.stamp(now), limit);
    this.pump.flush();
  }

  leave(now?: Millis): void {
    this.peer.leave(this.pump.stamp(now));
    this.pump.flush();
  }

  pollEvent(): PeerEvent | undefined {
    return this.pump.pollEvent();
  }

  nextDeadline(): Millis | undefined {
    return this.pump.nextDeadline();
  }

  stats(): EmbeddedPeerStats {
    return { ...this.peer.stats(), eventsDropped: this.pump.eventsDropped };
  }
}
