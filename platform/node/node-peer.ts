/**
 * relaygrid/node's peer: a sans-IO Peer behind the driver loop, with the API a Node
 * developer expects: `await joinGrid(...)`, `broadcast`, `on("data")` or `for await`,
 * `stats()`, `setConnectionLimit`, `await close()`. Runs unchanged on Deno and Bun.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { Peer, type JoinOptions } from "../../lib/peer/peer.ts";
import type { PeerConfig } from "../../lib/peer/config.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import type { PeerStats } from "../../lib/peer/stats.ts";
import type { Random } from "../../lib/rng.ts";
import { driveEndpoint, type EndpointDriver } from "./endpoint-driver.ts";
import { openUdp, type UdpTransport, type UdpTransportChoice } from "./udp-transport.ts";
import { CryptoRandom } from "./crypto-random.ts";
import { TypedEmitter } from "./emitter.ts";
import { normalizeAddress } from "./resolve-address.ts";
import { NodeCrypto } from "./node-crypto.ts";

/** How long joinGrid waits for the "joined" event. Defaults to 10000 ms. */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
/** How long close() waits for neighbours and the lobby to acknowledge. Defaults to 2000 ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 2000;
/** Data messages buffered for `for await` when the loop body is slower than the grid. Defaults to 4096. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096;

export interface JoinGridOptions extends Omit<PeerConfig, "lobby" | "random" | "lobbyKey">, JoinOptions {
  /**
   * The lobby's Ed25519 public key, 32 bytes or 64 hex characters (`relaygrid lobby` prints
   * it). Pin it in production; without it the peer trusts the key the lobby first presents.
   */
  lobbyKey?: Uint8Array | string;
  /** The lobby, "HOST:PORT" ("127.0.0.1:7777", "[::1]:7777", "localhost:7777"). */
  lobby: string;
  /** Local address to bind. Defaults to "127.0.0.1" (or "::1" for an IPv6 lobby). Use "0.0.0.0" to be reachable from other hosts. */
  host?: string;
  /** Local UDP port. Defaults to 0 (any free port). */
  port?: number;
  /** Defaults to DEFAULT_JOIN_TIMEOUT_MS (10000). */
  joinTimeoutMs?: number;
  /** Defaults to DEFAULT_MAX_QUEUED_MESSAGES (4096); the oldest are dropped past it. */
  maxQueuedMessages?: number;
  /** Randomness for the peer's choices. Defaults to a Web Crypto backed source. */
  random?: Random;
  /**
   * Drops this share of outgoing datagrams at random, to see the grid under loss on a
   * loopback demo (0..100). Not for production. Defaults to 0.
   */
  simulatedLossPercent?: number;
  /** The socket API: "auto" (the default) takes Bun's or Deno's native UDP socket where there is one, else node:dgram. */
  udp?: UdpTransportChoice;
}

/** What a delivered message carries besides its payload. */
export interface DataInfo {
  readonly origin: number;
  readonly seq: number;
  readonly hops: number;
  readonly target: number | null;
}

export interface Message extends DataInfo {
  readonly payload: Uint8Array;
}

export type NodePeerEvents = {
  data: [payload: Uint8Array, info: DataInfo];
  linkOpen: [event: Extract<PeerEvent, { type: "linkOpen" }>];
  linkClosed: [event: Extract<PeerEvent, { type: "linkClosed" }>];
  error: [error: RelayGridError];
  /** Every PeerEvent, for tools that want them all. */
  event: [event: PeerEvent];
};

export class NodePeer extends TypedEmitter<NodePeerEvents> implements AsyncIterable<Message> {
  private readonly queue: Message[] = [];
  private waiting: ((r: IteratorResult<Message>) => void) | undefined;
  private closing: Promise<void> | undefined;
  private closedSignal: (() => void) | undefined;
  private ended = false;
  /** Messages are queued only once someone iterates, so on("data") users pay nothing. */
  private iterating = false;
  /** Messages dropped because the async iterator fell behind by maxQueuedMessages. */
  droppedMessages = 0;

  /** @internal use joinGrid() */
  constructor(
    private readonly peer: Peer,
    private readonly driver: EndpointDriver,
    private readonly socket: UdpTransport,
    private readonly maxQueued: number,
  ) {
    super();
  }

