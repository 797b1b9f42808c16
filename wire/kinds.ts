/**
 * The kinds table (PROTOCOL.md section 3): every datagram is
 * `[version, kind, ...fields]`, and `kind` is one of these positive fixints.
 * Ranges: 0x01-0x0f the relay family (0x01 relay data, 0x02 a repaired copy of it, 0x06 a
 * message with a header, 0x07 a repaired copy of that, 0x08 a message routed to one member);
 * 0x10-0x1f peer <-> peer control; 0x20-0x3f peer -> lobby; 0x40-0x5f lobby -> peer;
 * 0x60-0x6f peer <-> peer NAT traversal (NatKind); 0x70 the session frame that carries every
 * lobby <-> peer message after the handshake (PROTOCOL.md 6.10). `as const` rather than an enum, so type-stripping runtimes
 * (Node's --experimental-strip-types, Deno, Bun) run the sources unchanged.
 */
export const Kind = {
  Data: 0x01,
  /** A Data envelope sent again to a member that missed it (PROTOCOL.md 4.2.1): never prunes, never relayed on. */
  Repair: 0x02,
  /** Relay data whose payload starts with a message header (PROTOCOL.md 4.1.1): reliable, ordered, fragmented, team. */
  Message: 0x06,
  /** A Message envelope sent again to a member that missed it (as Repair is for Data). */
  MessageRepair: 0x07,
  /** A message to one member, routed towards it link by link rather than flooded (PROTOCOL.md 4.1.2). */
  Routed: 0x08,

  Join: 0x10,
  JoinReply: 0x11,
  Connect: 0x12,
  ConnectReply: 0x13,
  Force: 0x14,
  ForceReply: 0x15,
  Available: 0x16,
  AvailableReply: 0x17,
  Ping: 0x18,
  Pong: 0x19,
  Disconnect: 0x1a,
  DisconnectAck: 0x1b,
  /** Redundancy list update (US 7,685,301): "your next messages of these origins are not to be sent to me". */
  Prune: 0x1c,
  /** Undoes a Prune ("send me these origins again") and asks for what the sender holds after `have`. */
  Graft: 0x1d,
  /** Asks a neighbour for messages this peer missed (origin, seqs), answered by Repair datagrams. */
  RepairRequest: 0x1e,

  Hello: 0x20,
  ListGrids: 0x21,
  CreateGrid: 0x22,
  SelectGrid: 0x23,
  ConnUpdate: 0x24,
  ConnStatus: 0x25,
  ProbeReply: 0x26,
  Heartbeat: 0x27,
  Leave: 0x28,
  Rejoin: 0x29,
  /** A join token from the game's backend, presented before CreateGrid / SelectGrid / Rejoin (admission). */
  JoinToken: 0x2e,

  Welcome: 0x40,
  GridList: 0x41,
  GridCreated: 0x42,
  Members: 0x43,
  Ack: 0x44,
  ConnStatusReply: 0x45,
  Probe: 0x46,
  HeartbeatAck: 0x47,
  UnknownSession: 0x48,
  RepairHint: 0x49,
  LobbyClosing: 0x4a,
  /** Address validation: the lobby's stateless cookie, to be echoed in the next Hello. */
  Retry: 0x4b,
  Error: 0x4f,
  /** Where the receiver stands in the grid's confirmed graph: in its main component or not (a notice). */
  GridStatus: 0x50,

  /**
   * A lobby <-> peer message after the handshake, authenticated under the session key with a
   * per-direction counter (PROTOCOL.md 6.10): [session, body (the message), auth].
   */
  SessionFrame: 0x70,
} as const;

export type KindName = keyof typeof Kind;

/** The kinds that are relay envelopes (PROTOCOL.md 4.1): Data, Repair, Message, MessageRepair, Routed. */
export type EnvelopeKind = typeof Kind.Data | typeof Kind.Repair | typeof Kind.Message | typeof Kind.MessageRepair | typeof Kind.Routed;

/** Whether `kind` is a relay envelope (read by readRelay, tagged over all but the hop byte). */
export function isEnvelopeKind(kind: number): kind is EnvelopeKind {
  return kind === Kind.Data || kind === Kind.Repair || kind === Kind.Message || kind === Kind.MessageRepair || kind === Kind.Routed;
}

/** The kind a repaired copy of an envelope of `kind` is sent as: Repair for Data, MessageRepair for Message. */
export function repairKindOf(kind: number): typeof Kind.Repair | typeof Kind.MessageRepair {
  return kind === Kind.Message || kind === Kind.MessageRepair ? Kind.MessageRepair : Kind.Repair;
}
export type KindValue = (typeof Kind)[KindName];

