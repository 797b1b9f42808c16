/**
 * relaygrid/node's peer: a sans-IO Peer behind the driver loop, with the API a Node
 * developer expects: `await joinGrid(...)`, `broadcast`, `on("data")` or `for await`,
 * `stats()`, `setConnectionLimit`, `await close()`. Runs unchanged on Deno and Bun.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { Peer, type JoinOptions } from "../../lib/peer/peer.ts";
import { resolvePeerConfig, type PeerConfig } from "../../lib/peer/config.ts";
import type { PeerEvent } from "../../lib/peer/events.ts";
import type { PeerStats } from "../../lib/peer/stats.ts";
import type { GridStanding } from "../../lib/peer/standing.ts";
import type { SendOptions } from "../../lib/peer/messages.ts";
import type { MemberRoleName } from "../../lib/relay/spectators.ts";
import type { Random } from "../../lib/rng.ts";
import { driveEndpoint, type EndpointDriver } from "./endpoint-driver.ts";
import { openUdp, type UdpTransport, type UdpTransportChoice } from "./udp-transport.ts";
import { ProbeSockets } from "./probe-sockets.ts";
import { CryptoRandom } from "./crypto-random.ts";
import { rethrowAsync, TypedEmitter } from "./emitter.ts";
import { defaultJoinTimeoutMs, DEFAULT_JOIN_TIMEOUT_MS, joinTimeoutError } from "./join-timeout.ts";
import { checkBindFamily, checkLoss, checkResolveOn, parseKey } from "./join-options.ts";
import { defaultBindHost, resolveAddress } from "./resolve-address.ts";
import { NodeCrypto } from "./node-crypto.ts";
import { localSocketAddresses } from "./local-addresses.ts";

export { DEFAULT_JOIN_TIMEOUT_MS };
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
  /**
   * The lobby, "HOST:PORT": an IP ("127.0.0.1:7777", "[::1]:7777") or a host name
   * ("lobby.example.com:7777", "localhost:7777"), resolved once with node:dns lookup (its
   * first IPv4 address, else its first IPv6 one).
   */
  lobby: string;
  /**
   * Local address to bind. Defaults to loopback ("127.0.0.1", or "::1" for an IPv6 lobby)
   * when the lobby is on loopback, otherwise to every interface of the lobby's family
   * ("0.0.0.0" or "::"), so members on other hosts can reach this peer.
   */
  host?: string;
  /** Local UDP port. Defaults to 0 (any free port). */
  port?: number;
  /**
   * When joinGrid resolves. "connected" (the default): once the lobby confirms this peer is
   * in the grid's main component (the `connected` event), so a broadcast sent next reaches the
   * grid as the lobby sees it, not only an island of peers that joined at the same moment.
   * "joined": as soon as it holds its first link (or is the grid's first member).
   */
  resolveOn?: "connected" | "joined";
  /**
   * How long to wait for it. Defaults to DEFAULT_JOIN_TIMEOUT_MS (16000), and never
   * less than a lobby request takes to give up with the given retransmitMs and maxAttempts
   * plus 5 s, so a lobby that does not answer, or fails the pinned lobbyKey, rejects with
   * that cause. A shorter deadline still names the cause the peer saw so far.
   */
  joinTimeoutMs?: number;
  /** Aborting it stops a join in progress: joinGrid rejects with code "closed" and closes its socket. */
  signal?: AbortSignal;
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
  /**
   * Called with every PeerEvent from the start, those before joinGrid resolves included (on("event")
   * sees only later ones): admitted, registered, punched, ... for tools and diagnostics. Defaults to none.
   */
  onEvent?: (event: PeerEvent) => void;
}

/** What a delivered message carries besides its payload. */
export interface DataInfo {
  readonly origin: number;
  readonly seq: number;
  readonly hops: number;
  readonly target: number | null;
  /** How it was sent, for a send() (PeerEvent "data"); absent for a plain broadcast. */
  readonly reliable?: boolean;
  readonly ordered?: boolean;
  readonly team?: number | null;
  readonly routed?: boolean;
}

export interface Message extends DataInfo {
  readonly payload: Uint8Array;
}

