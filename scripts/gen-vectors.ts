/**
 * Writes the wire test vectors (PROTOCOL.md section 9, "Test vectors"):
 *
 *   test/vectors/messages.json  valid datagrams: { name, kind, msg, hex }
 *   test/vectors/invalid.json   malformed datagrams: { name, hex, code, why }
 *   test/vectors/security.json  one grid key, its MAC key, and datagrams before and after
 *                               signing (PROTOCOL.md 6.6), computed by lib/security
 *   test/vectors/addresses.json socket addresses and their one text form (PROTOCOL.md 4.5),
 *                               see scripts/vectors/addresses.ts
 *   test/vectors/admission.json known answers for the handshake, a ticket and sealed grants
 *                               (PROTOCOL.md 6.1-6.4), see scripts/vectors/admission.ts
 *   test/vectors/nat.json       NAT traversal datagrams, and known answers for key-bound
 *                               tickets, punch proofs and Register (PROTOCOL.md 4.7, 6.9),
 *                               see scripts/vectors/nat.ts
 *   test/vectors/origin.json    origin signature trailers (PROTOCOL.md 4.1.4, originAuth),
 *                               see scripts/vectors/origin.ts
 *
 * The hex of a valid vector is @msgpack/msgpack's encode() of the positional array
 * `[version, kind, ...fields]`, an encoder independent of wire/codec.ts and of the
 * hand-written relay envelope, so test/wire-vectors.test.ts checks our codec against a
 * reference rather than against itself. In `msg`, a Uint8Array is written {"$bin": "<hex>"}.
 * Payload bytes come from a fixed seed, so the files are the same on every run:
 * test/wire-vectors.test.ts and test/wire-security-vectors.test.ts fail when they are stale.
 *
 * Tags, tickets, keys, signatures and sealed grants in messages.json are just bytes of the
 * right shape (the codec does not verify them): tickets follow the ticket layout with a
 * made-up signature, sealed grants have the length a real grant would have. Only
 * security.json and admission.json hold values computed with the real constructions.
 *
 *   npx tsx scripts/gen-vectors.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom } from "../lib/rng.ts";
import { AEAD_TAG_BYTES, ED25519_SIGNATURE_BYTES } from "../lib/security/crypto.ts";
import { deriveMacKey, GRID_KEY_BYTES, GridKeyring, writeTag } from "../lib/security/grid-keys.ts";
import { deriveLinkKey, stampLinkAuth } from "../lib/security/link-auth.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { sipKeyFrom } from "../lib/security/siphash.ts";
import { TICKET_HEADER_BYTES } from "../lib/security/ticket.ts";
import { DecodeErrorCode } from "../wire/decode-error.ts";
import type { FieldDef } from "../wire/fields.ts";
import { DisconnectReason, Kind, kindName, LinkStatus, LobbyErrorCode } from "../wire/kinds.ts";
import {
  DEFAULT_MAX_DATAGRAM_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_SEALED_BYTES,
  MAX_TICKET_BYTES,
  MIN_HELLO_BYTES,
  PROTOCOL_VERSION,
  TAG_BYTES,
  TAG_FIELD_BYTES,
  LINK_AUTH_FIELD_BYTES,
} from "../wire/limits.ts";
import { type Message, type MessageOf, schemaOf } from "../wire/messages.ts";
import { RELAY_HOPS_OFFSET } from "../wire/relay-envelope.ts";
import { buildAddressVectors, type AddressVector } from "./vectors/addresses.ts";
import { buildAdmissionVectors, type AdmissionVectors } from "./vectors/admission.ts";
import { buildSessionVectors, type SessionVectors } from "./vectors/session.ts";
import { buildNatVectors, type NatVectors } from "./vectors/nat.ts";
import { buildOriginVectors, type OriginVectors } from "./vectors/origin.ts";
import { binReplacer, binReviver, fromHex, positional, toHex } from "./vectors/hex.ts";

export { binReviver, fromHex, positional, toHex };

export interface Vector {
  readonly name: string;
  readonly kind: string;
  readonly msg: Message;
  readonly hex: string;
}

export interface InvalidVector {
  readonly name: string;
  readonly hex: string;
  readonly code: DecodeErrorCode;
  readonly why: string;
}

const U32_MAX = 0xffffffff;

/** Seeded bytes, so a payload is the same on every run. */
function bytes(n: number, seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}

/** An ASCII string of exactly `n` bytes. */
function ascii(n: number, fill = "x"): string {
  return fill.repeat(n).slice(0, n);
}

/** The tag as an encoder writes it before signing: 9 zero bytes. */
const NO_AUTH = new Uint8Array(8);
const ZERO_TAG = new Uint8Array(TAG_BYTES);

/** A tag-shaped value: the epoch's low byte, then 8 made-up "SipHash" bytes. */
function tag(epoch: number, seed: number): Uint8Array {
  const out = new Uint8Array(TAG_BYTES);
  out[0] = epoch & 0xff;
  out.set(bytes(TAG_BYTES - 1, seed), 1);
  return out;
}

