/** relaygrid/wire: the codec alone (PROTOCOL.md). Pure functions, no state, no I/O. */
export { decode, encode, encodeInto, peekKind, type AnyDecodeResult, type DecodeOptions, type DecodeResult } from "./codec.ts";
export { DecodeErrorCode } from "./decode-error.ts";
export { ErrorCode, RelayGridError } from "./errors.ts";
export { utf8Length, type FieldDef, type Fields, type Spec } from "./fields.ts";
export {
  DisconnectReason,
  IntroStatus,
  isEnvelopeKind,
  isNatKind,
  Kind,
  kindName,
  LinkStatus,
  LobbyErrorCode,
  NatKind,
  repairKindOf,
  type AnyKindValue,
  type EnvelopeKind,
  type KindName,
  type KindValue,
  type NatKindName,
  type NatKindValue,
} from "./kinds.ts";
export * from "./limits.ts";
export * from "./message-header.ts";
export {
  NAT_SCHEMAS,
  SCHEMAS,
  schemaOf,
  type AnyMessage,
  type AnyMessageOf,
  type GraftEntry,
  type GridEntry,
  type HintEntry,
  type IntroResult,
  type LocalEntry,
  type Message,
  type MessageOf,
  type NatMessage,
  type NatMessageOf,
  type PeerEntry,
  type RepairWant,
} from "./messages.ts";
export {
  newRelayHeader,
  readRelay,
  RELAY_HOPS_OFFSET,
  relaySizeBound,
  writeRelay,
  type RelayHeader,
} from "./relay-envelope.ts";
