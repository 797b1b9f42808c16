/**
 * encode/decode for every message kind (PROTOCOL.md sections 4-5).
 *
 * decode() is the edge where untrusted bytes become typed messages: it never throws, and
 * checks cheapest first - size, array header, version, kind, arity - before it lets the
 * MessagePack reader (wire/msgpack-reader.ts: every length limit, strict UTF-8, a nesting
 * limit) build anything. Encoding uses @msgpack/msgpack's encoder, so the bytes are any
 * MessagePack library's. Relay data goes through the hand-written envelope codec so both
 * paths produce the same bytes.
 */
import { Encoder } from "@msgpack/msgpack";
import { DecodeErrorCode } from "./decode-error.ts";
import { ErrorCode, RelayGridError } from "./errors.ts";
import { checkValue, type FieldDef, type Spec } from "./fields.ts";
import { type EnvelopeKind, isEnvelopeKind, kindName } from "./kinds.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES, PROTOCOL_VERSION, TAG_BYTES } from "./limits.ts";
import { type AnyMessage, type Message, type MessageOf, schemaOf } from "./messages.ts";
import { readValue } from "./msgpack-reader.ts";
import { newRelayHeader, readRelay, relaySizeBound, writeRelay } from "./relay-envelope.ts";
import { toWellFormed } from "./utf8.ts";

export type DecodeResult =
  | { readonly ok: true; readonly msg: Message }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly detail: string };

/** decode() with the NAT traversal kinds (NatKind, PROTOCOL.md 4.7). */
export type AnyDecodeResult =
  | { readonly ok: true; readonly msg: AnyMessage }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly detail: string };

export interface DecodeOptions {
  /**
   * Also decode the NAT traversal kinds (PROTOCOL.md 4.7). Defaults to false: they are
   * `unknown-kind`, as for every receiver that does not implement them (PROTOCOL.md 8).
   */
  readonly natTraversal?: boolean;
}

const encoder = new Encoder({ initialBufferSize: 2048 });
const relayHeader = newRelayHeader();

function fail(code: DecodeErrorCode, detail: string): DecodeResult {
  return { ok: false, code, detail };
}

/**
 * The kind of a datagram from its first three bytes, without decoding it: a driver or an
 * endpoint dispatches on this. Returns -1 unless the bytes start with a fixarray header
 * and this protocol version.
 */
export function peekKind(bytes: Uint8Array): number {
  if (bytes.length < 3 || ((bytes[0] as number) & 0xf0) !== 0x90 || bytes[1] !== PROTOCOL_VERSION) return -1;
  return bytes[2] as number;
}

/** Decodes one datagram. Never throws. */
export function decode(bytes: Uint8Array, maxDatagramBytes?: number, options?: { readonly natTraversal?: false }): DecodeResult;
export function decode(bytes: Uint8Array, maxDatagramBytes: number, options: DecodeOptions): AnyDecodeResult;
export function decode(bytes: Uint8Array, maxDatagramBytes: number = DEFAULT_MAX_DATAGRAM_BYTES, options?: DecodeOptions): AnyDecodeResult {
  const n = bytes.length;
  if (n === 0) return fail(DecodeErrorCode.Truncated, "empty datagram");
  if (n > maxDatagramBytes) return fail(DecodeErrorCode.Oversized, `${n} bytes > maxDatagramBytes ${maxDatagramBytes}`);
  const b0 = bytes[0] as number;
  if ((b0 & 0xf0) !== 0x90) return fail(DecodeErrorCode.NotArray, `first byte 0x${b0.toString(16)} is not a fixarray`);
  if (n < 3) return fail(DecodeErrorCode.Truncated, `${n} bytes`);
  if (bytes[1] !== PROTOCOL_VERSION) {
    return fail(DecodeErrorCode.UnknownVersion, `version byte 0x${(bytes[1] as number).toString(16)}, expected ${PROTOCOL_VERSION}`);
  }
  const kind = bytes[2] as number;
  const schema = schemaOf(kind, options?.natTraversal === true);
  if (schema === undefined) return fail(DecodeErrorCode.UnknownKind, `kind ${kindName(kind)}`);
  const arity = b0 & 0x0f;
  if (arity !== schema.length + 2) {
    return fail(DecodeErrorCode.WrongArity, `${kindName(kind)} has ${schema.length + 2} elements, got ${arity}`);
  }
  if (isEnvelopeKind(kind)) return decodeData(bytes, kind);

  // The bounded reader of msgpack-reader.ts: truncated, malformed or trailing-bytes in byte order.
  const read = readValue(bytes);
  if (!read.ok) return fail(read.code, read.detail);
  const value = read.value;
  const arr = value as unknown[];
  const msg: Record<string, unknown> = { kind };
  for (let i = 0; i < schema.length; i++) {
    const def = schema[i] as FieldDef;
    const v = arr[i + 2];
    const err = checkValue(def[1], v, def[0]);
    if (err !== null) return fail(DecodeErrorCode.WrongType, `${kindName(kind)}.${err}`);
    msg[def[0]] = def[1].t === "list" ? toObjects(def[1].of, v as unknown[][]) : v;
  }
  return { ok: true, msg: msg as unknown as AnyMessage };
}

