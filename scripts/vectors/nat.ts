/**
 * test/vectors/nat.json: NAT traversal (PROTOCOL.md 4.7, 6.3 key-bound tickets, 6.9).
 *
 * - `messages`: valid datagrams of every NAT kind, with the boundaries that matter (empty
 *   and full lists, empty and 16-byte challenges, a 142-byte ticket field), as
 *   messages.json's: { name, kind, msg, hex }, hex by @msgpack/msgpack's encoder.
 * - `invalid`: NAT datagrams a decoder that speaks 4.7 MUST reject, with the code.
 * - `ticketV2`, `punchProof`, `register`: known answers from fixed keys. The lobby identity
 *   is RFC 8032 section 7.1 test 1's (admission.json's), the link key test 2's; the session
 *   key is admission.json's handshake key, the grid key security.json's. Computed through
 *   lib/security; test/wire-vectors-nat.test.ts recomputes them by hand from the formulas.
 *
 * Tags, tickets and proofs in `messages` are bytes of the right shape only, as in
 * messages.json.
 */
import { encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom } from "../../lib/rng.ts";
import { GridKeyring, writeTag } from "../../lib/security/grid-keys.ts";
import { linkKeyAad, sealLinkKey, signPunchProof, punchProofMessage } from "../../lib/security/link-key.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { sessionNonce } from "../../lib/security/handshake.ts";
import { issueTicketV2 } from "../../lib/security/ticket.ts";
import { DecodeErrorCode } from "../../wire/decode-error.ts";
import { IntroStatus, kindName, NatKind } from "../../wire/kinds.ts";
import { MAX_TICKET_BYTES, TAG_BYTES, TAG_FIELD_BYTES } from "../../wire/limits.ts";
import type { NatMessage } from "../../wire/messages.ts";
import { RFC_KEYS } from "./admission.ts";
import { fromHex, positional, toHex } from "./hex.ts";

/** RFC 8032 section 7.1 test 2: the member's link key in these vectors. */
export const LINK_KEYS = {
  linkSeed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
  linkKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
} as const;
/** admission.json's session key (its handshake's K). */
const SESSION_KEY = "bc59db0aaec6dd060461170af5ad488c9da85cb4d912d82b5038fcd5004df9ed";
const GRID_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const EPOCH = 258;
const U32_MAX = 0xffffffff;

export interface NatVector {
  readonly name: string;
  readonly kind: string;
  readonly msg: NatMessage;
  readonly hex: string;
}

export interface NatInvalidVector {
  readonly name: string;
  readonly hex: string;
  readonly code: DecodeErrorCode;
  readonly why: string;
}

export interface NatVectors {
  readonly about: string;
  readonly inputs: { identitySeed: string; identity: string; linkSeed: string; linkKey: string; sessionKey: string; gridKey: string; epoch: number };
  readonly messages: NatVector[];
  readonly invalid: NatInvalidVector[];
  readonly ticketV2: { grid: number; peer: number; epoch: number; signedMessage: string; signature: string; ticket: string };
  readonly punchProof: {
    grid: number;
    prover: number;
    verifier: number;
    challenge: string;
    message: string;
    proof: string;
    /** The PunchReply that carries it, tagged under security.json's grid key. */
    punchReply: { msg: NatMessage; hex: string };
  };
  readonly register: { req: number; grid: number; peer: number; aad: string; nonce: string; sealed: string; datagram: { msg: NatMessage; hex: string } };
}

function seeded(n: number, seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  return Uint8Array.from({ length: n }, () => rng.nextU32() & 0xff);
}

function vector(name: string, msg: NatMessage): NatVector {
  return { name, kind: kindName(msg.kind), msg, hex: toHex(referenceEncode(positional(msg))) };
}

