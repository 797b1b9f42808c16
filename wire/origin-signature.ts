/**
 * The origin signature trailer (PROTOCOL.md 4.1.4): with `originAuth: "ed25519"`, the payload
 * of every Data and Message envelope (and of their Repairs) ends with the origin's key-bound
 * ticket (version 2, 109 bytes: the lobby binds the origin's peer id to its Ed25519 key) and
 * the origin's Ed25519 signature (64 bytes) over the message this file builds. The grid key's
 * tag proves a member made the datagram; the trailer proves which member. Pure bytes: the
 * signing and the checking are in lib/peer/origin-auth.ts.
 */

/** The key-bound ticket's size (lib/security/ticket.ts TICKET_V2_BYTES). */
export const ORIGIN_TICKET_BYTES = 109;
/** An Ed25519 signature. */
export const ORIGIN_SIGNATURE_BYTES = 64;
/** What the trailer takes from the payload: 173 bytes. */
export const ORIGIN_TRAILER_BYTES = ORIGIN_TICKET_BYTES + ORIGIN_SIGNATURE_BYTES;

/** "relaygrid-origin-v1": the signatures of no other message can be replayed as an origin's. */
const DOMAIN = [114, 101, 108, 97, 121, 103, 114, 105, 100, 45, 111, 114, 105, 103, 105, 110, 45, 118, 49];
/** Domain, class, grid, origin, seq, target flag and target. */
const HEAD_BYTES = DOMAIN.length + 1 + 4 + 4 + 4 + 1 + 4;

/** What the signature says the envelope is: Data and Repair are one class, Message and MessageRepair another. */
export const OriginClass = { Data: 0, Message: 1 } as const;
export type OriginClass = (typeof OriginClass)[keyof typeof OriginClass];

/**
 * The bytes the origin signs: the domain, the class, grid, origin, seq, target (a flag byte,
 * 1 with a target, then the target or 0, u32 big-endian) and `signed`: the payload up to the
 * signature (the application's bytes, then the ticket). The hop byte, the kind (a Repair is the
 * same message) and the grid-key tag are left out, so relays and repairs keep it valid.
 */
export function originSignedMessage(cls: OriginClass, grid: number, origin: number, seq: number, target: number | null, signed: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD_BYTES + signed.length);
  out.set(DOMAIN, 0);
  let at = DOMAIN.length;
  out[at++] = cls;
  at = putU32(out, at, grid);
  at = putU32(out, at, origin);
  at = putU32(out, at, seq);
  out[at++] = target === null ? 0 : 1;
  at = putU32(out, at, target ?? 0);
  out.set(signed, at);
  return out;
}

function putU32(out: Uint8Array, at: number, v: number): number {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
  return at + 4;
}
