/**
 * Lobby options: every limit and time is an option with a named default (STYLE.md 14), and
 * a bad value is the caller's mistake, thrown as a RelayGridError saying which bound it broke.
 */
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import type { Random } from "../rng.ts";
import { constantTimeEqual } from "../security/bytes.ts";
import { checkBytes, type CryptoProvider, ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, type KeyPair } from "../security/crypto.ts";
import { NobleCrypto } from "../security/noble-crypto.ts";
import type { AdmissionHook } from "./admission.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "../../wire/limits.ts";
import { MIN_MAX_DATAGRAM_BYTES } from "./sizes.ts";

export { MIN_MAX_DATAGRAM_BYTES };

/** Heartbeat interval told to peers in Welcome. Defaults to 2000 ms. */
export const DEFAULT_HEARTBEAT_MS = 2000;
/** expireAfterMs in heartbeats when not given: 3 missed heartbeats and half of one more. */
export const EXPIRE_AFTER_HEARTBEATS = 3.5;
/** A member heard from within this many heartbeats counts as Alive (claim 50). */
export const ALIVE_WITHIN_HEARTBEATS = 1.5;
/** A link reported by one end only for this many heartbeats is checked with a Probe. */
export const UNCONFIRMED_EDGE_HEARTBEATS = 2;
/** A grid without members is removed after this long. Defaults to 30000 ms. */
export const DEFAULT_EMPTY_GRID_GRACE_MS = 30_000;
/** A grid split into islands for this long gets repair hints. Defaults to 3000 ms. */
export const DEFAULT_ISLAND_GRACE_MS = 3000;
/** How often components are recomputed and hints resent. Defaults to 1000 ms. */
export const DEFAULT_ISLAND_CHECK_MS = 1000;
/**
 * How soon after a member is admitted or a link confirmed (or lost) the lobby reviews that
 * grid's components: tells members whether they stand in the main component (GridStatus) and
 * points newcomers' islands at it (standing.ts). Defaults to 50 ms.
 */
export const DEFAULT_COMPONENT_CHECK_MS = 50;
/**
 * A grid with at most this many other members hands each joiner the whole member list (in
 * parts); a larger one hands out a sample of up to 32 members in one part, members with a
 * free link first (member-sample.ts). Defaults to 64.
 */
export const DEFAULT_MEMBER_LIST_LIMIT = 64;
/** A session without grid memberships and silent this long is forgotten. Defaults to 60000 ms. */
export const DEFAULT_SESSION_IDLE_MS = 60_000;
/** Defaults to 1024. */
export const DEFAULT_MAX_GRIDS = 1024;
/** Defaults to 256. */
export const DEFAULT_MAX_MEMBERS_PER_GRID = 256;
/** Defaults to 4096. */
export const DEFAULT_MAX_SESSIONS = 4096;
/**
 * Token bucket refill rate per session, charged after the session frame authenticated
 * (PROTOCOL.md 6.10), so a spoofer cannot spend a member's tokens. Defaults to 50 requests per second.
 */
export const DEFAULT_REQUESTS_PER_SECOND_PER_SESSION = 50;
/** Token bucket size per session. Defaults to 100 requests. */
export const DEFAULT_REQUEST_BURST_PER_SESSION = 100;
/**
 * Handshakes a host (hosts.ts: an IPv4 address, an IPv6 /64) may start per second, counted
 * on Hellos with a valid cookie (so only from a host that receives at that address): each
 * costs the lobby an X25519 agreement and an Ed25519 signature. Defaults to 20.
 */
