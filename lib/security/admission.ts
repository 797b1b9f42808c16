/**
 * What the lobby seals into Members for an admitted peer (PROTOCOL.md 4.3): the grid's keys
 * by epoch and the peer's ticket. Binary layout, all integers big-endian:
 *
 *   activeEpoch u32 | count u8 (1..3) | count x (epoch u32 | key 32 bytes) | ticketLen u16 | ticket
 *
 * The lobby seals it with the session key (ChaCha20-Poly1305, Direction.LobbyToPeer, the
 * nonce counter sent in clear beside it), so only the peer that did the handshake can read it.
 */
import { GRID_KEY_BYTES, MAX_EPOCHS } from "./grid-keys.ts";
import { TICKET_MAX_BYTES } from "./ticket.ts";

export interface AdmissionGrant {
  /** The epoch to send under now. */
  readonly activeEpoch: number;
  /** Every epoch the peer should accept (the active one, and the next one during a rotation). */
  readonly keys: readonly { readonly epoch: number; readonly key: Uint8Array }[];
  /** The lobby-signed ticket (grid, peer, address, epoch) members check before linking. */
  readonly ticket: Uint8Array;
}

export function encodeGrant(g: AdmissionGrant): Uint8Array {
  const keys = g.keys.slice(0, MAX_EPOCHS);
  const out = new Uint8Array(4 + 1 + keys.length * (4 + GRID_KEY_BYTES) + 2 + g.ticket.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, g.activeEpoch >>> 0);
  out[4] = keys.length;
  let at = 5;
  for (const k of keys) {
    view.setUint32(at, k.epoch >>> 0);
    out.set(k.key.subarray(0, GRID_KEY_BYTES), at + 4);
    at += 4 + GRID_KEY_BYTES;
  }
  view.setUint16(at, g.ticket.length);
  out.set(g.ticket, at + 2);
  return out;
}

/** The grant, or null when the bytes do not follow the layout. Never throws. */
export function decodeGrant(bytes: Uint8Array): AdmissionGrant | null {
  if (bytes.length < 5) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const activeEpoch = view.getUint32(0);
  const count = bytes[4] as number;
  if (count < 1 || count > MAX_EPOCHS) return null;
  let at = 5;
  const keys: { epoch: number; key: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 + GRID_KEY_BYTES > bytes.length) return null;
    keys.push({ epoch: view.getUint32(at), key: bytes.slice(at + 4, at + 4 + GRID_KEY_BYTES) });
    at += 4 + GRID_KEY_BYTES;
  }
  if (at + 2 > bytes.length) return null;
  const n = view.getUint16(at);
  if (n > TICKET_MAX_BYTES || at + 2 + n !== bytes.length) return null;
  if (!keys.some((k) => k.epoch === activeEpoch)) return null;
  return { activeEpoch, keys, ticket: bytes.slice(at + 2) };
}
