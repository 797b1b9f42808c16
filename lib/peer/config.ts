/**
 * Peer configuration: every limit and time period is an option with a named default.
 * None of the patent family gives numbers; these are chosen for game traffic (10-60
 * updates/s, players noticing > 200 ms) on the public Internet.
 */
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import type { Address } from "../endpoint.ts";
import type { Random } from "../rng.ts";
import type { CryptoProvider } from "../security/crypto.ts";
import { NobleCrypto } from "../security/noble-crypto.ts";
import { DEFAULT_WINDOW_BITS } from "../relay/duplicate-window.ts";
import { DEFAULT_MAX_ORIGINS } from "../relay/origin-table.ts";
import { checkRelayRules, defaultRelayRules, withWireHopLimit, type RelayRule } from "../relay/rules.ts";
import { MAX_LINKS, MAX_NAME_BYTES, utf8Length } from "../../wire/index.ts";
import {
  defaultConnectionRules,
  resolveConnectionRules,
  type ConnectionRules,
  type ResolvedConnectionRules,
} from "./connection-rules.ts";

/** Links each peer keeps at most (claim 1's connection limit). Defaults to 4. */
export const DEFAULT_CONNECTION_LIMIT = 4;
/** Claim 29's time limit: how long a joining peer collects join responses. Defaults to 250 ms. */
export const DEFAULT_JOIN_WINDOW_MS = 250;
/** Members a joining peer asks at most (a random sample of a large grid). Defaults to 24. */
export const DEFAULT_JOIN_SAMPLE = 24;
/**
 * Member addresses a peer keeps at most: the lobby's member list or sample (at most 32 from a
 * large grid), and members that asked it to join or link. The oldest go first; a peer that
 * runs out of candidates asks the lobby for a fresh sample. Defaults to 128.
 */
export const DEFAULT_MAX_KNOWN_MEMBERS = 128;
/** Claim 46: interval between pings on every link. Defaults to 1000 ms. */
export const DEFAULT_PING_INTERVAL_MS = 1000;
/** Claim 47: a pong later than this after its ping is unacceptable. Defaults to 800 ms. */
export const DEFAULT_PONG_TIMEOUT_MS = 800;
/** Claim 49: unacceptable pongs in a row before the link is closed. Defaults to 3. */
export const DEFAULT_MAX_MISSED_PINGS = 3;
/** Claim 41: a member this peer disconnected from is not chosen again for this long. Defaults to 10000 ms. */
export const DEFAULT_DISCONNECT_PERIOD_MS = 10_000;
/** How often a peer below its limit looks for links (claim 36). Defaults to 1000 ms. */
export const DEFAULT_SEEK_INTERVAL_MS = 1000;
/** First retransmit of a control request; it doubles each time. Defaults to 200 ms. */
export const DEFAULT_RETRANSMIT_MS = 200;
/**
 * Sends of one control request before it gives up. With the backoff (200, 400, 800, 1600,
 * then every 2000 ms) that is about 11 s, so a request survives 20% loss with a failure
 * rate near 0.2^8 = 3e-6. Defaults to 8.
 */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Datagrams per second a peer takes from one address that is not one of its links (joins,
 * connection-available and connect requests; floods from strangers). Defaults to 20.
 */
export const DEFAULT_STRANGER_RATE_PER_SECOND = 20;
/** Burst allowed above that rate. Defaults to 40. */
export const DEFAULT_STRANGER_BURST = 40;
/** Strangers whose rate is tracked at once (least recently seen forgotten first). Defaults to 1024. */
export const DEFAULT_MAX_TRACKED_STRANGERS = 1024;
/**
 * Invalid datagrams (bad tag, undecodable) a link may send in one ping interval before the
 * peer closes it as misbehaving and tells the lobby. Defaults to 32.
 */
export const DEFAULT_MAX_INVALID_PER_LINK = 32;

