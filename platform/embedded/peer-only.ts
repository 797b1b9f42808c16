/**
 * relaygrid/embedded without the lobby: everything a console or engine needs to run a peer.
 * dist/relaygrid.embedded-peer.js is this module with every dependency bundled (the lobby,
 * ~29 KB minified, left out); index.ts adds createEmbeddedLobby on top of it.
 */
// First, before anything reaches @msgpack/msgpack (see text-codec-polyfill.ts).
export { textCodecPolyfilled } from "./text-codec-polyfill.ts";

export { createEmbeddedPeer, type DataInfo, type EmbeddedPeer, type EmbeddedPeerOptions, type EmbeddedPeerStats } from "./peer.ts";
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
export { MAX_PAYLOAD_BYTES } from "../../wire/index.ts";
