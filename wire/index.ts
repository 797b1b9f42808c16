/** relaygrid/wire: the codec alone (PROTOCOL.md). Pure functions, no state, no I/O. */
export { decode, encode, encodeInto, peekKind, type DecodeResult } from "./codec.ts";
export { DecodeErrorCode } from "./decode-error.ts";
export { ErrorCode, RelayGridError } from "./errors.ts";
export { utf8Length, type FieldDef, type Fields, type Spec } from "./fields.ts";
export { DisconnectReason, isEnvelopeKind, Kind, kindName, LinkStatus, LobbyErrorCode, repairKindOf, type EnvelopeKind, type KindName, type KindValue } from "./kinds.ts";
export * from "./message-header.ts";
export * from "./limits.ts";
export { SCHEMAS, schemaOf, type GraftEntry, type GridEntry, type HintEntry, type RepairWant, type Message, type MessageOf, type PeerEntry } from "./messages.ts";
export {
  newRelayHeader,
  readRelay,
  RELAY_HOPS_OFFSET,
  relaySizeBound,
  writeRelay,
  type RelayHeader,
} from "./relay-envelope.ts";
