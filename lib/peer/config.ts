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
import { redundancyList, REDUNDANCY_LIST_RULE } from "../relay/redundancy-list.ts";
import { resolveMessageOptions, type MessageOptions } from "./message-config.ts";
import { resolveOriginAuth, type OriginAuthOptions } from "./origin-auth.ts";
import { DEFAULT_REPAIR_BUFFER_BYTES, DEFAULT_REPAIR_BUFFER_MESSAGES } from "../relay/retransmit-buffer.ts";
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
/**
 * Relay data one link may send per second, duplicates included (a token bucket charged after
 * the tag verified; over it, data is dropped as link-rate-limited). Every origin's broadcast
 * reaches a member over most of its links, so a grid of N members each sending R a second
 * puts up to N x R a second on one link: 2000 covers 64 members at 30 Hz. Defaults to 2000.
 */
export const DEFAULT_LINK_DATA_PER_SECOND = 2000;
/** Burst above that rate. Defaults to 2000 (one second's worth). */
export const DEFAULT_LINK_DATA_BURST = 2000;
/** Tagged control datagrams one link may send per second (pings, join answers, ...). Defaults to 50. */
export const DEFAULT_LINK_CONTROL_PER_SECOND = 50;
/** Burst above that rate. Defaults to 100. */
export const DEFAULT_LINK_CONTROL_BURST = 100;
/**
 * How long the previous grid key is still accepted after this peer starts sending under a
 * new one, in lobby heartbeats: time for every member to switch (each learns of the switch
 * within one heartbeat). After it the key is forgotten, so a member that left before the
 * rotation holds no key the grid accepts (issue 15, point 3). 2 heartbeats: 4000 ms by default.
 */
export const PREVIOUS_KEY_GRACE_HEARTBEATS = 2;

/**
 * How a Peer spends its links on a broadcast (PROTOCOL.md 4.2.1):
 * - "prune": redundancy lists (US 7,685,301). A copy that arrives from a second neighbour is
 *   answered with a Prune, so after an origin's first message each member gets its messages
 *   once, over the path that delivered first; a pruned path is grafted back when the origin
 *   goes quiet or the link that delivered first closes. About one datagram per delivery.
 * - "flood": every fresh copy goes to every link but its sender (claims 2, 15-17), so each
 *   member gets each message from about every link: the most redundancy, about L-1 datagrams
 *   per delivery.
 * Defaults to "prune" (DEFAULT_REDUNDANCY) since it met every figure it is held to (issue 12:
 * bench/results/game.md, docs/RELIABILITY.md): 1.00-1.14 datagrams per delivery with no loss
 * and p99 within 1.04x of flooding's, >= 99.95% delivered at 20% loss for <= 1.45, and the
 * fault matrix's crash and partition rows delivering at least as much, healing as fast.
 */
export type Redundancy = "prune" | "flood";
export const DEFAULT_REDUNDANCY: Redundancy = "prune";
/**
 * A seq found missing (a later one arrived) is asked for this long after, so a copy that was
 * only reordered by the network lands first. Defaults to 30 ms.
 */
export const DEFAULT_REPAIR_DELAY_MS = 30;
/** Asks for one missing message (the first link that delivered the origin, then the others in turn) before it is given up. Defaults to 12. */
export const DEFAULT_MAX_REPAIR_ATTEMPTS = 12;
/**
 * Repair bytes a peer sends one link per second at most (token bucket, an eighth of it as the
 * burst): what one neighbour, honest or not, can make it send. Defaults to 1 MiB.
 */
export const DEFAULT_REPAIR_BYTES_PER_SECOND = 1 << 20;
/**
 * An origin this peer was hearing is quiet when nothing fresh came for max(this, 6 x its mean
 * interval): the peer then grafts every link for it and asks them for what they hold after its
 * newest (a lost last message, or a path cut by a crash, is found this way). Defaults to 250 ms.
 */
export const DEFAULT_QUIET_MS = 250;

/** A joining peer with no link this long after admission emits "error" code "unreachable" (it goes on trying; PROTOCOL.md 7.2: within 10 s). */
export const DEFAULT_UNREACHABLE_AFTER_MS = 8000;

