/** The lobby: a sans-IO Endpoint (see lobby.ts for the protocol it speaks). */
export * from "./config.ts";
export type { LobbyEvent, LobbyEventType } from "./events.ts";
export { Lobby } from "./lobby.ts";
export { LobbyDrop, type DropReason, type LobbyStats } from "./stats.ts";
export { LobbyTimer } from "./timers.ts";
export type { GridSummary, LobbyFootprint, MemberSummary } from "./view.ts";
export type { GridTopology, TopologyEdge, TopologyMember } from "./topology.ts";
export { AMPLIFICATION_FACTOR, cookieBucket } from "./handshake.ts";
