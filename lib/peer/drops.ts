/**
 * The Peer's drop table (STYLE.md 6): every inbound datagram is either accepted (it reached
 * the handler for its kind, which did its job) or dropped under exactly one reason named
 * here, so `datagramsIn === accepted + sum(drops)` always holds (the tests assert it, as
 * they do for the Lobby). Decode failures keep the codec's own codes.
 *
 * Things this peer meant to do that did not happen (a send before it holds a grid key, a
 * full request table, a link refused because its address belongs to another link) are not
 * inbound drops: they are counted apart, in `failures`.
 *
 * A new reason is one entry below (and, for a derived family, one entry in its map).
 */
import type { DecodeErrorCode } from "../../wire/decode-error.ts";
import type { TagCheck } from "../security/grid-keys.ts";
import type { HandshakeResult } from "../security/handshake.ts";
import type { TicketVerdict } from "../security/ticket.ts";

export const PeerDrop = {
  /** Arrived after the peer closed (leave() finished). */
  Closed: "closed",
  /** From an address that is neither a link nor the lobby, over its token bucket (strangerRatePerSecond). */
  RateLimited: "rate-limited",
  /** A kind the current phase does not accept (phases.ts), lobby-bound requests included. */
  UnexpectedInState: "unexpected-in-state",
  /** Relay data from an address that is not one of this peer's links (claim 14). */
  NotLinked: "not-linked",
  /** Names another grid than this peer's. */
  WrongGrid: "wrong-grid",
  /** A peer <-> peer message claiming to come from this peer's own id. */
  FromSelf: "from-self",
  /** A Ping from a peer that is not linked (answered with Disconnect NotLinked, so its side closes). */
  PingNotLinked: "ping-not-linked",
  /** A Pong from a peer that is not linked. */
  PongNotLinked: "pong-not-linked",
  /** A Pong that answers no outstanding ping (too late: the pong deadline passed). */
  LatePong: "late-pong",
  /** A Probe not from the lobby's address, or naming another grid or peer. */
  UnexpectedProbe: "unexpected-probe",
  /** A RepairHint not from the lobby's address, or naming another grid or peer. */
  UnexpectedHint: "unexpected-hint",
  /** A GridStatus not from the lobby's address, or naming another grid or peer. */
  UnexpectedStatus: "unexpected-status",
  /** LobbyClosing from another address than the lobby's. */
  NotFromLobby: "not-from-lobby",
  /** A reply that matches no outstanding request by req, source address and kind (PROTOCOL.md 7). */
  UnmatchedReply: "unmatched-reply",
  /** A Members reply for another grid or part than the one asked for. */
  UnexpectedReply: "unexpected-reply",
  /** A Members grant that does not open, or holds epochs the keyring cannot take. */
  BadGrant: "bad-grant",
  // Tag checks on peer <-> peer control and relay data (PROTOCOL.md 6.6): TAG_DROP.
  TagMissing: "tag-missing",
  TagUnknownEpoch: "tag-unknown-epoch",
  TagBadTag: "tag-bad-tag",
  // Tickets shown by Connect, Force and accepting replies (PROTOCOL.md 6.3): TICKET_DROP.
  TicketBadSignature: "ticket-bad-signature",
  TicketMalformed: "ticket-malformed",
  TicketWrongGrid: "ticket-wrong-grid",
  TicketWrongPeer: "ticket-wrong-peer",
  TicketWrongAddress: "ticket-wrong-address",
  TicketExpired: "ticket-expired",
  TicketNoLobbyKey: "ticket-no-lobby-key",
  // Welcome verification (PROTOCOL.md 6.1): HANDSHAKE_DROP.
  HandshakeNoLobbyKey: "handshake-no-lobby-key",
  HandshakeBadSignature: "handshake-bad-signature",
  HandshakeBadKey: "handshake-bad-key",
  /** A handler threw: a Peer bug, never the sender's fault. Tests assert it stays 0. */
  InternalError: "internal-error",
} as const;
export type PeerDrop = (typeof PeerDrop)[keyof typeof PeerDrop];
export type DropReason = PeerDrop | DecodeErrorCode;

export const TAG_DROP: Readonly<Record<Exclude<TagCheck, "ok">, PeerDrop>> = {
  missing: PeerDrop.TagMissing,
  "unknown-epoch": PeerDrop.TagUnknownEpoch,
  "bad-tag": PeerDrop.TagBadTag,
};

export const TICKET_DROP: Readonly<Record<Exclude<TicketVerdict, "ok"> | "no-lobby-key", PeerDrop>> = {
  "bad-signature": PeerDrop.TicketBadSignature,
  malformed: PeerDrop.TicketMalformed,
  "wrong-grid": PeerDrop.TicketWrongGrid,
  "wrong-peer": PeerDrop.TicketWrongPeer,
  "wrong-address": PeerDrop.TicketWrongAddress,
  expired: PeerDrop.TicketExpired,
  "no-lobby-key": PeerDrop.TicketNoLobbyKey,
};

type HandshakeFailure = Extract<HandshakeResult, { ok: false }>["reason"];
export const HANDSHAKE_DROP: Readonly<Record<HandshakeFailure, PeerDrop>> = {
  "no-lobby-key": PeerDrop.HandshakeNoLobbyKey,
  "bad-signature": PeerDrop.HandshakeBadSignature,
  "bad-key": PeerDrop.HandshakeBadKey,
};

/** Outbound failures: what this peer tried to do and could not (not inbound drops). */
export const PeerFailure = {
  /** A peer <-> peer message to send before the peer holds a grid key (not admitted yet). */
  NoGridKey: "no-grid-key",
  /** A request not sent: the table of outstanding requests is full (1024). */
  RequestTableFull: "request-table-full",
  /** A link not opened: its address already belongs to another link (one address is one peer). */
  AddressInUse: "address-in-use",
} as const;
export type PeerFailure = (typeof PeerFailure)[keyof typeof PeerFailure];
