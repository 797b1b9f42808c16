/**
 * The Peer's phase table (STYLE.md 5, h11's state tables, netcode's per-state packet
 * filter): which message kinds each phase accepts, and which phase may follow which.
 * PeerCore.setPhase is the only writer of the phase. A kind the current phase does not
 * accept is dropped as `unexpected-in-state` (drops.ts) after decoding and before any
 * handler runs, so a handler never has to ask which phase the peer is in to refuse a kind.
 *
 *   idle -> lobby (session, grid lookup, admission) -> joining (join round, claims 26-33)
 *        -> member (relaying, seeking, maintaining) -> leaving -> closed
 *
 * A new kind or phase is one row or one list entry here.
 */
import { Kind, NatKind, type AnyKindValue } from "../../wire/kinds.ts";

export type Phase = "idle" | "lobby" | "joining" | "member" | "leaving" | "closed";

/**
 * Replies to this peer's requests: matched by req, source address and kind (request-table.ts).
 * After the handshake the lobby's arrive in a SessionFrame (PROTOCOL.md 6.10), taken in every
 * phase that takes replies; what a frame carries then goes through this table too.
 */
const REPLIES: readonly AnyKindValue[] = [
  Kind.SessionFrame,
  Kind.JoinReply,
  Kind.AvailableReply,
  Kind.ConnectReply,
  Kind.ForceReply,
  Kind.DisconnectAck,
  Kind.Welcome,
  Kind.GridList,
  Kind.GridCreated,
  Kind.Members,
  Kind.Ack,
  Kind.ConnStatusReply,
  Kind.HeartbeatAck,
  Kind.UnknownSession,
  Kind.Retry,
  Kind.Error,
  NatKind.Registered,
  NatKind.Introduced,
];

/** What a peer in the grid answers or takes from its neighbours (responder.ts, pings.ts, relay-path.ts, redundancy.ts, repair.ts). */
const IN_GRID: readonly AnyKindValue[] = [
  Kind.GridStatus,
  Kind.Join,
  Kind.Available,
  Kind.Connect,
  Kind.Force,
  Kind.Disconnect,
  Kind.Ping,
  Kind.Pong,
  Kind.Data,
  Kind.Repair,
  Kind.Message,
  Kind.MessageRepair,
  Kind.Routed,
  Kind.Prune,
  Kind.Graft,
  Kind.RepairRequest,
  Kind.Probe,
  // NAT traversal (PROTOCOL.md 4.7): the lobby's Introduction, and punching with the member it names.
  NatKind.Introduction,
  NatKind.Punch,
  NatKind.PunchReply,
];

export interface PhaseRow {
  /** Kinds handled in this phase; every other kind is `unexpected-in-state`. */
  readonly accepts: readonly AnyKindValue[];
  /** Phases setPhase may move to from this one. */
  readonly next: readonly Phase[];
}

export const PHASE_TABLE: Readonly<Record<Phase, PhaseRow>> = {
  /** Before join(), or after a join failed (a late reply is still matched, and dropped as unmatched). */
  idle: { accepts: [...REPLIES, Kind.LobbyClosing], next: ["lobby", "leaving"] },
  /** Talking to the lobby: handshake, grid lookup or creation, admission. */
  lobby: { accepts: [...REPLIES, Kind.LobbyClosing], next: ["joining", "idle", "leaving"] },
  /**
   * Admitted, looking for its first links (claims 26-33): already answers other peers, and
   * follows a RepairHint (a joiner the lobby still sees alone after the island grace).
   */
  joining: { accepts: [...REPLIES, Kind.LobbyClosing, ...IN_GRID, Kind.RepairHint], next: ["member", "leaving"] },
  /** Holds a link (or is the grid's first member): relays, seeks, maintains, repairs islands. */
  member: { accepts: [...REPLIES, Kind.LobbyClosing, ...IN_GRID, Kind.RepairHint], next: ["leaving"] },
  /** leave() closed every link and waits for the acks; the lobby may still probe. */
  leaving: { accepts: [...REPLIES, Kind.LobbyClosing, Kind.Probe], next: ["closed"] },
  /** Done: every datagram is dropped as `closed`. */
  closed: { accepts: [], next: [] },
};

/** Per phase, a 256-entry row: 1 where the kind is accepted (one load on the relay path). */
export const ACCEPTS: Readonly<Record<Phase, Uint8Array>> = (() => {
  const out = {} as Record<Phase, Uint8Array>;
  for (const phase of Object.keys(PHASE_TABLE) as Phase[]) {
    const row = new Uint8Array(256);
    for (const kind of PHASE_TABLE[phase].accepts) row[kind] = 1;
    out[phase] = row;
  }
  return out;
})();

/** Whether `to` may follow `from` (a Peer bug when not: setPhase throws). */
export function canMove(from: Phase, to: Phase): boolean {
  return PHASE_TABLE[from].next.includes(to);
}
