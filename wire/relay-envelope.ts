/**
 * Hand-written codec for the relay envelope (Kind.Data), the hot path (PROTOCOL.md 4.1):
 *
 *   fixarray(9) | version | 0x01 | hops | grid | origin | seq | target-or-nil | bin payload
 *   | bin8(9) tag
 *
 * Repair (0x02, PROTOCOL.md 4.2.1) is the same envelope with another kind byte: both functions
 * take the kind, Data by default.
 *
 * It reads into a caller-owned header struct and writes into a caller-owned buffer, so a
 * relayed message costs no object and no copy beyond the one the caller chooses. The bytes
 * are exactly what @msgpack/msgpack produces for the same array (smallest encodings,
 * positive fixint hops), which test/wire-relay-envelope.test.ts checks both ways.
 */
import { DecodeErrorCode } from "./decode-error.ts";
import { Kind } from "./kinds.ts";
import { MAX_HOPS, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, TAG_BYTES, TAG_FIELD_BYTES } from "./limits.ts";

/** Byte offset of `hops`: forwarding rewrites only this byte. */
export const RELAY_HOPS_OFFSET = 3;
const HEADER = 0x99; // fixarray of 9
/** The tag (bin8 of TAG_BYTES) that ends the envelope; see lib/security/grid-keys.ts. */
const TAG_FIELD = TAG_FIELD_BYTES;

/** The decoded fields of a relay envelope. Reuse one instance: readRelay overwrites it. */
export interface RelayHeader {
  hops: number;
  grid: number;
  origin: number;
  seq: number;
  /** The peer the data is addressed to, or null for everyone in the grid. */
  target: number | null;
  payloadOffset: number;
  payloadLength: number;
  /** Where the 11-byte tag field starts (bytes.length - 11). */
  tagOffset: number;
}

export function newRelayHeader(): RelayHeader {
  return { hops: 0, grid: 0, origin: 0, seq: 0, target: null, payloadOffset: 0, payloadLength: 0, tagOffset: 0 };
}

// Cursor state for readUint; module-level so the hot path allocates nothing.
let pos = 0;

/** Reads a MessagePack uint (fixint, uint8/16/32) at `pos`; -1 truncated, -2 wrong type. */
function readUint(b: Uint8Array): number {
  if (pos >= b.length) return -1;
  const t = b[pos] as number;
  if (t < 0x80) {
    pos += 1;
    return t;
  }
  switch (t) {
    case 0xcc:
      if (pos + 2 > b.length) return -1;
      pos += 2;
      return b[pos - 1] as number;
    case 0xcd:
      if (pos + 3 > b.length) return -1;
      pos += 3;
      return ((b[pos - 2] as number) << 8) | (b[pos - 1] as number);
    case 0xce:
      if (pos + 5 > b.length) return -1;
      pos += 5;
      return (
        ((b[pos - 4] as number) * 0x1000000 +
          (((b[pos - 3] as number) << 16) | ((b[pos - 2] as number) << 8) | (b[pos - 1] as number))) >>>
        0
      );
    default:
      return -2;
  }
}

/**
 * Decodes a relay envelope into `out`. Returns null on success or the reason it failed.
 * Checks in order: header, version, kind, then each field (cheapest first, nothing allocated).
 * The caller has already checked the datagram size limit.
 */
