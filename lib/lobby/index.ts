/** The lobby: a sans-IO Endpoint (see lobby.ts for the protocol it speaks). */
export * from "./config.ts";
export type { LobbyEvent, LobbyEventType } from "./events.ts";
export { Lobby } from "./lobby.ts";
export {
  DEFAULT_MAX_TOKEN_LIFETIME_S,
  DEFAULT_MAX_TRACKED_TOKENS,
  DEFAULT_TOKEN_CLOCK_SKEW_S,
  joinTokenAdmission,
  MAX_JOIN_TOKEN_KEYS,
  type AdmissionHook,
  type AdmissionRequest,
  type AdmissionVerdict,
  type JoinTokenAdmissionOptions,
} from "./admission.ts";
export { LobbyDrop, type DropReason, type LobbyStats } from "./stats.ts";
export { LobbyTimer } from "./timers.ts";
export type { GridSummary, LobbyFootprint, MemberSummary } from "./view.ts";
export type { GridTopology, TopologyEdge, TopologyMember } from "./topology.ts";
export { AMPLIFICATION_FACTOR, cookieBucket } from "./handshake.ts";
