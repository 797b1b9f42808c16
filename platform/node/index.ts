/** relaygrid/node: the UDP drivers for Node, Deno and Bun (native UDP sockets on Bun and Deno where available). */
export { createLobby, DEFAULT_LOBBY_HOST, DEFAULT_LOBBY_PORT, DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES, type CreateLobbyOptions, type LobbyEventOf, type LobbyServer } from "./lobby-server.ts";
export { bindUdp, driveEndpoint, DEFAULT_FLUSH_WAIT_MS, type DriverOptions, type DriverStats, type EndpointDriver } from "./endpoint-driver.ts";
export {
  openUdp,
  nativeUdpTransport,
  DEFAULT_UDP_TRANSPORT,
  type OpenUdpOptions,
  type UdpAddressInfo,
  type UdpTransport,
  type UdpTransportChoice,
  type UdpTransportKind,
  type DatagramReceiver,
} from "./udp-transport.ts";
export { AddressCache, DEFAULT_ADDRESS_CACHE_ENTRIES, formatAddress, parseAddress, socketTypeFor, type HostPort } from "./address.ts";
export { CryptoRandom } from "./crypto-random.ts";
export type {
  GridSummary,
  GridTopology,
  LobbyConfig,
  LobbyEvent,
  LobbyEventType,
  LobbyStats,
  MemberSummary,
  TopologyEdge,
  TopologyMember,
} from "../../lib/lobby/index.ts";
export {
  joinGrid,
  NodePeer,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_JOIN_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_MESSAGES,
  type DataInfo,
  type JoinGridOptions,
  type Message,
  type NodePeerEvents,
} from "./node-peer.ts";
export { ErrorCode, RelayGridError } from "../../wire/errors.ts";
export { createJoinToken, createJoinTokenKeys, DEFAULT_JOIN_TOKEN_TTL_S, type CreateJoinTokenOptions, type JoinTokenKeys } from "./join-token.ts";
export type { AdmissionHook, AdmissionRequest, AdmissionVerdict } from "../../lib/lobby/admission.ts";
export { MAX_PAYLOAD_BYTES } from "../../wire/limits.ts";
export type { SendOptions } from "../../lib/peer/messages.ts";
export type { MemberRoleName } from "../../lib/relay/spectators.ts";
export { NodeCrypto, type NodeCryptoOptions } from "./node-crypto.ts";
export { REPLY_BUCKETS_SECONDS, ReplyTimer, type ReplyHistogram, type ReplyKind, type ReplyTimes } from "./reply-timer.ts";
export {
  DEFAULT_MAX_HTTP_CONNECTIONS,
  serveLobbyHttp,
  type LobbyHttpOptions,
  type LobbyHttpServer,
} from "../http/lobby-http.ts";
export { DEFAULT_MAX_CLIENT_BUFFER_BYTES, DEFAULT_MAX_CLIENTS, DEFAULT_PUSH_INTERVAL_MS, DEFAULT_SLOW_CLIENT_MS } from "../http/dashboard-feed.ts";
export { DEFAULT_MAX_DRAWN_MEMBERS, DEFAULT_MAX_LISTED_GRIDS, type DashboardState } from "../http/dashboard-state.ts";
export type { LobbyHttpSource } from "../http/source.ts";
