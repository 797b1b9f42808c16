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
 * kind, hops, grid/origin/seq/target as uint32 (5 bytes each) and a bin16 header = 27,
 * plus 23 bytes reserved for an authentication tag (PROTOCOL.md 4.1).
 */
export const RELAY_OVERHEAD_BYTES = 50;

/** Largest payload one broadcast can carry: 1200 - 50 = 1150 bytes. */
export const MAX_PAYLOAD_BYTES = DEFAULT_MAX_DATAGRAM_BYTES - RELAY_OVERHEAD_BYTES;

/** Relay hop counts are positive fixints (0..127) so forwarding patches one byte in place. */
export const MAX_HOPS = 127;

export const MAX_NAME_BYTES = 32;
export const MAX_META_BYTES = 200;
export const MAX_ADDRESS_BYTES = 64;
export const MAX_DETAIL_BYTES = 128;
/** Link ids in one heartbeat or re-registration: no peer may have more links than this. */
export const MAX_LINKS = 64;
/** Upper bound on array lengths anywhere in a datagram (checked by the MessagePack decoder). */
export const MAX_ARRAY_ITEMS = 128;
