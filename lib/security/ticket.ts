/**
 * Admission tickets (issue 6, point 1): the lobby signs (grid, peer, address, epoch) with
 * its Ed25519 identity, and a member checks the ticket before it answers a join, connect,
 * force-connection or connection-available message from that peer.
 *
 * Byte layout, version 1 (all integers big-endian; 78 + n bytes, at most 142):
 *
 *   offset  size  field
 *   0       1     version = 1
 *   1       4     grid    u32
 *   5       4     peer    u32
 *   9       4     epoch   u32: the grid key epoch the ticket was issued under
 *   13      1     n = address length in bytes, 1..64
 *   14      n     address, strict UTF-8 (the peer's address as the lobby saw it)
 *   14+n    64    Ed25519 signature over "relaygrid-ticket-v1" || bytes[0 .. 14+n)
 *
 * The ASCII prefix separates ticket signatures from every other thing the identity key
 * signs (the handshake transcript starts "relaygrid-welcome-v1"), so neither can be
 * replayed as the other. Exactly one encoding is valid: a wrong version, a length byte out
 * of range, a total length that disagrees with it, or invalid UTF-8 is "malformed".
 *
 * Version 2 (issue 13, item 3: NAT traversal) binds the ticket to the member's Ed25519
 * link key instead of its address, because behind an endpoint-dependent NAT the address a
 * member sees is not the one the lobby saw (PROTOCOL.md 6.3, "Key-bound tickets"):
 *
 *   offset  size  field
 *   0       1     version = 2
 *   1       4     grid    u32
 *   5       4     peer    u32
 *   9       4     epoch   u32
 *   13      32    key: the member's Ed25519 link public key
 *   45      64    Ed25519 signature over "relaygrid-ticket-v2" || bytes[0 .. 45)
 *
 * 109 bytes, always. A member accepts one only from a source address that has proved the
 * key (lib/security/link-key.ts: a signature over a challenge the member sent there), so a
 * spoofed address still gets nothing. A version 1 reader finds a version 2 ticket malformed.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { asciiBytes, constantTimeEqual, isU32, readU32BE, writeU32BE } from "./bytes.ts";
import { type CryptoProvider, ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "./crypto.ts";
import { utf8Decode, utf8EncodeInto, utf8Length } from "./utf8.ts";

export const TICKET_VERSION = 1;
export const TICKET_MAX_ADDRESS_BYTES = 64;
/** Bytes before the address: version, grid, peer, epoch, address length. */
export const TICKET_HEADER_BYTES = 14;
export const TICKET_MIN_BYTES = TICKET_HEADER_BYTES + 1 + ED25519_SIGNATURE_BYTES;
export const TICKET_MAX_BYTES = TICKET_HEADER_BYTES + TICKET_MAX_ADDRESS_BYTES + ED25519_SIGNATURE_BYTES;
const DOMAIN = asciiBytes("relaygrid-ticket-v1");

export interface TicketFields {
  readonly grid: number;
  readonly peer: number;
  /** The peer's address as the lobby saw it (<= 64 UTF-8 bytes). */
  readonly address: string;
  /** The grid key epoch the ticket was issued under. */
  readonly epoch: number;
}

/** What a member expects of the ticket presented with a request. */
export interface TicketExpectation {
  readonly grid: number;
  readonly peer: number;
  /** The datagram's source address. */
  readonly address: string;
  /** Tickets issued under an older grid key epoch are "expired". */
  readonly minEpoch: number;
}

export type TicketVerdict =
  | "ok"
  | "bad-signature"
  | "malformed"
  | "wrong-grid"
  | "wrong-peer"
  | "wrong-address"
  | "expired";

/** "relaygrid-ticket-v1" || the unsigned part of the ticket. */
function signedMessage(ticket: Uint8Array, unsignedLength: number): Uint8Array {
  const msg = new Uint8Array(DOMAIN.length + unsignedLength);
  msg.set(DOMAIN, 0);
  msg.set(ticket.subarray(0, unsignedLength), DOMAIN.length);
  return msg;
}

/**
 * Encodes and signs a ticket with the lobby's Ed25519 identity seed. Throws a
 * RelayGridError for fields out of range (a caller mistake): grid, peer and epoch must be
 * u32, the address 1..64 UTF-8 bytes.
 */