export const DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST = 20;
/** Burst allowed above that rate. Defaults to 40. */
export const DEFAULT_HANDSHAKE_BURST_PER_HOST = 40;
/** Hosts with a handshake bucket at once (least recently seen evicted). Defaults to 8192. */
export const DEFAULT_MAX_TRACKED_SOURCES = 8192;
/** Sessions one host may hold at once (PROTOCOL.md 6.11). Defaults to 64. */
export const DEFAULT_MAX_SESSIONS_PER_HOST = 64;
/** Grids created by one host that may exist at once. Defaults to 8. */
export const DEFAULT_MAX_GRIDS_PER_HOST = 8;
/** Members one host may hold in one grid. Defaults to 16 (a LAN party behind one NAT). */
export const DEFAULT_MAX_MEMBERS_PER_GRID_PER_HOST = 16;
/** A created grid that nobody selected within this is removed. Defaults to 5000 ms. */
export const DEFAULT_UNSELECTED_GRID_GRACE_MS = 5000;
/** Transmits held when the driver does not drain (the excess is counted and dropped). Defaults to 8192. */
export const DEFAULT_MAX_QUEUED_TRANSMITS = 8192;
/** Events held when the application does not drain (the excess is counted and dropped). Defaults to 4096. */
export const DEFAULT_MAX_QUEUED_EVENTS = 4096;
/**
 * A Retry cookie is made for the time bucket floor(now / cookieLifetimeMs) and accepted in
 * that bucket and the next, so it lives one to two lifetimes. Defaults to 10000 ms.
 */
export const DEFAULT_COOKIE_LIFETIME_MS = 10_000;
/** A grid's key rotates after this many members left, expired or were replaced. Defaults to 4. */
export const DEFAULT_ROTATE_AFTER_DEPARTURES = 4;
/** rotationDelayMs in heartbeats when not given: the new key is handed out for 2 heartbeats first. */
export const ROTATION_DELAY_HEARTBEATS = 2;
/**
 * NAT traversal (PROTOCOL.md 4.7): introductions a member may ask for per second, and
 * receive per second, each (token buckets per member). Defaults to 8: a joiner asks a few
 * members at a time, and a member that asks for everyone gets 8 a second, not the grid.
 */
export const DEFAULT_INTRODUCTIONS_PER_SECOND = 8;
/** Bucket size for introductions asked and received. Defaults to 16. */
export const DEFAULT_INTRODUCTION_BURST = 16;
/**
 * A member with no confirmed link this long after its admission, in a grid with other
 * members, is counted isolated (stats().isolated, event peerIsolated): it reaches nobody.
 * Defaults to 10000 ms.
 */
export const DEFAULT_ISOLATED_AFTER_MS = 10_000;
/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

/** The lobby's long-term Ed25519 identity: peers pin `publicKey` and check every Welcome and ticket against it. */
export interface LobbyIdentity {
  /** The 32-byte Ed25519 seed (RFC 8032 section 5.1.5). Keep it secret. */
  readonly secretKey: Uint8Array;
  /** The 32-byte public key derived from it. */
  readonly publicKey: Uint8Array;
}

