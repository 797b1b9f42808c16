/**
 * UTF-8 for the security layer: the wire's one codec (wire/utf8.ts), so a ticket's address
 * and a str field follow one rule (RFC 3629: one string, one encoding; a signed address
 * cannot be smuggled in two spellings).
 */
export {
  type EncodeIntoResult,
  UTF8_ERROR,
  UTF8_NOTHING,
  UTF8_REPROCESS,
  Utf8DecodeState,
  utf8Decode,
  utf8Encode,
  utf8EncodeInto,
  utf8EncodeSome,
  utf8Length,
} from "../../wire/utf8.ts";