/**
 * NAT traversal kinds (PROTOCOL.md 4.7): lobby-coordinated hole punching, added within
 * version 1 in unassigned values of the peer -> lobby and lobby -> peer ranges and in the
 * peer <-> peer range 0x60-0x6f. They are kept apart from Kind while the reference peer
 * does not speak them: decode() drops them as `unknown-kind`, as every receiver that does
 * not implement them must, unless asked with `{ natTraversal: true }` (the lobby does).
 */
export const NatKind = {
  /** A member registers its link key (sealed) and its local addresses; answered by Registered. */
  Register: 0x2a,
  /** A member asks the lobby to introduce it to target members; answered by Introduced. */
  Introduce: 0x2b,
  /** A member reports how a punch towards another member ended; answered by Ack. */
  PunchReport: 0x2c,
  /** The lobby's answer to Register: the address it sees, and the key-bound ticket (version 2). */
  Registered: 0x4c,
  /** The lobby's answer to Introduce: one status per target. */
  Introduced: 0x4d,
  /** A notice to both ends of an introduction: the other end's public and local addresses. */
  Introduction: 0x4e,
  /** A hole-punching probe with a fresh challenge and the sender's key-bound ticket (tagged). */
  Punch: 0x60,
  /** The answer to a Punch: a proof of the link key over its challenge (tagged). */
  PunchReply: 0x61,
} as const;
export type NatKindName = keyof typeof NatKind;
export type NatKindValue = (typeof NatKind)[NatKindName];
/** Every kind of version 1: Kind and NatKind. */
export type AnyKindValue = KindValue | NatKindValue;

const NAT_VALUES = new Set<number>(Object.values(NatKind));

/** True for a NAT traversal kind (NatKind). */
export function isNatKind(kind: number): kind is NatKindValue {
  return NAT_VALUES.has(kind);
}

const NAMES: Record<number, string> = {};
for (const name of Object.keys(Kind) as KindName[]) NAMES[Kind[name]] = name;
for (const name of Object.keys(NatKind) as NatKindName[]) NAMES[NatKind[name]] = name;

/** "Join" for 0x10; "0x7e" for a kind this version does not know. */
export function kindName(kind: number): string {
  return NAMES[kind] ?? `0x${kind.toString(16)}`;
}

/** Why a peer closed a link (Disconnect.reason). */
export const DisconnectReason = {
  Leave: 0,
  LimitLowered: 1,
  /** Dropped to make room for a force connection (claim 32). */
  Forced: 2,
  /** Pings went unanswered (claims 47-49). */
  Unresponsive: 3,
  /** The peer is shutting down or restarting. */
  Shutdown: 4,
  /** The link misbehaved (flooding, invalid datagrams). */
  Misbehaving: 5,
  /** The receiver has no link with the sender (its side was closed or never opened): both forget it. */
  NotLinked: 6,
} as const;
export type DisconnectReason = (typeof DisconnectReason)[keyof typeof DisconnectReason];

/** Error.code values the lobby sends. */
export const LobbyErrorCode = {
  UnknownGrid: 1,
  GridFull: 2,
  TooManyGrids: 3,
  RateLimited: 4,
  BadRequest: 5,
  NameTaken: 6,
  /** The Hello's handshake key was unusable, or the lobby could not seal for this session. */
  BadHandshake: 7,
  /** A per-host quota is used up: sessions, grids created, or members of one grid (PROTOCOL.md 6.11). */
  QuotaExceeded: 8,
  /** A session request that was not in a session frame (PROTOCOL.md 6.10): the peer predates them. */
  Unauthenticated: 9,
  /** The lobby's admission policy refused: no valid, unexpired, unused join token for this grid. */
  NotAdmitted: 10,
} as const;
export type LobbyErrorCode = (typeof LobbyErrorCode)[keyof typeof LobbyErrorCode];

/** ConnStatusReply.status (claim 50). */
export const LinkStatus = {
  /** The other peer is not a member of the grid (left or expired). */
  Gone: 0,
  /** The other peer is a member and the lobby heard from it recently: the link, not the peer, broke. */
  Alive: 1,
  /** The other peer is a member but has been silent; the lobby is checking with it. */
  Checking: 2,
} as const;
export type LinkStatus = (typeof LinkStatus)[keyof typeof LinkStatus];

/** Introduced.results[].status: what the lobby did with one target of an Introduce (PROTOCOL.md 4.7). */
export const IntroStatus = {
  /** Both ends were sent an Introduction. */
  Introduced: 0,
  /** The target is not a member of the grid (left, expired, never was). */
  NotMember: 1,
  /** The target registered no link key: it does not punch; link to it as before. */
  NoKey: 2,
  /** The requester's or the target's introduction budget is spent; ask again later. */
  RateLimited: 3,
  /** The target is the requester itself. */
  Self: 4,
} as const;
export type IntroStatus = (typeof IntroStatus)[keyof typeof IntroStatus];
