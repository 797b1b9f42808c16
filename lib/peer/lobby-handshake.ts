/**
 * The peer's half of the lobby handshake and of what the session key protects (PROTOCOL.md
 * 6.1, 6.2, 6.4): a Hello with a fresh X25519 key and the cookie of the lobby's last Retry,
 * padded so the lobby may answer within its 3x anti-amplification budget; the signed
 * Welcome, verified under the pinned (or first seen) lobby key; then the sealed grants the
 * lobby sends and the grid key this peer hands back when it re-registers; and the session
 * frames (PROTOCOL.md 6.10) every later message in either direction travels in, under MAC keys
 * derived from the session key, with a counter the receiver never takes twice. Owned by the
 * lobby client (lobby-client.ts), which holds the session itself.
 */
import { decode, encode, Kind, MIN_HELLO_BYTES, type MessageOf } from "../../wire/index.ts";
import { type AdmissionGrant, decodeGrant, encodeGrant } from "../security/admission.ts";
import type { CryptoProvider, KeyPair } from "../security/crypto.ts";
import type { GridKeyring } from "../security/grid-keys.ts";
import { beginHandshake, Direction, finishHandshake, openFrom, sealFor } from "../security/handshake.ts";
import { sealLinkKey } from "../security/link-key.ts";
import { deriveSessionMacKeys, SessionFramer } from "../security/session-frame.ts";
import { FRAME_DROP, HANDSHAKE_DROP, PeerDrop, type DropReason } from "./drops.ts";
import type { GridCredentials } from "./credentials.ts";

type Hello = MessageOf<typeof Kind.Hello>;

export class LobbyHandshake {
  /** This handshake's ephemeral X25519 key pair (a new one per Hello unless echoing a Retry). */
  private ephemeral: KeyPair | undefined;
  /** The cookie from the lobby's Retry, echoed in the next Hello. */
  private cookie: Uint8Array = new Uint8Array(0);
  private sessionKey: Uint8Array | undefined;
  /** The session's frames, from the Welcome that opened it. */
  private framer: SessionFramer | undefined;
  /** Why the last Welcome was refused, for the error if the Hello gives up. */
  failure: string | undefined;

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly credentials: GridCredentials,
  ) {}

  /** A Hello to send (a new key pair unless `keepKey`), padded to MIN_HELLO_BYTES. */
  hello(req: number, name: string, keepKey = false): Hello {
    if (!keepKey || this.ephemeral === undefined) this.ephemeral = beginHandshake(this.crypto);
    const base = { kind: Kind.Hello, req, name, cookie: this.cookie, eph: this.ephemeral.publicKey } as const;
    const unpadded = encode({ ...base, pad: new Uint8Array(0) }).length;
    return { ...base, pad: new Uint8Array(Math.max(0, MIN_HELLO_BYTES - unpadded)) };
  }

  /** Address validation: the next Hello echoes this cookie. */
  retry(msg: MessageOf<typeof Kind.Retry>): void {
    this.cookie = msg.cookie.slice();
  }

  /**
   * Verifies a Welcome and, when it does, derives the session key (and pins the lobby key on
   * first use). A Welcome that does not verify may be forged at the lobby's address: it
   * changes nothing but the failure note, and its drop reason is returned.
   */
  welcome(msg: MessageOf<typeof Kind.Welcome>): DropReason | undefined {
    const eph = this.ephemeral;
    if (eph === undefined) return PeerDrop.UnmatchedReply;
    const creds = this.credentials;
    const r = finishHandshake(this.crypto, eph, { lobbyEph: msg.eph, signature: msg.signature, session: msg.session }, creds.lobbyKey, msg.identity);
    if (!r.ok) {
      this.failure =
        r.reason === "bad-signature" && creds.lobbyKey !== undefined
          ? "its Welcome did not verify under the pinned lobbyKey (wrong key, or not the lobby)"
          : `its Welcome did not verify (${r.reason})`;
      return HANDSHAKE_DROP[r.reason];
    }
    this.ephemeral = undefined;
    creds.lobbyKey = r.lobbyPublicKey; // trust on first use when none was pinned; pinned from now on
    this.sessionKey = r.sessionKey;
    this.framer = SessionFramer.forPeer(deriveSessionMacKeys(this.crypto, r.sessionKey), msg.session);
    this.failure = undefined;
    return undefined;
  }

  /** An encoded session message in a frame under the next counter; undefined with no session (or a spent one). */
  frame(body: Uint8Array): Uint8Array | undefined {
    return this.framer?.frame(body);
  }

  /** A frame of this session again under the next counter (a retransmission); undefined when it is not this session's. */
  reframe(frame: Uint8Array): Uint8Array | undefined {
    const f = this.framer;
    if (f === undefined) return undefined;
    const d = decode(frame);
    return d.ok && d.msg.kind === Kind.SessionFrame && d.msg.session === f.session ? f.reframe(frame) : undefined;
  }

  /**
   * A frame from the lobby's address, checked (PROTOCOL.md 6.10): this session's id, the tag
   * under the lobby's MAC key, a counter not taken before. The message it carries, or why
   * it was dropped.
   */
  openFrame(frame: MessageOf<typeof Kind.SessionFrame>, bytes: Uint8Array): Uint8Array | DropReason {
    const f = this.framer;
    if (f === undefined || frame.session !== f.session) return PeerDrop.FrameSession;
    const check = f.open(bytes);
    return check === "fresh" ? frame.body : FRAME_DROP[check];
  }

  /**
   * Opens the sealed grant in a Members reply (PROTOCOL.md 6.4): the grid's keys by epoch
   * and this peer's ticket. Null when it does not open or does not follow the layout.
   */
  openGrant(msg: MessageOf<typeof Kind.Members>): AdmissionGrant | null {
    const key = this.sessionKey;
    const plain = key === undefined ? null : openFrom(this.crypto, key, Direction.LobbyToPeer, msg.nonce, msg.sealed);
    return plain === null ? null : decodeGrant(plain);
  }

  /** A join token sealed for the lobby (JoinToken, PROTOCOL.md 4.3: Direction.PeerToLobby, nonce = req). */
  sealToken(token: Uint8Array, req: number): Uint8Array {
    return this.sessionKey === undefined ? new Uint8Array(0) : sealFor(this.crypto, this.sessionKey, Direction.PeerToLobby, req, token);
  }

  /**
   * The grid key this peer sends under, sealed for the lobby (Direction.PeerToLobby, nonce =
   * the Rejoin's req; its retransmits are the same bytes): a restarted lobby restores it.
   */
  sealHeldKey(keyring: GridKeyring, req: number): Uint8Array {
    const epoch = keyring.currentEpoch;
    const key = epoch === undefined ? undefined : keyring.keyFor(epoch);
    if (epoch === undefined || key === undefined || this.sessionKey === undefined) return new Uint8Array(0);
    const plain = encodeGrant({ activeEpoch: epoch, keys: [{ epoch, key }], ticket: new Uint8Array(0) });
    return sealFor(this.crypto, this.sessionKey, Direction.PeerToLobby, req, plain);
  }

  /** Register.sealed: this peer's link key for the lobby (PROTOCOL.md 6.9, nonce = the Register's req); undefined without a session. */
  sealLinkKey(req: number, grid: number, peer: number, publicKey: Uint8Array): Uint8Array | undefined {
    return this.sessionKey === undefined ? undefined : sealLinkKey(this.crypto, this.sessionKey, req, grid, peer, publicKey);
  }
}
