/**
 * UTF-8 for the security layer: the same strict decoder and TextEncoder-compatible encoder
 * the wire codec uses (wire/utf8.ts), so a ticket's address and a str field follow one rule
 * (RFC 3629: one string, one encoding; a signed address cannot be smuggled in two spellings).
 */
export { utf8Decode, utf8Encode, utf8EncodeInto, utf8Length } from "../../wire/utf8.ts";