export interface PeerConfig extends MessageOptions, OriginAuthOptions {
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
  /** Relay data per second one link may send. Defaults to DEFAULT_LINK_DATA_PER_SECOND (2000). */
  linkDataPerSecond?: number;
  /** Defaults to DEFAULT_LINK_DATA_BURST (2000). */
  linkDataBurst?: number;
  /** Tagged control per second one link may send. Defaults to DEFAULT_LINK_CONTROL_PER_SECOND (50). */
  linkControlPerSecond?: number;
  /** Defaults to DEFAULT_LINK_CONTROL_BURST (100). */
  linkControlBurst?: number;
  /**
   * How long the previous grid key is accepted after switching to a new one. Defaults to
   * PREVIOUS_KEY_GRACE_HEARTBEATS (2) of the heartbeat period the lobby announces.
   */
  previousKeyGraceMs?: number;
  /** "prune" (redundancy lists) or "flood". Defaults to DEFAULT_REDUNDANCY ("prune"). */
  redundancy?: Redundancy;
  /**
   * Repair what is lost: keep a retransmit buffer, ask neighbours for missing seqs, answer
   * theirs. Defaults to true with redundancy "prune" (off, a "prune" grid loses a whole
   * subtree's copy with every lost datagram) and false with "flood" (its redundant paths are
   * its repair; on, a flooding grid also pulls what every path lost).
   */
  repair?: boolean;
  /** Defaults to DEFAULT_REPAIR_DELAY_MS (30). */
  repairDelayMs?: number;
  /** Defaults to DEFAULT_MAX_REPAIR_ATTEMPTS (12). */
  maxRepairAttempts?: number;
  /** Defaults to DEFAULT_REPAIR_BUFFER_MESSAGES (4096). */
  repairBufferMessages?: number;
  /** Defaults to DEFAULT_REPAIR_BUFFER_BYTES (1 MiB). */
  repairBufferBytes?: number;
  /** Defaults to DEFAULT_REPAIR_BYTES_PER_SECOND (1 MiB). */
  repairBytesPerSecond?: number;
  /** Defaults to DEFAULT_QUIET_MS (250). */
  quietMs?: number;
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
  /**
   * NAT traversal (PROTOCOL.md 4.7): register a link key with the lobby, ask it to introduce
   * members before linking, punch holes, and link over proven paths with key-bound tickets.
   * false links only as before (4.2), with address-bound tickets. Defaults to true.
   */
  natTraversal?: boolean;
  /**
   * This peer's socket addresses on its own interfaces ("192.168.1.20:40000"), so members
   * behind the same NAT link over the LAN (4.7). Only site-private ones are registered, at
   * most 4. relaygrid/node fills them in; an embedded host passes its own. Defaults to [].
   */
  localAddresses?: readonly string[];
  /** Defaults to DEFAULT_UNREACHABLE_AFTER_MS (8000). */
  unreachableAfterMs?: number;
}