export interface PeerConfig {
  /** The lobby's address, as the driver spells it ("127.0.0.1:7777"). Required. */
  lobby: Address;
  /** Injected randomness (DESIGN.md: the core never calls Math.random). Required. */
  random: Random;
  /** Claims 1, 9: this peer's own connection limit (2..64). Defaults to DEFAULT_CONNECTION_LIMIT (4). */
  connectionLimit?: number;
  /** A name the lobby may show. Defaults to "". */
  name?: string;
  /** Defaults to DEFAULT_JOIN_WINDOW_MS (250). */
  joinWindowMs?: number;
  /** Defaults to DEFAULT_JOIN_SAMPLE (24). */
  joinSample?: number;
  /** Member addresses kept at most (oldest forgotten first). Defaults to DEFAULT_MAX_KNOWN_MEMBERS (128). */
  maxKnownMembers?: number;
  /** Defaults to DEFAULT_PING_INTERVAL_MS (1000). */
  pingIntervalMs?: number;
  /** Must be below pingIntervalMs. Defaults to DEFAULT_PONG_TIMEOUT_MS (800). */
  pongTimeoutMs?: number;
  /** Defaults to DEFAULT_MAX_MISSED_PINGS (3). */
  maxMissedPings?: number;
  /** Defaults to DEFAULT_DISCONNECT_PERIOD_MS (10000). */
  disconnectPeriodMs?: number;
  /** Defaults to DEFAULT_SEEK_INTERVAL_MS (1000). */
  seekIntervalMs?: number;
  /** Defaults to DEFAULT_RETRANSMIT_MS (200). */
  retransmitMs?: number;
  /** Defaults to DEFAULT_MAX_ATTEMPTS (8). */
  maxAttempts?: number;
  /**
   * Claim 14: the relay rules, applied in order to every (message, link) pair; a link gets
   * the message when every rule allows it. The wire's hop cap (hop-limit-127) always runs
   * last, added when the list does not end with it. Defaults to defaultRelayRules (not back
   * to sender, not to origin, hop limit 127).
   */
  relayRules?: readonly RelayRule[];
  /**
   * Claims 26-33, 36-43: the join policy (which responders to link with, when and whom to
   * force, which link a forced member drops). Defaults to defaultConnectionRules (first,
   * last, then random; the first positive when below the limit; force below 2 links, the
   * fastest negative responder; drop the most connected neighbour).
   */
  connectionRules?: ConnectionRules;
  /** Origins whose duplicate windows are kept. Defaults to DEFAULT_MAX_ORIGINS (4096). */
  maxOrigins?: number;
  /** Duplicate window per origin, in sequence numbers. Defaults to DEFAULT_WINDOW_BITS (1024). */
  windowBits?: number;
  /** Defaults to DEFAULT_STRANGER_RATE_PER_SECOND (20). */
  strangerRatePerSecond?: number;
  /** Defaults to DEFAULT_STRANGER_BURST (40). */
  strangerBurst?: number;
  /** Defaults to DEFAULT_MAX_TRACKED_STRANGERS (1024). */
  maxTrackedStrangers?: number;
  /** Defaults to DEFAULT_MAX_INVALID_PER_LINK (32). */
  maxInvalidPerLink?: number;
  /**
   * Cryptography (handshake, tickets, AEAD). Defaults to NobleCrypto over `random` (pure JS,
   * runs everywhere); relaygrid/node passes a node:crypto provider. For production, `random`
   * must then be cryptographically strong.
   */
  crypto?: CryptoProvider;
  /**
   * The lobby's Ed25519 public key (32 bytes). Pin it in production: without it the peer
   * trusts the key the lobby presents on first contact. Defaults to none (trust on first use).
   */
  lobbyKey?: Uint8Array;
}

export type ResolvedPeerConfig = Required<Omit<PeerConfig, "lobbyKey" | "connectionRules">> & {
  lobbyKey: Uint8Array | undefined;
  connectionRules: ResolvedConnectionRules;
};

