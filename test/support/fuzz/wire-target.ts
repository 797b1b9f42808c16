/**
 * Fuzz target "wire": every decoder of untrusted bytes (PROTOCOL.md 5, 6.3, 6.4, 6.6) on
 * mutated, generated and random input. Properties, per input:
 *   - decode() never throws; it returns a message or a DecodeErrorCode, and a message
 *     re-encodes, decodes again and is a fixpoint from there (canonical form);
 *   - readRelay(), the hot-path decoder, never throws and agrees with decode() on every
 *     datagram that starts like relay data (same verdict, same fields);
 *   - peekKind() agrees with decode();
 *   - checkTag() never throws; readTicket() and decodeGrant() never throw and accept only
 *     the one valid encoding (re-encoding what they read gives the same bytes).
 */
import fc from "fast-check";
import { decodeGrant, encodeGrant } from "../../../lib/security/admission.ts";
import { checkTag, GridKeyring } from "../../../lib/security/grid-keys.ts";
import { readTicket, TICKET_HEADER_BYTES } from "../../../lib/security/ticket.ts";
import { utf8Encode } from "../../../lib/security/utf8.ts";
import {
  DecodeErrorCode,
  DEFAULT_MAX_DATAGRAM_BYTES,
  decode,
  encode,
  Kind,
  newRelayHeader,
  peekKind,
  readRelay,
  type Message,
} from "../../../wire/index.ts";
import { seededCrypto } from "../sim-grid.ts";
import { payloadArb, payloadBytes, toHex, vectorCorpus, type Payload, type Resolver } from "./inputs.ts";
import type { FuzzTarget } from "./target.ts";

const CODES = new Set<string>(Object.values(DecodeErrorCode));

/** A ticket-shaped value (layout right, signature zeros) for the ticket tokens and corpus. */
function ticketLike(grid: number, peer: number, epoch: number, address: string): Uint8Array {
  const a = utf8Encode(address);
  const t = new Uint8Array(TICKET_HEADER_BYTES + a.length + 64);
  const v = new DataView(t.buffer);
  t[0] = 1;
  v.setUint32(1, grid);
  v.setUint32(5, peer);
  v.setUint32(9, epoch);
  t[13] = a.length;
  t.set(a, TICKET_HEADER_BYTES);
  return t;
}

const TICKETS = [ticketLike(7, 1, 1, "10.0.0.1:4000"), ticketLike(0xffffffff, 2, 0, "é"), ticketLike(7, 3, 9, "x".repeat(64))];
const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const GRANTS = [
  encodeGrant({ activeEpoch: 1, keys: [{ epoch: 1, key: key(1) }], ticket: TICKETS[0] as Uint8Array }),
  encodeGrant({ activeEpoch: 2, keys: [{ epoch: 1, key: key(1) }, { epoch: 2, key: key(2) }, { epoch: 3, key: key(3) }], ticket: TICKETS[2] as Uint8Array }),
];

/** Tokens in a world without peers: fixed, plausible values. */
const RESOLVER: Resolver = {
  grid: () => 7,
  member: (i) => 1 + (i % 4),
  self: () => 1,
  ticket: (i) => TICKETS[i % TICKETS.length] as Uint8Array,
  session: (i) => 0x1000 + i,
  addr: (i) => `10.0.0.${i}:4000`,
  req: (i) => i,
};

export type WireInput = { readonly decoder: "datagram" | "ticket" | "grant"; readonly payload: Payload };

let corpora: { datagram: Uint8Array[]; ticket: Uint8Array[]; grant: Uint8Array[] } | undefined;
function corpus(which: WireInput["decoder"]): Uint8Array[] {
  corpora ??= { datagram: vectorCorpus(), ticket: TICKETS, grant: GRANTS };
  return corpora[which];
}

let keyring: GridKeyring | undefined;
function ring(): GridKeyring {
  if (keyring === undefined) {
    keyring = new GridKeyring(seededCrypto(1));
    keyring.add(1, key(9));
    keyring.add(2, key(10));
  }
  return keyring;
}

const header = newRelayHeader();

function fail(what: string): never {
  throw new Error(what);
}

