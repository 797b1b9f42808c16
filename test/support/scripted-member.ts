/**
 * A hostile player on the simulated network: a node that speaks the wire protocol by hand
 * (no Peer inside), so a test can make it do what an honest peer never would. It does the
 * real handshake with the lobby (Hello, Retry, Welcome, verified under the lobby's key),
 * frames its requests under the session's keys (PROTOCOL.md 6.10), opens its grant, so it
 * holds the grid key and a ticket like any member, and then follows a script: report any
 * links it likes, answer Connect and Force with yes and then relay nothing, or stay silent.
 * It keys its links as a peer does (PROTOCOL.md 6.13), so what it sends on them is believed.
 *
 * Datagrams go through the simulator like everyone's (latency, taps); what the lobby sends
 * it is checked and unwrapped into `received`.
 */
import type { Address, Endpoint, Transmit } from "../../lib/endpoint.ts";
import { decodeGrant } from "../../lib/security/admission.ts";
import type { CryptoProvider, KeyPair } from "../../lib/security/crypto.ts";
import { checkTag, GridKeyring, writeTag } from "../../lib/security/grid-keys.ts";
import { deriveLinkKey, stampLinkAuth } from "../../lib/security/link-auth.ts";
import type { SipKey } from "../../lib/security/siphash.ts";
import type { LinkMessage } from "../../lib/peer/core.ts";
import { beginHandshake, Direction, finishHandshake, openFrom } from "../../lib/security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../../lib/security/session-frame.ts";
import { decode, encode, Kind, MIN_HELLO_BYTES, TAG_FIELD_BYTES, type KindValue, type Message, type MessageOf } from "../../wire/index.ts";
import { LOBBY, seededCrypto, type SimGrid } from "./sim-grid.ts";

const EMPTY = new Uint8Array(0);
const NO_TAG = new Uint8Array(9);
const NO_AUTH = new Uint8Array(8);

export interface Script {
  /** Answer every Connect and Force with yes (holding the slot, relaying nothing). Defaults to false: answer nothing. */
  acceptLinks?: boolean;
  /** Answer Pings with Pong under the key it holds, so its links stay up. Defaults to false. */
  answerPings?: boolean;
}

export class ScriptedMember implements Endpoint<unknown> {
  readonly received: { from: Address; msg: Message; framed: boolean }[] = [];
  readonly keyring: GridKeyring;
  session = 0;
  framer: SessionFramer | undefined;
  grid = 0;
  id = 0;
  ticket: Uint8Array = EMPTY;
  /** Peers whose Connect or Force it said yes to. */
  readonly accepted = new Set<number>();
  /** The link keys it holds, by peer (PROTOCOL.md 6.13), and its send counter on each. */
  readonly links = new Map<number, { key: SipKey; ctr: number }>();
  /** Its own Connect and Force nonces, by req. */
  private readonly asked = new Map<number, Uint8Array>();
  private readonly out: Transmit[] = [];
  private readonly crypto: CryptoProvider;
  private eph: KeyPair | undefined;
  private nextReq = 1;

  constructor(
    readonly address: Address,
    seed: number,
    private readonly script: Script = {},
  ) {
    this.crypto = seededCrypto(seed);
    this.keyring = new GridKeyring(this.crypto);
  }

  req(): number {
    return this.nextReq++;
  }

  /** Queues bytes for `to` (the caller pokes the node so the simulator takes them). */
  sendBytes(to: Address, bytes: Uint8Array): void {
    this.out.push({ to, bytes });
  }

  hello(cookie: Uint8Array = EMPTY): void {
    this.eph ??= beginHandshake(this.crypto);
    const base = { kind: Kind.Hello, req: this.req(), name: "mallory", cookie, eph: this.eph.publicKey, pad: EMPTY } as const;
    const short = MIN_HELLO_BYTES - encode(base).length;
    this.sendBytes(LOBBY, encode({ ...base, pad: new Uint8Array(Math.max(0, short)) }));
  }

  /** A session request, framed. */
  ask(msg: Message): void {
    const f = this.framer?.frame(encode(msg));
    if (f === undefined) throw new Error(`${this.address} has no session`);
    this.sendBytes(LOBBY, f);
  }

  /** A peer <-> peer message tagged under the grid key it holds. */
  tagged(msg: Message): Uint8Array {
    const b = encode(msg);
    writeTag(this.keyring, b, b.length - TAG_FIELD_BYTES, -1);
    return b;
  }

  /** The messages of `kind` it got (taken). */
  take<K extends KindValue>(kind: K): MessageOf<K>[] {
    const mine = this.received.filter((r) => r.msg.kind === kind);
    for (const r of mine) this.received.splice(this.received.indexOf(r), 1);
    return mine.map((r) => r.msg as unknown as MessageOf<K>);
  }

  /** A fresh link nonce (PROTOCOL.md 6.13). */
  nonce(): Uint8Array {
    return this.crypto.randomBytes(8);
  }

  /** A Connect or Force to `peer`, tagged, its nonce kept so an accepting reply keys the link. */
  linkRequest(kind: typeof Kind.Connect | typeof Kind.Force, peer: number): Uint8Array {
    const req = this.req();
    const nonce = this.nonce();
    this.asked.set(req, nonce);
    return this.tagged({ kind, req, grid: this.grid, from: this.id, to: peer, nonce, ticket: this.ticket, tag: NO_TAG });
  }

