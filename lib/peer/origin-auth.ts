/**
 * Origin authenticity, opt-in (`originAuth: "ed25519"`; issue 15 item 1, docs/SECURITY.md
 * "Origin authenticity", PROTOCOL.md 4.1.4). The grid key proves that a member made a
 * datagram, not which one: any member can write any `origin`. With this on, the origin ends
 * every Data and Message payload with its key-bound ticket (the lobby binds its peer id to its
 * Ed25519 link key, lib/security/ticket.ts version 2, fetched by the registration of 4.7) and
 * its signature over the envelope (wire/origin-signature.ts). A receiver checks the trailer
 * only of a copy its duplicate window would take as new (duplicates cost nothing more), before
 * the window moves: a forgery is dropped and counted, and moves nothing. The ticket's lobby
 * signature is checked once per ticket (the ticket cache), the origin's on every new message.
 *
 * Every member of a grid must agree on the option: a grid with it on drops unsigned data.
 * Crypto is the Peer's provider (`crypto`: node:crypto under relaygrid/node, Bun and Deno;
 * @noble/curves elsewhere), so the cost differs by two orders (`npm run bench -- security`).
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { Kind, MAX_PAYLOAD_BYTES, type RelayHeader } from "../../wire/index.ts";
import {
  ORIGIN_SIGNATURE_BYTES,
  ORIGIN_TICKET_BYTES,
  ORIGIN_TRAILER_BYTES,
  OriginClass,
  originSignedMessage,
} from "../../wire/origin-signature.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";

/** "off": the grid key alone (any member can write any origin); "ed25519": origins sign. */
export type OriginAuth = "off" | "ed25519";

export interface OriginAuthOptions {
  /**
   * Origin authenticity (docs/SECURITY.md): "ed25519" signs every broadcast with this peer's
   * link key and drops data whose origin did not sign it; every member of the grid must set
   * the same. It needs natTraversal (the registration fetches the key-bound ticket) and takes
   * 173 bytes of each payload. Defaults to "off".
   */
  originAuth?: OriginAuth;
}

export function resolveOriginAuth(c: OriginAuthOptions & { natTraversal?: boolean }): Required<OriginAuthOptions> {
  const a = c.originAuth ?? "off";
  if (a !== "off" && a !== "ed25519") {
    throw new RelayGridError(ErrorCode.InvalidConfig, `originAuth must be "off" or "ed25519", got ${JSON.stringify(a)}`);
  }
  if (a === "ed25519" && c.natTraversal === false) {
    throw new RelayGridError(ErrorCode.InvalidConfig, "originAuth \"ed25519\" needs the key-bound ticket the registration fetches: leave natTraversal on");
  }
  return { originAuth: a };
}

/** What origin authentication counted (stats().originAuth). */
export interface OriginAuthCounters {
  /** This peer's envelopes signed. */
  signed: number;
  /** New envelopes whose origin signature verified. */
  verified: number;
  /** New envelopes dropped: no trailer, a ticket that is not the origin's, or a bad signature. */
  refused: number;
}

export class OriginAuthenticator {
  readonly on: boolean;
  /** The largest payload this peer may broadcast in one envelope (the trailer takes 173 bytes). */
  readonly maxPayload: number;
  readonly counters: OriginAuthCounters = { signed: 0, verified: 0, refused: 0 };

  constructor(private readonly core: PeerCore) {
    this.on = core.cfg.originAuth === "ed25519";
    this.maxPayload = this.on ? MAX_PAYLOAD_BYTES - ORIGIN_TRAILER_BYTES : MAX_PAYLOAD_BYTES;
  }

  /** `payload` followed by this peer's trailer for envelope (kind, grid, origin, seq, target). */
  seal(kind: number, grid: number, origin: number, seq: number, target: number | null, payload: Uint8Array): Uint8Array {
    const creds = this.core.credentials;
    const ticket = creds.ticket2;
    if (ticket === undefined) {
      throw new RelayGridError(ErrorCode.NotJoined, "originAuth: no key-bound ticket yet (the lobby sends it in Registered, right after the join): wait for the \"registered\" event");
    }
    const out = new Uint8Array(payload.length + ORIGIN_TRAILER_BYTES);
    out.set(payload, 0);
    out.set(ticket, payload.length);
    const signed = out.subarray(0, payload.length + ORIGIN_TICKET_BYTES);
    const msg = originSignedMessage(classOf(kind), grid, origin, seq, target, signed);
    out.set(this.core.cfg.crypto.ed25519Sign(creds.linkKey.secretKey, msg), signed.length);
    this.counters.signed++;
    return out;
  }

  /**
   * Checks the trailer of the envelope in `h` (a copy the duplicate window would take as new).
   * When it holds, `h.payloadLength` shrinks to the application's bytes; else the drop.
   */
  check(kind: number, h: RelayHeader, bytes: Uint8Array): DropReason | undefined {
    if (h.payloadLength < ORIGIN_TRAILER_BYTES) return this.refuse(PeerDrop.OriginUnsigned);
    const end = h.payloadOffset + h.payloadLength;
    const sigAt = end - ORIGIN_SIGNATURE_BYTES;
    const key = this.core.credentials.originKey(h.grid, h.origin, bytes.subarray(sigAt - ORIGIN_TICKET_BYTES, sigAt));
    if (key === undefined) return this.refuse(PeerDrop.OriginBadTicket);
    const msg = originSignedMessage(classOf(kind), h.grid, h.origin, h.seq, h.target, bytes.subarray(h.payloadOffset, sigAt));
    if (!this.core.cfg.crypto.ed25519Verify(key, msg, bytes.subarray(sigAt, end))) return this.refuse(PeerDrop.OriginForged);
    h.payloadLength -= ORIGIN_TRAILER_BYTES;
    this.counters.verified++;
    return undefined;
  }

  private refuse(drop: DropReason): DropReason {
    this.counters.refused++;
    return drop;
  }
}

function classOf(kind: number): OriginClass {
  return kind === Kind.Message || kind === Kind.MessageRepair ? OriginClass.Message : OriginClass.Data;
}