function u32be(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/**
 * A ticket in the version-1 layout (lib/security/ticket.ts, PROTOCOL.md 6.3): version,
 * grid, peer, epoch, address length, address, then 64 made-up signature bytes.
 */
function ticket(grid: number, peer: number, epoch: number, address: string, seed: number): Uint8Array {
  const addr = new TextEncoder().encode(address);
  const out = new Uint8Array(TICKET_HEADER_BYTES + addr.length + ED25519_SIGNATURE_BYTES);
  out[0] = 1;
  u32be(out, 1, grid);
  u32be(out, 5, peer);
  u32be(out, 9, epoch);
  out[13] = addr.length;
  out.set(addr, TICKET_HEADER_BYTES);
  out.set(bytes(ED25519_SIGNATURE_BYTES, seed), TICKET_HEADER_BYTES + addr.length);
  return out;
}

/**
 * Made-up ciphertext of the length a sealed grant has (lib/security/admission.ts): active
 * epoch u32, count u8, count x (epoch u32, key 32), ticket length u16, the ticket, and the
 * 16-byte AEAD tag.
 */
function sealedGrant(keys: number, addressBytes: number, seed: number): Uint8Array {
  const ticketBytes = TICKET_HEADER_BYTES + addressBytes + ED25519_SIGNATURE_BYTES;
  return bytes(4 + 1 + keys * (4 + GRID_KEY_BYTES) + 2 + ticketBytes + AEAD_TAG_BYTES, seed);
}

function vector(name: string, msg: Message): Vector {
  return { name, kind: kindName(msg.kind), msg, hex: toHex(referenceEncode(positional(msg))) };
}

type Hello = MessageOf<typeof Kind.Hello>;

/** A Hello padded with zeros to MIN_HELLO_BYTES (PROTOCOL.md 6.2), as a peer sends it. */
function paddedHello(fields: Omit<Hello, "kind" | "pad">): Hello {
  const unpadded: Hello = { kind: Kind.Hello, ...fields, pad: new Uint8Array(0) };
  const n = referenceEncode(positional(unpadded)).length;
  // An empty pad and a pad under 256 bytes both have a 2-byte bin 8 header.
  return { ...unpadded, pad: new Uint8Array(Math.max(0, MIN_HELLO_BYTES - n)) };
}

/** A Members message of exactly `DEFAULT_MAX_DATAGRAM_BYTES`: lists are bounded by bytes too. */
function fullMembers(): Message {
  const members: { peer: number; addr: string; links: number }[] = [];
  // The largest grant: three epochs during a rotation, a ticket for a 64-byte address.
  const sealed = sealedGrant(3, 64, 31);
  if (sealed.length !== MAX_SEALED_BYTES) throw new Error(`largest grant is ${sealed.length} bytes, MAX_SEALED_BYTES ${MAX_SEALED_BYTES}`);
  const msg = { kind: Kind.Members, req: 9, grid: 70000, peer: 4242, part: 0, parts: 3, members, nonce: U32_MAX, sealed };
  const size = (): number => referenceEncode(positional(msg)).length;
  for (let i = 0; ; i++) {
    members.push({ peer: 1000 + i, addr: `[2001:db8:${i.toString(16)}::17]:${40000 + i}`.padEnd(64, "0"), links: i % 9 });
    if (size() >= DEFAULT_MAX_DATAGRAM_BYTES) break;
  }
  const last = members[members.length - 1] as { addr: string };
  for (let len = 64; len >= 0; len--) {
    last.addr = last.addr.slice(0, len);
    if (size() === DEFAULT_MAX_DATAGRAM_BYTES) return msg;
  }
  throw new Error("cannot size a Members message to exactly 1200 bytes");
}

export function buildVectors(): Vector[] {
  const K = Kind;
  const v: Vector[] = [];
  const add = (name: string, msg: Message): void => {
    v.push(vector(name, msg));
  };
  const hello = new TextEncoder().encode("hello");
  // Tickets of grid 7 (epoch 1) for the peers the control vectors use.
  const t3 = ticket(7, 3, 1, "203.0.113.3:7000", 41);
  const t4 = ticket(7, 4, 1, "203.0.113.4:7000", 42);
  const t5 = ticket(7, 5, 1, "[2001:db8::5]:7000", 43);
  // A 64-byte address (the limit): the longest ticket.
  const maxTicket = ticket(U32_MAX, 127, U32_MAX, ascii(64, "h"), 44);
  if (maxTicket.length !== MAX_TICKET_BYTES) throw new Error(`longest ticket is ${maxTicket.length} bytes, MAX_TICKET_BYTES ${MAX_TICKET_BYTES}`);

  // 4.1 Data: every uint boundary in grid/origin/seq/target, nil vs 0 target, bin8 vs bin16;
  // the tag as written before signing (zeros) and as a signed datagram carries it.
  add("data-broadcast-hello", { kind: K.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: hello, tag: ZERO_TAG });
  add("data-broadcast-hello-tagged", { kind: K.Data, hops: 0, grid: 1, origin: 2, seq: 3, target: null, payload: hello, tag: tag(7, 100) });
  add("data-all-zero-empty-payload", { kind: K.Data, hops: 0, grid: 0, origin: 0, seq: 0, target: null, payload: new Uint8Array(0), tag: ZERO_TAG });
  add("data-target-zero-is-not-nil", { kind: K.Data, hops: 1, grid: 1, origin: 2, seq: 3, target: 0, payload: bytes(1, 1), tag: tag(1, 101) });
  add("data-hops-127-fixint-boundaries", {
    kind: K.Data, hops: 127, grid: 127, origin: 128, seq: 255, target: 256, payload: bytes(16, 2), tag: new Uint8Array(TAG_BYTES).fill(0xff),
  });
  add("data-uint16-uint32-boundaries", {
    kind: K.Data, hops: 5, grid: 65535, origin: 65536, seq: U32_MAX, target: U32_MAX, payload: bytes(3, 3), tag: tag(256, 102),
  });
  add("data-payload-255-bin8-max", { kind: K.Data, hops: 2, grid: 300, origin: 70000, seq: 1, target: null, payload: bytes(255, 4), tag: tag(2, 103) });
  add("data-payload-256-bin16", { kind: K.Data, hops: 3, grid: 300, origin: 70000, seq: 2, target: 12, payload: bytes(256, 5), tag: tag(2, 104) });
  add("data-payload-1150-max", {
    kind: K.Data, hops: 126, grid: U32_MAX, origin: U32_MAX, seq: U32_MAX, target: U32_MAX, payload: bytes(MAX_PAYLOAD_BYTES, 6), tag: tag(U32_MAX, 105),
  });

  // 4.2.1 Repair: the Data envelope with kind 0x02 (the same boundaries matter).
  add("repair-hello", { kind: K.Repair, hops: 1, grid: 1, origin: 2, seq: 3, target: null, payload: hello, tag: tag(7, 140) });
  add("repair-unsigned-empty-payload", { kind: K.Repair, hops: 0, grid: 0, origin: 0, seq: 0, target: null, payload: new Uint8Array(0), tag: ZERO_TAG });
  add("repair-uint-boundaries-target", {
    kind: K.Repair, hops: 127, grid: 65535, origin: 65536, seq: U32_MAX, target: 256, payload: bytes(256, 7), tag: tag(256, 141),
  });
  add("repair-payload-1150-max", {
    kind: K.Repair, hops: 126, grid: U32_MAX, origin: U32_MAX, seq: U32_MAX, target: U32_MAX, payload: bytes(MAX_PAYLOAD_BYTES, 8), tag: tag(U32_MAX, 142),
  });
  // 4.1.1 Message and MessageRepair: the Data envelope with kinds 0x06 and 0x07, the payload
  // starting with a message header (flags, [prev], [index, count], [team], body).
  add("message-reliable-ordered", { kind: K.Message, hops: 0, grid: 1, origin: 2, seq: 5, target: null, payload: Uint8Array.from([0x03, 0, 0, 0, 4, 0x68, 0x69]), tag: ZERO_TAG });
  add("message-fragment-team", {
    // RELIABLE | FRAGMENT | TEAM, prev 70000, fragment 1 of 58, team 9, a 1131-byte body (1150 in all).
    kind: K.Message, hops: 3, grid: 7, origin: 300, seq: 70002, target: null,
    payload: Uint8Array.from([0x0d, 0, 1, 0x11, 0x70, 0, 1, 0, 58, 0, 0, 0, 9, ...bytes(MAX_PAYLOAD_BYTES - 13, 9)]), tag: tag(2, 143),
  });
  add("message-unreliable-target", { kind: K.Message, hops: 1, grid: 1, origin: 2, seq: 6, target: 9, payload: Uint8Array.from([0x08, 0, 0, 0, 1, 0x21]), tag: tag(7, 144) });
  add("message-repair-reliable", { kind: K.MessageRepair, hops: 2, grid: 1, origin: 2, seq: 5, target: null, payload: Uint8Array.from([0x01, 0, 0, 0, 4, 0x68, 0x69]), tag: tag(7, 145) });
  // Routed payloads begin with a mode byte (PROTOCOL.md 4.1.2): 0 plain, 1 reliable (+ message id), 2 ack (+ the id acknowledged).
  add("routed-to-one-member", { kind: K.Routed, hops: 2, grid: 1, origin: 2, seq: 1, target: 9, payload: Uint8Array.from([0x00, ...hello]), tag: tag(7, 146) });
  add("routed-reliable", { kind: K.Routed, hops: 1, grid: 1, origin: 2, seq: 3, target: 9, payload: Uint8Array.from([0x01, 0, 0, 0, 2, 0x68, 0x69]), tag: tag(7, 147) });
  add("routed-ack", { kind: K.Routed, hops: 0, grid: 1, origin: 9, seq: 1, target: 2, payload: Uint8Array.from([0x02, 0, 0, 0, 2]), tag: tag(7, 148) });
  // Prune, Graft, RepairRequest: empty lists, one entry, nil and u32 `have`, the item limits.
  add("prune-one-origin", { kind: K.Prune, grid: 7, from: 3, to: 4, origins: [5], ctr: 2, auth: bytes(8, 301), tag: tag(1, 143) });
  add("prune-empty", { kind: K.Prune, grid: 7, from: 3, to: 4, origins: [], ctr: 0, auth: NO_AUTH, tag: ZERO_TAG });
  add("prune-128-origins-max", {
    kind: K.Prune, grid: U32_MAX, from: 65536, to: 7, origins: Array.from({ length: 128 }, (_, i) => [0, 127, 128, 255, 256, 65535, 65536, U32_MAX][i % 8] as number), ctr: 3, auth: bytes(8, 302), tag: tag(2, 144),
  });
  add("graft-resume-and-catch-up", { kind: K.Graft, grid: 7, from: 4, to: 3, origins: [{ origin: 5, have: null }, { origin: 6, have: 41 }], ctr: 4, auth: bytes(8, 303), tag: tag(1, 145) });
  add("graft-empty", { kind: K.Graft, grid: 7, from: 4, to: 3, origins: [], ctr: 0, auth: NO_AUTH, tag: ZERO_TAG });
  add("graft-64-entries-max", {
    kind: K.Graft, grid: 65535, from: U32_MAX, to: 7, origins: Array.from({ length: 64 }, (_, i) => ({ origin: U32_MAX - i, have: i % 2 === 0 ? null : U32_MAX - i })), ctr: 5, auth: bytes(8, 304), tag: tag(3, 146),
  });
  add("repair-request", { kind: K.RepairRequest, grid: 7, from: 3, to: 4, wants: [{ origin: 5, first: 40, mask: 0b101 }], ctr: 6, auth: bytes(8, 305), tag: tag(1, 147) });
  add("repair-request-empty", { kind: K.RepairRequest, grid: 7, from: 3, to: 4, wants: [], ctr: 0, auth: NO_AUTH, tag: ZERO_TAG });
  add("repair-request-64-wants-max", {
    kind: K.RepairRequest, grid: U32_MAX, from: 128, to: 7, wants: Array.from({ length: 64 }, (_, i) => ({ origin: 70000 + i, first: U32_MAX - i, mask: U32_MAX })), ctr: 7, auth: bytes(8, 306), tag: tag(4, 148),
  });

  // 4.2 Peer <-> peer control: every kind names its receiver (`to`) and ends with the tag;
  // Connect, Force and their replies carry the sender's nonce and ticket (a refusal: no
  // nonce); Ping, Pong, Disconnect, Prune, Graft and RepairRequest the link counter and auth.
  add("join", { kind: K.Join, req: 1, grid: 7, from: 3, to: 4, tag: ZERO_TAG });
  add("join-tagged", { kind: K.Join, req: 1, grid: 7, from: 3, to: 4, tag: tag(1, 110) });
  add("join-uint-boundaries", { kind: K.Join, req: U32_MAX, grid: 65536, from: 255, to: 7, tag: tag(0x100, 111) });
  add("join-reply-positive", { kind: K.JoinReply, req: 1, grid: 7, from: 4, to: 3, positive: true, links: 1, limit: 4, tag: tag(1, 112) });
  add("join-reply-negative-u8-max", { kind: K.JoinReply, req: 128, grid: 7, from: 256, to: 7, positive: false, links: 255, limit: 255, tag: tag(1, 113) });
  add("connect", { kind: K.Connect, req: 2, grid: 7, from: 3, to: 4, nonce: bytes(8, 307), ticket: t3, tag: tag(1, 114) });
  add("connect-ticket-142-max", {
    kind: K.Connect, req: 256, grid: U32_MAX, from: 127, to: 7, nonce: bytes(8, 308),
    ticket: maxTicket, tag: tag(U32_MAX, 115),
  });
  add("connect-empty-ticket", { kind: K.Connect, req: 3, grid: 7, from: 3, to: 4, nonce: new Uint8Array(0), ticket: new Uint8Array(0), tag: ZERO_TAG });
  add("connect-reply-accepted", { kind: K.ConnectReply, req: 2, grid: 7, from: 4, to: 3, accepted: true, nonce: bytes(8, 309), ticket: t4, tag: tag(1, 116) });
  add("connect-reply-refused", { kind: K.ConnectReply, req: 65535, grid: 7, from: 4, to: 3, accepted: false, nonce: new Uint8Array(0), ticket: t4, tag: tag(1, 117) });
  add("force", { kind: K.Force, req: 3, grid: 7, from: 3, to: 4, nonce: bytes(8, 311), ticket: t3, tag: tag(1, 118) });
  add("force-uint-boundaries", { kind: K.Force, req: 0, grid: 128, from: 65536, to: 7, nonce: bytes(8, 312), ticket: ticket(128, 65536, 0, "h", 45), tag: tag(0, 119) });
  add("force-reply-ok", { kind: K.ForceReply, req: 3, grid: 7, from: 5, to: 3, ok: true, nonce: bytes(8, 313), ticket: t5, tag: tag(1, 120) });
  add("force-reply-refused", { kind: K.ForceReply, req: 3, grid: 7, from: 5, to: 3, ok: false, nonce: new Uint8Array(0), ticket: t5, tag: tag(1, 121) });
  add("available", { kind: K.Available, req: 4, grid: 7, from: 3, to: 4, tag: tag(1, 122) });
  add("available-uint-boundaries", { kind: K.Available, req: 65535, grid: 255, from: U32_MAX, to: 7, tag: tag(255, 123) });
  add("available-reply-positive", { kind: K.AvailableReply, req: 4, grid: 7, from: 6, to: 3, positive: true, links: 2, tag: tag(1, 124) });
  add("available-reply-negative", { kind: K.AvailableReply, req: 4, grid: 7, from: 6, to: 3, positive: false, links: 128, tag: tag(1, 125) });
  add("ping", { kind: K.Ping, req: 5, grid: 7, from: 3, to: 4, ctr: 16, auth: bytes(8, 315), tag: tag(1, 126) });
  add("ping-uint32", { kind: K.Ping, req: 65536, grid: U32_MAX, from: 65535, to: 7, ctr: 17, auth: bytes(8, 316), tag: tag(2, 127) });
  add("pong", { kind: K.Pong, req: 5, grid: 7, from: 4, to: 3, links: 3, ctr: 18, auth: bytes(8, 317), tag: tag(1, 128) });
  add("pong-links-0", { kind: K.Pong, req: 5, grid: 7, from: 4, to: 3, links: 0, ctr: 19, auth: bytes(8, 318), tag: tag(1, 129) });
  add("disconnect-leave", { kind: K.Disconnect, req: 6, grid: 7, from: 3, to: 4, reason: DisconnectReason.Leave, ctr: 20, auth: bytes(8, 319), tag: tag(1, 130) });
  add("disconnect-forced", { kind: K.Disconnect, req: 7, grid: 7, from: 3, to: 4, reason: DisconnectReason.Forced, ctr: 21, auth: bytes(8, 320), tag: tag(1, 131) });
  add("disconnect-misbehaving", { kind: K.Disconnect, req: 8, grid: 7, from: 3, to: 4, reason: DisconnectReason.Misbehaving, ctr: 22, auth: bytes(8, 321), tag: tag(1, 132) });
  add("disconnect-not-linked", { kind: K.Disconnect, req: 9, grid: 7, from: 4, to: 3, reason: DisconnectReason.NotLinked, ctr: 0, auth: NO_AUTH, tag: tag(1, 133) });
  add("disconnect-ack", { kind: K.DisconnectAck, req: 6, grid: 7, from: 4, to: 3, tag: tag(1, 134) });
  add("disconnect-ack-uint-boundaries", { kind: K.DisconnectAck, req: U32_MAX, grid: 65535, from: 128, to: 7, tag: tag(1, 135) });

  // 4.3 Peer -> lobby. Hellos are padded to MIN_HELLO_BYTES (96); the first one of a
  // handshake has no cookie, the one after a Retry echoes it.
  const eph = bytes(32, 200);
  add("hello", paddedHello({ req: 1, name: "alice", cookie: new Uint8Array(0), eph }));
  add("hello-with-cookie", paddedHello({ req: 2, name: "alice", cookie: bytes(8, 201), eph }));
  add("hello-cookie-16-max", paddedHello({ req: 3, name: "alice", cookie: bytes(16, 202), eph }));
  add("hello-empty-name", paddedHello({ req: 0, name: "", cookie: new Uint8Array(0), eph: bytes(32, 203) }));
  add("hello-name-31-fixstr-max", paddedHello({ req: 1, name: ascii(31, "a"), cookie: new Uint8Array(0), eph: bytes(32, 204) }));
  add("hello-name-32-str8-limit", paddedHello({ req: 1, name: ascii(32, "b"), cookie: bytes(16, 205), eph: bytes(32, 206) }));
  add("hello-name-utf8", paddedHello({ req: 1, name: "Zoë ✓ 🎮", cookie: new Uint8Array(0), eph: bytes(32, 207) }));
  // Every UTF-8 length boundary, and the code points just outside the surrogate range: all
  // well-formed (5.3), 25 bytes of str on the wire.
  add("hello-name-utf8-boundaries", paddedHello({ req: 1, name: "\u007f\u0080\u07ff\u0800\ud7ff\ue000\uffff\u{10000}\u{10ffff}", cookie: new Uint8Array(0), eph: bytes(32, 211) }));
  add("hello-name-32-bytes-of-4-byte-utf8", paddedHello({ req: 1, name: "🎮".repeat(8), cookie: new Uint8Array(0), eph: bytes(32, 212) }));
  add("hello-unpadded-decodes", { kind: K.Hello, req: 4, name: "a", cookie: new Uint8Array(0), eph: bytes(32, 208), pad: new Uint8Array(0) });
  add("hello-pad-1024-max", { kind: K.Hello, req: 5, name: "a", cookie: bytes(8, 209), eph: bytes(32, 210), pad: new Uint8Array(1024) });
  add("list-grids", { kind: K.ListGrids, req: 2, session: 0xdeadbeef, filter: "", offset: 0 });
  add("list-grids-filter-page", { kind: K.ListGrids, req: 3, session: 0xdeadbeef, filter: "deathmatch", offset: 64 });
  add("create-grid", { kind: K.CreateGrid, req: 4, session: 0xdeadbeef, name: "lobby-1", capacity: 64, limit: 4, meta: "" });
  add("create-grid-limits", {
    kind: K.CreateGrid, req: 5, session: U32_MAX, name: ascii(32, "n"), capacity: 65535, limit: 255, meta: ascii(200, "m"),
  });
  add("select-grid", { kind: K.SelectGrid, req: 6, session: 0xdeadbeef, grid: 7, limit: 4, part: 0, role: 0 });
  add("select-grid-part-2", { kind: K.SelectGrid, req: 9, session: 0xdeadbeef, grid: 7, limit: 2, part: 2, role: 0 });
  add("select-grid-spectator", { kind: K.SelectGrid, req: 11, session: 0xdeadbeef, grid: 7, limit: 4, part: 0, role: 1 });
  add("conn-update-open", { kind: K.ConnUpdate, req: 10, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, open: true });
  add("conn-update-closed", { kind: K.ConnUpdate, req: 11, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, open: false });
  add("conn-status", { kind: K.ConnStatus, req: 12, session: 0xdeadbeef, grid: 7, peer: 3, other: 4 });
  add("conn-status-uint-boundaries", { kind: K.ConnStatus, req: 0, session: 0, grid: 65536, peer: 255, other: 256 });
  add("probe-reply-linked", { kind: K.ProbeReply, req: 40, session: 0xcafe, grid: 7, peer: 4, other: 3, linked: true });
  add("probe-reply-not-linked", { kind: K.ProbeReply, req: 41, session: 0xcafe, grid: 7, peer: 4, other: 3, linked: false });
  add("heartbeat-no-links", { kind: K.Heartbeat, req: 13, session: 0xdeadbeef, grid: 7, peer: 3, links: [] });
  add("heartbeat", { kind: K.Heartbeat, req: 14, session: 0xdeadbeef, grid: 7, peer: 3, links: [4, 5, 9] });
  add("heartbeat-64-links-array16", {
    kind: K.Heartbeat, req: 15, session: 0xdeadbeef, grid: 7, peer: 3,
    links: Array.from({ length: 64 }, (_, i) => [0, 127, 128, 255, 256, 65535, 65536, U32_MAX][i % 8] as number),
  });
  add("leave", { kind: K.Leave, req: 16, session: 0xdeadbeef, grid: 7, peer: 3 });
  add("leave-uint-boundaries", { kind: K.Leave, req: 127, session: 128, grid: 65535, peer: U32_MAX });
  add("rejoin", { kind: K.Rejoin, req: 1, session: 0xbeef, grid: 7, name: "lobby-1", peer: 3, limit: 4, links: [4, 5], epoch: 3, sealed: new Uint8Array(0) });
  add("rejoin-no-links", { kind: K.Rejoin, req: 2, session: 0xbeef, grid: 65536, name: "", peer: U32_MAX, limit: 2, links: [], epoch: 0, sealed: bytes(73, 9) });
  add("rejoin-epoch-u32-max", { kind: K.Rejoin, req: 3, session: 0xbeef, grid: 7, name: "lobby-1", peer: 3, limit: 4, links: [4], epoch: U32_MAX, sealed: new Uint8Array(0) });

  // 4.4 Lobby -> peer.
  add("welcome", {
    kind: K.Welcome, req: 2, session: 0xdeadbeef, heartbeatMs: 5000, eph: bytes(32, 300), identity: bytes(32, 301), signature: bytes(64, 302),
  });
  add("welcome-uint-boundaries", {
    kind: K.Welcome, req: 0, session: 0, heartbeatMs: U32_MAX, eph: new Uint8Array(32), identity: new Uint8Array(32), signature: new Uint8Array(64),
  });
  add("grid-list-empty", { kind: K.GridList, req: 2, total: 0, offset: 0, grids: [] });
  add("grid-list", {
    kind: K.GridList, req: 3, total: 41, offset: 32,
    grids: [
      { grid: 7, name: "lobby-1", members: 12, capacity: 64, limit: 4, meta: "mode=ctf" },
      { grid: 300, name: "Zoë's", members: 0, capacity: 8, limit: 2, meta: "" },
    ],
  });
  add("grid-list-4-worst-case-entries", {
    kind: K.GridList, req: U32_MAX, total: U32_MAX, offset: U32_MAX,
    grids: Array.from({ length: 4 }, (_, i) => ({
      grid: U32_MAX - i, name: ascii(32, "g"), members: 65535, capacity: 65535, limit: 255, meta: ascii(200, String(i)),
    })),
  });
  add("grid-list-16-entries-array16", {
    kind: K.GridList, req: 4, total: 16, offset: 0,
    grids: Array.from({ length: 16 }, (_, i) => ({ grid: i, name: `g${i}`, members: i, capacity: 16, limit: 3, meta: "" })),
  });
  add("grid-created", { kind: K.GridCreated, req: 4, grid: 7, name: "lobby-1" });
  add("grid-created-name-32", { kind: K.GridCreated, req: 5, grid: 65536, name: ascii(32, "n") });
  // Sealed grants: one key and a ticket for "203.0.113.1:7000" (153 bytes), two keys during a
  // rotation and an 18-byte address (191 bytes).
  add("members-only-peer", { kind: K.Members, req: 6, grid: 7, peer: 1, part: 0, parts: 1, members: [], nonce: 0, sealed: sealedGrant(1, 16, 20) });
  add("members-part-0-of-2", {
    kind: K.Members, req: 7, grid: 7, peer: 9, part: 0, parts: 2,
    members: [
      { peer: 1, addr: "203.0.113.7:7000", links: 4 },
      { peer: 2, addr: "[2001:db8::1]:7001", links: 0 },
      { peer: 300, addr: "host-handle-42", links: 255 },
    ],
    nonce: 1, sealed: sealedGrant(2, 18, 21),
  });
  add("members-32-entries-max-items", {
    kind: K.Members, req: 8, grid: 7, peer: 40, part: 1, parts: 2,
    members: Array.from({ length: 32 }, (_, i) => ({ peer: i, addr: `10.0.0.${i}:7000`, links: i % 5 })),
    nonce: 65536, sealed: sealedGrant(1, 13, 22),
  });
  add("members-exactly-1200-bytes", fullMembers());
  add("ack", { kind: K.Ack, req: 0 });
  add("ack-127", { kind: K.Ack, req: 127 });
  add("ack-128", { kind: K.Ack, req: 128 });
  add("ack-255", { kind: K.Ack, req: 255 });
  add("ack-256", { kind: K.Ack, req: 256 });
  add("ack-65535", { kind: K.Ack, req: 65535 });
  add("ack-65536", { kind: K.Ack, req: 65536 });
  add("ack-4294967295", { kind: K.Ack, req: U32_MAX });
  add("conn-status-reply-gone", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Gone, silentMs: 0 });
  add("conn-status-reply-alive", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Alive, silentMs: 800 });
  add("conn-status-reply-checking", { kind: K.ConnStatusReply, req: 12, grid: 7, other: 4, status: LinkStatus.Checking, silentMs: 65536 });
  add("probe", { kind: K.Probe, req: 40, grid: 7, peer: 4, other: 3 });
  add("probe-uint-boundaries", { kind: K.Probe, req: U32_MAX, grid: 0, peer: 65536, other: 255 });
  add("heartbeat-ack", { kind: K.HeartbeatAck, req: 14, members: 12, epoch: 3, latest: 3 });
  add("heartbeat-ack-rotation-pending", { kind: K.HeartbeatAck, req: 15, members: 12, epoch: 3, latest: 4 });
  add("heartbeat-ack-u16-max", { kind: K.HeartbeatAck, req: 14, members: 65535, epoch: 65536, latest: U32_MAX });
  add("unknown-session", { kind: K.UnknownSession, req: 13 });
  add("unknown-session-u32-max", { kind: K.UnknownSession, req: U32_MAX });
  add("repair-hint-connect", { kind: K.RepairHint, grid: 7, peer: 3, force: false, targets: [{ peer: 12, addr: "198.51.100.2:7000" }] });
  add("repair-hint-force-8-targets", {
    kind: K.RepairHint, grid: 7, peer: 3, force: true,
    targets: Array.from({ length: 8 }, (_, i) => ({ peer: 100 + i, addr: `[2001:db8::${i}]:7000` })),
  });
  add("repair-hint-no-targets", { kind: K.RepairHint, grid: 7, peer: 3, force: false, targets: [] });
  add("lobby-closing", { kind: K.LobbyClosing, reason: "restarting" });
  add("lobby-closing-empty", { kind: K.LobbyClosing, reason: "" });
  add("lobby-closing-128", { kind: K.LobbyClosing, reason: ascii(128, "r") });
  add("retry", { kind: K.Retry, req: 1, cookie: bytes(8, 201) });
  add("retry-cookie-16-max", { kind: K.Retry, req: U32_MAX, cookie: bytes(16, 202) });
  add("retry-cookie-empty", { kind: K.Retry, req: 128, cookie: new Uint8Array(0) });
  add("error-unknown-grid", { kind: K.Error, req: 6, code: LobbyErrorCode.UnknownGrid, detail: "no grid 7" });
  add("error-grid-full", { kind: K.Error, req: 6, code: LobbyErrorCode.GridFull, detail: "" });
  add("error-name-taken-detail-128", { kind: K.Error, req: 4, code: LobbyErrorCode.NameTaken, detail: ascii(128, "d") });
  add("error-bad-handshake", { kind: K.Error, req: 2, code: LobbyErrorCode.BadHandshake, detail: "" });
  add("join-token", { kind: K.JoinToken, req: 10, session: 0x2a5f1e07, sealed: bytes(143 + 16, 203) });
  add("join-token-255-max", { kind: K.JoinToken, req: U32_MAX, session: 1, sealed: bytes(255, 204) });
  add("error-not-admitted", { kind: K.Error, req: 6, code: LobbyErrorCode.NotAdmitted, detail: "no join token for grid \"arena\"" });
  add("grid-status-main", { kind: K.GridStatus, grid: 7, peer: 3, main: true, component: 11, members: 11 });
  add("grid-status-island", { kind: K.GridStatus, grid: 7, peer: 3, main: false, component: 5, members: 11 });
  add("grid-status-u16-max", { kind: K.GridStatus, grid: U32_MAX, peer: 65536, main: true, component: 65535, members: 65535 });
  add("error-quota-exceeded", { kind: K.Error, req: 3, code: LobbyErrorCode.QuotaExceeded, detail: "64 sessions from this host" });
  add("error-unauthenticated", { kind: K.Error, req: 5, code: LobbyErrorCode.Unauthenticated, detail: "" });
  // Session frames (6.10): the body is any session message's bytes, the auth field 12 bytes
  // (made-up here: security.json and admission.json have real ones).
  const listGrids = referenceEncode(positional({ kind: K.ListGrids, req: 9, session: 0x2a5f1e07, filter: "", offset: 0 }));
  add("session-frame-list-grids", { kind: K.SessionFrame, session: 0x2a5f1e07, body: listGrids, auth: bytes(12, 203) });
  add("session-frame-empty-body", { kind: K.SessionFrame, session: 0, body: new Uint8Array(0), auth: new Uint8Array(12) });
  add("session-frame-body-1175", { kind: K.SessionFrame, session: U32_MAX, body: bytes(1175, 204), auth: bytes(12, 205) });
  return v;
}

