/**
 * `createLobby()`: the lobby on a real UDP socket (relaygrid/node). A thin shell over the
 * sans-IO Lobby and the shared endpoint driver; it runs on Node, Deno and Bun, on the
 * runtime's native UDP socket where it has one (udp-transport.ts).
 */
import { checkInt, ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { DEFAULT_MAX_SESSIONS } from "../../lib/lobby/config.ts";
import { Lobby, type LobbyConfig, type LobbyEvent, type LobbyEventType, type LobbyStats } from "../../lib/lobby/index.ts";
import type { Random } from "../../lib/rng.ts";
import { DEFAULT_ADDRESS_CACHE_ENTRIES, formatAddress } from "./address.ts";
import { CryptoRandom } from "./crypto-random.ts";
import { driveEndpoint, type DriverStats } from "./endpoint-driver.ts";
import { openUdp, type UdpTransportChoice } from "./udp-transport.ts";
import { joinTokenAdmission } from "../../lib/lobby/admission.ts";
import { keyBytes } from "./join-token.ts";
import { NodeCrypto } from "./node-crypto.ts";
import { ReplyTimer, type ReplyTimes } from "./reply-timer.ts";

/** Defaults to "127.0.0.1" (loopback only; pass "0.0.0.0" or "::" to serve a network). */
export const DEFAULT_LOBBY_HOST = "127.0.0.1";
/** Defaults to 7777. */
export const DEFAULT_LOBBY_PORT = 7777;
/**
 * The lobby socket's receive buffer: 4 MiB (Linux caps it at net.core.rmem_max, 4 MiB on
 * many systems, 208 KiB on some). At 20,000 requests/s a 200 KiB default holds about 15 ms
 * of small datagrams; a GC pause or a busy core longer than that drops heartbeats.
 */
export const DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long close() waits for LobbyClosing datagrams to leave before closing the socket. Defaults to 1000 ms. */
export const DEFAULT_CLOSE_FLUSH_MS = 1000;

/**
 * Every LobbyConfig option but `random`, which defaults here. Among them: `identity`, the
 * lobby's Ed25519 key pair (defaults to a fresh one per process: pass the same pair on every
 * start so pinned peers keep trusting a restarted lobby), and `crypto` (defaults to a
 * NodeCrypto: node:crypto where it is faster, randomness from crypto.randomBytes).
 */
export interface CreateLobbyOptions extends Omit<LobbyConfig, "random"> {
  /** Address to bind. Defaults to "127.0.0.1" (DEFAULT_LOBBY_HOST); an IPv6 literal binds udp6. */
  host?: string;
  /** UDP port; 0 picks a free one (see address()). Defaults to 7777 (DEFAULT_LOBBY_PORT). */
  port?: number;
  /** Defaults to a CryptoRandom (Web Crypto); pass a SeededRandom to replay a run. */
  random?: Random;
  /**
   * Admit only players with a join token signed by one of these keys (the game backend's
   * public keys, 32 bytes or 64 hex characters; two during a key rotation): the lobby's
   * `admission` becomes joinTokenAdmission over them, with Date.now as its clock. Defaults
   * to none (anyone may join). Not together with `admission`.
   */
  joinTokenKeys?: readonly (Uint8Array | string)[];
  /** The socket API: "auto" (the default) takes Bun's or Deno's native UDP socket where there is one, else node:dgram. */
  udp?: UdpTransportChoice;
  /** SO_RCVBUF in bytes (node:dgram on Node and Bun only; the OS caps it; Deno's node:dgram cannot set it). Defaults to 4 MiB (DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES). */
  receiveBufferBytes?: number;
}

export type LobbyEventOf<T extends LobbyEventType> = Extract<LobbyEvent, { type: T }>;

export interface LobbyServer {
  /** The bound address as "HOST:PORT" ("[v6]:PORT" for IPv6), with the real port. */
  address(): string;
  /** The lobby's Ed25519 identity public key as 64 lowercase hex characters: what peers pin. */
  publicKey(): string;
  /** The lobby's counters plus the driver's (socket sends and errors). */
  stats(): LobbyStats & { driver: DriverStats };
  /** How long replies took, by request kind (reply-timer.ts): what /metrics exports as a histogram. */
  replyTimes(): ReplyTimes;
  /** The sans-IO lobby, for its getters (grids(), membersOf(), graphOf(), componentsOf()). Do not feed it input. */
  readonly lobby: Lobby;
  /** Subscribes to one event type, "event" (all of them) or "error"; returns an unsubscribe function. */
  on<T extends LobbyEventType>(type: T, listener: (event: LobbyEventOf<T>) => void): () => void;
  on(type: "event", listener: (event: LobbyEvent) => void): () => void;
  on(type: "error", listener: (error: RelayGridError) => void): () => void;
  /** Sends LobbyClosing to every session, waits for it to leave (bounded), closes the socket. Idempotent. */
  close(reason?: string): Promise<void>;
}

/** Binds a UDP lobby and resolves once it is listening. Rejects with a RelayGridError (invalid-config or socket). */
export async function createLobby(options: CreateLobbyOptions = {}): Promise<LobbyServer> {
  const { host = DEFAULT_LOBBY_HOST, port = DEFAULT_LOBBY_PORT, random, crypto, udp, joinTokenKeys, receiveBufferBytes = DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES, ...limits } = options;
  checkInt("receiveBufferBytes", receiveBufferBytes, 1024, 1 << 30);
  checkInt("port", port, 0, 65535);
  if (typeof host !== "string" || host === "") throw new RelayGridError(ErrorCode.InvalidConfig, `host must be a non-empty string, got ${String(host)}`);
  // Built before binding, so a bad option never leaves a socket open.
  const providers = { random: random ?? new CryptoRandom(), crypto: crypto ?? new NodeCrypto() };
  if (joinTokenKeys !== undefined) {
    if (limits.admission !== undefined) throw new RelayGridError(ErrorCode.InvalidConfig, "pass joinTokenKeys or admission, not both");
    const publicKeys = joinTokenKeys.map((k, i) => keyBytes(`joinTokenKeys[${i}]`, k));
    limits.admission = joinTokenAdmission({ publicKeys, crypto: providers.crypto, unixTimeMs: Date.now });
  }
  const lobby = new Lobby({ ...limits, ...providers });
  const publicKey = Buffer.from(lobby.publicKey).toString("hex");
  // One address per session: the address cache holds them all.
  const socket = await openUdp(host, port, { udp, receiveBufferBytes, addressCacheEntries: Math.max(DEFAULT_ADDRESS_CACHE_ENTRIES, limits.maxSessions ?? DEFAULT_MAX_SESSIONS) });
  const listeners = new Map<string, Set<(value: never) => void>>();
  const fire = (type: string, value: unknown): void => {
    for (const fn of listeners.get(type) ?? []) (fn as (v: unknown) => void)(value);
  };
  const replies = new ReplyTimer(lobby);
  const driver = driveEndpoint(socket, replies, {
    onEvent: (event) => {
      fire(event.type, event);
      fire("event", event);
    },
    onError: (error) => fire("error", error),
  });
  const bound = socket.address();
  const address = formatAddress(bound.address, bound.port);
  let closing: Promise<void> | undefined;

  return {
    address: () => address,
    publicKey: () => publicKey,
    stats: () => ({ ...lobby.stats(), driver: driver.stats() }),
    replyTimes: () => replies.snapshot(),
    lobby,
    on(type: string, listener: (value: never) => void): () => void {
      let set = listeners.get(type);
      if (set === undefined) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
    close(reason = "lobby closing"): Promise<void> {
      closing ??= (async () => {
        driver.command((now) => lobby.close(now, reason));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, DEFAULT_CLOSE_FLUSH_MS)));
        await Promise.race([driver.flushed(), timeout]);
        clearTimeout(timer);
        await driver.stop();
      })();
      return closing;
    },
  } as LobbyServer;
}