export type ResolvedPeerConfig = Required<Omit<PeerConfig, "lobbyKey" | "connectionRules" | "previousKeyGraceMs">> & {
  /** Undefined: PREVIOUS_KEY_GRACE_HEARTBEATS of the lobby's heartbeat period. */
  previousKeyGraceMs: number | undefined;
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
    relayRules: checkRelayRules(withWireHopLimit(withRedundancy(checkRelayRules(c.relayRules ?? defaultRelayRules), c.redundancy ?? DEFAULT_REDUNDANCY))),
    redundancy: checkRedundancy(c.redundancy ?? DEFAULT_REDUNDANCY),
    repair: c.repair ?? (c.redundancy ?? DEFAULT_REDUNDANCY) === "prune",
    repairDelayMs: checkInt("repairDelayMs", c.repairDelayMs ?? DEFAULT_REPAIR_DELAY_MS, 0, 10_000),
    maxRepairAttempts: checkInt("maxRepairAttempts", c.maxRepairAttempts ?? DEFAULT_MAX_REPAIR_ATTEMPTS, 1, 64),
    repairBufferMessages: checkInt("repairBufferMessages", c.repairBufferMessages ?? DEFAULT_REPAIR_BUFFER_MESSAGES, 1, 1 << 20),
    repairBufferBytes: checkInt("repairBufferBytes", c.repairBufferBytes ?? DEFAULT_REPAIR_BUFFER_BYTES, 2048, 1 << 30),
    repairBytesPerSecond: checkInt("repairBytesPerSecond", c.repairBytesPerSecond ?? DEFAULT_REPAIR_BYTES_PER_SECOND, 1200, 1 << 30),
    quietMs: checkInt("quietMs", c.quietMs ?? DEFAULT_QUIET_MS, 10, 600_000),
    connectionRules: resolveConnectionRules(c.connectionRules ?? defaultConnectionRules),
    maxOrigins: checkInt("maxOrigins", c.maxOrigins ?? DEFAULT_MAX_ORIGINS, 1, 1 << 20),
    windowBits: c.windowBits ?? DEFAULT_WINDOW_BITS,
    strangerRatePerSecond: checkInt("strangerRatePerSecond", c.strangerRatePerSecond ?? DEFAULT_STRANGER_RATE_PER_SECOND, 1, 1_000_000),
    strangerBurst: checkInt("strangerBurst", c.strangerBurst ?? DEFAULT_STRANGER_BURST, 1, 1_000_000),
    maxTrackedStrangers: checkInt("maxTrackedStrangers", c.maxTrackedStrangers ?? DEFAULT_MAX_TRACKED_STRANGERS, 1, 1 << 20),
    maxInvalidPerLink: checkInt("maxInvalidPerLink", c.maxInvalidPerLink ?? DEFAULT_MAX_INVALID_PER_LINK, 1, 1_000_000),
    linkDataPerSecond: checkInt("linkDataPerSecond", c.linkDataPerSecond ?? DEFAULT_LINK_DATA_PER_SECOND, 1, 100_000_000),
    linkDataBurst: checkInt("linkDataBurst", c.linkDataBurst ?? DEFAULT_LINK_DATA_BURST, 1, 100_000_000),
    linkControlPerSecond: checkInt("linkControlPerSecond", c.linkControlPerSecond ?? DEFAULT_LINK_CONTROL_PER_SECOND, 1, 1_000_000),
    linkControlBurst: checkInt("linkControlBurst", c.linkControlBurst ?? DEFAULT_LINK_CONTROL_BURST, 1, 1_000_000),
    previousKeyGraceMs: c.previousKeyGraceMs === undefined ? undefined : checkInt("previousKeyGraceMs", c.previousKeyGraceMs, 0, 3_600_000),
    crypto: c.crypto ?? new NobleCrypto(c.random),
    lobbyKey: checkKey(c.lobbyKey),
    ...resolveMessageOptions(c),
    ...resolveOriginAuth(c),
    natTraversal: c.natTraversal ?? true,
    localAddresses: checkLocals(c.localAddresses ?? []),
    unreachableAfterMs: checkInt("unreachableAfterMs", c.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS, 1, 3_600_000),
  };
  if (r.pongTimeoutMs >= r.pingIntervalMs) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `pongTimeoutMs ${r.pongTimeoutMs} must be below pingIntervalMs ${r.pingIntervalMs}`);
  }
  if (utf8Length(r.name) > MAX_NAME_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `name is ${utf8Length(r.name)} bytes > ${MAX_NAME_BYTES}`);
  }
  return r;
}

function checkRedundancy(r: Redundancy): Redundancy {
  if (r !== "prune" && r !== "flood") {
    throw new RelayGridError(ErrorCode.InvalidConfig, `redundancy must be "prune" or "flood", got ${JSON.stringify(r)}`);
  }
  return r;
}

/**
 * For "prune", the rule list with the redundancy list (lib/relay/redundancy-list.ts) put
 * before its first hop limit (so the defaults stay decided without a call per link); a list
 * that already holds it keeps it where it is.
 */
function withRedundancy(rules: readonly RelayRule[], mode: Redundancy): readonly RelayRule[] {
  const has = rules.some((r) => r.name === REDUNDANCY_LIST_RULE);
  if (mode === "flood" && has) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `relayRules holds "${REDUNDANCY_LIST_RULE}" but redundancy is "flood": leave it out, or use "prune"`);
  }
  if (mode === "flood" || has) return rules;
  const at = rules.findIndex((r) => r.maxHops !== undefined);
  const i = at < 0 ? rules.length : at;
  return Object.freeze([...rules.slice(0, i), redundancyList, ...rules.slice(i)]);
}

function checkLocals(locals: readonly string[]): readonly string[] {
  if (!Array.isArray(locals) || !locals.every((a) => typeof a === "string" && a.length > 0 && a.length <= 64)) {
    throw new RelayGridError(ErrorCode.InvalidConfig, 'localAddresses must be socket addresses such as "192.168.1.20:40000"');
  }
  return [...locals];
}

function checkKey(key: Uint8Array | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "lobbyKey must be the lobby's 32-byte Ed25519 public key (relaygrid lobby prints it)");
  }
  return key.slice();
}
