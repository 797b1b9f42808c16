/**
 * test/vectors/admission.json: known answers for PROTOCOL.md 6.1-6.4 and 6.10, so a second
 * implementation can check its handshake, tickets and sealed grants without a live lobby.
 * Every input is fixed: the ephemeral keys are RFC 7748 section 6.1's (Alice is the peer,
 * Bob the lobby), the identity is RFC 8032 section 7.1 test 1's, the grid key is
 * security.json's. Ed25519 is deterministic and ChaCha20-Poly1305 takes a given nonce, so
 * the outputs are the same on every run. They are computed through lib/security (the
 * lobby's and the peer's own functions, with the fixed ephemeral keys injected), and
 * test/wire-admission-vectors.test.ts recomputes each one by hand from the spec's formulas.
 */
import { encode as referenceEncode } from "@msgpack/msgpack";
import { SeededRandom } from "../../lib/rng.ts";
import { encodeGrant } from "../../lib/security/admission.ts";
import type { CryptoProvider, KeyPair } from "../../lib/security/crypto.ts";
import { writeTag, GridKeyring } from "../../lib/security/grid-keys.ts";
import { acceptHandshake, Direction, sealFor, sessionNonce, welcomeTranscript } from "../../lib/security/handshake.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import { createJoinToken } from "../../lib/security/join-token.ts";
import { issueTicket } from "../../lib/security/ticket.ts";
import { Kind } from "../../wire/kinds.ts";
import { MIN_HELLO_BYTES, TAG_BYTES, TAG_FIELD_BYTES } from "../../wire/limits.ts";
import type { Message } from "../../wire/messages.ts";
import { fromHex, positional, toHex } from "./hex.ts";
import { buildSessionVectors, type SessionVectors } from "./session.ts";

/** RFC 7748 6.1 and RFC 8032 7.1 test 1, and the answers those RFCs give for them. */
export const RFC_KEYS = {
  peerEphSecret: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  peerEph: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  lobbyEphSecret: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  lobbyEph: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  identitySeed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  identity: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  /** RFC 8032 7.1 test 2's key pair: the game backend's join token key (6.10). */
  backendSeed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
  backend: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
} as const;

/** One datagram: the decoded message ({"$bin": hex} for binary) and its bytes. */
export interface DatagramVector {
  readonly msg: Message;
  readonly hex: string;
}

export interface AdmissionVectors {
  readonly about: string;
  readonly inputs: typeof RFC_KEYS & {
    readonly session: number;
    readonly heartbeatMs: number;
    readonly cookie: string;
    readonly gridKey: string;
    readonly epoch: number;
  };
  /** 6.1: the transcript the lobby signs, its signature, the X25519 secret and the session key. */
  readonly handshake: {
    readonly transcript: string;
    readonly signature: string;
    readonly sessionKeyInfo: string;
    readonly sessionKey: string;
    readonly hello: DatagramVector;
    readonly welcome: DatagramVector;
  };
  /** 6.3: a ticket, the bytes its signature covers, and a Connect carrying it under a real tag. */
  readonly ticket: {
    readonly grid: number;
    readonly peer: number;
    readonly epoch: number;
    readonly address: string;
    readonly signedMessage: string;
    readonly signature: string;
    readonly ticket: string;
    readonly connect: DatagramVector;
  };
  /** 6.4: the grant a Members seals (lobby -> peer, direction 1). */
  readonly grant: SealedVector & { readonly members: DatagramVector };
  /** 4.3 / 6.4: the grant a Rejoin seals (peer -> lobby, direction 0, nonce counter = req). */
  readonly rejoinGrant: SealedVector & { readonly rejoin: DatagramVector };
  /** 6.12: a join token signed by the backend key, and the JoinToken that seals it (direction 0, nonce counter = req). */
  readonly joinToken: SealedVector & {
    readonly grid: string;
    readonly player: string;
    readonly expiresAt: number;
    readonly nonceBytes: string;
    readonly signedMessage: string;
    readonly signature: string;
    readonly token: string;
    readonly datagram: DatagramVector;
  };
  /** 6.10: the session frames under this handshake's session key. */
  readonly frames: SessionVectors;
}

export interface SealedVector {
  readonly plaintext: string;
  readonly nonceCounter: number;
  readonly nonce: string;
  readonly sealed: string;
}