/** The datagram properties of the header comment. */
export function checkDatagram(bytes: Uint8Array): void {
  const r = decode(bytes);
  if (!r.ok) {
    if (!CODES.has(r.code) || typeof r.detail !== "string") fail(`decode returned an unknown code ${String(r.code)}`);
  } else {
    let once: Uint8Array;
    try {
      once = encode(r.msg);
    } catch (e) {
      fail(`decoded ${r.msg.kind} does not re-encode: ${String(e)}`);
    }
    // Invalid UTF-8 decodes to replacement characters, whose UTF-8 can be a little longer.
    const again = decode(once, Math.max(DEFAULT_MAX_DATAGRAM_BYTES, once.length));
    if (!again.ok) fail(`re-encoded ${r.msg.kind} does not decode: ${again.code} ${again.detail}`);
    if (toHex(encode(again.msg)) !== toHex(once)) fail(`re-encoding ${r.msg.kind} drifts`);
    if (peekKind(bytes) !== r.msg.kind) fail(`peekKind ${peekKind(bytes)} but decode says ${r.msg.kind}`);
  }
  const looksLikeData = bytes.length >= 3 && bytes[0] === 0x99 && bytes[1] === 1 && bytes[2] === Kind.Data;
  const rr = readRelay(bytes, header);
  if (rr !== null && !CODES.has(rr)) fail(`readRelay returned an unknown code ${String(rr)}`);
  if (looksLikeData && bytes.length <= DEFAULT_MAX_DATAGRAM_BYTES) {
    if ((rr === null) !== r.ok) fail(`readRelay says ${rr ?? "ok"} but decode says ${r.ok ? "ok" : r.code}`);
    if (r.ok && r.msg.kind === Kind.Data) {
      const m = r.msg as Extract<Message, { kind: typeof Kind.Data }>;
      const same = m.hops === header.hops && m.grid === header.grid && m.origin === header.origin && m.seq === header.seq && m.target === header.target && m.payload.length === header.payloadLength;
      if (!same) fail("readRelay and decode read different fields");
    }
  }
  for (const skip of [-1, 3]) {
    const t = checkTag(ring(), bytes, skip);
    if (t !== "ok" && t !== "missing" && t !== "unknown-epoch" && t !== "bad-tag") fail(`checkTag returned ${String(t)}`);
  }
}

export function checkTicketBytes(bytes: Uint8Array): void {
  const t = readTicket(bytes);
  if (t === null) return;
  const again = ticketLike(t.grid, t.peer, t.epoch, t.address);
  const n = again.length - 64;
  if (bytes.length !== again.length || toHex(bytes.subarray(0, n)) !== toHex(again.subarray(0, n))) {
    fail(`readTicket accepted a non-canonical ticket (${JSON.stringify(t)})`);
  }
}

export function checkGrantBytes(bytes: Uint8Array): void {
  const g = decodeGrant(bytes);
  if (g === null) return;
  if (toHex(encodeGrant(g)) !== toHex(bytes)) fail("decodeGrant accepted a non-canonical grant");
}

export const wireTarget: FuzzTarget<WireInput> = {
  name: "wire",
  arbitrary: fc.record({
    decoder: fc.oneof({ weight: 8, arbitrary: fc.constant("datagram" as const) }, { weight: 1, arbitrary: fc.constantFrom("ticket" as const, "grant" as const) }),
    payload: payloadArb(),
  }),
  check(input) {
    this.replay(this.describe(input));
  },
  describe(input) {
    return [`${input.decoder} ${toHex(payloadBytes(input.payload, corpus(input.decoder), RESOLVER))}`];
  },
  replay(lines) {
    for (const line of lines) {
      const [decoder, hex] = line.split(" ") as [string, string | undefined];
      const bytes = Uint8Array.from(Buffer.from(hex ?? "", "hex"));
      if (decoder === "datagram") checkDatagram(bytes);
      else if (decoder === "ticket") checkTicketBytes(bytes);
      else if (decoder === "grant") checkGrantBytes(bytes);
      else fail(`unknown wire replay line: ${line}`);
    }
  },
};