function toObjects(of: readonly FieldDef[], rows: unknown[][]): Record<string, unknown>[] {
  return rows.map((row) => {
    const o: Record<string, unknown> = {};
    for (let j = 0; j < of.length; j++) o[(of[j] as FieldDef)[0]] = row[j];
    return o;
  });
}

function isEnvelope(msg: AnyMessage): msg is MessageOf<EnvelopeKind> {
  return isEnvelopeKind(msg.kind);
}

/** Data, Repair, Message and MessageRepair: the hand-written envelope reader (PROTOCOL.md 5.2). */
function decodeData(bytes: Uint8Array, kind: EnvelopeKind): DecodeResult {
  const err = readRelay(bytes, relayHeader, kind);
  if (err !== null) return fail(err, `${kindName(kind)} envelope`);
  const h = relayHeader;
  const msg: MessageOf<EnvelopeKind> = {
    kind,
    hops: h.hops,
    grid: h.grid,
    origin: h.origin,
    seq: h.seq,
    target: h.target,
    payload: bytes.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength),
    tag: bytes.subarray(h.tagOffset + 2, h.tagOffset + 2 + TAG_BYTES),
  };
  return { ok: true, msg };
}

/**
 * A str is written as well-formed UTF-8 whatever the string holds: a lone surrogate becomes
 * U+FFFD, as TextEncoder writes it (PROTOCOL.md 5.3), so utf8Length() is the wire size and
 * no receiver ever sees invalid UTF-8 from us.
 */
function wireValue(spec: Spec, v: unknown): unknown {
  return spec.t === "str" && typeof v === "string" ? toWellFormed(v) : v;
}

/** The positional array for `msg`, after checking every field against its schema. */
function toArray(msg: AnyMessage): unknown[] {
  const schema = schemaOf(msg.kind, true);
  if (schema === undefined) throw new RelayGridError(ErrorCode.InvalidConfig, `unknown message kind ${String(msg.kind)}`);
  const fields = msg as unknown as Record<string, unknown>;
  const arr: unknown[] = [PROTOCOL_VERSION, msg.kind];
  for (const [name, spec] of schema) {
    const v = fields[name];
    // Lists are objects in TypeScript and positional arrays on the wire. An entry that is
    // null or undefined becomes an array of undefined, which checkValue reports by path.
    const w =
      spec.t === "list" && Array.isArray(v)
        ? (v as (Record<string, unknown> | null | undefined)[]).map((o) =>
            spec.of.map(([k, s]) => wireValue(s, o === null || o === undefined ? undefined : o[k])),
          )
        : wireValue(spec, v);
    const err = checkValue(spec, w, name);
    if (err !== null) throw new RelayGridError(ErrorCode.InvalidConfig, `cannot encode ${kindName(msg.kind)}: ${err}`);
    arr.push(w);
  }
  return arr;
}

/**
 * Encodes `msg` into `buf` at `offset`; returns the bytes written. Throws RelayGridError
 * (invalid-config) when a field is out of its schema's range or `buf` is too small: that
 * is the caller's mistake, not the network's.
 */
export function encodeInto(msg: AnyMessage, buf: Uint8Array, offset: number): number {
  if (isEnvelope(msg)) {
    const name = kindName(msg.kind);
    toArray(msg); // validates every field's range; cheap next to the copy
    if (msg.tag.length !== TAG_BYTES) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `cannot encode ${name}: tag must be ${TAG_BYTES} bytes, got ${msg.tag.length}`);
    }
    if (buf.length - offset < relaySizeBound(msg.payload.length)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `buffer has ${buf.length - offset} bytes from offset ${offset}, ${name} needs up to ${relaySizeBound(msg.payload.length)}`);
    }
    return writeRelay(buf, offset, msg.hops, msg.grid, msg.origin, msg.seq, msg.target, msg.payload, msg.tag, msg.kind);
  }
  const bytes = encoder.encodeSharedRef(toArray(msg));
  if (buf.length - offset < bytes.length) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `buffer has ${buf.length - offset} bytes from offset ${offset}, ${kindName(msg.kind)} needs ${bytes.length}`);
  }
  buf.set(bytes, offset);
  return bytes.length;
}

/** Encodes `msg` into a new Uint8Array of exactly its size. */
export function encode(msg: AnyMessage): Uint8Array {
  if (isEnvelope(msg)) {
    const tmp = new Uint8Array(relaySizeBound(msg.payload.length));
    const n = encodeInto(msg, tmp, 0);
    return tmp.slice(0, n);
  }
  return encoder.encode(toArray(msg));
}