/** A made-up key-bound ticket: version 2, ids, epoch, 32 key bytes, 64 "signature" bytes. */
function ticketShape(grid: number, peer: number, seed: number): Uint8Array {
  const t = new Uint8Array(109);
  t[0] = 2;
  new DataView(t.buffer).setUint32(1, grid);
  new DataView(t.buffer).setUint32(5, peer);
  new DataView(t.buffer).setUint32(9, 1);
  t.set(seeded(96, seed), 13);
  return t;
}

function messages(): NatVector[] {
  const K = NatKind;
  const tag = (seed: number): Uint8Array => Uint8Array.of(1, ...seeded(TAG_BYTES - 1, seed));
  const zeroTag = new Uint8Array(TAG_BYTES);
  const locals4 = ["192.168.1.2:40000", "10.0.0.7:40000", "[fd00::7]:40000", "[fe80::1%eth0]:40000"].map((addr) => ({ addr }));
  return [
    vector("register", { kind: K.Register, req: 20, session: 0xdeadbeef, grid: 7, peer: 3, locals: [{ addr: "192.168.1.2:40000" }], sealed: seeded(48, 1) }),
    vector("register-no-locals", { kind: K.Register, req: 21, session: 0xdeadbeef, grid: 7, peer: 3, locals: [], sealed: seeded(48, 2) }),
    vector("register-4-locals-max", { kind: K.Register, req: U32_MAX, session: U32_MAX, grid: U32_MAX, peer: U32_MAX, locals: locals4, sealed: seeded(48, 3) }),
    vector("introduce", { kind: K.Introduce, req: 22, session: 0xdeadbeef, grid: 7, peer: 3, targets: [4] }),
    vector("introduce-8-targets-max", { kind: K.Introduce, req: 23, session: 0xdeadbeef, grid: 7, peer: 3, targets: [1, 2, 4, 127, 128, 65535, 65536, U32_MAX] }),
    vector("introduce-no-targets", { kind: K.Introduce, req: 24, session: 0xdeadbeef, grid: 7, peer: 3, targets: [] }),
    vector("punch-report-ok", { kind: K.PunchReport, req: 25, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, ok: true, attempts: 3, elapsedMs: 212 }),
    vector("punch-report-failed-limits", { kind: K.PunchReport, req: 26, session: 0xdeadbeef, grid: 7, peer: 3, other: 4, ok: false, attempts: 65535, elapsedMs: U32_MAX }),
    vector("registered", { kind: K.Registered, req: 20, grid: 7, peer: 3, observed: "198.18.3.1:40000", ticket: ticketShape(7, 3, 4) }),
    vector("registered-ticket-142-max", { kind: K.Registered, req: 20, grid: 7, peer: 3, observed: "[2001:db8::3]:65535", ticket: seeded(MAX_TICKET_BYTES, 5) }),
    vector("introduced", {
      kind: K.Introduced, req: 23, grid: 7, peer: 3,
      results: [
        { peer: 4, status: IntroStatus.Introduced },
        { peer: 5, status: IntroStatus.NoKey },
        { peer: 6, status: IntroStatus.NotMember },
        { peer: 7, status: IntroStatus.RateLimited },
        { peer: 3, status: IntroStatus.Self },
      ],
    }),
    vector("introduced-empty", { kind: K.Introduced, req: 24, grid: 7, peer: 3, results: [] }),
    vector("introduction-asked", { kind: K.Introduction, req: 9001, grid: 7, peer: 3, other: 4, asked: true, addr: "198.18.4.1:51000", locals: [] }),
    vector("introduction-same-nat-locals", { kind: K.Introduction, req: 9001, grid: 7, peer: 4, other: 3, asked: false, addr: "198.18.7.1:40000", locals: locals4 }),
    vector("punch", { kind: K.Punch, req: 9001, grid: 7, from: 3, to: 4, challenge: seeded(16, 6), ticket: ticketShape(7, 3, 7), tag: zeroTag }),
    vector("punch-tagged", { kind: K.Punch, req: U32_MAX, grid: 65536, from: 128, to: 255, challenge: seeded(16, 8), ticket: ticketShape(65536, 128, 9), tag: tag(10) }),
    vector("punch-reply-with-challenge", {
      kind: K.PunchReply, req: 9001, grid: 7, from: 4, to: 3, challenge: seeded(16, 11), proof: seeded(64, 12), ticket: ticketShape(7, 4, 13), tag: tag(14),
    }),
    vector("punch-reply-final", {
      kind: K.PunchReply, req: 9001, grid: 7, from: 3, to: 4, challenge: new Uint8Array(0), proof: seeded(64, 15), ticket: ticketShape(7, 3, 16), tag: tag(17),
    }),
  ];
}

