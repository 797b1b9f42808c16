/**
 * createEmbeddedLobby: the Lobby driven by a host that owns the socket and the clock, the
 * same way as createEmbeddedPeer (receive, update every frame, a host `send`). A game
 * server or a console's host-migration code can then run the lobby in its own VM.
 */
import type { Address, Millis } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError } from "../../lib/errors.ts";
import type { LobbyConfig } from "../../lib/lobby/config.ts";
import type { LobbyEvent } from "../../lib/lobby/events.ts";
import { Lobby } from "../../lib/lobby/lobby.ts";
import type { LobbyStats } from "../../lib/lobby/stats.ts";
import type { GridSummary } from "../../lib/lobby/view.ts";
import type { Random } from "../../lib/rng.ts";
import type { RandomBytes } from "../../lib/security/crypto.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { HostPump, type SendFn } from "./host-pump.ts";
import { resolveRandom } from "./random-source.ts";

export type EmbeddedLobbyOptions = Omit<LobbyConfig, "random"> & {
    /**
     * Required: `n` bytes from the host's cryptographically secure generator. The lobby's
     * identity, cookie secret, grid keys and (by default) session ids come from it.
     */
    randomBytes: RandomBytes;
    /**
     * The lobby's Random. Defaults to one drawn from `randomBytes`. It also draws session
     * ids, which prove a peer receives at its address, so a seeded one is for tests only.
     */
    random?: Random;
    /** Sends one datagram on the host's socket (see SendFn: copy `bytes` to keep them). Must not throw: a lost reply is retried by the peer. */
    send: SendFn;
    /** Every lobby event (informational: the lobby has already acted). Without it, events wait for pollEvent(). */
    onEvent?: (event: LobbyEvent) => void;
  };

/** Optional `now` arguments default to the latest time the host passed in. */
export interface EmbeddedLobby {
  /** The lobby's Ed25519 identity public key (32 bytes): what peers pin as `lobbyKey`. */
  readonly publicKey: Uint8Array;
  /** One datagram from the host's socket. Never throws on bad bytes (counted in stats().drops); takes ownership of `bytes`. */
  receive(now: Millis, address: Address, bytes: Uint8Array): void;
  /** Fires the timers that are due at `now` and sends what they queue. Call it every frame. */
  update(now: Millis): void;
  /** Tells every session the lobby is going away, then ignores input. Idempotent. */
  close(reason?: string, now?: Millis): void;
  /** The next event no callback took, or undefined. */
  pollEvent(): LobbyEvent | undefined;
  /** When update() next has work to do, on the host's clock; undefined when nothing is scheduled. */
  nextDeadline(): Millis | undefined;
  /** The lobby's counters; eventsDropped also counts events nobody polled from this driver's queue. */
  stats(): LobbyStats;
  grids(): GridSummary[];
}

export function createEmbeddedLobby(options: EmbeddedLobbyOptions): EmbeddedLobby {
  return new HostedLobby(options);
}

class HostedLobby implements EmbeddedLobby {
  private readonly lobby: Lobby;
  private readonly pump: HostPump<LobbyEvent>;

  constructor(options: EmbeddedLobbyOptions) {
    const { send, onEvent, random, randomBytes, ...config } = options;
    if ((options as { seed?: unknown }).seed !== undefined) {
      throw new RelayGridError(
        ErrorCode.InvalidConfig,
        "the embedded lobby takes no seed: its session ids must be unpredictable; pass randomBytes (and random only in tests)",
      );
    }
    const source = resolveRandom({ randomBytes, random });
    this.lobby = new Lobby({ ...config, random: source.random, crypto: config.crypto ?? new NobleCrypto(source.randomBytes) });
    this.pump = new HostPump<LobbyEvent>(
      this.lobby,
      send,
      (e) => {
        if (onEvent === undefined) return false;
        onEvent(e);
        return true;
      },
      // The lobby bounds its own queue with the same option; the host-side queue matches it.
      config.maxQueuedEvents,
    );
  }

  get publicKey(): Uint8Array {
    return this.lobby.publicKey.slice();
  }

  receive(now: Millis, address: Address, bytes: Uint8Array): void {
    this.pump.receive(now, address, bytes);
  }

  update(now: Millis): void {
    this.pump.update(now);
  }

  close(reason?: string, now?: Millis): void {
    this.lobby.close(this.pump.stamp(now), reason);
    this.pump.flush();
  }

  pollEvent(): LobbyEvent | undefined {
    return this.pump.pollEvent();
  }

  nextDeadline(): Millis | undefined {
    return this.pump.nextDeadline();
  }

  stats(): LobbyStats {
    const s = this.lobby.stats();
    return { ...s, eventsDropped: s.eventsDropped + this.pump.eventsDropped };
  }

  grids(): GridSummary[] {
    return this.lobby.grids();
  }
}
