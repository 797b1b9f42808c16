/**
 * relaygrid/embedded: host-driven Peer and Lobby for runtimes that own the socket and the
 * clock (console titles, engines with an embedded JS VM). The host calls receive() and
 * update(now) and supplies send(address, bytes); nothing here needs timers, promises or
 * any API beyond ECMAScript 2020. dist/relaygrid.embedded.js is this module with every
 * dependency bundled, exposing a global `relaygrid` when loaded as a script.
 */
// First, before anything reaches @msgpack/msgpack (see text-codec-polyfill.ts).
export { textCodecPolyfilled } from "./text-codec-polyfill.ts";

export { createEmbeddedPeer, type DataInfo, type EmbeddedPeer, type EmbeddedPeerOptions, type EmbeddedPeerStats } from "./peer.ts";
export { createEmbeddedLobby, type EmbeddedLobby, type EmbeddedLobbyOptions } from "./lobby.ts";
export { DEFAULT_MAX_QUEUED_EVENTS, type SendFn } from "./host-pump.ts";
export { BytesRandom, type RandomSource } from "./random-source.ts";
export type { RandomBytes } from "../../lib/security/crypto.ts";
export { Utf8TextDecoder, Utf8TextEncoder, type EncodeIntoResult, type Utf8DecoderOptions } from "./utf8-codec.ts";

export type { Address, Millis } from "../../lib/endpoint.ts";
export { ErrorCode, RelayGridError } from "../../lib/errors.ts";
export { SeededRandom, type Random } from "../../lib/rng.ts";
export { DEFAULT_CONNECTION_LIMIT, type PeerConfig } from "../../lib/peer/config.ts";
export type { LinkCloseReason, PeerEvent } from "../../lib/peer/events.ts";
export type { JoinOptions } from "../../lib/peer/peer.ts";
export type { PeerStats } from "../../lib/peer/stats.ts";
export type { Phase } from "../../lib/peer/core.ts";
export type { LobbyConfig } from "../../lib/lobby/config.ts";
export type { LobbyEvent } from "../../lib/lobby/events.ts";
export type { LobbyStats } from "../../lib/lobby/stats.ts";
export type { GridSummary } from "../../lib/lobby/view.ts";
export { MAX_PAYLOAD_BYTES } from "../../wire/index.ts";