export interface LobbyConfig {
  /** Randomness for session ids, grid ids and hint choices. Required: inject a seeded source in tests, a strong one in production. */
  random: Random;
  /**
   * The cryptographic primitives (handshake, ticket signatures, sealing, keys). Defaults to
   * `new NobleCrypto(random)`: pure JS, and its keys are only as unpredictable as `random`,
   * so production passes a strong `random` (platform/node CryptoRandom) and, on Node, a
   * NodeCrypto (platform/node/node-crypto.ts; createLobby does both).
   */
  crypto?: CryptoProvider;
  /**
   * The lobby's Ed25519 identity. Defaults to a fresh key pair from crypto.ed25519KeyPair()
   * at construction: peers that pinned the old key stop trusting a restarted lobby, so a
   * lobby that restarts passes the same identity every time (`relaygrid lobby --key-file`).
   */
  identity?: LobbyIdentity;
  /**
   * Who may create and join which grid (admission.ts): asked before a CreateGrid creates, a
   * SelectGrid admits a new member, or a Rejoin restores what the lobby cannot check by key;
   * a refusal is Error NotAdmitted. joinTokenAdmission({ publicKeys, crypto, unixTimeMs })
   * admits the holders of join tokens the game's backend signed. Defaults to none: anyone who
   * reaches the lobby may create and join any grid.
   */
  admission?: AdmissionHook;
  /** Lifetime of an address-validation cookie (Retry). Defaults to 10000 (DEFAULT_COOKIE_LIFETIME_MS). */
  cookieLifetimeMs?: number;
  /**
   * A grid's key rotates after this many members left, expired or were replaced since the
   * last rotation; 0 never rotates. Defaults to 4 (DEFAULT_ROTATE_AFTER_DEPARTURES).
   */
  rotateAfterDepartures?: number;
  /** How long a new grid key is handed out as "next" before it becomes active. Defaults to 2 heartbeats (4000 with the default heartbeatMs). */
  rotationDelayMs?: number;
  /** Heartbeat interval sent to peers in Welcome. Defaults to 2000 (DEFAULT_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** A member silent longer than this is removed with its links. Defaults to 3.5 heartbeats (7000 with the default heartbeatMs). */
  expireAfterMs?: number;
  /** A member heard from within this counts as Alive in ConnStatusReply. Defaults to 1.5 heartbeats. */
  aliveWithinMs?: number;
  /** A link reported by one end only for this long is checked with a Probe to the other end. Defaults to 2 heartbeats. */
  unconfirmedEdgeMs?: number;
  /** A grid whose members all left is removed after this. Defaults to 30000 (DEFAULT_EMPTY_GRID_GRACE_MS). */
  emptyGridGraceMs?: number;
  /** A created grid nobody selected is removed after this. Defaults to 5000 (DEFAULT_UNSELECTED_GRID_GRACE_MS). */
  unselectedGridGraceMs?: number;
  /** A grid in more than one component for this long gets repair hints. Defaults to 3000 (DEFAULT_ISLAND_GRACE_MS). */
  islandGraceMs?: number;
  /** Period of the island check. Defaults to 1000 (DEFAULT_ISLAND_CHECK_MS). */
  islandCheckMs?: number;
  /**
   * Delay from a change of a grid's members or confirmed links to the review of its components
   * (GridStatus to members that entered or left the main component; RepairHints at once to
   * islands while the grid has newcomers). Defaults to 50 (DEFAULT_COMPONENT_CHECK_MS).
   */
  componentCheckMs?: number;
  /** A session holding no membership and silent this long is forgotten. Defaults to 60000 (DEFAULT_SESSION_IDLE_MS). */
  sessionIdleMs?: number;
  /**
   * Up to this many other members, SelectGrid returns the whole member list (in parts); above
   * it, a sample of at most 32 members in one part: members with a free link first, those in
   * the main component before the rest, then any. A peer that runs out of candidates selects
   * the grid again for a fresh sample. Defaults to 64 (DEFAULT_MEMBER_LIST_LIMIT).
   */
  memberListLimit?: number;
  /** Defaults to 1024 (DEFAULT_MAX_GRIDS). */
  maxGrids?: number;
  /** Also the capacity of a grid created with capacity 0. Defaults to 256 (DEFAULT_MAX_MEMBERS_PER_GRID). */
  maxMembersPerGrid?: number;
  /** Defaults to 4096 (DEFAULT_MAX_SESSIONS). */
  maxSessions?: number;
  /** Requests per second per session, after authentication. Defaults to 50 (DEFAULT_REQUESTS_PER_SECOND_PER_SESSION). */
  requestsPerSecondPerSession?: number;
  /** Defaults to 100 (DEFAULT_REQUEST_BURST_PER_SESSION). */
  requestBurstPerSession?: number;
  /** Defaults to 20 (DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST). */
  handshakesPerSecondPerHost?: number;
  /** Defaults to 40 (DEFAULT_HANDSHAKE_BURST_PER_HOST). */
  handshakeBurstPerHost?: number;
  /** Hosts whose handshake rate is tracked at once. Defaults to 8192 (DEFAULT_MAX_TRACKED_SOURCES). */
  maxTrackedSources?: number;
  /** Defaults to 64 (DEFAULT_MAX_SESSIONS_PER_HOST). */
  maxSessionsPerHost?: number;
  /** Defaults to 8 (DEFAULT_MAX_GRIDS_PER_HOST). */
  maxGridsPerHost?: number;
  /** Defaults to 16 (DEFAULT_MAX_MEMBERS_PER_GRID_PER_HOST). */
  maxMembersPerGridPerHost?: number;
  /** Largest datagram accepted or sent. Defaults to 1200 (DEFAULT_MAX_DATAGRAM_BYTES). */
  maxDatagramBytes?: number;
  /** Defaults to 8192 (DEFAULT_MAX_QUEUED_TRANSMITS). */
  maxQueuedTransmits?: number;
  /** Defaults to 4096 (DEFAULT_MAX_QUEUED_EVENTS). */
  maxQueuedEvents?: number;
  /** Introductions a member may ask for, and receive, per second. Defaults to 8 (DEFAULT_INTRODUCTIONS_PER_SECOND). */
  introductionsPerSecond?: number;
  /** Defaults to 16 (DEFAULT_INTRODUCTION_BURST). */
  introductionBurst?: number;
  /** Defaults to 10000 (DEFAULT_ISOLATED_AFTER_MS). */
  isolatedAfterMs?: number;
}