export function resolvePeerConfig(c: PeerConfig): ResolvedPeerConfig {
  if (typeof c.lobby !== "string" || c.lobby.length === 0) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `lobby must be the lobby's address, e.g. "127.0.0.1:7777"`);
  }
  if (c.random === undefined) throw new RelayGridError(ErrorCode.InvalidConfig, "random is required: pass a seeded Random");
  const r: ResolvedPeerConfig = {
    lobby: c.lobby,
    random: c.random,
    connectionLimit: checkInt("connectionLimit", c.connectionLimit ?? DEFAULT_CONNECTION_LIMIT, 2, MAX_LINKS),
    name: c.name ?? "",
    joinWindowMs: checkInt("joinWindowMs", c.joinWindowMs ?? DEFAULT_JOIN_WINDOW_MS, 1, 60_000),
    joinSample: checkInt("joinSample", c.joinSample ?? DEFAULT_JOIN_SAMPLE, 1, 1024),
    maxKnownMembers: checkInt("maxKnownMembers", c.maxKnownMembers ?? DEFAULT_MAX_KNOWN_MEMBERS, 8, 1 << 16),
    pingIntervalMs: checkInt("pingIntervalMs", c.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS, 10, 600_000),
    pongTimeoutMs: checkInt("pongTimeoutMs", c.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS, 1, 600_000),
    maxMissedPings: checkInt("maxMissedPings", c.maxMissedPings ?? DEFAULT_MAX_MISSED_PINGS, 1, 100),
    disconnectPeriodMs: checkInt("disconnectPeriodMs", c.disconnectPeriodMs ?? DEFAULT_DISCONNECT_PERIOD_MS, 0, 3_600_000),
    seekIntervalMs: checkInt("seekIntervalMs", c.seekIntervalMs ?? DEFAULT_SEEK_INTERVAL_MS, 10, 600_000),
    retransmitMs: checkInt("retransmitMs", c.retransmitMs ?? DEFAULT_RETRANSMIT_MS, 1, 60_000),
    maxAttempts: checkInt("maxAttempts", c.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1, 20),
    // Checked once here, so the hot path need not (names key stats, so they must be unique).
    relayRules: checkRelayRules(withWireHopLimit(checkRelayRules(c.relayRules ?? defaultRelayRules))),
    connectionRules: resolveConnectionRules(c.connectionRules ?? defaultConnectionRules),
    maxOrigins: checkInt("maxOrigins", c.maxOrigins ?? DEFAULT_MAX_ORIGINS, 1, 1 << 20),
    windowBits: c.windowBits ?? DEFAULT_WINDOW_BITS,
    strangerRatePerSecond: checkInt("strangerRatePerSecond", c.strangerRatePerSecond ?? DEFAULT_STRANGER_RATE_PER_SECOND, 1, 1_000_000),
    strangerBurst: checkInt("strangerBurst", c.strangerBurst ?? DEFAULT_STRANGER_BURST, 1, 1_000_000),
    maxTrackedStrangers: checkInt("maxTrackedStrangers", c.maxTrackedStrangers ?? DEFAULT_MAX_TRACKED_STRANGERS, 1, 1 << 20),
    maxInvalidPerLink: checkInt("maxInvalidPerLink", c.maxInvalidPerLink ?? DEFAULT_MAX_INVALID_PER_LINK, 1, 1_000_000),
    crypto: c.crypto ?? new NobleCrypto(c.random),
    lobbyKey: checkKey(c.lobbyKey),
  };
  if (r.pongTimeoutMs >= r.pingIntervalMs) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `pongTimeoutMs ${r.pongTimeoutMs} must be below pingIntervalMs ${r.pingIntervalMs}`,
    );
  }
  if (utf8Length(r.name) > MAX_NAME_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `name is ${utf8Length(r.name)} bytes > ${MAX_NAME_BYTES}`);
  }
  return r;
}

function checkKey(key: Uint8Array | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "lobbyKey must be the lobby's 32-byte Ed25519 public key (relaygrid lobby prints it)");
  }
  return key.slice();
}
