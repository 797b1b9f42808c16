/**
 * Why a datagram did not decode (PROTOCOL.md section 5). Decoding untrusted bytes never
 * throws: it returns one of these codes, and the endpoints count drops by code in stats().
 */
export const DecodeErrorCode = {
  /** Ends before the value does (every strict prefix of a valid datagram). */
  Truncated: "truncated",
  /** Longer than maxDatagramBytes. */
  Oversized: "oversized",
  /** A complete value followed by more bytes. */
  TrailingBytes: "trailing-bytes",
  /** Not a MessagePack fixarray. */
  NotArray: "not-array",
  UnknownVersion: "unknown-version",
  UnknownKind: "unknown-kind",
  /** The array has the wrong number of elements for its kind. */
  WrongArity: "wrong-arity",
  /** A field has the wrong type or is out of range. */
  WrongType: "wrong-type",
  /** Not valid MessagePack (reserved type byte 0xc1, a length over a limit, ...). */
  Malformed: "malformed",
} as const;
export type DecodeErrorCode = (typeof DecodeErrorCode)[keyof typeof DecodeErrorCode];
