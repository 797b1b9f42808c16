/**
 * test/vectors/origin.json: the origin signature trailer (PROTOCOL.md 4.1.4, `originAuth:
 * "ed25519"`), known answers from fixed keys. The lobby identity is RFC 8032 section 7.1 test
 * 1's (admission.json's), the origin's link key test 2's (nat.json's), the grid key
 * security.json's. Computed through lib/security and wire/origin-signature.ts;
 * test/wire-origin-vectors.test.ts recomputes the signed message by hand from the formula and
 * checks the signature with both crypto providers.
 */
import { GridKeyring, writeTag } from "../../lib/security/grid-keys.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { issueTicketV2 } from "../../lib/security/ticket.ts";
import { ORIGIN_TICKET_BYTES, ORIGIN_TRAILER_BYTES, OriginClass, originSignedMessage } from "../../wire/origin-signature.ts";
import { Kind } from "../../wire/kinds.ts";
import { RELAY_HOPS_OFFSET, relaySizeBound, writeRelay } from "../../wire/relay-envelope.ts";
import { TAG_FIELD_BYTES } from "../../wire/limits.ts";
import { RFC_KEYS } from "./admission.ts";
import { LINK_KEYS } from "./nat.ts";
import { fromHex, toHex } from "./hex.ts";

const GRID_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const EPOCH = 258;

export interface OriginVector {
  readonly name: string;
  readonly kind: number;
  readonly grid: number;
  readonly origin: number;
  readonly seq: number;
  readonly target: number | null;
  /** The application's bytes. */
  readonly payload: string;
  readonly signedMessage: string;
  readonly signature: string;
  /** The Data or Message datagram, hops 0, trailer in its payload, tagged under the grid key. */
  readonly datagram: string;
}

export interface OriginVectors {
  readonly about: string;
  readonly inputs: { identitySeed: string; identity: string; linkSeed: string; linkKey: string; gridKey: string; epoch: number };
  /** The origin's key-bound ticket (nat.json's layout): grid 7, peer 3. */
  readonly ticket: string;
  readonly vectors: OriginVector[];
}

export function buildOriginVectors(): OriginVectors {
  const crypto = new NobleCrypto(new SeededRandom(15));
  const identity = fromHex(RFC_KEYS.identitySeed);
  const link = crypto.ed25519KeyPair(fromHex(LINK_KEYS.linkSeed));
  const ticket = issueTicketV2(crypto, identity, { grid: 7, peer: 3, epoch: EPOCH, key: link.publicKey });
  const ring = new GridKeyring(crypto);
  ring.add(EPOCH, GRID_KEY);
  ring.activate(EPOCH);
  const one = (name: string, kind: number, seq: number, target: number | null, app: Uint8Array): OriginVector => {
    const payload = new Uint8Array(app.length + ORIGIN_TRAILER_BYTES);
    payload.set(app, 0);
    payload.set(ticket, app.length);
    const cls = kind === Kind.Message ? OriginClass.Message : OriginClass.Data;
    const msg = originSignedMessage(cls, 7, 3, seq, target, payload.subarray(0, app.length + ORIGIN_TICKET_BYTES));
    const sig = crypto.ed25519Sign(link.secretKey, msg);
    payload.set(sig, app.length + ORIGIN_TICKET_BYTES);
    const buf = new Uint8Array(relaySizeBound(payload.length));
    const n = writeRelay(buf, 0, 0, 7, 3, seq, target, payload, null, kind);
    const d = buf.slice(0, n);
    writeTag(ring, d, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    return { name, kind, grid: 7, origin: 3, seq, target, payload: toHex(app), signedMessage: toHex(msg), signature: toHex(sig), datagram: toHex(d) };
  };
  return {
    about:
      "relaygrid wire/PROTOCOL.md 4.1.4: with originAuth \"ed25519\" the payload of Data and Message ends with the origin's key-bound " +
      "ticket (109 bytes, nat.json's layout) and signature = Ed25519(link seed, \"relaygrid-origin-v1\" || class (0 Data and Repair, " +
      "1 Message and MessageRepair) || u32be(grid) || u32be(origin) || u32be(seq) || (target nil ? 00 : 01) || u32be(target or 0) || " +
      "the payload up to the signature: application bytes || ticket). Keys: RFC 8032 7.1 test 1 (lobby identity), test 2 (the " +
      "origin's link key); security.json's grid key for the tag.",
    inputs: { identitySeed: RFC_KEYS.identitySeed, identity: RFC_KEYS.identity, ...LINK_KEYS, gridKey: toHex(GRID_KEY), epoch: EPOCH },
    ticket: toHex(ticket),
    vectors: [
      one("data-hello", Kind.Data, 1, null, new TextEncoder().encode("hello")),
      one("data-empty-targeted", Kind.Data, 0xffffffff, 4, new Uint8Array(0)),
      one("message-reliable", Kind.Message, 42, null, Uint8Array.from([0x01, 0x00, 0x00, 0x00, 0x00, 0x2a])),
    ],
  };
}