export function issueTicket(crypto: CryptoProvider, identitySecret: Uint8Array, fields: TicketFields): Uint8Array {
  for (const name of ["grid", "peer", "epoch"] as const) {
    if (!isU32(fields[name])) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `ticket ${name} must be a u32, got ${String(fields[name])}`);
    }
  }
  const n = utf8Length(fields.address);
  if (n < 1 || n > TICKET_MAX_ADDRESS_BYTES) {
    throw new RelayGridError(
      ErrorCode.InvalidAddress,
      `ticket address is ${n} UTF-8 bytes; it must be 1 to ${TICKET_MAX_ADDRESS_BYTES}`,
    );
  }
  const unsigned = TICKET_HEADER_BYTES + n;
  const out = new Uint8Array(unsigned + ED25519_SIGNATURE_BYTES);
  out[0] = TICKET_VERSION;
  writeU32BE(out, 1, fields.grid);
  writeU32BE(out, 5, fields.peer);
  writeU32BE(out, 9, fields.epoch);
  out[13] = n;
  utf8EncodeInto(fields.address, out, TICKET_HEADER_BYTES);
  out.set(crypto.ed25519Sign(identitySecret, signedMessage(out, unsigned)), unsigned);
  return out;
}

/**
 * The fields of a well-formed ticket, or null. Checks every length before reading; never
 * throws. Does not check the signature (verifyTicket does).
 */
export function readTicket(bytes: Uint8Array): TicketFields | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < TICKET_MIN_BYTES || bytes.length > TICKET_MAX_BYTES) return null;
  if (bytes[0] !== TICKET_VERSION) return null;
  const n = bytes[13] as number;
  if (n < 1 || n > TICKET_MAX_ADDRESS_BYTES || bytes.length !== TICKET_HEADER_BYTES + n + ED25519_SIGNATURE_BYTES) {
    return null;
  }
  const address = utf8Decode(bytes, TICKET_HEADER_BYTES, TICKET_HEADER_BYTES + n);
  if (address === null) return null;
  return { grid: readU32BE(bytes, 1), peer: readU32BE(bytes, 5), epoch: readU32BE(bytes, 9), address };
}

/** Field checks in the order verifyTicket applies them; null when all pass. */
export function checkTicketFields(fields: TicketFields, expect: TicketExpectation): TicketVerdict | null {
  if (fields.grid !== expect.grid) return "wrong-grid";
  if (fields.peer !== expect.peer) return "wrong-peer";
  if (fields.address !== expect.address) return "wrong-address";
  // Epochs only grow (one per key rotation), so u32 wrap-around is not a concern.
  if (fields.epoch < expect.minEpoch) return "expired";
  return null;
}

/**
 * Checks a ticket against what the member expects and against the lobby's identity key.
 * Order (cheapest first, STYLE.md 6): layout, grid, peer, address, epoch, then the
 * signature (the only expensive step). Never throws.
 */
export function verifyTicket(
  crypto: CryptoProvider,
  lobbyPublicKey: Uint8Array,
  bytes: Uint8Array,
  expect: TicketExpectation,
): TicketVerdict {
  const fields = readTicket(bytes);
  if (fields === null) return "malformed";
  const mismatch = checkTicketFields(fields, expect);
  if (mismatch !== null) return mismatch;
  const unsigned = bytes.length - ED25519_SIGNATURE_BYTES;
  const ok = crypto.ed25519Verify(lobbyPublicKey, signedMessage(bytes, unsigned), bytes.subarray(unsigned));
  return ok ? "ok" : "bad-signature";
}

// ---- version 2: bound to the member's link key -------------------------------------------

export const TICKET_V2_VERSION = 2;
/** Bytes the signature covers: version, grid, peer, epoch, key. */
export const TICKET_V2_UNSIGNED_BYTES = 13 + ED25519_PUBLIC_KEY_BYTES;
/** A version 2 ticket is always 109 bytes. */
export const TICKET_V2_BYTES = TICKET_V2_UNSIGNED_BYTES + ED25519_SIGNATURE_BYTES;
const DOMAIN_V2 = asciiBytes("relaygrid-ticket-v2");

export interface TicketV2Fields {
  readonly grid: number;
  readonly peer: number;
  readonly epoch: number;
  /** The member's Ed25519 link public key (32 bytes). */
  readonly key: Uint8Array;
}

/** What a member expects of a version 2 ticket presented with a request. */
export interface TicketV2Expectation {
  readonly grid: number;
  readonly peer: number;
  readonly minEpoch: number;
  /**
   * The link key the datagram's source address has proved for `peer` (a PunchReply whose
   * proof verified, PROTOCOL.md 6.9), or undefined when it proved none: "unproven-key".
   */
  readonly provenKey: Uint8Array | undefined;
}

