/**
 * relaygrid/embedded: host-driven Peer and Lobby for runtimes that own the socket and the
 * clock (console titles, engines with an embedded JS VM). The host calls receive() and
 * update(now) and supplies send(address, bytes); nothing here needs timers, promises or
 * any API beyond ECMAScript 2020. dist/relaygrid.embedded.js is this module with every
 * dependency bundled, exposing a global `relaygrid` when loaded as a script;
 * dist/relaygrid.embedded-peer.js is the same without the lobby (peer-only.ts).
 */
// First (it installs the UTF-8 fallback before anything reaches @msgpack/msgpack).
export * from "./peer-only.ts";

export { createEmbeddedLobby, type EmbeddedLobby, type EmbeddedLobbyOptions } from "./lobby.ts";
export type { LobbyConfig } from "../../lib/lobby/config.ts";
export type { LobbyEvent } from "../../lib/lobby/events.ts";
export type { LobbyStats } from "../../lib/lobby/stats.ts";
export type { GridSummary } from "../../lib/lobby/view.ts";
