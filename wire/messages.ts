/**
 * The schema of every message kind (PROTOCOL.md section 4): the fields that follow
 * `[version, kind]`, in order. The TypeScript message types are derived from this table,
 * the codec encodes and validates by it, and the protocol doc's tables are checked against
 * it by test, so there is one source of truth.
 *
 * Conventions: `req` is the request id a reply echoes (retransmits reuse it, so handlers
 * are idempotent); `grid` is the grid id; `from` is the sending peer's id in that grid;
 * `session` is the token the lobby handed out in Welcome.
 */
import { type AnyKindValue, Kind, type KindValue, NatKind, type NatKindValue } from "./kinds.ts";
import { BOOL, bin, type FieldDef, type Fields, list, OPT_U32, str, U16, U32, u32s, U8 } from "./fields.ts";
import {
  MAX_ADDRESS_BYTES,
  MAX_DETAIL_BYTES,
  MAX_FRAME_BODY_BYTES,
  MAX_GRAFT_ORIGINS,
  MAX_HOPS,
  MAX_SEALED_TOKEN_BYTES,
  MAX_INTRODUCE_TARGETS,
  LINK_AUTH_BYTES,
  LINK_NONCE_BYTES,
  MAX_LINKS,
  MAX_LOCAL_ADDRESSES,
  MAX_META_BYTES,
  MAX_NAME_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_PRUNE_ORIGINS,
  MAX_REPAIR_WANTS,
  MAX_SEALED_BYTES,
  MAX_TICKET_BYTES,
  PUNCH_CHALLENGE_BYTES,
  SEALED_LINK_KEY_BYTES,
  SESSION_AUTH_BYTES,
  TAG_BYTES,
} from "./limits.ts";

const NAME = str(MAX_NAME_BYTES);
/** The grid-key tag that ends every peer<->peer datagram; encoders write zeros, then sign. */
const TAG = ["tag", bin(TAG_BYTES)] as const;
const TICKET = ["ticket", bin(MAX_TICKET_BYTES)] as const;
/** The peer id a peer <-> peer control message is for: any other receiver drops it (wrong-receiver). */
const TO = ["to", U32] as const;
/** Connect, Force and their replies: the sender's fresh random nonce for the link key (6.13). */
const NONCE = ["nonce", bin(LINK_NONCE_BYTES)] as const;
/**
 * The link's authentication (6.13): the sender's per-link counter (from 1) and SipHash-2-4
 * under the link key over every byte before `auth`; encoders write 8 zero bytes, then stamp.
 */
const LINK_AUTH = [["ctr", U32], ["auth", bin(LINK_AUTH_BYTES)]] as const;
const PEER_ENTRY = [["peer", U32], ["addr", str(MAX_ADDRESS_BYTES)], ["links", U8]] as const;
const GRID_ENTRY = [
  ["grid", U32],
  ["name", NAME],
  ["members", U16],
  ["capacity", U16],
  ["limit", U8],
  ["meta", str(MAX_META_BYTES)],
] as const;
const HINT_ENTRY = [["peer", U32], ["addr", str(MAX_ADDRESS_BYTES)]] as const;
/** Graft: an origin to send again, and the newest seq the sender holds of it (nil: none). */
const GRAFT_ENTRY = [["origin", U32], ["have", OPT_U32]] as const;
/** RepairRequest: seqs first + i of `origin` for every bit i set in `mask` (bit 0 = first). */
const REPAIR_WANT = [["origin", U32], ["first", U32], ["mask", U32]] as const;
/** The relay envelope's fields after [version, kind]: Data and Repair share them. */
const RELAY_FIELDS = [
  ["hops", { t: "uint", max: MAX_HOPS }],
  ["grid", U32],
  ["origin", U32],
  ["seq", U32],
  ["target", OPT_U32],
  ["payload", bin(MAX_PAYLOAD_BYTES)],
  TAG,
] as const;

