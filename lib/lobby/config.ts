/**
 * Lobby options: every limit and time is an option with a named default (STYLE.md 14), and
 * a bad value is the caller's mistake, thrown as a RelayGridError saying which bound it broke.
 */
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import type { Random } from "../rng.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES } from "../../wire/limits.ts";

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
/** A session without grid memberships and silent this long is forgotten. Defaults to 60000 ms. */
export const DEFAULT_SESSION_IDLE_MS = 60_000;
/** Defaults to 1024. */
export const DEFAULT_MAX_GRIDS = 1024;
/** Defaults to 256. */
export const DEFAULT_MAX_MEMBERS_PER_GRID = 256;
/** Defaults to 4096. */
export const DEFAULT_MAX_SESSIONS = 4096;
/** Token bucket refill rate per source address. Defaults to 50 requests per second. */
export const DEFAULT_REQUESTS_PER_SECOND_PER_SOURCE = 50;
/** Token bucket size per source address. Defaults to 100 requests. */
export const DEFAULT_REQUEST_BURST_PER_SOURCE = 100;
/** Source addresses with a token bucket at once (least recently seen evicted). Defaults to 8192. */
export const DEFAULT_MAX_TRACKED_SOURCES = 8192;
/** Transmits held when the driver does not drain (the excess is counted and dropped). Defaults to 8192. */
export const DEFAULT_MAX_QUEUED_TRANSMITS = 8192;
/** Events held when the application does not drain (the excess is counted and dropped). Defaults to 4096. */
export const DEFAULT_MAX_QUEUED_EVENTS = 4096;
/** Smallest maxDatagramBytes that still fits the largest grid-list or member entry. */
export const MIN_MAX_DATAGRAM_BYTES = 300;
/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD_BYTES = 65_507;

export interface LobbyConfig {
  /** Randomness for session ids, grid ids and hint choices. Required: inject a seeded source in tests, a strong one in production. */
  random: Random;
  /** Heartbeat interval sent to peers in Welcome. Defaults to 2000 (DEFAULT_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** A member silent longer than this is removed with its links. Defaults to 3.5 heartbeats (7000 with the default heartbeatMs). */
  expireAfterMs?: number;
  /** A member heard from within this counts as Alive in ConnStatusReply. Defaults to 1.5 heartbeats. */
  aliveWithinMs?: number;
  /** A link reported by one end only for this long is checked with a Probe to the other end. Defaults to 2 heartbeats. */
  unconfirmedEdgeMs?: number;
  /** A grid without members is removed after this. Defaults to 30000 (DEFAULT_EMPTY_GRID_GRACE_MS). */
  emptyGridGraceMs?: number;
  /** A grid in more than one component for this long gets repair hints. Defaults to 3000 (DEFAULT_ISLAND_GRACE_MS). */
  islandGraceMs?: number;
  /** Period of the island check. Defaults to 1000 (DEFAULT_ISLAND_CHECK_MS). */
  islandCheckMs?: number;
  /** A session holding no membership and silent this long is forgotten. Defaults to 60000 (DEFAULT_SESSION_IDLE_MS). */
  sessionIdleMs?: number;
  /** Defaults to 1024 (DEFAULT_MAX_GRIDS). */
  maxGrids?: number;
  /** Also the capacity of a grid created with capacity 0. Defaults to 256 (DEFAULT_MAX_MEMBERS_PER_GRID). */
  maxMembersPerGrid?: number;
  /** Defaults to 4096 (DEFAULT_MAX_SESSIONS). */
  maxSessions?: number;
  /** Defaults to 50 (DEFAULT_REQUESTS_PER_SECOND_PER_SOURCE). */
  requestsPerSecondPerSource?: number;
  /** Defaults to 100 (DEFAULT_REQUEST_BURST_PER_SOURCE). */
  requestBurstPerSource?: number;
  /** Defaults to 8192 (DEFAULT_MAX_TRACKED_SOURCES). */
  maxTrackedSources?: number;
  /** Largest datagram accepted or sent. Defaults to 1200 (DEFAULT_MAX_DATAGRAM_BYTES). */
  maxDatagramBytes?: number;
  /** Defaults to 8192 (DEFAULT_MAX_QUEUED_TRANSMITS). */
  maxQueuedTransmits?: number;
  /** Defaults to 4096 (DEFAULT_MAX_QUEUED_EVENTS). */
  maxQueuedEvents?: number;
}

export type ResolvedLobbyConfig = Required<LobbyConfig>;

const HOUR_MS = 3_600_000;

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
  const resolved: ResolvedLobbyConfig = {
    random,
    heartbeatMs,
    expireAfterMs,
    aliveWithinMs: checkInt("aliveWithinMs", config.aliveWithinMs ?? Math.round(heartbeatMs * ALIVE_WITHIN_HEARTBEATS), 1, expireAfterMs),
    unconfirmedEdgeMs: checkInt("unconfirmedEdgeMs", config.unconfirmedEdgeMs ?? heartbeatMs * UNCONFIRMED_EDGE_HEARTBEATS, 1, 24 * HOUR_MS),
    emptyGridGraceMs: checkInt("emptyGridGraceMs", config.emptyGridGraceMs ?? DEFAULT_EMPTY_GRID_GRACE_MS, 0, 24 * HOUR_MS),
    islandGraceMs: checkInt("islandGraceMs", config.islandGraceMs ?? DEFAULT_ISLAND_GRACE_MS, 0, 24 * HOUR_MS),
    islandCheckMs: checkInt("islandCheckMs", config.islandCheckMs ?? DEFAULT_ISLAND_CHECK_MS, 10, HOUR_MS),
    sessionIdleMs: checkInt("sessionIdleMs", config.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS, 1, 24 * HOUR_MS),
    maxGrids: checkInt("maxGrids", config.maxGrids ?? DEFAULT_MAX_GRIDS, 1, 1 << 20),
    // Member counts travel as u16 (GridList.members, HeartbeatAck.members).
    maxMembersPerGrid: checkInt("maxMembersPerGrid", config.maxMembersPerGrid ?? DEFAULT_MAX_MEMBERS_PER_GRID, 1, 0xffff),
    maxSessions: checkInt("maxSessions", config.maxSessions ?? DEFAULT_MAX_SESSIONS, 1, 1 << 22),
    requestsPerSecondPerSource: checkInt(
      "requestsPerSecondPerSource",
      config.requestsPerSecondPerSource ?? DEFAULT_REQUESTS_PER_SECOND_PER_SOURCE,
      1,
      1_000_000,
    ),
    requestBurstPerSource: checkInt("requestBurstPerSource", config.requestBurstPerSource ?? DEFAULT_REQUEST_BURST_PER_SOURCE, 1, 1_000_000),
    maxTrackedSources: checkInt("maxTrackedSources", config.maxTrackedSources ?? DEFAULT_MAX_TRACKED_SOURCES, 1, 1 << 22),
    maxDatagramBytes: checkInt(
      "maxDatagramBytes",
      config.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES,
      MIN_MAX_DATAGRAM_BYTES,
      MAX_UDP_PAYLOAD_BYTES,
    ),
    maxQueuedTransmits: checkInt("maxQueuedTransmits", config.maxQueuedTransmits ?? DEFAULT_MAX_QUEUED_TRANSMITS, 1, 1 << 22),
    maxQueuedEvents: checkInt("maxQueuedEvents", config.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS, 1, 1 << 22),
  };
  return resolved;
}