export function readRelay(b: Uint8Array, out: RelayHeader, kind: number = Kind.Data): DecodeErrorCode | null {
  if (b.length < 4) return b.length === 0 || b[0] === HEADER ? DecodeErrorCode.Truncated : DecodeErrorCode.NotArray;
  if (b[0] !== HEADER) return (b[0] as number) >> 4 === 0x9 ? DecodeErrorCode.WrongArity : DecodeErrorCode.NotArray;
  if (b[1] !== PROTOCOL_VERSION) return DecodeErrorCode.UnknownVersion;
  if (b[2] !== kind) return DecodeErrorCode.UnknownKind;
  const hops = b[3] as number;
  if (hops > MAX_HOPS) return DecodeErrorCode.WrongType;
  pos = 4;
  const grid = readUint(b);
  if (grid < 0) return grid === -1 ? DecodeErrorCode.Truncated : DecodeErrorCode.WrongType;
  const origin = readUint(b);
  if (origin < 0) return origin === -1 ? DecodeErrorCode.Truncated : DecodeErrorCode.WrongType;
  const seq = readUint(b);
  if (seq < 0) return seq === -1 ? DecodeErrorCode.Truncated : DecodeErrorCode.WrongType;
  let target: number | null = null;
  if (pos >= b.length) return DecodeErrorCode.Truncated;
  if (b[pos] === 0xc0) pos += 1;
  else {
    target = readUint(b);
    if (target < 0) return target === -1 ? DecodeErrorCode.Truncated : DecodeErrorCode.WrongType;
  }
  if (pos >= b.length) return DecodeErrorCode.Truncated;
  let len: number;
  const t = b[pos] as number;
  if (t === 0xc4) {
    if (pos + 2 > b.length) return DecodeErrorCode.Truncated;
    len = b[pos + 1] as number;
    pos += 2;
  } else if (t === 0xc5) {
    if (pos + 3 > b.length) return DecodeErrorCode.Truncated;
    len = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number);
    pos += 3;
  } else return DecodeErrorCode.WrongType;
  if (len > MAX_PAYLOAD_BYTES) return DecodeErrorCode.WrongType;
  const tagAt = pos + len;
  if (tagAt + 2 > b.length) return DecodeErrorCode.Truncated;
  if (b[tagAt] !== 0xc4 || b[tagAt + 1] !== TAG_BYTES) return DecodeErrorCode.WrongType;
  if (tagAt + TAG_FIELD > b.length) return DecodeErrorCode.Truncated;
  if (tagAt + TAG_FIELD < b.length) return DecodeErrorCode.TrailingBytes;
  out.hops = hops;
  out.grid = grid;
  out.origin = origin;
  out.seq = seq;
  out.target = target;
  out.payloadOffset = pos;
  out.payloadLength = len;
  out.tagOffset = tagAt;
  return null;
}

function writeUint(buf: Uint8Array, at: number, v: number): number {
  if (v < 0x80) {
    buf[at] = v;
    return at + 1;
  }
  if (v < 0x100) {
    buf[at] = 0xcc;
    buf[at + 1] = v;
    return at + 2;
  }
  if (v < 0x10000) {
    buf[at] = 0xcd;
    buf[at + 1] = v >>> 8;
    buf[at + 2] = v & 0xff;
    return at + 3;
  }
  buf[at] = 0xce;
  buf[at + 1] = v >>> 24;
  buf[at + 2] = (v >>> 16) & 0xff;
  buf[at + 3] = (v >>> 8) & 0xff;
  buf[at + 4] = v & 0xff;
  return at + 5;
}

/** Bytes writeRelay needs for a payload of `payloadLength` bytes (an upper bound). */
export function relaySizeBound(payloadLength: number): number {
  return 27 + payloadLength + TAG_FIELD;
}

/**
 * Writes a relay envelope at `offset` and returns the number of bytes written. The tag
 * field is written as `tag` (9 bytes) or, when null, as zeros for the caller to sign in
 * place (lib/security writeTag over the bytes before it). The caller validates ranges (u32
 * ids, hops <= MAX_HOPS, payload <= MAX_PAYLOAD_BYTES) and makes sure `buf` has
 * relaySizeBound(payload.length) bytes from `offset`. `kind` is Data unless a Repair is written.
 */
export function writeRelay(
  buf: Uint8Array,
  offset: number,
  hops: number,
  grid: number,
  origin: number,
  seq: number,
  target: number | null,
  payload: Uint8Array,
  tag: Uint8Array | null = null,
  kind: number = Kind.Data,
): number {
  buf[offset] = HEADER;
  buf[offset + 1] = PROTOCOL_VERSION;
  buf[offset + 2] = kind;
  buf[offset + 3] = hops;
  let at = writeUint(buf, offset + 4, grid);
  at = writeUint(buf, at, origin);
  at = writeUint(buf, at, seq);
  if (target === null) buf[at++] = 0xc0;
  else at = writeUint(buf, at, target);
  const n = payload.length;
  if (n < 0x100) {
    buf[at] = 0xc4;
    buf[at + 1] = n;
    at += 2;
  } else {
    buf[at] = 0xc5;
    buf[at + 1] = n >>> 8;
    buf[at + 2] = n & 0xff;
    at += 3;
  }
  buf.set(payload, at);
  at += n;
  buf[at] = 0xc4;
  buf[at + 1] = TAG_BYTES;
  if (tag === null) buf.fill(0, at + 2, at + TAG_FIELD);
  else for (let i = 0; i < TAG_BYTES; i++) buf[at + 2 + i] = tag[i] ?? 0; // no subarray view per call
  return at + TAG_FIELD - offset;
}
