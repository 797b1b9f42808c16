/**
 * The message header (PROTOCOL.md 4.1.1): the first bytes of the payload of a Message (0x06)
 * and of its repaired copy (MessageRepair, 0x07). A Message is a relay envelope like Data
 * (same fields, same origin seq space, so the grid's duplicate windows, redundancy lists and
 * repair carry it unchanged); its header says how the receiver delivers it:
 *
 *   flags u8 | [prev u32 BE] | [index u16 BE, count u16 BE] | [team u32 BE] | body
 *
 *   - flags bit 0 RELIABLE: `prev` follows, the envelope seq that begins the origin's previous
 *     reliable message (0: none). A receiver that misses it pulls it by repair.
 *   - flags bit 1 ORDERED (needs RELIABLE): delivered only after the message `prev` begins.
 *   - flags bit 2 FRAGMENT: fragment `index` of `count` (2..MAX_FRAGMENTS); the fragments of
 *     one message have consecutive seqs, so the message is keyed by `seq - index`.
 *   - flags bit 3 TEAM: `team` follows; only the team's members deliver it (others relay it).
 *   - other bits must be 0.
 * Fixed-width big-endian fields rather than MessagePack: the header sits inside the bin
 * payload, its size is known from the flags alone, and it is read without allocating.
 */
import { MAX_PAYLOAD_BYTES } from "./limits.ts";

export const MessageFlag = {
  Reliable: 0x01,
  Ordered: 0x02,
  Fragment: 0x04,
  Team: 0x08,
} as const;
const KNOWN_FLAGS = 0x0f;

/** The largest header: flags, prev, index and count, team. */
export const MAX_MESSAGE_HEADER_BYTES = 1 + 4 + 4 + 4;
/** Body bytes one fragment carries at most: 1150 - 13 = 1137. */
export const MAX_FRAGMENT_BYTES = MAX_PAYLOAD_BYTES - MAX_MESSAGE_HEADER_BYTES;
/**
 * Largest message `send` takes: 256 KiB, 231 fragments. Far below the duplicate window
 * (1024 seqs by default), so every fragment of a message can still be repaired.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Fragments of one message at most: ceil(MAX_MESSAGE_BYTES / MAX_FRAGMENT_BYTES). */
export const MAX_FRAGMENTS = Math.ceil(MAX_MESSAGE_BYTES / MAX_FRAGMENT_BYTES);

/** A decoded header. Reuse one: readMessageHeader overwrites it. */
export interface MessageHeader {
  flags: number;
  /** Seq of the origin's previous reliable message (0: none); 0 unless RELIABLE. */
  prev: number;
  /** Fragment index and count; 0 and 1 for a message in one envelope. */
  index: number;
  count: number;
  /** The team, 0 unless TEAM. */
  team: number;
  /** Where the body starts in the payload, and its length. */
  bodyOffset: number;
  bodyLength: number;
}

export function newMessageHeader(): MessageHeader {
  return { flags: 0, prev: 0, index: 0, count: 1, team: 0, bodyOffset: 0, bodyLength: 0 };
}

/** Header bytes for these flags. */
export function messageHeaderBytes(flags: number): number {
  return 1 + (flags & MessageFlag.Reliable ? 4 : 0) + (flags & MessageFlag.Fragment ? 4 : 0) + (flags & MessageFlag.Team ? 4 : 0);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] as number) * 0x1000000 + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))) >>> 0;
}

/**
 * Reads the header of the payload `b[offset, offset + length)` into `out`. False when it is
 * malformed: truncated, an unknown flag, ORDERED without RELIABLE, a fragment index or count
 * out of range, or an empty fragment.
 */
export function readMessageHeader(b: Uint8Array, offset: number, length: number, out: MessageHeader): boolean {
  if (length < 1) return false;
  const flags = b[offset] as number;
  if ((flags & ~KNOWN_FLAGS) !== 0) return false;
  if (flags & MessageFlag.Ordered && !(flags & MessageFlag.Reliable)) return false;
  const size = messageHeaderBytes(flags);
  if (length < size) return false;
  let at = offset + 1;
  out.flags = flags;
  out.prev = 0;
  out.index = 0;
  out.count = 1;
  out.team = 0;
  if (flags & MessageFlag.Reliable) {
    out.prev = u32(b, at);
    at += 4;
  }
  if (flags & MessageFlag.Fragment) {
    out.index = ((b[at] as number) << 8) | (b[at + 1] as number);
    out.count = ((b[at + 2] as number) << 8) | (b[at + 3] as number);
    at += 4;
    if (out.count < 2 || out.count > MAX_FRAGMENTS || out.index >= out.count || length === size) return false;
  }
  if (flags & MessageFlag.Team) {
    out.team = u32(b, at);
    at += 4;
    if (out.team === 0) return false;
  }
  out.bodyOffset = at;
  out.bodyLength = length - size;
  return true;
}

/** Writes a header at `b[at]`; returns the offset after it. The caller checks the ranges. */
export function writeMessageHeader(b: Uint8Array, at: number, flags: number, prev: number, index: number, count: number, team: number): number {
  b[at++] = flags;
  const put32 = (v: number): void => {
    b[at] = v >>> 24;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
    at += 4;
  };
  if (flags & MessageFlag.Reliable) put32(prev);
  if (flags & MessageFlag.Fragment) {
    b[at] = index >>> 8;
    b[at + 1] = index & 0xff;
    b[at + 2] = count >>> 8;
    b[at + 3] = count & 0xff;
    at += 4;
  }
  if (flags & MessageFlag.Team) put32(team);
  return at;
}