  /** This peer's id in the grid. */
  get id(): number {
    return this.peer.id;
  }
  get grid(): number {
    return this.peer.grid;
  }
  /** The local "HOST:PORT" this peer's socket is bound to. */
  address(): string {
    const a = this.socket.address();
    return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Sends `payload` (at most MAX_PAYLOAD_BYTES) to every member; returns its sequence value. */
  broadcast(payload: Uint8Array, target: number | null = null): number {
    if (this.closing !== undefined) throw new RelayGridError(ErrorCode.Closed, "broadcast() after close()");
    return this.driver.command((now) => this.peer.broadcast(now, payload, target));
  }

  setConnectionLimit(limit: number): void {
    this.driver.command((now) => this.peer.setConnectionLimit(now, limit));
  }

  stats(): PeerStats & { driver: ReturnType<EndpointDriver["stats"]>; droppedMessages: number } {
    return { ...this.peer.stats(), driver: this.driver.stats(), droppedMessages: this.droppedMessages };
  }

  /** Leaves gracefully (neighbours and the lobby are told), then closes the socket. Idempotent. */
  close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => {
        this.closedSignal = resolve;
        setTimeout(resolve, timeoutMs);
      });
      this.driver.command((now) => this.peer.leave(now));
      await closed;
      await this.driver.flushed();
      await this.driver.stop();
      this.finishIterators();
    })();
    return this.closing;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    this.iterating = true;
    return {
      next: () => {
        const m = this.queue.shift();
        if (m !== undefined) return Promise.resolve({ value: m, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.finishIterators();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** @internal every event from the driver loop */
  handleEvent(e: PeerEvent): void {
    this.emit("event", e);
    switch (e.type) {
      case "data": {
        const info: DataInfo = { origin: e.origin, seq: e.seq, hops: e.hops, target: e.target };
        this.emit("data", e.payload, info);
        if (this.iterating) this.enqueue({ payload: e.payload, ...info });
        return;
      }
      case "linkOpen":
        this.emit("linkOpen", e);
        return;
      case "linkClosed":
        this.emit("linkClosed", e);
        return;
      case "error":
        this.emit("error", new RelayGridError(e.code, e.message));
        return;
      case "closed":
        this.closedSignal?.();
        return;
      default:
        return;
    }
  }

  private enqueue(m: Message): void {
    if (this.waiting !== undefined) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: m, done: false });
      return;
    }
    if (this.ended) return;
    this.queue.push(m);
    if (this.queue.length > this.maxQueued) {
      this.queue.shift();
      this.droppedMessages++;
    }
  }

  private finishIterators(): void {
    this.ended = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }
}

/**
 * Binds a UDP socket, opens a lobby session, finds (or with `create: true` creates) the
 * grid and joins it. Resolves once the peer holds its first link (or is the grid's first
 * member); rejects with a RelayGridError (timeout, unknown-grid, grid-full, socket, ...).
 */
export async function joinGrid(options: JoinGridOptions): Promise<NodePeer> {
  const lobby = normalizeAddress("lobby", options.lobby);
  const host = options.host ?? (lobby.startsWith("[") ? "::1" : "127.0.0.1");
  const peer = new Peer({
    ...options,
    lobby,
    random: options.random ?? new CryptoRandom(),
    crypto: options.crypto ?? new NodeCrypto(),
    lobbyKey: parseKey(options.lobbyKey),
  });
  const socket = await openUdp(host, options.port ?? 0, { udp: options.udp });
  let node: NodePeer | undefined;
  let settle: ((err?: RelayGridError) => void) | undefined;
  const joined = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const loss = checkLoss(options.simulatedLossPercent ?? 0);
  const driver = driveEndpoint<PeerEvent>(socket, peer, {
    sendFilter: loss > 0 ? () => Math.random() * 100 >= loss : undefined,
    onEvent: (e) => {
      if (e.type === "joined") settle?.();
      else if (e.type === "error" && peer.phase === "idle") settle?.(new RelayGridError(e.code, e.message));
      node?.handleEvent(e);
    },
    onError: (err) => {
      if (node !== undefined && node.listenerCount("error") > 0) node.handleEvent({ type: "error", code: err.code, message: err.message });
    },
  });
  node = new NodePeer(peer, driver, socket, options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES);
  const timeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  const timer = setTimeout(
    () => settle?.(new RelayGridError(ErrorCode.Timeout, `not joined within joinTimeoutMs ${timeoutMs} (lobby ${lobby}, grid ${String(options.grid)})`)),
    timeoutMs,
  );
  try {
    driver.command((now) => peer.join(now, options));
    await joined;
    return node;
  } catch (e) {
    await driver.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function checkLoss(percent: number): number {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `simulatedLossPercent must be from 0 to 100, got ${String(percent)}`);
  }
  return percent;
}

function parseKey(key: Uint8Array | string | undefined): Uint8Array | undefined {
  if (key === undefined || key instanceof Uint8Array) return key;
  if (!/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `lobbyKey must be 64 hex characters (32 bytes), got ${key.length} characters`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16);
  return out;
}