/**
 * The events. A listener that throws does not stop the peer or the other listeners: the
 * exception reaches the "error" listeners as a RelayGridError with code "listener" (the
 * original exception as its `cause`); with no "error" listener, or when an "error"
 * listener throws, it is rethrown asynchronously, so it surfaces as an uncaught exception
 * with the listener's stack, as a throwing node:events listener on a socket would.
 */
export type NodePeerEvents = {
  /**
   * A broadcast from another member, once. `payload` is a view into the received datagram
   * at whatever byteOffset the envelope gives it, so it is not aligned for a Float32Array
   * or Float64Array over `payload.buffer`: read it with a DataView, or copy it first
   * (`payload.slice()` is a fresh, aligned buffer). It stays valid after the listener returns.
   */
  data: [payload: Uint8Array, info: DataInfo];
  linkOpen: [event: Extract<PeerEvent, { type: "linkOpen" }>];
  /** The lobby confirmed this peer is in the grid's main component (after joining, and after an island healed). */
  connected: [event: Extract<PeerEvent, { type: "connected" }>];
  /** The lobby sees this peer cut off from the grid's main component: broadcasts reach only its island for now. */
  island: [event: Extract<PeerEvent, { type: "island" }>];
  linkClosed: [event: Extract<PeerEvent, { type: "linkClosed" }>];
  /** Protocol failures after joining, socket errors, and exceptions thrown by listeners (code "listener"). */
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
  /** Where the lobby last said this peer stands: in the grid's main component or on an island (undefined until it said). */
  get standing(): GridStanding | undefined {
    return this.peer.standing;
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

  /**
   * Sends `payload` (up to MAX_MESSAGE_BYTES, 256 KiB) to every member, or `to` one, as the
   * options say: unreliable by default, `reliable`, `ordered`, or to a `team` (PROTOCOL.md
   * 4.1.1); returns the seq receivers see. Throws RelayGridError (payload-too-large,
   * invalid-config, spectator).
   */
  send(payload: Uint8Array, options: SendOptions & { to?: number } = {}): number {
    if (this.closing !== undefined) throw new RelayGridError(ErrorCode.Closed, "send() after close()");
    return this.driver.command((now) => this.peer.send(now, payload, options));
  }

  /** Joins team `team` (a u32 > 0): its team messages are delivered here from now on. */
  joinTeam(team: number): void {
    this.peer.joinTeam(team);
  }

  /** Leaves team `team`: its messages are still relayed here, no longer delivered. */
  leaveTeam(team: number): void {
    this.peer.leaveTeam(team);
  }

  /** "spectator" when the lobby granted that role (joinGrid({ role })): it receives and relays, and cannot send. */
  get role(): MemberRoleName {
    return this.peer.role;
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
      // The timeout bounds a leave nobody acknowledges; cleared once the leave completes, so
      // a closed peer never holds the process open for the rest of timeoutMs.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closed = new Promise<void>((resolve) => {
        this.closedSignal = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      this.driver.command((now) => this.peer.leave(now));
      await closed;
      clearTimeout(timer);
      await this.driver.flushed();
      await this.driver.stop();
      this.finishIterators();
    })();
    return this.closing;
  }

  /**
   * Closes the socket at once and tells nobody: to the grid, this peer crashed (neighbours
   * notice unanswered pings, the lobby missed heartbeats). For demos and failure tests; a game
   * leaving calls close(). Idempotent; close() after it resolves at once.
   */
  destroy(): Promise<void> {
    this.closing ??= (async () => {
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

  /** A listener threw: an "error" event with code "listener", or an uncaught exception when nobody listens. */
  protected override onListenerError(name: keyof NodePeerEvents, error: unknown): void {
    if (name === "error" || this.listenerCount("error") === 0) {
      rethrowAsync(error);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new RelayGridError(ErrorCode.Listener, `a "${String(name)}" listener threw: ${message}`);
    Object.defineProperty(wrapped, "cause", { value: error, writable: true, configurable: true });
    this.emit("error", wrapped);
  }

  /** @internal every event from the driver loop */
  handleEvent(e: PeerEvent): void {
    this.emit("event", e);
    switch (e.type) {
      case "data": {
        const info: DataInfo =
          e.reliable === undefined && e.routed === undefined
            ? { origin: e.origin, seq: e.seq, hops: e.hops, target: e.target }
            : { origin: e.origin, seq: e.seq, hops: e.hops, target: e.target, reliable: e.reliable, ordered: e.ordered, team: e.team, routed: e.routed };
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
      case "connected":
        this.emit("connected", e);
        return;
      case "island":
        this.emit("island", e);
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
 * Resolves the lobby's host name, binds a UDP socket, opens a lobby session, finds (or with
 * `create: true` creates) the grid and joins it. Resolves once the lobby confirms the peer is in
 * the grid's main component (`resolveOn: "joined"`: once it holds its first link, or is the
 * grid's first member); rejects with a RelayGridError: invalid-address (the lobby
 * does not parse or resolve), timeout (the lobby did not answer), rejected (its Welcome
 * failed the pinned lobbyKey, or it refused), unknown-grid, grid-full, unreachable (admitted,
 * but no member could be reached through the NATs in between, within unreachableAfterMs:
 * the message says where the lobby sees this peer and what would fix it), socket, ...
 */
export async function joinGrid(options: JoinGridOptions): Promise<NodePeer> {
  const resolved = await resolveAddress("lobby", options.lobby);
  const lobby = resolved.address;
  const host = options.host ?? defaultBindHost(resolved);
  checkBindFamily(host, resolved.family);
  const config = {
    ...options,
    lobby,
    random: options.random ?? new CryptoRandom(),
    crypto: options.crypto ?? new NodeCrypto(),
    lobbyKey: parseKey(options.lobbyKey),
  };
  resolvePeerConfig(config); // a bad option throws before a socket is bound
  const timeoutMs = options.joinTimeoutMs ?? defaultJoinTimeoutMs(options.retransmitMs, options.maxAttempts);
  const resolveOn = checkResolveOn(options.resolveOn ?? "connected");
  const loss = checkLoss(options.simulatedLossPercent ?? 0);
  // Its own socket, and extra ones for birthday probing behind a hard NAT (probe-sockets.ts).
  const socket = new ProbeSockets(await openUdp(host, options.port ?? 0, { udp: options.udp }), host);
  const peer = new Peer({ ...config, localAddresses: options.localAddresses ?? localSocketAddresses(socket.address()) });
  let node: NodePeer | undefined;
  let settle: ((err?: RelayGridError) => void) | undefined;
  const joined = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const driver = driveEndpoint<PeerEvent>(socket, peer, {
    sendFilter: loss > 0 ? () => Math.random() * 100 >= loss : undefined,
    onEvent: (e) => {
      if (e.type === resolveOn) settle?.();
      // Not joined: the lobby refused (the peer is idle again), or no member can be reached.
      else if (e.type === "error" && (peer.phase === "idle" || e.code === ErrorCode.Unreachable)) settle?.(new RelayGridError(e.code, e.message));
      options.onEvent?.(e);
      node?.handleEvent(e);
    },
    onError: (err) => {
      if (node !== undefined && node.listenerCount("error") > 0) node.handleEvent({ type: "error", code: err.code, message: err.message });
    },
  });
  node = new NodePeer(peer, driver, socket, options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES);
  const timer = setTimeout(() => settle?.(joinTimeoutError(timeoutMs, lobby, options.grid, peer.phase, peer.stats(), peer.standing)), timeoutMs);
  const onAbort = (): void => settle?.(new RelayGridError(ErrorCode.Closed, `joinGrid aborted by its signal (lobby ${lobby}, grid ${String(options.grid)})`));
  options.signal?.addEventListener("abort", onAbort);
  try {
    if (options.signal?.aborted === true) onAbort();
    else driver.command((now) => peer.join(now, options));
    await joined;
    return node;
  } catch (e) {
    // Admitted but not joined (unreachable, a deadline, an abort): leave, so the lobby and
    // any member that half-linked hear of it at once instead of timing it out.
    if (peer.id !== 0 && node !== undefined) await node.close(500);
    else await driver.stop();
    throw e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