export const SCHEMAS = {
  // Relay data (claim 4): data, origin id, sequence value, addressing (grid, target).
  // `hops` comes first so forwarding rewrites one byte at a fixed offset (PROTOCOL.md 4.1).
  [Kind.Data]: RELAY_FIELDS,
  // A Data envelope sent again (PROTOCOL.md 4.2.1): the same fields, kind 0x02, its tag made
  // by the member that repairs it.
  [Kind.Repair]: RELAY_FIELDS,
  // A relay envelope whose payload starts with a message header (PROTOCOL.md 4.1.1), and its
  // repaired copy: the same fields again.
  [Kind.Message]: RELAY_FIELDS,
  [Kind.MessageRepair]: RELAY_FIELDS,
  // A message routed to one member (PROTOCOL.md 4.1.2): the envelope again, `seq` counting the
  // origin's routed messages (its own space), `target` required.
  [Kind.Routed]: RELAY_FIELDS,

  // Peer <-> peer control (claims 26-49). Every one names its receiver (`to`) and ends with
  // the grid-key tag; the messages that open a link carry the sender's lobby-signed ticket
  // and a fresh nonce, from which both ends derive the link key (PROTOCOL.md 4.2, 6.13); the
  // messages on a link carry a per-link counter and a tag under that key (LINK_AUTH).
  [Kind.Join]: [["req", U32], ["grid", U32], ["from", U32], TO, TAG],
  [Kind.JoinReply]: [["req", U32], ["grid", U32], ["from", U32], TO, ["positive", BOOL], ["links", U8], ["limit", U8], TAG],
  [Kind.Connect]: [["req", U32], ["grid", U32], ["from", U32], TO, NONCE, TICKET, TAG],
  [Kind.ConnectReply]: [["req", U32], ["grid", U32], ["from", U32], TO, ["accepted", BOOL], NONCE, TICKET, TAG],
  [Kind.Force]: [["req", U32], ["grid", U32], ["from", U32], TO, NONCE, TICKET, TAG],
  [Kind.ForceReply]: [["req", U32], ["grid", U32], ["from", U32], TO, ["ok", BOOL], NONCE, TICKET, TAG],
  [Kind.Available]: [["req", U32], ["grid", U32], ["from", U32], TO, TAG],
  [Kind.AvailableReply]: [["req", U32], ["grid", U32], ["from", U32], TO, ["positive", BOOL], ["links", U8], TAG],
  [Kind.Ping]: [["req", U32], ["grid", U32], ["from", U32], TO, ...LINK_AUTH, TAG],
  [Kind.Pong]: [["req", U32], ["grid", U32], ["from", U32], TO, ["links", U8], ...LINK_AUTH, TAG],
  [Kind.Disconnect]: [["req", U32], ["grid", U32], ["from", U32], TO, ["reason", U8], ...LINK_AUTH, TAG],
  [Kind.DisconnectAck]: [["req", U32], ["grid", U32], ["from", U32], TO, TAG],
  // Redundancy lists and repair (PROTOCOL.md 4.2.1): notices between linked members, no req.
  [Kind.Prune]: [["grid", U32], ["from", U32], TO, ["origins", u32s(MAX_PRUNE_ORIGINS)], ...LINK_AUTH, TAG],
  [Kind.Graft]: [["grid", U32], ["from", U32], TO, ["origins", list(MAX_GRAFT_ORIGINS, GRAFT_ENTRY)], ...LINK_AUTH, TAG],
  [Kind.RepairRequest]: [["grid", U32], ["from", U32], TO, ["wants", list(MAX_REPAIR_WANTS, REPAIR_WANT)], ...LINK_AUTH, TAG],

  // Peer -> lobby (claims 24, 25, 34, 35, 44, 50, 51).
  // cookie: empty, or the one a Retry handed out; eph: the peer's X25519 handshake key;
  // pad: zeros up to MIN_HELLO_BYTES (anti-amplification, PROTOCOL.md 6.2).
  [Kind.Hello]: [["req", U32], ["name", NAME], ["cookie", bin(16)], ["eph", bin(32)], ["pad", bin(1024)]],
  [Kind.ListGrids]: [["req", U32], ["session", U32], ["filter", NAME], ["offset", U32]],
  [Kind.CreateGrid]: [
    ["req", U32],
    ["session", U32],
    ["name", NAME],
    ["capacity", U16],
    ["limit", U8],
    ["meta", str(MAX_META_BYTES)],
  ],
  // role: the role asked for (lib/relay/spectators.ts: 0 player, 1 spectator); the lobby grants it in the peer id.
  [Kind.SelectGrid]: [["req", U32], ["session", U32], ["grid", U32], ["limit", U8], ["part", U16], ["role", U8]],
  [Kind.ConnUpdate]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], ["other", U32], ["open", BOOL]],
  [Kind.ConnStatus]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], ["other", U32]],
  [Kind.ProbeReply]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], ["other", U32], ["linked", BOOL]],
  [Kind.Heartbeat]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], ["links", u32s(MAX_LINKS)]],
  [Kind.Leave]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32]],
  [Kind.Rejoin]: [
    ["req", U32],
    ["session", U32],
    ["grid", U32],
    ["name", NAME],
    ["peer", U32],
    ["limit", U8],
    ["links", u32s(MAX_LINKS)],
    // The grid key epoch the peer sends under, and that key itself sealed under the session
    // key (Direction.PeerToLobby, nonce = req): a restarted lobby restores the grid with the
    // same key, so delivery has no gap (PROTOCOL.md 6.5).
    ["epoch", U32],
    ["sealed", bin(MAX_SEALED_BYTES)],
  ],
  // A join token from the game's backend, sealed under the session key (Direction.PeerToLobby,
  // nonce = req) so an eavesdropper cannot use it first; kept with the session for admission.
  [Kind.JoinToken]: [["req", U32], ["session", U32], ["sealed", bin(MAX_SEALED_TOKEN_BYTES)]],

  // Lobby -> peer.
  // The signed handshake reply: the lobby's ephemeral key, its identity, and its Ed25519
  // signature over "relaygrid-welcome-v1" || peer eph || lobby eph || session.
  [Kind.Welcome]: [
    ["req", U32],
    ["session", U32],
    ["heartbeatMs", U32],
    ["eph", bin(32)],
    ["identity", bin(32)],
    ["signature", bin(64)],
  ],
  [Kind.GridList]: [["req", U32], ["total", U32], ["offset", U32], ["grids", list(32, GRID_ENTRY)]],
  [Kind.GridCreated]: [["req", U32], ["grid", U32], ["name", NAME]],
  [Kind.Members]: [
    ["req", U32],
    ["grid", U32],
    ["peer", U32],
    ["part", U16],
    ["parts", U16],
    ["members", list(32, PEER_ENTRY)],
    // AEAD under the session key, nonce counter `nonce`: grid keys by epoch and the ticket.
    ["nonce", U32],
    ["sealed", bin(MAX_SEALED_BYTES)],
  ],
  [Kind.Ack]: [["req", U32]],
  [Kind.ConnStatusReply]: [["req", U32], ["grid", U32], ["other", U32], ["status", U8], ["silentMs", U32]],
  [Kind.Probe]: [["req", U32], ["grid", U32], ["peer", U32], ["other", U32]],
  // epoch: the grid key epoch to send under; latest: the newest the lobby has issued.
  [Kind.HeartbeatAck]: [["req", U32], ["members", U16], ["epoch", U32], ["latest", U32]],
  [Kind.UnknownSession]: [["req", U32]],
  [Kind.RepairHint]: [["grid", U32], ["peer", U32], ["force", BOOL], ["targets", list(8, HINT_ENTRY)]],
  [Kind.LobbyClosing]: [["reason", str(MAX_DETAIL_BYTES)]],
  [Kind.Retry]: [["req", U32], ["cookie", bin(16)]],
  [Kind.Error]: [["req", U32], ["code", U8], ["detail", str(MAX_DETAIL_BYTES)]],
  // main: the receiver is in the largest component of the confirmed graph; component: its
  // component's size; members: the grid's member count (PROTOCOL.md 4.4).
  [Kind.GridStatus]: [["grid", U32], ["peer", U32], ["main", BOOL], ["component", U16], ["members", U16]],

  // Lobby <-> peer after the handshake (PROTOCOL.md 6.10): `body` is one whole datagram of a
  // session kind; `auth` is the sender's counter (u32be) and SipHash-2-4 under the session's
  // MAC key for that direction, over every byte before the 8 tag bytes.
  [Kind.SessionFrame]: [["session", U32], ["body", bin(MAX_FRAME_BODY_BYTES)], ["auth", bin(SESSION_AUTH_BYTES)]],
} as const satisfies Record<KindValue, readonly FieldDef[]>;

