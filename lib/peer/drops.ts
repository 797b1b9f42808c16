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
import type { FrameCheck, ReplayCheck } from "../security/session-frame.ts";
import type { TicketV2Verdict, TicketVerdict } from "../security/ticket.ts";

export const PeerDrop = {
  /** Arrived after the peer closed (leave() finished). */
  Closed: "closed",
  /** Tagged control from an address that is not a link, over its token bucket (strangerRatePerSecond). */
  RateLimited: "rate-limited",
  /** A kind the current phase does not accept (phases.ts), lobby-bound requests included. */
  UnexpectedInState: "unexpected-in-state",
  /** Relay data, or a relay-family control message (Repair, Prune, Graft, RepairRequest), from an address that is not one of this peer's links (claim 14). */
  NotLinked: "not-linked",
  /** A Prune, Graft or RepairRequest whose `from` is not the peer linked at the address it came from. */
  WrongSender: "wrong-sender",
  /** A peer <-> peer control message whose `to` is another peer id than this peer's (PROTOCOL.md 6.13): a capture replayed elsewhere. */
  WrongReceiver: "wrong-receiver",
  /** A message on a link whose link auth does not verify under the link's key (a forgery by a member off the link, PROTOCOL.md 6.13). */
  LinkAuth: "link-auth",
  /** A message on a link whose counter the link already took, or is older than its window (a replay). */
  LinkReplay: "link-replay",
  /** A Connect or Force whose (sender, nonce) this peer already acted on, not a retransmission: a replay, refused unanswered. */
  RequestReplay: "request-replay",
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
  /** An untagged datagram (a lobby kind, a session frame) from another address than the lobby's. */
  NotFromLobby: "not-from-lobby",
  /** A lobby message after the handshake outside a session frame (PROTOCOL.md 6.10): a forgery at the lobby's address. */
  Unauthenticated: "unauthenticated",
  // Session frames from the lobby (PROTOCOL.md 6.10): FRAME_DROP.
  /** A session frame for another session than this peer's (an old one, or a forgery). */
  FrameSession: "frame-session",
  FrameMissing: "frame-missing",
  FrameBadMac: "frame-bad-mac",
  FrameReplay: "frame-replay",
  FrameStale: "frame-stale",
  /** A session frame whose message is not one the lobby sends in a frame. */
  FrameBody: "frame-body",
  /** Tagged control from a link over its control bucket (linkControlPerSecond), or Data over its data bucket (linkDataPerSecond). */
  LinkRateLimited: "link-rate-limited",
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
  /** A key-bound ticket (version 2) from a source that proved no key for its peer, or another key (6.3, step 4). */
  TicketUnprovenKey: "ticket-unproven-key",
  // NAT traversal (PROTOCOL.md 4.7, 6.9; nat-client.ts, punch.ts).
  /** An Introduction not from the lobby's address. */
  NatKindNotFromLobby: "nat-kind-not-from-lobby",
  /** An Introduction naming another grid or receiver, or this peer as the other end. */
  UnexpectedIntroduction: "unexpected-introduction",
  /** A Registered whose key-bound ticket does not verify, or is not this member's or its key's. */
  RegisteredBadTicket: "registered-bad-ticket",
  /** A Punch or PunchReply addressed to another peer id. */
  PunchWrongTo: "punch-wrong-to",
  /** A Punch or PunchReply whose key-bound ticket fails its layout, grid, peer, epoch or signature. */
  PunchBadTicket: "punch-bad-ticket",
  /** A Punch whose challenge is not 16 bytes, or a PunchReply whose challenge is neither empty nor 16 bytes. */
  PunchBadChallenge: "punch-bad-challenge",
  /** A Punch from a member the lobby did not introduce (or whose punch ended long ago). */
  PunchNotIntroduced: "punch-not-introduced",
  /** A Punch or PunchReply past its punch's answer budget. */
  PunchRateLimited: "punch-rate-limited",
  /** A PunchReply that matches no punch under way. */
  PunchUnmatched: "punch-unmatched",
  /** A PunchReply whose proof does not verify under its ticket's key over this peer's challenge. */
  PunchBadProof: "punch-bad-proof",
  // Welcome verification (PROTOCOL.md 6.1): HANDSHAKE_DROP.
  HandshakeNoLobbyKey: "handshake-no-lobby-key",
  HandshakeBadSignature: "handshake-bad-signature",
  HandshakeBadKey: "handshake-bad-key",
  /** A Message (0x06, 0x07) whose header is malformed, or whose fragment disagrees with the message's others (PROTOCOL.md 4.1.1). */
  BadMessage: "bad-message",
  /** Relay data, a Repair or a Routed envelope whose origin is a spectator (US 7,610,402; lib/relay/spectators.ts): delivered to nobody, relayed by no one. */
  SpectatorOrigin: "spectator-origin",
  /** originAuth "ed25519" (PROTOCOL.md 4.1.4): new relay data without the origin's trailer (a payload under 173 bytes). */
  OriginUnsigned: "origin-unsigned",
  /** originAuth: the trailer's ticket is not a lobby-signed key-bound ticket for this grid, this origin and a current epoch. */
  OriginBadTicket: "origin-bad-ticket",
  /** originAuth: the origin's signature does not verify under its ticket's key (a forgery, or bytes changed on the way). */
  OriginForged: "origin-forged",
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

export const FRAME_DROP: Readonly<Record<Exclude<FrameCheck | ReplayCheck, "ok" | "fresh">, PeerDrop>> = {
  missing: PeerDrop.FrameMissing,
  "bad-mac": PeerDrop.FrameBadMac,
  replay: PeerDrop.FrameReplay,
  stale: PeerDrop.FrameStale,
};

export const TICKET_DROP: Readonly<Record<Exclude<TicketVerdict | TicketV2Verdict, "ok"> | "no-lobby-key", PeerDrop>> = {
  "bad-signature": PeerDrop.TicketBadSignature,
  malformed: PeerDrop.TicketMalformed,
  "wrong-grid": PeerDrop.TicketWrongGrid,
  "wrong-peer": PeerDrop.TicketWrongPeer,
  "wrong-address": PeerDrop.TicketWrongAddress,
  expired: PeerDrop.TicketExpired,
  "no-lobby-key": PeerDrop.TicketNoLobbyKey,
  "unproven-key": PeerDrop.TicketUnprovenKey,
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
  /** An Introduction not punched: MAX_PUNCH_SESSIONS punches are under way (punch.ts). */
  PunchTableFull: "punch-table-full",
} as const;
export type PeerFailure = (typeof PeerFailure)[keyof typeof PeerFailure];