  /** `msg` on its link to `peer`: the next counter, stamped under the link key, tagged. */
  onLink(peer: number, msg: LinkMessage): Uint8Array {
    const link = this.links.get(peer);
    if (link === undefined) throw new Error(`${this.address} has no link key for ${peer}`);
    msg.ctr = ++link.ctr;
    const b = encode(msg);
    stampLinkAuth(link.key, b);
    writeTag(this.keyring, b, b.length - TAG_FIELD_BYTES, -1);
    return b;
  }

  handleDatagram(_now: number, from: Address, bytes: Uint8Array): void {
    const d = decode(bytes);
    if (!d.ok) return;
    if (from === LOBBY) return this.fromLobby(d.msg, bytes);
    const k = d.msg.kind;
    if (k < 0x10 || k > 0x1f || checkTag(this.keyring, bytes, -1) !== "ok") return;
    this.received.push({ from, msg: d.msg, framed: false });
    const m = d.msg;
    const epochByte = bytes[bytes.length - 9] as number;
    if (m.kind === Kind.Ping && this.script.answerPings === true && this.links.has(m.from)) {
      this.sendBytes(from, this.onLink(m.from, { kind: Kind.Pong, req: m.req, grid: this.grid, from: this.id, to: m.from, links: this.accepted.size, ctr: 0, auth: NO_AUTH, tag: NO_TAG }));
    }
    if ((m.kind === Kind.ConnectReply && m.accepted) || (m.kind === Kind.ForceReply && m.ok)) {
      const mine = this.asked.get(m.req);
      if (mine !== undefined) this.keyLink(epochByte, mine, m.nonce, this.id, m.from, m.from);
    }
    if ((m.kind === Kind.Connect || m.kind === Kind.Force) && this.script.acceptLinks === true) {
      this.accepted.add(m.from);
      const nonce = this.nonce();
      this.keyLink(epochByte, m.nonce, nonce, m.from, this.id, m.from);
      const base = { req: m.req, grid: this.grid, from: this.id, to: m.from, nonce, ticket: this.ticket, tag: NO_TAG };
      const reply: Message = m.kind === Kind.Connect ? { kind: Kind.ConnectReply, ...base, accepted: true } : { kind: Kind.ForceReply, ...base, ok: true };
      this.sendBytes(from, this.tagged(reply));
    }
  }

  private keyLink(epochByte: number, initiatorNonce: Uint8Array, responderNonce: Uint8Array, initiator: number, responder: number, peer: number): void {
    const gridKey = this.keyring.keyForTagByte(epochByte);
    if (gridKey === undefined) return;
    this.links.set(peer, { key: deriveLinkKey(this.crypto, gridKey, initiatorNonce, responderNonce, initiator, responder), ctr: 0 });
  }

  private fromLobby(msg: Message, bytes: Uint8Array): void {
    if (msg.kind === Kind.Retry) return this.hello(msg.cookie);
    if (msg.kind === Kind.Welcome && this.eph !== undefined) {
      const r = finishHandshake(this.crypto, this.eph, { lobbyEph: msg.eph, signature: msg.signature, session: msg.session }, msg.identity);
      if (!r.ok) return;
      this.session = msg.session;
      this.framer = SessionFramer.forPeer(deriveSessionMacKeys(this.crypto, r.sessionKey), msg.session);
      this.sessionKey = r.sessionKey;
      this.received.push({ from: LOBBY, msg, framed: false });
      return;
    }
    if (msg.kind !== Kind.SessionFrame) return void this.received.push({ from: LOBBY, msg, framed: false });
    if (this.framer?.open(bytes) !== "fresh") return;
    const inner = decode(msg.body);
    if (!inner.ok) return;
    if (inner.msg.kind === Kind.Members && this.sessionKey !== undefined) {
      const plain = openFrom(this.crypto, this.sessionKey, Direction.LobbyToPeer, inner.msg.nonce, inner.msg.sealed);
      const g = plain === null ? null : decodeGrant(plain);
      if (g !== null) {
        for (const k of g.keys) this.keyring.add(k.epoch, k.key);
        if (this.keyring.currentEpoch !== g.activeEpoch) this.keyring.activate(g.activeEpoch);
        this.ticket = g.ticket;
        this.grid = inner.msg.grid;
        this.id = inner.msg.peer;
      }
    }
    this.received.push({ from: LOBBY, msg: inner.msg, framed: true });
  }

  private sessionKey: Uint8Array | undefined;

  handleTimeout(): void {}
  pollTimeout(): undefined {
    return undefined;
  }
  pollTransmit(): Transmit | undefined {
    return this.out.shift();
  }
  pollEvent(): undefined {
    return undefined;
  }
}

/** Adds a scripted member at `address` and runs the handshake to its Welcome. */
export function scriptedSession(g: SimGrid, address: Address, seed: number, script: Script = {}): ScriptedMember {
  const m = new ScriptedMember(address, seed, script);
  g.sim.add(address, m).with((x) => x.hello());
  g.runUntil(() => m.session !== 0, 2_000, 1);
  return m;
}

/** A scripted session that also selects `grid` with `limit`, and holds the grid key and its ticket. */
export function scriptedJoin(g: SimGrid, address: Address, grid: number, limit: number, seed: number, script: Script = {}): ScriptedMember {
  const m = scriptedSession(g, address, seed, script);
  act(g, m, (x) => x.ask({ kind: Kind.SelectGrid, req: x.req(), session: x.session, grid, limit, part: 0, role: 0 }));
  g.runUntil(() => m.id !== 0, 2_000, 1);
  return m;
}

/** Sends `msg` from the scripted member (framed for the lobby, tagged for a peer). */
export function act(g: SimGrid, m: ScriptedMember, fn: (m: ScriptedMember) => void): void {
  g.sim.withNode(m.address, () => fn(m));
}