type Schemas = typeof SCHEMAS;

/** The message of one kind, e.g. `MessageOf<typeof Kind.Join>`. */
export type MessageOf<K extends KindValue> = { kind: K } & Fields<Schemas[K]>;

/** Any relaygrid message: a union discriminated by `kind`. */
export type Message = { [K in KindValue]: MessageOf<K> }[KindValue];

export type PeerEntry = Fields<typeof PEER_ENTRY>;
export type GridEntry = Fields<typeof GRID_ENTRY>;
export type HintEntry = Fields<typeof HINT_ENTRY>;
export type GraftEntry = Fields<typeof GRAFT_ENTRY>;
export type RepairWant = Fields<typeof REPAIR_WANT>;

const LOCAL_ENTRY = [["addr", str(MAX_ADDRESS_BYTES)]] as const;
const INTRO_RESULT = [["peer", U32], ["status", U8]] as const;
const LOCALS = ["locals", list(MAX_LOCAL_ADDRESSES, LOCAL_ENTRY)] as const;

/**
 * NAT traversal (PROTOCOL.md 4.7): lobby-coordinated hole punching and key-bound tickets.
 * Decoded only on request (`decode(bytes, max, { natTraversal: true })`, see NatKind).
 */
export const NAT_SCHEMAS = {
  // Peer -> lobby. `sealed`: the member's Ed25519 link public key under the session key,
  // direction 0 (peer to lobby), nonce counter `req`, as Rejoin's grant (PROTOCOL.md 6.9).
  [NatKind.Register]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], LOCALS, ["sealed", bin(SEALED_LINK_KEY_BYTES)]],
  [NatKind.Introduce]: [["req", U32], ["session", U32], ["grid", U32], ["peer", U32], ["targets", u32s(MAX_INTRODUCE_TARGETS)]],
  [NatKind.PunchReport]: [
    ["req", U32],
    ["session", U32],
    ["grid", U32],
    ["peer", U32],
    ["other", U32],
    ["ok", BOOL],
    ["attempts", U16],
    ["elapsedMs", U32],
  ],
  // Lobby -> peer. Registered carries the version 2 ticket (key-bound) in clear: it is
  // signed, and useless without the link key's secret half.
  [NatKind.Registered]: [["req", U32], ["grid", U32], ["peer", U32], ["observed", str(MAX_ADDRESS_BYTES)], TICKET],
  [NatKind.Introduced]: [["req", U32], ["grid", U32], ["peer", U32], ["results", list(MAX_INTRODUCE_TARGETS, INTRO_RESULT)]],
  // Sent to both ends at once; `req` is the introduction's id, the same in both copies.
  [NatKind.Introduction]: [["req", U32], ["grid", U32], ["peer", U32], ["other", U32], ["asked", BOOL], ["addr", str(MAX_ADDRESS_BYTES)], LOCALS],
  // Peer <-> peer, tagged like 0x10-0x1f.
  [NatKind.Punch]: [["req", U32], ["grid", U32], ["from", U32], ["to", U32], ["challenge", bin(PUNCH_CHALLENGE_BYTES)], TICKET, TAG],
  [NatKind.PunchReply]: [
    ["req", U32],
    ["grid", U32],
    ["from", U32],
    ["to", U32],
    ["challenge", bin(PUNCH_CHALLENGE_BYTES)],
    ["proof", bin(64)],
    TICKET,
    TAG,
  ],
} as const satisfies Record<NatKindValue, readonly FieldDef[]>;

