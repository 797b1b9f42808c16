/**
 * Size limits of the wire format (PROTOCOL.md section 2). Every MessagePack length the
 * decoder accepts is bounded by one of these; the library defaults (4 GiB) are never used.
 */

/** Protocol version: the first element of every datagram. */
export const PROTOCOL_VERSION = 1;

/**
 * Largest datagram relaygrid sends or accepts. 1200 bytes fits the IPv6 minimum MTU (1280)
 * minus IP and UDP headers, so no datagram is fragmented on any path. Defaults to 1200.
 */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1200;

/**
 * Worst-case bytes a relay envelope adds around its payload: fixarray header, version,
 * kind, hops, grid/origin/seq/target as uint32 (5 bytes each), a bin16 header = 27, the
 * 11-byte authentication tag = 38, and 12 bytes kept in reserve (PROTOCOL.md 4.1).
 */
export const RELAY_OVERHEAD_BYTES = 50;

/** Largest payload one broadcast can carry: 1200 - 50 = 1150 bytes. */
export const MAX_PAYLOAD_BYTES = DEFAULT_MAX_DATAGRAM_BYTES - RELAY_OVERHEAD_BYTES;

/** Relay hop counts are positive fixints (0..127) so forwarding patches one byte in place. */
export const MAX_HOPS = 127;

/**
 * The authentication tag that ends every peer<->peer datagram (PROTOCOL.md 4.0): a bin8 of
 * 9 bytes, the grid key epoch's low byte then a SipHash-2-4 tag, 11 bytes in all.
 */
export const TAG_BYTES = 9;
/** A bin8 header plus TAG_BYTES. */
export const TAG_FIELD_BYTES = 11;
/** Admission tickets (lobby-signed: grid, peer, address, epoch) are at most 142 bytes. */
export const MAX_TICKET_BYTES = 142;
/**
 * The `auth` field that ends a SessionFrame (PROTOCOL.md 6.10): the sender's frame counter
 * as u32 big-endian, then an 8-byte SipHash-2-4 tag; 14 bytes with its bin 8 header.
 */
export const SESSION_AUTH_BYTES = 12;
export const SESSION_AUTH_FIELD_BYTES = 14;
/**
 * Worst-case bytes a SessionFrame adds around the message it carries: fixarray header,
 * version, kind, session as uint 32 (5), a bin 16 header (3) and the auth field (14).
 */
export const SESSION_FRAME_OVERHEAD_BYTES = 25;
/** Largest message a SessionFrame carries: 1200 - 25 = 1175 bytes. */
export const MAX_FRAME_BODY_BYTES = DEFAULT_MAX_DATAGRAM_BYTES - SESSION_FRAME_OVERHEAD_BYTES;
/** Hello is padded to at least this many bytes, so the lobby's reply stays within 3x of it. */
export const MIN_HELLO_BYTES = 96;
/** Sealed admission data in Members: keys (up to 3 epochs) and the ticket, plus the AEAD tag. */
export const MAX_SEALED_BYTES = 4 + 1 + 3 * 36 + 2 + MAX_TICKET_BYTES + 16;

/** A join token (PROTOCOL.md 6.10; the reference format is at most 143 bytes), sealed in JoinToken with the 16-byte AEAD tag: 255. */
export const MAX_JOIN_TOKEN_BYTES = 239;
/** JoinToken.sealed: a join token of at most MAX_JOIN_TOKEN_BYTES and the AEAD tag. */
export const MAX_SEALED_TOKEN_BYTES = MAX_JOIN_TOKEN_BYTES + 16;
export const MAX_NAME_BYTES = 32;
export const MAX_META_BYTES = 200;
export const MAX_ADDRESS_BYTES = 64;
export const MAX_DETAIL_BYTES = 128;
/** Link ids in one heartbeat or re-registration: no peer may have more links than this. */
export const MAX_LINKS = 64;
/**
 * Origins in one Prune (a u32 list): 128 of them are at most 660 bytes, so a Prune always fits
 * a datagram; a peer with more to prune sends more Prunes.
 */
export const MAX_PRUNE_ORIGINS = 128;
/** Origins in one Graft: 64 entries of at most 11 bytes (704), within a datagram. */
export const MAX_GRAFT_ORIGINS = 64;
/** (origin, first, mask) entries in one RepairRequest: 64 of at most 16 bytes (1024), within a datagram. */
export const MAX_REPAIR_WANTS = 64;
/** Upper bound on array lengths anywhere in a datagram (checked by the MessagePack decoder). */
export const MAX_ARRAY_ITEMS = 128;
/**
 * Deepest nesting of arrays (and maps) the decoder accepts: the datagram's array (1), a list
 * in it (2), a list entry (3). Nothing in version 1 nests deeper, so a reader never recurses
 * further whatever the input (PROTOCOL.md 5.1).
 */
export const MAX_NESTING_DEPTH = 3;

/** Local addresses a member reports in Register, and an Introduction passes on (NAT traversal, PROTOCOL.md 4.7). */
export const MAX_LOCAL_ADDRESSES = 4;
/** Targets in one Introduce, and results in one Introduced. */
export const MAX_INTRODUCE_TARGETS = 8;
/** The fresh random challenge a Punch carries, which the PunchReply's proof signs. */
export const PUNCH_CHALLENGE_BYTES = 16;
/** Register.sealed: the 32-byte Ed25519 link key and the 16-byte AEAD tag. */
export const SEALED_LINK_KEY_BYTES = 48;
/** Connect, Force and their replies: the sender's fresh nonce for the link key (PROTOCOL.md 6.13). */
export const LINK_NONCE_BYTES = 8;
/** Ping, Pong, Disconnect, Prune, Graft, RepairRequest: SipHash-2-4 under the link key (PROTOCOL.md 6.13). */
export const LINK_AUTH_BYTES = 8;
/** The link auth field on the wire: bin8 header (2 bytes) + 8 bytes, right before the grid-key tag. */
export const LINK_AUTH_FIELD_BYTES = 10;