export type ResolvedLobbyConfig = Required<Omit<LobbyConfig, "admission">> & { admission: AdmissionHook | undefined };

/** A copy of `identity`, checked: 32-byte keys, and the public key is the one the seed derives. */
function resolveIdentity(crypto: CryptoProvider, identity: LobbyIdentity | undefined): KeyPair {
  if (identity === undefined) return crypto.ed25519KeyPair();
  checkBytes("identity.secretKey", identity.secretKey, ED25519_SEED_BYTES);
  checkBytes("identity.publicKey", identity.publicKey, ED25519_PUBLIC_KEY_BYTES);
  const derived = crypto.ed25519KeyPair(identity.secretKey);
  if (!constantTimeEqual(derived.publicKey, 0, identity.publicKey, 0, ED25519_PUBLIC_KEY_BYTES)) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      "identity.publicKey is not the public key of identity.secretKey; pass the pair crypto.ed25519KeyPair(seed) returns",
    );
  }
  return { secretKey: identity.secretKey.slice(), publicKey: derived.publicKey };
}

function checkAdmission(hook: AdmissionHook | undefined): AdmissionHook | undefined {
  if (hook !== undefined && typeof hook !== "function") {
    throw new RelayGridError(ErrorCode.InvalidConfig, "admission must be a function (request) => verdict, such as joinTokenAdmission(...)");
  }
  return hook;
}

const HOUR_MS = 3_600_000;

function rate(name: string, value: number | undefined, fallback: number): number {
  return checkInt(name, value ?? fallback, 1, 1_000_000);
}