type NatSchemas = typeof NAT_SCHEMAS;

/** A NAT traversal message of one kind, e.g. `NatMessageOf<typeof NatKind.Punch>`. */
export type NatMessageOf<K extends NatKindValue> = { kind: K } & Fields<NatSchemas[K]>;
/** Any NAT traversal message. */
export type NatMessage = { [K in NatKindValue]: NatMessageOf<K> }[NatKindValue];
/** Any message of version 1. */
export type AnyMessage = Message | NatMessage;
/** The message of any kind of version 1. */
export type AnyMessageOf<K extends AnyKindValue> = K extends KindValue ? MessageOf<K> : K extends NatKindValue ? NatMessageOf<K> : never;

export type LocalEntry = Fields<typeof LOCAL_ENTRY>;
export type IntroResult = Fields<typeof INTRO_RESULT>;

/**
 * The schema of `kind`, or undefined for a kind this protocol version does not define; the
 * NAT traversal kinds only with `natTraversal` (see NatKind).
 */
export function schemaOf(kind: number, natTraversal = false): readonly FieldDef[] | undefined {
  return (SCHEMAS as Record<number, readonly FieldDef[]>)[kind] ?? (natTraversal ? (NAT_SCHEMAS as Record<number, readonly FieldDef[]>)[kind] : undefined);
}