function invalid(): NatInvalidVector[] {
  const C = DecodeErrorCode;
  const ref = (v: unknown): string => toHex(referenceEncode(v));
  const bin = (n: number): Uint8Array => new Uint8Array(n);
  const out: NatInvalidVector[] = [];
  const bad = (name: string, hex: string, code: DecodeErrorCode, why: string): void => void out.push({ name, hex, code, why });
  bad("nat-register-sealed-49", ref([1, 0x2a, 1, 2, 7, 3, [], bin(49)]), C.WrongType, "Register.sealed 49 bytes > 48");
  bad("nat-register-5-locals", ref([1, 0x2a, 1, 2, 7, 3, Array.from({ length: 5 }, () => ["10.0.0.1:1"]), bin(48)]), C.WrongType, "Register.locals 5 items > 4");
  bad("nat-register-local-65-bytes", ref([1, 0x2a, 1, 2, 7, 3, [["1".repeat(65)]], bin(48)]), C.WrongType, "Register.locals[0].addr 65 bytes > 64");
  bad("nat-register-local-not-entry", ref([1, 0x2a, 1, 2, 7, 3, ["10.0.0.1:1"], bin(48)]), C.WrongType, "a local address must be an entry (a 1-element array), not a bare str");
  bad("nat-introduce-9-targets", ref([1, 0x2b, 1, 2, 7, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]]), C.WrongType, "Introduce.targets 9 items > 8");
  bad("nat-introduce-arity", ref([1, 0x2b, 1, 2, 7, 3]), C.WrongArity, "Introduce without targets: 6 elements, 7 expected");
  bad("nat-punch-report-attempts-65536", ref([1, 0x2c, 1, 2, 7, 3, 4, true, 65536, 0]), C.WrongType, "PunchReport.attempts 65536 > 65535");
  bad("nat-introduced-status-256", ref([1, 0x4d, 1, 7, 3, [[4, 256]]]), C.WrongType, "Introduced.results[0].status 256 > 255");
  bad("nat-introduction-asked-int", ref([1, 0x4e, 1, 7, 3, 4, 1, "198.18.0.2:7000", []]), C.WrongType, "Introduction.asked 1: a bool is never 0 / 1");
  bad("nat-punch-challenge-17", ref([1, 0x60, 1, 7, 3, 4, bin(17), bin(109), bin(9)]), C.WrongType, "Punch.challenge 17 bytes > 16");
  bad("nat-punch-ticket-143", ref([1, 0x60, 1, 7, 3, 4, bin(16), bin(143), bin(9)]), C.WrongType, "Punch.ticket 143 bytes > 142");
  bad("nat-punch-reply-proof-65", ref([1, 0x61, 1, 7, 4, 3, bin(16), bin(65), bin(109), bin(9)]), C.WrongType, "PunchReply.proof 65 bytes > 64");
  bad("nat-punch-reply-arity", ref([1, 0x61, 1, 7, 4, 3, bin(16), bin(64), bin(109)]), C.WrongArity, "PunchReply without its tag: 9 elements, 10 expected");
  return out;
}

