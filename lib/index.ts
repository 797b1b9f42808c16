/**
 * relaygrid: the sans-IO core. A Peer and a Lobby are pure state machines fed bytes and
 * time by a driver (relaygrid/node, relaygrid/embedded, relaygrid/memory).
 */
export type { Address, Endpoint, Millis, Transmit } from "./endpoint.ts";
export { checkInt, ErrorCode, RelayGridError } from "./errors.ts";
export { randomInt, SeededRandom, shuffle, type Random } from "./rng.ts";
export { DuplicateWindow, SeqResult, DEFAULT_WINDOW_BITS } from "./relay/duplicate-window.ts";
export { DuplicateFilter, DEFAULT_MAX_ORIGINS } from "./relay/origin-table.ts";
export { DEFAULT_SEQ_JUMP_QUIET_MS } from "./relay/origin-window.ts";
export {
  defaultRelayRules,
  DEFAULT_MAX_HOPS,
  hopLimit,
  notBackToSender,
  notToOrigin,
  excludeRule,
  messageRule,
  withWireHopLimit,
  checkRelayRules,
  type ExcludedField,
  type RelayContext,
  type RelayRule,
} from "./relay/rules.ts";
export { RelayRuleSet, selectLinks } from "./relay/rule-set.ts";
export * from "./peer/config.ts";
export * from "./peer/connection-rules.ts";
export type { LinkCloseReason, PeerEvent } from "./peer/events.ts";
export { Peer, type JoinOptions } from "./peer/peer.ts";
export type { SendOptions } from "./peer/messages.ts";
export { isSpectator, MemberRole, SPECTATOR_ID_MIN, SPECTATOR_ID_MAX, type MemberRoleName } from "./relay/spectators.ts";
export type { PeerStats } from "./peer/stats.ts";
export { MAX_PAYLOAD_BYTES, DEFAULT_MAX_DATAGRAM_BYTES } from "../wire/index.ts";
export { Lobby } from "./lobby/lobby.ts";
export type { LobbyConfig } from "./lobby/config.ts";
export type { LobbyEvent } from "./lobby/events.ts";
export {
  joinTokenAdmission,
  type AdmissionHook,
  type AdmissionRequest,
  type AdmissionVerdict,
  type JoinTokenAdmissionOptions,
} from "./lobby/admission.ts";
export {
  createJoinToken,
  readJoinToken,
  verifyJoinToken,
  JOIN_TOKEN_MAX_BYTES,
  JOIN_TOKEN_NONCE_BYTES,
  type JoinTokenClaims,
} from "./security/join-token.ts";
export type { GridStanding } from "./peer/standing.ts";
