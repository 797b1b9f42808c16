/**
 * Counters for stats(): traffic, and every dropped datagram by a named reason (STYLE.md 6).
 * Invariant, checked by the hostile-input tests: datagramsIn === accepted + sum(drops).
 */
import type { DecodeErrorCode } from "../../wire/decode-error.ts";

/** Why an inbound datagram was dropped. Decode failures use the codec's codes as they are. */
export const LobbyDrop = {
  /** Arrived after close(). */
  Closed: "closed",
  /** An authenticated session request over the session's bucket (requestsPerSecondPerSession). */
  RateLimited: "rate-limited",
  /** A Hello with a valid cookie over its host's handshake bucket (handshakesPerSecondPerHost). */
  HandshakeRateLimited: "handshake-rate-limited",
  /** A Hello from a host that holds maxSessionsPerHost sessions (answered QuotaExceeded). */
  SessionsPerHost: "sessions-per-host",
  /** A session request not in a session frame (PROTOCOL.md 6.10; answered Unauthenticated, at most once a second). */
  Unframed: "unframed",
  /** A session frame whose auth field is missing or whose tag does not verify under the session's key. */
  BadMac: "bad-mac",
  /** A session frame whose counter was already taken (a replay), or is too far behind the newest. */
  Replay: "replay",
  /** A session frame carrying a message that is not a peer -> lobby session request, or naming another session. */
  BadFrameBody: "bad-frame-body",
  /** A kind the lobby never accepts: relay data, peer <-> peer control, lobby -> peer replies. */
  UnexpectedKind: "unexpected-kind",
  /** The session id is not open (answered with UnknownSession when that is small enough). */
  UnknownSession: "unknown-session",
  /** A session used from another address than the Hello that opened it. */
  AddressMismatch: "address-mismatch",
  /** A Hello while maxSessions are open and none is idle enough to evict. */
  SessionsFull: "sessions-full",
  /** A Hello shorter than MIN_HELLO_BYTES: too small to answer within 3x (PROTOCOL.md 6, no amplification). */
  ShortHello: "short-hello",
  /** A ProbeReply naming a peer its session does not hold. */
  NotMember: "not-member",
  /** A ProbeReply that answers no Probe the lobby sent (or one already answered). */
  UnsolicitedProbeReply: "unsolicited-probe-reply",
  /** A handler threw: a lobby bug, never the sender's fault. Tests assert it stays 0. */
  InternalError: "internal-error",
} as const;
export type LobbyDrop = (typeof LobbyDrop)[keyof typeof LobbyDrop];
export type DropReason = LobbyDrop | DecodeErrorCode;

export interface LobbyStats {
  grids: number;
  peers: number;
  sessions: number;
  /** Confirmed links: both ends report them. */
  links: number;
  /** Grids whose confirmed graph has more than one component. */
  islands: number;
  /** Components over all grids with members (equals `grids` with members when nothing is split). */
  components: number;
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams handed to the driver by pollTransmit(). */
  datagramsOut: number;
  bytesOut: number;
  /** Inbound datagrams that reached a handler. */
  accepted: number;
  /** Inbound datagrams dropped, by reason. */
  drops: Record<string, number>;
  /** Error replies sent, by LobbyErrorCode name. */
  errorsSent: Record<string, number>;
  probesSent: number;
  hintsSent: number;
  /** Requests the admission policy refused (Error NotAdmitted sent). */
  notAdmitted: number;
  /** GridStatus notices sent (a member entered or left its grid's main component, or a repeat). */
  statusesSent: number;
  /** Retry replies (address-validation cookies) sent to Hellos without a valid cookie. */
  retriesSent: number;
  /** Sessions opened by a completed handshake (a retransmitted Hello is not counted again). */
  handshakes: number;
  /** Grid keys that became active (rotations completed). */
  keyRotations: number;
  /** Outbound datagrams discarded because the transmit queue was full (the driver is not draining). */
  transmitsDropped: number;
  /** Events discarded because the event queue was full (the application is not draining). */
  eventsDropped: number;
  /** NAT traversal (PROTOCOL.md 4.7): Register requests that registered (or confirmed) a link key. */
  registrations: number;
  /** Introductions made: pairs whose two ends were each sent an Introduction. */
  introductions: number;
  /** Introduce targets not introduced, by IntroStatus name (NotMember, NoKey, RateLimited, Self). */
  introductionsRefused: Record<string, number>;
  /** PunchReports received, by outcome. */
  punchesOk: number;
  punchesFailed: number;
  /** Members isolated now: no confirmed link for isolatedAfterMs in a grid with others (they reach nobody). */
  isolated: number;
  /** Members ever counted isolated, and those that left with no link after only failed punches (they gave up: unreachable). */
  isolations: number;
}

export class LobbyCounters {
  datagramsIn = 0;
  bytesIn = 0;
  datagramsOut = 0;
  bytesOut = 0;
  accepted = 0;
  probesSent = 0;
  hintsSent = 0;
  statusesSent = 0;
  notAdmitted = 0;
  retriesSent = 0;
  handshakes = 0;
  keyRotations = 0;
  transmitsDropped = 0;
  eventsDropped = 0;
  registrations = 0;
  introductions = 0;
  punchesOk = 0;
  punchesFailed = 0;
  isolated = 0;
  isolations = 0;
  readonly introductionsRefused: Record<string, number> = {};
  readonly drops: Record<string, number> = {};
  readonly errorsSent: Record<string, number> = {};

  drop(reason: DropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  errorSent(name: string): void {
    this.errorsSent[name] = (this.errorsSent[name] ?? 0) + 1;
  }

  totalDrops(): number {
    let n = 0;
    for (const k in this.drops) n += this.drops[k] ?? 0;
    return n;
  }
}
