/**
 * The security primitives (issue 6): SipHash-2-4 datagram tags under epoch-rotated grid
 * keys, Ed25519-signed admission tickets, the X25519 lobby session handshake with
 * ChaCha20-Poly1305, and address-validation cookies, over an injectable CryptoProvider.
 */
export { constantTimeEqual } from "./bytes.ts";
export * from "./crypto.ts";
export * from "./grid-keys.ts";
export * from "./handshake.ts";
export { NobleCrypto } from "./noble-crypto.ts";
export * from "./siphash.ts";
export * from "./ticket.ts";
export * from "./ticket-cache.ts";
export * from "./link-key.ts";
export { utf8Decode, utf8Encode, utf8EncodeInto } from "./utf8.ts";
export { decodeGrant, encodeGrant, type AdmissionGrant } from "./admission.ts";