const SESSION = 0x2a5f1e07;
const HEARTBEAT_MS = 2000;
const COOKIE = "0123456789abcdef";
/** security.json's grid key and epoch (00 01 .. 1f, epoch 258). */
const GRID_KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const EPOCH = 258;
/** The Connect's nonce (PROTOCOL.md 6.13): fixed bytes, so the vector is the same on every run. */
const CONNECT_NONCE = Uint8Array.from({ length: 8 }, (_, i) => 0xc0 + i);

/** NobleCrypto whose next X25519 key pair is the given one: how the fixed lobby ephemeral gets into acceptHandshake. */
function withEphemeral(base: CryptoProvider, pair: KeyPair): CryptoProvider {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === "x25519KeyPair") return () => ({ secretKey: pair.secretKey.slice(), publicKey: pair.publicKey.slice() });
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function datagram(msg: Message): DatagramVector {
  return { msg, hex: toHex(referenceEncode(positional(msg))) };
}

export function buildAdmissionVectors(): AdmissionVectors {
  const crypto = new NobleCrypto(new SeededRandom(1)); // never drawn from: every key is given
  const k = RFC_KEYS;
  const peerEph = fromHex(k.peerEph);
  const lobbyPair = { secretKey: fromHex(k.lobbyEphSecret), publicKey: fromHex(k.lobbyEph) };
  const seed = fromHex(k.identitySeed);
  // The RFCs' own answers, checked before anything is written.
  if (toHex(crypto.ed25519KeyPair(seed).publicKey) !== k.identity) throw new Error("RFC 8032 test 1 public key mismatch");
  if (toHex(crypto.x25519Shared(fromHex(k.peerEphSecret), lobbyPair.publicKey) ?? new Uint8Array(0)) !== k.shared) {
    throw new Error("RFC 7748 6.1 shared secret mismatch");
  }

  // 6.1: the lobby's side of the handshake, exactly as the lobby runs it.
  const accepted = acceptHandshake(withEphemeral(crypto, lobbyPair), seed, peerEph, SESSION);
  if (accepted === null) throw new Error("the RFC 7748 keys were refused");
  const transcript = welcomeTranscript(peerEph, accepted.lobbyEph, SESSION);
  const info = new Uint8Array([...new TextEncoder().encode("session v1"), ...peerEph, ...accepted.lobbyEph]);
  const helloBase = { kind: Kind.Hello, req: 2, name: "alice", cookie: fromHex(COOKIE), eph: peerEph, pad: new Uint8Array(0) } as const;
  const pad = new Uint8Array(Math.max(0, MIN_HELLO_BYTES - referenceEncode(positional(helloBase)).length));
  const hello = datagram({ ...helloBase, pad });
  const welcome = datagram({
    kind: Kind.Welcome, req: 2, session: SESSION, heartbeatMs: HEARTBEAT_MS, eph: accepted.lobbyEph, identity: fromHex(k.identity), signature: accepted.signature,
  });

  // 6.3: peer 3's ticket in grid 7 under epoch 258, and a Connect that shows it, signed under the grid key.
  const fields = { grid: 7, peer: 3, epoch: EPOCH, address: "203.0.113.3:7000" };
  const ticket = issueTicket(crypto, seed, fields);
  const unsigned = ticket.subarray(0, ticket.length - 64);
  const signedMessage = new Uint8Array([...new TextEncoder().encode("relaygrid-ticket-v1"), ...unsigned]);
  const keyring = new GridKeyring(crypto);
  keyring.add(EPOCH, GRID_KEY);
  const connectBytes = referenceEncode(positional({ kind: Kind.Connect, req: 11, grid: 7, from: 3, to: 4, nonce: CONNECT_NONCE, ticket, tag: new Uint8Array(TAG_BYTES) }));
  const prefixEnd = connectBytes.length - TAG_FIELD_BYTES;
  writeTag(keyring, connectBytes, prefixEnd, -1);
  const connect = datagram({ kind: Kind.Connect, req: 11, grid: 7, from: 3, to: 4, nonce: CONNECT_NONCE, ticket, tag: connectBytes.slice(prefixEnd + 2) });
  if (connect.hex !== toHex(connectBytes)) throw new Error("the signed Connect does not re-encode to its bytes");

  // 6.4: the Members grant (first nonce of the session) and the Rejoin grant (nonce = its req).
  const seal = (direction: 0 | 1, counter: number, plain: Uint8Array): SealedVector => ({
    plaintext: toHex(plain),
    nonceCounter: counter,
    nonce: toHex(sessionNonce(direction, counter)),
    sealed: toHex(sealFor(crypto, accepted.sessionKey, direction, counter, plain)),
  });
  const grant = seal(Direction.LobbyToPeer, 1, encodeGrant({ activeEpoch: EPOCH, keys: [{ epoch: EPOCH, key: GRID_KEY }], ticket }));
  const members = datagram({
    kind: Kind.Members, req: 3, grid: 7, peer: 3, part: 0, parts: 1,
    members: [{ peer: 4, addr: "203.0.113.4:7000", links: 1 }], nonce: grant.nonceCounter, sealed: fromHex(grant.sealed),
  });
  const rejoinReq = 9;
  const rejoinGrant = seal(Direction.PeerToLobby, rejoinReq, encodeGrant({ activeEpoch: EPOCH, keys: [{ epoch: EPOCH, key: GRID_KEY }], ticket: new Uint8Array(0) }));
  const rejoin = datagram({
    kind: Kind.Rejoin, req: rejoinReq, session: SESSION, grid: 7, name: "arena", peer: 3, limit: 4, links: [4], epoch: EPOCH, sealed: fromHex(rejoinGrant.sealed),
  });

  // 6.10: a join token for "arena" and player "alice", and the JoinToken that presents it.
  if (toHex(crypto.ed25519KeyPair(fromHex(k.backendSeed)).publicKey) !== k.backend) throw new Error("RFC 8032 test 2 public key mismatch");
  const claims = { grid: "arena", player: "alice", expiresAt: 1_800_000_000, nonce: Uint8Array.from({ length: 8 }, (_, i) => i) };
  const token = createJoinToken(crypto, fromHex(k.backendSeed), claims);
  const tokenUnsigned = token.subarray(0, token.length - 64);
  const tokenReq = 10;
  const sealedToken = seal(Direction.PeerToLobby, tokenReq, token);
  const joinToken = {
    ...sealedToken,
    grid: claims.grid,
    player: claims.player,
    expiresAt: claims.expiresAt,
    nonceBytes: toHex(claims.nonce),
    signedMessage: toHex(new Uint8Array([...new TextEncoder().encode("relaygrid-join-token-v1"), ...tokenUnsigned])),
    signature: toHex(token.subarray(token.length - 64)),
    token: toHex(token),
    datagram: datagram({ kind: Kind.JoinToken, req: tokenReq, session: SESSION, sealed: fromHex(sealedToken.sealed) }),
  };

  return {
    about:
      "relaygrid wire/PROTOCOL.md 6.1-6.4 and 6.10, known answers from fixed keys (RFC 7748 6.1: peer = Alice, lobby = Bob; " +
      "RFC 8032 7.1 test 1: the lobby identity). transcript = \"relaygrid-welcome-v1\" || peerEph || lobbyEph || u32be(session); " +
      "signature = Ed25519(identitySeed, transcript); sessionKey = HKDF-SHA256(ikm = X25519 shared, salt = \"relaygrid\", " +
      "info = sessionKeyInfo = \"session v1\" || peerEph || lobbyEph, L = 32). A ticket's signature covers " +
      "\"relaygrid-ticket-v1\" || its first 14 + n bytes. sealed = ChaCha20-Poly1305(sessionKey, nonce = direction || 7 zero " +
      "bytes || u32be(counter), plaintext, aad = empty) || 16-byte tag: direction 1 and Members.nonce for a Members grant, " +
      "direction 0 and Rejoin.req for a Rejoin grant (count 1, activeEpoch = Rejoin.epoch, empty ticket). The Connect's tag " +
      "is made under security.json's grid key (6.6). A join token (6.10) is signed by the backend key (RFC 8032 7.1 test 2) " +
      "over \"relaygrid-join-token-v1\" || its first 15 + n + p bytes, and JoinToken seals it with direction 0 and its req.",
    inputs: { ...k, session: SESSION, heartbeatMs: HEARTBEAT_MS, cookie: COOKIE, gridKey: toHex(GRID_KEY), epoch: EPOCH },
    handshake: {
      transcript: toHex(transcript),
      signature: toHex(accepted.signature),
      sessionKeyInfo: toHex(info),
      sessionKey: toHex(accepted.sessionKey),
      hello,
      welcome,
    },
    ticket: { ...fields, signedMessage: toHex(signedMessage), signature: toHex(ticket.subarray(ticket.length - 64)), ticket: toHex(ticket), connect },
    grant: { ...grant, members },
    rejoinGrant: { ...rejoinGrant, rejoin },
    joinToken,
    frames: buildSessionVectors(
      toHex(accepted.sessionKey),
      SESSION,
      "PROTOCOL.md 6.10 under handshake.sessionKey: what the peer and the lobby send first after the Welcome.",
    ),
  };
}