/** Hex of a MessagePack value built by the reference encoder. */
function ref(value: unknown): string {
  return toHex(referenceEncode(value));
}

export function buildInvalid(valid: readonly Vector[]): InvalidVector[] {
  const C = DecodeErrorCode;
  const out: InvalidVector[] = [];
  const bad = (name: string, hex: string, code: DecodeErrorCode, why: string): void => {
    out.push({ name, hex: hex.replace(/\s+/g, ""), code, why });
  };
  const hexOf = (name: string): string => {
    const found = valid.find((x) => x.name === name);
    if (found === undefined) throw new Error(`no vector ${name}`);
    return found.hex;
  };
  const bin = (n: number): Uint8Array => new Uint8Array(n);
  // A small Data envelope to corrupt:
  // 99 01 01 | hops 00 | grid 01 | origin 02 | seq 03 | target c0 | c4 05 "hello" | c4 09 + 9 zero bytes.
  const data = hexOf("data-broadcast-hello");
  const dataTail = data.slice(8); // everything after hops
  const TAG = "c409" + "00".repeat(TAG_BYTES); // the tag field as written before signing
  const dataNoTag = data.slice(0, -2 * TAG_FIELD_BYTES); // 99 ... c4 05 "hello"
  const ack = "930144"; // [1, Ack, ...] header: fixarray(3), version 1, kind 0x44
  const eph = bin(32);
  /** A Hello with `name` (any value) and otherwise valid, empty cookie and pad. */
  const helloWith = (name: unknown, cookie: unknown = bin(0), e: unknown = eph, pad: unknown = bin(0)): string =>
    ref([1, 0x20, 1, name, cookie, e, pad]);
  const members = (list: unknown[], nonce: unknown = 0, sealed: unknown = bin(153)): string =>
    ref([1, 0x43, 1, 7, 3, 0, 1, list, nonce, sealed]);
  const ticket3 = ref(bin(94));

  // Section 5 step 1-2: size.
  bad("empty", "", C.Truncated, "no bytes at all");
  bad("oversized-1201-bytes", "99" + "c1".repeat(1200), C.Oversized, "1201 bytes > 1200: rejected before any byte is read");
  bad(
    "oversized-data-1201-bytes",
    ref([1, 1, 0, 1, 2, 3, null, bin(1179), bin(TAG_BYTES)]),
    C.Oversized,
    "a well-formed Data envelope of 1201 bytes (payload 1179, over the limit too, but size is checked first)",
  );

  // Step 3: the first byte must be a fixarray header.
  bad("not-array-fixint", "01", C.NotArray, "a positive fixint");
  bad("not-array-nil", "c0", C.NotArray, "nil");
  bad("not-array-reserved-c1", "c1", C.NotArray, "0xc1 as the first byte");
  bad("not-array-str", ref("hello"), C.NotArray, "a fixstr");
  bad("not-array-map", ref({ v: 1, k: 0x44 }), C.NotArray, "a map where the array is expected");
  bad("not-array-empty-map", "80", C.NotArray, "an empty fixmap");
  bad("not-array-array16", "dc0003 01 44 00", C.NotArray, "[1, Ack, 0] as array16: senders must use fixarray");
  bad("not-array-array32-4gib", "dd ffffffff", C.NotArray, "array32 header declaring 4 GiB elements");

  // Step 4: fewer than 3 bytes.
  bad("truncated-header-only", "93", C.Truncated, "fixarray header only");
  bad("truncated-no-kind", "9301", C.Truncated, "header and version only");

  // Steps 5-6: version and kind bytes.
  bad("unknown-version-0", "930044 00", C.UnknownVersion, "version 0");
  bad("unknown-version-2", "930244 00", C.UnknownVersion, "version 2 (a future version)");
  bad("unknown-version-uint8", "93cc01 44 00", C.UnknownVersion, "version 1 as uint8: byte 1 must be exactly 0x01");
  bad("unknown-kind-0", "930100 00", C.UnknownKind, "kind 0x00");
  bad("unknown-kind-0x4e", "93014e 00", C.UnknownKind, "kind 0x4e, a gap in the lobby -> peer range");
  bad("unknown-kind-0x7f", "93017f 00", C.UnknownKind, "kind 0x7f");
  bad("unknown-kind-uint8", "9301cc44 00", C.UnknownKind, "Ack's kind as uint8: byte 2 must be the kind itself");

  // Step 7: element count. The datagrams of the format before the security fields have one
  // element too few (no tag, no ticket, no handshake keys) and are dropped here.
  bad("wrong-arity-ack-2", "920144", C.WrongArity, "Ack has 3 elements, got 2");
  bad("wrong-arity-ack-4", "940144 00 00", C.WrongArity, "Ack has 3 elements, got 4");
  bad("wrong-arity-join-4", "940110 01 07", C.WrongArity, "Join has 7 elements, got 4");
  bad("wrong-arity-join-no-tag", "960110 01 07 03 04", C.WrongArity, "Join without its tag: 6 elements, Join has 7");
  bad("wrong-arity-join-no-to", "960110 01 07 03" + TAG, C.WrongArity, "Join without `to` (a version 1 peer before PROTOCOL.md 6.13): 6 elements, Join has 7");
  bad("wrong-arity-connect-no-ticket", "980112 02 07 03 04 c408" + "00".repeat(8) + TAG, C.WrongArity, "Connect without its ticket: 8 elements, Connect has 9");
  bad("wrong-arity-ping-no-auth", "970118 05 07 03 04" + TAG, C.WrongArity, "Ping without ctr and auth: 7 elements, Ping has 9");
  bad("wrong-arity-data-no-tag", "98" + dataNoTag.slice(2), C.WrongArity, "Data without its tag: fixarray of 8, Data has 9 elements");
  bad("wrong-arity-data-10", "9a" + data.slice(2) + "00", C.WrongArity, "Data has 9 elements, got 10");
  bad("wrong-arity-hello-no-handshake", "940120 01 a0", C.WrongArity, "Hello [req, name] only: Hello has 7 elements");
  bad("wrong-arity-welcome-no-handshake", "950140 01 02 cd1388", C.WrongArity, "Welcome [req, session, heartbeatMs] only: Welcome has 8 elements");
  bad("wrong-arity-members-no-grant", ref([1, 0x43, 6, 7, 1, 0, 1, []]), C.WrongArity, "Members without nonce and sealed: Members has 10 elements, got 8");
  bad("wrong-arity-heartbeat-ack-no-epochs", "940147 0e 0c", C.WrongArity, "HeartbeatAck [req, members] only: HeartbeatAck has 6 elements");

  // Step 8a: the Data envelope (PROTOCOL.md 5.2).
  bad("data-truncated-before-hops", "990101", C.Truncated, "Data header without hops");
  bad("data-truncated-in-grid", "99010100 ce0000", C.Truncated, "grid's uint32 cut short");
  bad("data-truncated-payload", "99010100 01 02 03 c0 c405 68656c6c", C.Truncated, "payload one byte short of its bin8 length, no tag");
  bad("data-truncated-no-tag", dataNoTag, C.Truncated, "fixarray of 9 but the datagram ends after the payload");
  bad("data-truncated-tag-header", dataNoTag + "c4", C.Truncated, "the tag's bin8 header cut after 0xc4");
  bad("data-truncated-tag", data.slice(0, -2), C.Truncated, "tag one byte short of 9");
  bad("data-trailing-byte", data + "00", C.TrailingBytes, "one byte after the tag");
  bad("data-trailing-tag", data + TAG, C.TrailingBytes, "a second tag after the first");
  bad("data-tag-8-bytes", dataNoTag + "c408" + "00".repeat(8), C.WrongType, "tag of 8 bytes: exactly bin8 of 9");
  bad("data-tag-10-bytes", dataNoTag + "c40a" + "00".repeat(10), C.WrongType, "tag of 10 bytes: exactly bin8 of 9");
  bad("data-tag-empty", dataNoTag + "c400", C.WrongType, "tag of 0 bytes");
  bad("data-tag-bin16", dataNoTag + "c50009" + "00".repeat(9), C.WrongType, "tag as bin16: the tag field is always c4 09");
  bad("data-tag-nil-last-byte", dataNoTag + "c0", C.Truncated, "nil as the last byte where the tag belongs: fewer than the 2 bytes of a tag header remain");
  bad("data-tag-nil", dataNoTag + "c0" + "00".repeat(9), C.WrongType, "tag nil (followed by 9 bytes)");
  bad("data-tag-str", dataNoTag + "a9" + "00".repeat(9), C.WrongType, "tag as a fixstr of 9 bytes");
  bad("data-payload-longer-than-declared", "99010100 01 02 03 c0 c404 68656c6c6f" + TAG, C.WrongType, "payload bin8 of 4 followed by a 5th byte where the tag header belongs");
  bad("data-hops-128", "990101 80" + dataTail, C.WrongType, "hops 0x80 is not a positive fixint (<= 127)");
  bad("data-hops-uint8", "990101 cc05" + dataTail, C.WrongType, "hops 5 as uint8: hops must be a positive fixint at offset 3");
  bad("data-hops-negative", "990101 ff" + dataTail, C.WrongType, "hops -1 (negative fixint)");
  bad("data-grid-str", "99010100 a131 02 03 c0 c400" + TAG, C.WrongType, "grid as a string");
  bad("data-grid-float", "99010100 cb3ff0000000000000 02 03 c0 c400" + TAG, C.WrongType, "grid 1.0 as float 64");
  bad("data-grid-uint64", "99010100 cf0000000000000001 02 03 c0 c400" + TAG, C.WrongType, "grid as uint64: not accepted in Data");
  bad("data-grid-int8", "99010100 d001 02 03 c0 c400" + TAG, C.WrongType, "grid as int8");
  bad("data-origin-c1", "99010100 01 c1 03 c0 c400" + TAG, C.WrongType, "0xc1 where origin is: Data reports wrong-type, not malformed");
  bad("data-target-bool", "99010100 01 02 03 c2 c400" + TAG, C.WrongType, "target false: nil or uint only");
  bad("data-payload-str", "99010100 01 02 03 c0 a0" + TAG, C.WrongType, "payload as a string");
  bad("data-payload-bin32", "99010100 01 02 03 c0 c600000000" + TAG, C.WrongType, "payload as bin32: only bin8 and bin16");
  bad("data-payload-bin32-4gib", "99010100 01 02 03 c0 c6ffffffff", C.WrongType, "bin32 declaring 4 GiB: rejected by its type byte");
  bad("data-payload-1151", "99010100 01 02 03 c0 c5047f" + "00".repeat(1151) + TAG, C.WrongType, "payload 1151 bytes > 1150");
  bad("data-payload-bin16-65535", "99010100 01 02 03 c0 c5ffff", C.WrongType, "bin16 declaring 65535 bytes: over the limit before the length is checked");

  // Step 8b: MessagePack structure of every other kind.
  bad("truncated-ack-no-req", ack, C.Truncated, "Ack without its req");
  bad("truncated-ack-uint16", ack + "cd00", C.Truncated, "req's uint16 cut short");
  bad("truncated-hello-name", "970120 01 a5616c69", C.Truncated, "fixstr of 5 with 3 bytes");
  bad("truncated-join-tag", "970110 01 07 03 04 c409" + "00".repeat(8), C.Truncated, "Join's tag one byte short of 9");
  bad("trailing-ack", ack + "00 00", C.TrailingBytes, "one byte after a complete Ack");
  bad("trailing-nil", ack + "00 c0", C.TrailingBytes, "a nil after a complete Ack");
  bad("trailing-join-after-tag", "970110 01 07 03 04" + TAG + "00", C.TrailingBytes, "one byte after Join's tag");
  bad("malformed-c1-in-ack", ack + "c1", C.Malformed, "reserved type byte 0xc1");
  bad("malformed-c1-in-join-reply", "9a0111 01 07 04 03 c1 01 04" + TAG, C.Malformed, "0xc1 in JoinReply's positive");
  bad("malformed-map-in-field", ack + "81 00 00", C.Malformed, "a non-empty map: maps are never used");
  bad("malformed-fixext1", ack + "d4 01 02", C.Malformed, "ext type: fixext 1");
  bad("malformed-ext8-timestamp-empty", ack + "c7 00 ff", C.Malformed, "ext type -1 (timestamp) with no data");
  bad("malformed-str32-4gib", "970120 01 dbffffffff", C.Malformed, "Hello.name as str32 declaring 4 GiB");
  bad("malformed-str16-over-1200", "970120 01 da04b1", C.Malformed, "str16 declaring 1201 bytes");
  bad("malformed-bin32-4gib", "970120 01 c6ffffffff", C.Malformed, "bin32 declaring 4 GiB");
  bad("malformed-pad-bin16-over-1200", "970120 01 a0 c400 c420" + "00".repeat(32) + "c504b1", C.Malformed, "Hello.pad as bin16 declaring 1201 bytes");
  bad("malformed-array32-4gib", "970127 01 02 07 03 ddffffffff", C.Malformed, "Heartbeat.links as array32 declaring 4 GiB");
  bad("malformed-array16-129-items", "970127 01 02 07 03 dc0081", C.Malformed, "array of 129 > 128 items, rejected at its header");

  // Step 8c, strings (5.3): a str must be well-formed UTF-8 (RFC 3629), and its bytes are
  // read and judged on their own, whatever follows them.
  const helloName = (nameField: string, next = "c400"): string => `970120 01 ${nameField} ${next} c420${"00".repeat(32)} c400`;
  bad("malformed-utf8-ed-a0-then-bin8", helloName("a2eda0"), C.Malformed, "Hello.name ed a0: a surrogate's first two bytes (bug 11.4: once decoded through the next field's header c4)");
  bad("malformed-utf8-ed-a0-then-bin16", helloName("a2eda0", "c50000"), C.Malformed, "the same name followed by a bin 16 cookie: the same verdict, whatever the next header");
  bad("malformed-utf8-truncated-at-str-end", "960121 01 02 a2e282 80", C.Malformed, "ListGrids.filter e2 82: the 0x80 after it would complete U+2080, but it is the next field");
  bad("malformed-utf8-surrogate", helloName("a3eda080"), C.Malformed, "U+D800 encoded (ed a0 80): surrogates are not UTF-8");
  bad("malformed-utf8-overlong-2", helloName("a2c080"), C.Malformed, "NUL as c0 80 (overlong)");
  bad("malformed-utf8-overlong-3", helloName("a3e080af"), C.Malformed, "'/' as e0 80 af (overlong)");
  bad("malformed-utf8-overlong-4", helloName("a4f08282ac"), C.Malformed, "U+20AC as f0 82 82 ac (overlong)");
  bad("malformed-utf8-above-10ffff", helloName("a4f4908080"), C.Malformed, "U+110000 (f4 90 80 80)");
  bad("malformed-utf8-f5", helloName("a4f5808080"), C.Malformed, "lead byte f5: never in UTF-8");
  bad("malformed-utf8-ff", helloName("a1ff"), C.Malformed, "byte ff: never in UTF-8");
  bad("malformed-utf8-lone-continuation", helloName("a26180"), C.Malformed, "a continuation byte with no lead");
  bad("malformed-utf8-cut-4-byte", helloName("a3f09f8e"), C.Malformed, "an emoji (f0 9f 8e ae) cut to 3 bytes");
  bad("malformed-utf8-96-bytes-of-overlong-nul", helloName("d960" + "e08080".repeat(32)), C.Malformed, "str 8 of 96 bytes, 32 overlong NULs: a lenient decoder made it a 32-byte name within the limit");
  bad("malformed-utf8-in-list-entry", members([[1, "x", 0]]).replace("a178", "a1c0"), C.Malformed, "Members.members[0].addr c0: invalid UTF-8 inside a list entry");

  // Step 8c, nesting (5.1): arrays and maps nest at most MAX_NESTING_DEPTH (3) deep.
  bad("malformed-nesting-4-in-ack", ack + "919190", C.Malformed, "Ack.req [[[]]]: an array at depth 4");
  bad("malformed-nesting-4-in-list-entry", members([[1, "x", []]]), C.Malformed, "Members.members[0].links an array: depth 4 (a list entry's field)");
  bad("malformed-nesting-map-4", ack + "919180", C.Malformed, "an empty map at depth 4 is a container too");
  bad("malformed-nesting-1100-deep", ack + "91".repeat(1100) + "c0", C.Malformed, "1100 nested arrays: rejected at depth 4, no deep recursion");
  bad("wrong-type-nesting-3-in-ack", ack + "9190", C.WrongType, "Ack.req [[]]: depth 3 is within the limit, so it reaches the field check");

  // Step 8b/8c, ext headers (5.1): a length over 0 is malformed as soon as it is read; a
  // header cut before its length (or an empty ext before its type byte) is truncated.
  bad("truncated-ext8-no-length", ack + "c7", C.Truncated, "ext 8 header without its length byte");
  bad("truncated-ext16-length", ack + "c800", C.Truncated, "ext 16 header with one of its two length bytes");
  bad("truncated-ext8-empty-no-type", ack + "c700", C.Truncated, "an empty ext 8 without its type byte");
  bad("malformed-ext8-length-then-end", ack + "c705", C.Malformed, "ext 8 of 5 bytes, datagram ends: the length is judged before the data is looked for");
  bad("malformed-fixext1-at-end", ack + "d4", C.Malformed, "fixext 1 as the last byte: its length is in its type byte");

  // Step 9: field types and limits.
  bad("wrong-type-ack-req-nil", ack + "c0", C.WrongType, "req nil");
  bad("wrong-type-ack-req-true", ack + "c3", C.WrongType, "req true");
  bad("wrong-type-ack-req-str", ack + "a0", C.WrongType, "req as empty string");
  bad("wrong-type-negative-int", ack + "ff", C.WrongType, "req -1 (negative fixint)");
  bad("wrong-type-negative-int8", ack + "d080", C.WrongType, "req -128 (int8)");
  bad("wrong-type-float", ack + "cb3ff8000000000000", C.WrongType, "req 1.5 (float 64)");
  bad("wrong-type-float32-nan", ack + "ca7fc00000", C.WrongType, "req NaN (float 32)");
  bad("wrong-type-uint64-2pow32", ack + "cf0000000100000000", C.WrongType, "req 2^32 > u32");
  bad("wrong-type-empty-map", ack + "80", C.WrongType, "req as an empty map");
  bad("wrong-type-empty-array", ack + "90", C.WrongType, "req as an empty array");
  bad("wrong-type-ext8-empty", ack + "c70005", C.WrongType, "req as an empty ext of type 5");
  bad("wrong-type-bool-as-int", "9a0111 01 07 04 03 01 01 04" + TAG, C.WrongType, "JoinReply.positive 1: bool expected");
  bad("wrong-type-u8-256", "9a0111 01 07 04 03 c3 cd0100 04" + TAG, C.WrongType, "JoinReply.links 256 > 255");
  bad("wrong-type-u16-65536", "980122 01 02 a0 ce00010000 04 a0", C.WrongType, "CreateGrid.capacity 65536 > 65535");
  bad("wrong-type-str-33-bytes", helloWith("a".repeat(33)), C.WrongType, "Hello.name 33 bytes > 32");
  bad("wrong-type-str-utf8-33-bytes", helloWith("€".repeat(11)), C.WrongType, "Hello.name 11 x U+20AC = 33 bytes > 32");
  bad("wrong-type-name-as-bin", helloWith(new Uint8Array([0x61])), C.WrongType, "Hello.name as bin");
  bad("wrong-type-list-65-links", ref([1, 0x27, 1, 2, 7, 3, Array.from({ length: 65 }, (_, i) => i)]), C.WrongType, "Heartbeat.links: 65 items > 64");
  bad("wrong-type-links-item-str", ref([1, 0x27, 1, 2, 7, 3, [1, "2"]]), C.WrongType, "Heartbeat.links[1] a string");
  bad("wrong-type-links-not-array", ref([1, 0x27, 1, 2, 7, 3, 4]), C.WrongType, "Heartbeat.links a uint");
  bad("wrong-type-members-33", members(Array.from({ length: 33 }, (_, i) => [i, "a", 0])), C.WrongType, "Members.members: 33 items > 32");
  bad("wrong-type-members-entry-arity", members([[1, "a"]]), C.WrongType, "Members.members[0] has 2 elements, PeerEntry has 3");
  bad("wrong-type-members-addr-65", members([[1, "a".repeat(65), 0]]), C.WrongType, "Members.members[0].addr 65 bytes > 64");
  bad("wrong-type-join-token-256", ref([1, 0x2e, 1, 2, new Uint8Array(256)]), C.WrongType, "JoinToken.sealed: 256 bytes > 255");
  bad("wrong-type-grid-status-component-65536", ref([1, 0x50, 7, 3, true, 65536, 65536]), C.WrongType, "GridStatus.component: 65536 > 65535");
  bad("wrong-arity-grid-status-no-counts", ref([1, 0x50, 7, 3, true]), C.WrongArity, "GridStatus [grid, peer, main] only: GridStatus has 7 elements");
  bad("wrong-type-repair-hint-9-targets", ref([1, 0x49, 7, 3, true, Array.from({ length: 9 }, (_, i) => [i, "a"])]), C.WrongType, "RepairHint.targets: 9 items > 8");
  bad("wrong-type-grid-entry-meta-201", ref([1, 0x41, 1, 1, 0, [[1, "g", 0, 8, 2, "m".repeat(201)]]]), C.WrongType, "GridList.grids[0].meta 201 bytes > 200");
  bad("wrong-type-status-str", ref([1, 0x45, 1, 7, 4, "1", 0]), C.WrongType, "ConnStatusReply.status as a string");

  // Step 9, the security fields (PROTOCOL.md 4.0, 6). The codec checks only their types and
  // lengths; the tag, the ticket and the keys are checked by the endpoints (6.7).
  bad("wrong-type-join-tag-10-bytes", "970110 01 07 03 04 c40a" + "00".repeat(10), C.WrongType, "Join.tag 10 bytes > 9");
  bad("wrong-type-join-tag-nil", "970110 01 07 03 04 c0", C.WrongType, "Join.tag nil");
  bad("wrong-type-join-tag-str", "970110 01 07 03 04 a9" + "00".repeat(9), C.WrongType, "Join.tag as a fixstr");
  bad("wrong-type-join-to-nil", "970110 01 07 03 c0" + TAG, C.WrongType, "Join.to nil");
  bad("wrong-type-ping-tag-uint", "990118 05 07 03 04 01 c408" + "00".repeat(8) + "00", C.WrongType, "Ping.tag 0 (a uint)");
  bad("wrong-type-ping-auth-9-bytes", ref([1, 0x18, 5, 7, 3, 4, 1, bin(9), bin(TAG_BYTES)]), C.WrongType, "Ping.auth 9 bytes > 8");
  bad("wrong-type-ping-ctr-2pow32", ref([1, 0x18, 5, 7, 3, 4, 2 ** 32, bin(8), bin(TAG_BYTES)]), C.WrongType, "Ping.ctr 2^32 > u32");
  bad("wrong-type-connect-nonce-9-bytes", ref([1, 0x12, 2, 7, 3, 4, bin(9), bin(94), bin(TAG_BYTES)]), C.WrongType, "Connect.nonce 9 bytes > 8");
  bad("wrong-type-connect-ticket-143", ref([1, 0x12, 2, 7, 3, 4, bin(8), bin(143), bin(TAG_BYTES)]), C.WrongType, "Connect.ticket 143 bytes > 142");
  bad("wrong-type-connect-ticket-nil", "990112 02 07 03 04 c408" + "00".repeat(8) + "c0" + TAG, C.WrongType, "Connect.ticket nil (a peer without a ticket sends none of these)");
  bad("wrong-type-connect-reply-ticket-str", ref([1, 0x13, 2, 7, 4, 3, true, bin(8), "t", bin(TAG_BYTES)]), C.WrongType, "ConnectReply.ticket as a string");
  bad("wrong-type-force-tag-before-ticket", "990114 03 07 03 04 c408" + "00".repeat(8) + TAG + ticket3, C.WrongType, "Force with tag and ticket swapped: the tag is always last (bin 94 > 9)");
  bad("wrong-type-hello-cookie-17", helloWith("a", bin(17)), C.WrongType, "Hello.cookie 17 bytes > 16");
  bad("wrong-type-hello-eph-33", helloWith("a", bin(0), bin(33)), C.WrongType, "Hello.eph 33 bytes > 32");
  bad("wrong-type-hello-eph-str", helloWith("a", bin(0), "k".repeat(32)), C.WrongType, "Hello.eph as a string");
  bad("wrong-type-hello-pad-1025", helloWith("a", bin(0), eph, bin(1025)), C.WrongType, "Hello.pad 1025 bytes > 1024");
  bad("wrong-type-hello-pad-nil", helloWith("a", bin(0), eph, null), C.WrongType, "Hello.pad nil: an unpadded Hello still carries an empty bin");
  bad("wrong-type-welcome-signature-65", ref([1, 0x40, 1, 2, 2000, bin(32), bin(32), bin(65)]), C.WrongType, "Welcome.signature 65 bytes > 64");
  bad("wrong-type-welcome-identity-33", ref([1, 0x40, 1, 2, 2000, bin(32), bin(33), bin(64)]), C.WrongType, "Welcome.identity 33 bytes > 32");
  bad("wrong-type-members-nonce-2pow32", members([], 2 ** 32), C.WrongType, "Members.nonce 2^32 > u32");
  bad("wrong-type-members-sealed-274", members([], 0, bin(MAX_SEALED_BYTES + 1)), C.WrongType, "Members.sealed 274 bytes > 273");
  bad("wrong-type-members-sealed-str", members([], 0, "s"), C.WrongType, "Members.sealed as a string");
  bad("wrong-type-heartbeat-ack-epoch-str", ref([1, 0x47, 14, 12, "3", 3]), C.WrongType, "HeartbeatAck.epoch as a string");
  bad("wrong-type-heartbeat-ack-latest-negative", ref([1, 0x47, 14, 12, 3, -1]), C.WrongType, "HeartbeatAck.latest -1");
  bad("wrong-type-rejoin-epoch-nil", ref([1, 0x29, 1, 2, 7, "g", 3, 4, [], null, new Uint8Array(0)]), C.WrongType, "Rejoin.epoch nil");
  bad("wrong-type-retry-cookie-17", ref([1, 0x4b, 1, bin(17)]), C.WrongType, "Retry.cookie 17 bytes > 16");
  bad("wrong-type-retry-cookie-str", ref([1, 0x4b, 1, "cookie"]), C.WrongType, "Retry.cookie as a string");

  // 4.1.1 Message, MessageRepair: the envelope's rules hold for them too.
  const message = hexOf("message-reliable-ordered");
  bad("message-tag-8-bytes", message.slice(0, -2 * TAG_FIELD_BYTES) + "c408" + "00".repeat(8), C.WrongType, "Message tag of 8 bytes: exactly bin8 of 9, as for Data");
  bad("wrong-arity-message-repair-no-tag", "98" + hexOf("message-repair-reliable").slice(2, -2 * TAG_FIELD_BYTES), C.WrongArity, "MessageRepair without its tag: fixarray of 8, it has 9 elements");
  // 4.2.1 Repair, Prune, Graft, RepairRequest.
  const repair = hexOf("repair-hello");
  bad("repair-tag-8-bytes", repair.slice(0, -2 * TAG_FIELD_BYTES) + "c408" + "00".repeat(8), C.WrongType, "Repair tag of 8 bytes: exactly bin8 of 9, as for Data");
  bad("repair-hops-128", "990102 80" + repair.slice(8), C.WrongType, "Repair hops 0x80: a positive fixint, as for Data");
  bad("wrong-arity-repair-no-tag", "98" + repair.slice(2, -2 * TAG_FIELD_BYTES), C.WrongArity, "Repair without its tag: fixarray of 8, Repair has 9 elements");
  bad("wrong-type-prune-129-origins", ref([1, 0x1c, 7, 3, 4, Array.from({ length: 129 }, (_, i) => i), 1, bin(8), bin(TAG_BYTES)]), C.Malformed, "Prune.origins: an array of 129 > 128 items, rejected at its header");
  bad("wrong-type-prune-origin-str", ref([1, 0x1c, 7, 3, 4, ["5"], 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "Prune.origins[0] a string");
  bad("wrong-type-graft-65-entries", ref([1, 0x1d, 7, 4, 3, Array.from({ length: 65 }, (_, i) => [i, null]), 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "Graft.origins: 65 items > 64");
  bad("wrong-type-graft-entry-arity", ref([1, 0x1d, 7, 4, 3, [[5]], 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "Graft.origins[0] has 1 element, GraftEntry has 2");
  bad("wrong-type-graft-have-bool", ref([1, 0x1d, 7, 4, 3, [[5, true]], 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "Graft.origins[0].have true: nil or a uint");
  bad("wrong-type-repair-request-mask-2pow32", ref([1, 0x1e, 7, 3, 4, [[5, 40, 2 ** 32]], 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "RepairRequest.wants[0].mask 2^32 > u32");
  bad("wrong-type-repair-request-65-wants", ref([1, 0x1e, 7, 3, 4, Array.from({ length: 65 }, (_, i) => [i, 0, 1]), 1, bin(8), bin(TAG_BYTES)]), C.WrongType, "RepairRequest.wants: 65 items > 64");
  return out;
}

/** One signed datagram of security.json. */
export interface SignedDatagram {
  /** The signed message, as decode(signed) gives it (encoded with a zero tag for `unsigned`). */
  readonly msg: Message;
  /** The index of the byte read as 0 by the tag (3, the hop byte, for Data; -1: none). */
  readonly skipIndex: number;
  /** As encoded, with the tag field `c4 09` + 9 zero bytes. */
  readonly unsigned: string;
  /** The SipHash-2-4 input: every byte before the tag field, the skipped byte set to 0. */
  readonly macInput: string;
  /** The 9 tag bytes: epoch & 0xff, then SipHash-2-4(macKey, macInput) little-endian. */
  readonly tag: string;
  /** `unsigned` with the tag written in place (lib/security writeTag). */
  readonly signed: string;
}

/** test/vectors/security.json: the tag construction of PROTOCOL.md 6.6, end to end. */
export interface SecurityVectors {
  readonly about: string;
  /** The 32-byte grid key (hex). */
  readonly gridKey: string;
  /** The epoch it belongs to; the tag carries its low byte. */
  readonly epoch: number;
  /** HKDF-SHA256(ikm = gridKey, salt = "relaygrid", info = "mac v1", L = 16) (hex). */
  readonly macKey: string;
  readonly data: SignedDatagram & {
    /** `signed` after a relay forwarded it twice: hops 2 at offset 3, the same tag. */
    readonly forwarded: string;
  };
  readonly ping: SignedDatagram;
  /** 6.13: the link key of one link and a Ping stamped under it. */
  readonly link: LinkVectors;
  /** 6.10: session frames under a fixed session key (bytes 0x20 .. 0x3f). */
  readonly session: SessionVectors;
}

/** The grid key of security.json: bytes 0x00, 0x01, ..., 0x1f. */
const SECURITY_GRID_KEY = Uint8Array.from({ length: GRID_KEY_BYTES }, (_, i) => i);
/** Its epoch: 258, so the tag's epoch byte (258 & 0xff = 0x02) differs from the epoch. */
const SECURITY_EPOCH = 258;

function signed(keyring: GridKeyring, msg: Message, skipIndex: number): SignedDatagram {
  const unsigned = referenceEncode(positional(msg));
  const prefixEnd = unsigned.length - TAG_FIELD_BYTES;
  const macInput = unsigned.slice(0, prefixEnd);
  if (skipIndex >= 0) macInput[skipIndex] = 0;
  const out = unsigned.slice();
  writeTag(keyring, out, prefixEnd, skipIndex);
  return {
    msg: { ...msg, tag: out.slice(prefixEnd + 2) } as Message,
    skipIndex,
    unsigned: toHex(unsigned),
    macInput: toHex(macInput),
    tag: toHex(out.subarray(prefixEnd + 2)),
    signed: toHex(out),
  };
}

/** PROTOCOL.md 6.13: the link key and the link auth, as known answers. */
export interface LinkVectors {
  readonly about: string;
  readonly initiator: number;
  readonly responder: number;
  readonly initiatorNonce: string;
  readonly responderNonce: string;
  /** initiatorNonce || responderNonce. */
  readonly salt: string;
  /** "relaygrid link v1" || u32be(initiator) || u32be(responder). */
  readonly info: string;
  /** HKDF-SHA256(ikm = gridKey, salt, info, L = 16). */
  readonly linkKey: string;
  readonly ping: {
    readonly msg: Message;
    /** Encoded with ctr, a zero auth and a zero tag. */
    readonly unsigned: string;
    /** Every byte before the auth field (c4 08 ...). */
    readonly authInput: string;
    /** SipHash-2-4(linkKey, authInput), little-endian. */
    readonly auth: string;
    /** The datagram on the wire: the auth in place, then the grid-key tag over everything before it (6.6). */
    readonly signed: string;
  };
}

function buildLinkVectors(crypto: NobleCrypto, keyring: GridKeyring): LinkVectors {
  const initiator = 3;
  const responder = 4;
  const nI = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);
  const nR = Uint8Array.from({ length: 8 }, (_, i) => 0xb0 + i);
  const salt = Uint8Array.from([...nI, ...nR]);
  const info = Uint8Array.from([...new TextEncoder().encode("relaygrid link v1"), 0, 0, 0, initiator, 0, 0, 0, responder]);
  const linkKey = crypto.hkdfSha256(SECURITY_GRID_KEY, salt, info, 16);
  const key = deriveLinkKey(crypto, SECURITY_GRID_KEY, nI, nR, initiator, responder);
  if (JSON.stringify(key) !== JSON.stringify(sipKeyFrom(linkKey))) throw new Error("deriveLinkKey is not the HKDF of PROTOCOL.md 6.13: update both");
  const msg: Message = { kind: Kind.Ping, req: 5, grid: 7, from: initiator, to: responder, ctr: 1, auth: new Uint8Array(8), tag: ZERO_TAG };
  const unsigned = referenceEncode(positional(msg));
  const authAt = unsigned.length - TAG_FIELD_BYTES - LINK_AUTH_FIELD_BYTES;
  const out = unsigned.slice();
  stampLinkAuth(key, out);
  const auth = out.slice(authAt + 2, authAt + 10);
  writeTag(keyring, out, out.length - TAG_FIELD_BYTES, -1);
  return {
    about:
      "relaygrid wire/PROTOCOL.md 6.13: link keys. linkKey = HKDF-SHA256(ikm = gridKey of the request's epoch, salt = " +
      "initiatorNonce || responderNonce, info = \"relaygrid link v1\" || u32be(initiator) || u32be(responder), L = 16). " +
      "auth = SipHash-2-4(linkKey, authInput), authInput = every byte before the auth field (c4 08 ...); the encoder " +
      "writes 8 zero bytes of auth and 9 of tag, stamps the auth, then writes the grid-key tag (6.6) over everything before it.",
    initiator,
    responder,
    initiatorNonce: toHex(nI),
    responderNonce: toHex(nR),
    salt: toHex(salt),
    info: toHex(info),
    linkKey: toHex(linkKey),
    ping: {
      msg: { ...msg, auth, tag: out.slice(out.length - TAG_BYTES) } as Message,
      unsigned: toHex(unsigned),
      authInput: toHex(unsigned.slice(0, authAt)),
      auth: toHex(auth),
      signed: toHex(out),
    },
  };
}

export function buildSecurityVectors(): SecurityVectors {
  // HKDF needs no randomness; the seeded source is never drawn from here.
  const crypto = new NobleCrypto(new SeededRandom(1));
  const keyring = new GridKeyring(crypto);
  keyring.add(SECURITY_EPOCH, SECURITY_GRID_KEY);
  const mac = crypto.hkdfSha256(SECURITY_GRID_KEY, new TextEncoder().encode("relaygrid"), new TextEncoder().encode("mac v1"), 16);
  // deriveMacKey (what the keyring uses) must be exactly this HKDF: checked, not assumed.
  if (JSON.stringify(deriveMacKey(crypto, SECURITY_GRID_KEY)) !== JSON.stringify(sipKeyFrom(mac))) {
    throw new Error("deriveMacKey is not HKDF-SHA256(key, \"relaygrid\", \"mac v1\", 16): update PROTOCOL.md 6.6 and security.json");
  }
  const dataMsg: Message = {
    kind: Kind.Data, hops: 0, grid: 7, origin: 3, seq: 1000, target: null, payload: new TextEncoder().encode("hello, grid"), tag: ZERO_TAG,
  };
  const data = signed(keyring, dataMsg, RELAY_HOPS_OFFSET);
  const forwarded = fromHex(data.signed);
  forwarded[RELAY_HOPS_OFFSET] = 2;
  const ping = signed(keyring, { kind: Kind.Ping, req: 5, grid: 7, from: 3, to: 4, ctr: 1, auth: NO_AUTH, tag: ZERO_TAG }, -1);
  return {
    about:
      "relaygrid wire/PROTOCOL.md 6.6: datagram tags. macKey = HKDF-SHA256(ikm = gridKey, salt = \"relaygrid\", " +
      "info = \"mac v1\", L = 16). tag = (epoch & 0xff) || SipHash-2-4(macKey, macInput), the 8-byte result " +
      "little-endian; macInput = every byte before the tag field (c4 09 ...), with the byte at skipIndex read " +
      "as 0 (Data: the hop byte at offset 3; other kinds: none). An encoder writes the tag field as c4 09 and " +
      "9 zero bytes (unsigned), then writes the tag in place (signed). A relay rewrites only the hop byte " +
      "(forwarded), and the tag still verifies.",
    gridKey: toHex(SECURITY_GRID_KEY),
    epoch: SECURITY_EPOCH,
    macKey: toHex(mac),
    data: { ...data, forwarded: toHex(forwarded) },
    ping,
    link: buildLinkVectors(crypto, keyring),
    session: buildSessionVectors(
      toHex(Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i)),
      7,
      "relaygrid wire/PROTOCOL.md 6.10: session frames [1, 0x70, session, body, auth]. toLobby || toPeer = HKDF-SHA256(ikm = " +
        "sessionKey, salt = \"relaygrid\", info = \"session mac v1\", L = 32). auth = u32be(counter) || SipHash-2-4(key of the " +
        "sender's direction, macInput), macInput = every byte of the frame before the 8 tag bytes. Counters start at 1 " +
        "per direction; a retransmission is a new frame under the next counter. window: a receiver's verdicts for a run " +
        "of counters (fresh once; replay when taken before; stale when 0 or 128 or more below the highest taken).",
    ),
  };
}

const VECTOR_DIR = resolve(fileURLToPath(import.meta.url), "../../test/vectors");

type FileName = "messages" | "invalid" | "security" | "addresses" | "admission" | "nat" | "origin";
const FILES: readonly FileName[] = ["messages", "invalid", "security", "addresses", "admission", "nat", "origin"];

/** The vector files as they are on disk, with {"$bin": hex} turned back into Uint8Array. */
export function readVectorFiles(): {
  text: Record<FileName, string>;
  valid: Vector[];
  invalid: InvalidVector[];
  security: SecurityVectors;
  addresses: AddressVector[];
  admission: AdmissionVectors;
  nat: NatVectors;
  origin: OriginVectors;
} {
  const text = Object.fromEntries(FILES.map((f) => [f, readFileSync(resolve(VECTOR_DIR, `${f}.json`), "utf8")])) as Record<FileName, string>;
  return {
    text,
    valid: JSON.parse(text.messages, binReviver) as Vector[],
    invalid: JSON.parse(text.invalid) as InvalidVector[],
    security: JSON.parse(text.security, binReviver) as SecurityVectors,
    addresses: JSON.parse(text.addresses) as AddressVector[],
    admission: JSON.parse(text.admission, binReviver) as AdmissionVectors,
    nat: JSON.parse(text.nat, binReviver) as NatVectors,
    origin: JSON.parse(text.origin) as OriginVectors,
  };
}

/** Every file's contents, exactly as written (the vector tests compare them). */
export function vectorFiles(): Record<FileName, string> {
  const valid = buildVectors();
  const json = (value: unknown): string => JSON.stringify(value, binReplacer, 2) + "\n";
  return {
    messages: json(valid),
    invalid: json(buildInvalid(valid)),
    security: json(buildSecurityVectors()),
    addresses: json(buildAddressVectors()),
    admission: json(buildAdmissionVectors()),
    nat: json(buildNatVectors()),
    origin: json(buildOriginVectors()),
  };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  const files = vectorFiles();
  for (const f of FILES) writeFileSync(resolve(VECTOR_DIR, `${f}.json`), files[f]);
  const { valid, invalid, addresses } = readVectorFiles();
  console.log(`wrote ${VECTOR_DIR}: messages.json (${valid.length}), invalid.json (${invalid.length}), security.json, addresses.json (${addresses.length}), admission.json, nat.json, origin.json`);
}