export type TicketV2Verdict = "ok" | "bad-signature" | "malformed" | "wrong-grid" | "wrong-peer" | "unproven-key" | "expired";

/** 1 or 2 for a ticket of that layout version (not yet checked), undefined for anything else. */
export function ticketVersion(bytes: Uint8Array): 1 | 2 | undefined {
  const v = bytes instanceof Uint8Array && bytes.length > 0 ? bytes[0] : undefined;
  return v === TICKET_VERSION ? 1 : v === TICKET_V2_VERSION ? 2 : undefined;
}

/** Encodes and signs a version 2 ticket. Throws a RelayGridError for fields out of range (a caller mistake). */
export function issueTicketV2(crypto: CryptoProvider, identitySecret: Uint8Array, fields: TicketV2Fields): Uint8Array {
  for (const name of ["grid", "peer", "epoch"] as const) {
    if (!isU32(fields[name])) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `ticket ${name} must be a u32, got ${String(fields[name])}`);
    }
  }
  if (!(fields.key instanceof Uint8Array) || fields.key.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `ticket key must be a ${ED25519_PUBLIC_KEY_BYTES}-byte Ed25519 public key`);
  }
  const out = new Uint8Array(TICKET_V2_BYTES);
  out[0] = TICKET_V2_VERSION;
  writeU32BE(out, 1, fields.grid);
  writeU32BE(out, 5, fields.peer);
  writeU32BE(out, 9, fields.epoch);
  out.set(fields.key, 13);
  out.set(crypto.ed25519Sign(identitySecret, signedMessageV2(out)), TICKET_V2_UNSIGNED_BYTES);
  return out;
}

function signedMessageV2(ticket: Uint8Array): Uint8Array {
  const msg = new Uint8Array(DOMAIN_V2.length + TICKET_V2_UNSIGNED_BYTES);
  msg.set(DOMAIN_V2, 0);
  msg.set(ticket.subarray(0, TICKET_V2_UNSIGNED_BYTES), DOMAIN_V2.length);
  return msg;
}

/** The fields of a well-formed version 2 ticket, or null (a version 1 ticket included). Never throws. */
export function readTicketV2(bytes: Uint8Array): TicketV2Fields | null {
  if (!(bytes instanceof Uint8Array) || bytes.length !== TICKET_V2_BYTES || bytes[0] !== TICKET_V2_VERSION) return null;
  return { grid: readU32BE(bytes, 1), peer: readU32BE(bytes, 5), epoch: readU32BE(bytes, 9), key: bytes.slice(13, TICKET_V2_UNSIGNED_BYTES) };
}

/** Field checks in the order verifyTicketV2 applies them; null when all pass. */
export function checkTicketV2Fields(fields: TicketV2Fields, expect: TicketV2Expectation): TicketV2Verdict | null {
  if (fields.grid !== expect.grid) return "wrong-grid";
  if (fields.peer !== expect.peer) return "wrong-peer";
  const k = expect.provenKey;
  if (k === undefined || k.length !== ED25519_PUBLIC_KEY_BYTES || !constantTimeEqual(k, 0, fields.key, 0, ED25519_PUBLIC_KEY_BYTES)) {
    return "unproven-key";
  }
  if (fields.epoch < expect.minEpoch) return "expired";
  return null;
}

/**
 * Checks a version 2 ticket: layout, grid, peer, that its key is the one the source proved,
 * epoch, then the lobby's signature (the only expensive step). Never throws.
 */
export function verifyTicketV2(
  crypto: CryptoProvider,
  lobbyPublicKey: Uint8Array,
  bytes: Uint8Array,
  expect: TicketV2Expectation,
): TicketV2Verdict {
  const fields = readTicketV2(bytes);
  if (fields === null) return "malformed";
  const mismatch = checkTicketV2Fields(fields, expect);
  if (mismatch !== null) return mismatch;
  return verifyTicketV2Signature(crypto, lobbyPublicKey, bytes) ? "ok" : "bad-signature";
}

/**
 * Only the lobby's signature over a version 2 ticket (no expectation): what a peer checks on
 * a Punch or PunchReply before it believes the key inside, and on its own ticket from Registered.
 */
export function verifyTicketV2Signature(crypto: CryptoProvider, lobbyPublicKey: Uint8Array, bytes: Uint8Array): boolean {
  if (readTicketV2(bytes) === null) return false;
  return crypto.ed25519Verify(lobbyPublicKey, signedMessageV2(bytes), bytes.subarray(TICKET_V2_UNSIGNED_BYTES));
}