export function buildNatVectors(): NatVectors {
  const crypto = new NobleCrypto(new SeededRandom(1)); // never drawn from: every key is given
  const identitySeed = fromHex(RFC_KEYS.identitySeed);
  const linkSeed = fromHex(LINK_KEYS.linkSeed);
  const linkKey = fromHex(LINK_KEYS.linkKey);
  if (toHex(crypto.ed25519KeyPair(linkSeed).publicKey) !== LINK_KEYS.linkKey) throw new Error("RFC 8032 test 2 public key mismatch");

  // 6.3: peer 3's key-bound ticket in grid 7 under epoch 258.
  const fields = { grid: 7, peer: 3, epoch: EPOCH };
  const ticket = issueTicketV2(crypto, identitySeed, { ...fields, key: linkKey });
  const signedMessage = new Uint8Array([...new TextEncoder().encode("relaygrid-ticket-v2"), ...ticket.subarray(0, 45)]);

  // 6.9: peer 3 answers peer 4's challenge, in a PunchReply tagged under the grid key.
  const challenge = seeded(16, 100);
  const proof = signPunchProof(crypto, linkSeed, 7, 3, 4, challenge);
  const replyMsg: NatMessage = {
    kind: NatKind.PunchReply, req: 9001, grid: 7, from: 3, to: 4, challenge: seeded(16, 101), proof, ticket, tag: new Uint8Array(TAG_BYTES),
  };
  const replyBytes = referenceEncode(positional(replyMsg));
  const keyring = new GridKeyring(crypto);
  keyring.add(EPOCH, GRID_KEY);
  writeTag(keyring, replyBytes, replyBytes.length - TAG_FIELD_BYTES, -1);
  const punchReply = { msg: { ...replyMsg, tag: replyBytes.slice(replyBytes.length - TAG_BYTES) } as NatMessage, hex: toHex(replyBytes) };

  // 6.9: the Register that seals the link key under admission.json's session key.
  const req = 12;
  const sealed = sealLinkKey(crypto, fromHex(SESSION_KEY), req, 7, 3, linkKey);
  const regMsg: NatMessage = { kind: NatKind.Register, req, session: 0x2a5f1e07, grid: 7, peer: 3, locals: [{ addr: "192.168.1.2:40000" }], sealed };

  return {
    about:
      "relaygrid wire/PROTOCOL.md 4.7, 6.3 (key-bound tickets) and 6.9, known answers from fixed keys (RFC 8032 7.1 test 1: the lobby " +
      "identity; test 2: the member's link key; admission.json's session key; security.json's grid key). A key-bound ticket is " +
      "2 || u32be(grid) || u32be(peer) || u32be(epoch) || link key (32) || Ed25519(identity, \"relaygrid-ticket-v2\" || those 45 bytes). " +
      "proof = Ed25519(link seed, \"relaygrid-punch-v1\" || u32be(grid) || u32be(prover) || u32be(verifier) || challenge). " +
      "Register.sealed = ChaCha20-Poly1305(session key, nonce = 00 || 7 zero bytes || u32be(req), link key, aad = " +
      "\"relaygrid-linkkey-v1\" || u32be(grid) || u32be(peer)). messages and invalid are decoded with the NAT kinds enabled.",
    inputs: {
      identitySeed: RFC_KEYS.identitySeed,
      identity: RFC_KEYS.identity,
      ...LINK_KEYS,
      sessionKey: SESSION_KEY,
      gridKey: toHex(GRID_KEY),
      epoch: EPOCH,
    },
    messages: messages(),
    invalid: invalid(),
    ticketV2: { ...fields, signedMessage: toHex(signedMessage), signature: toHex(ticket.subarray(45)), ticket: toHex(ticket) },
    punchProof: { grid: 7, prover: 3, verifier: 4, challenge: toHex(challenge), message: toHex(punchProofMessage(7, 3, 4, challenge)), proof: toHex(proof), punchReply },
    register: {
      req,
      grid: 7,
      peer: 3,
      aad: toHex(linkKeyAad(7, 3)),
      nonce: toHex(sessionNonce(0, req)),
      sealed: toHex(sealed),
      datagram: { msg: regMsg, hex: toHex(referenceEncode(positional(regMsg))) },
    },
  };
}