/** Fills defaults and checks every bound; throws RelayGridError(invalid-config) on a bad value. */
export function resolveLobbyConfig(config: LobbyConfig): ResolvedLobbyConfig {
  const random = config.random;
  if (random === undefined || typeof random.nextU32 !== "function" || typeof random.next !== "function") {
    throw new RelayGridError(ErrorCode.InvalidConfig, "random is required: pass a Random such as new SeededRandom(seed)");
  }
  const heartbeatMs = checkInt("heartbeatMs", config.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, 10, HOUR_MS);
  const expireAfterMs = checkInt(
    "expireAfterMs",
    config.expireAfterMs ?? Math.round(heartbeatMs * EXPIRE_AFTER_HEARTBEATS),
    heartbeatMs,
    24 * HOUR_MS,
  );
  const crypto = config.crypto ?? new NobleCrypto(random);
  const resolved: ResolvedLobbyConfig = {
    random,
    crypto,
    identity: resolveIdentity(crypto, config.identity),
    admission: checkAdmission(config.admission),
    cookieLifetimeMs: checkInt("cookieLifetimeMs", config.cookieLifetimeMs ?? DEFAULT_COOKIE_LIFETIME_MS, 1, 24 * HOUR_MS),
    rotateAfterDepartures: checkInt(
      "rotateAfterDepartures",
      config.rotateAfterDepartures ?? DEFAULT_ROTATE_AFTER_DEPARTURES,
      0,
      1 << 20,
    ),
    rotationDelayMs: checkInt("rotationDelayMs", config.rotationDelayMs ?? heartbeatMs * ROTATION_DELAY_HEARTBEATS, 0, 24 * HOUR_MS),
    heartbeatMs,
    expireAfterMs,
    aliveWithinMs: checkInt("aliveWithinMs", config.aliveWithinMs ?? Math.round(heartbeatMs * ALIVE_WITHIN_HEARTBEATS), 1, expireAfterMs),
    unconfirmedEdgeMs: checkInt("unconfirmedEdgeMs", config.unconfirmedEdgeMs ?? heartbeatMs * UNCONFIRMED_EDGE_HEARTBEATS, 1, 24 * HOUR_MS),
    emptyGridGraceMs: checkInt("emptyGridGraceMs", config.emptyGridGraceMs ?? DEFAULT_EMPTY_GRID_GRACE_MS, 0, 24 * HOUR_MS),
    unselectedGridGraceMs: checkInt("unselectedGridGraceMs", config.unselectedGridGraceMs ?? DEFAULT_UNSELECTED_GRID_GRACE_MS, 0, 24 * HOUR_MS),
    islandGraceMs: checkInt("islandGraceMs", config.islandGraceMs ?? DEFAULT_ISLAND_GRACE_MS, 0, 24 * HOUR_MS),
    islandCheckMs: checkInt("islandCheckMs", config.islandCheckMs ?? DEFAULT_ISLAND_CHECK_MS, 10, HOUR_MS),
    componentCheckMs: checkInt("componentCheckMs", config.componentCheckMs ?? DEFAULT_COMPONENT_CHECK_MS, 1, HOUR_MS),
    sessionIdleMs: checkInt("sessionIdleMs", config.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS, 1, 24 * HOUR_MS),
    memberListLimit: checkInt("memberListLimit", config.memberListLimit ?? DEFAULT_MEMBER_LIST_LIMIT, 0, 0xffff),
    maxGrids: checkInt("maxGrids", config.maxGrids ?? DEFAULT_MAX_GRIDS, 1, 1 << 20),
    // Member counts travel as u16 (GridList.members, HeartbeatAck.members).
    maxMembersPerGrid: checkInt("maxMembersPerGrid", config.maxMembersPerGrid ?? DEFAULT_MAX_MEMBERS_PER_GRID, 1, 0xffff),
    maxSessions: checkInt("maxSessions", config.maxSessions ?? DEFAULT_MAX_SESSIONS, 1, 1 << 22),
    requestsPerSecondPerSession: rate("requestsPerSecondPerSession", config.requestsPerSecondPerSession, DEFAULT_REQUESTS_PER_SECOND_PER_SESSION),
    requestBurstPerSession: rate("requestBurstPerSession", config.requestBurstPerSession, DEFAULT_REQUEST_BURST_PER_SESSION),
    handshakesPerSecondPerHost: rate("handshakesPerSecondPerHost", config.handshakesPerSecondPerHost, DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST),
    handshakeBurstPerHost: rate("handshakeBurstPerHost", config.handshakeBurstPerHost, DEFAULT_HANDSHAKE_BURST_PER_HOST),
    maxTrackedSources: checkInt("maxTrackedSources", config.maxTrackedSources ?? DEFAULT_MAX_TRACKED_SOURCES, 1, 1 << 22),
    maxSessionsPerHost: checkInt("maxSessionsPerHost", config.maxSessionsPerHost ?? DEFAULT_MAX_SESSIONS_PER_HOST, 1, 1 << 22),
    maxGridsPerHost: checkInt("maxGridsPerHost", config.maxGridsPerHost ?? DEFAULT_MAX_GRIDS_PER_HOST, 1, 1 << 20),
    maxMembersPerGridPerHost: checkInt(
      "maxMembersPerGridPerHost",
      config.maxMembersPerGridPerHost ?? DEFAULT_MAX_MEMBERS_PER_GRID_PER_HOST,
      1,
      0xffff,
    ),
    maxDatagramBytes: checkInt(
      "maxDatagramBytes",
      config.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES,
      MIN_MAX_DATAGRAM_BYTES,
      MAX_UDP_PAYLOAD_BYTES,
    ),
    maxQueuedTransmits: checkInt("maxQueuedTransmits", config.maxQueuedTransmits ?? DEFAULT_MAX_QUEUED_TRANSMITS, 1, 1 << 22),
    maxQueuedEvents: checkInt("maxQueuedEvents", config.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS, 1, 1 << 22),
    introductionsPerSecond: checkInt("introductionsPerSecond", config.introductionsPerSecond ?? DEFAULT_INTRODUCTIONS_PER_SECOND, 1, 10_000),
    introductionBurst: checkInt("introductionBurst", config.introductionBurst ?? DEFAULT_INTRODUCTION_BURST, 1, 10_000),
    isolatedAfterMs: checkInt("isolatedAfterMs", config.isolatedAfterMs ?? DEFAULT_ISOLATED_AFTER_MS, 1, 24 * HOUR_MS),
  };
  return resolved;
}
