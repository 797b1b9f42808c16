/**
 * Drives a sans-IO Lobby in virtual time for the lobby tests: scripted clients send
 * hand-built requests (wire's encode), every transmit is decoded and checked against
 * maxDatagramBytes, and time only moves when a test says so. Not a suite (no .test.ts).
 *
 * Clients do what a peer does (issue 6): Hello padded to MIN_HELLO_BYTES with an X25519
 * key -> Retry -> the same Hello with the cookie -> Welcome, verified under the lobby's
 * identity (finishHandshake); every Members reply's grant is opened with the session key
 * and checked, and no nonce counter may come twice under one session. After the Welcome a
 * client sends every request in a session frame (PROTOCOL.md 6.10), and every frame the
 * lobby sends a client is checked (its session, its tag, a fresh counter) and unwrapped
 * as it is drained, so tests read the messages inside; `Sent.framed` says it came framed.
 * Both sides use seeded NodeCrypto (test/support): fast, and one seed gives one run.
 * An exception the lobby swallows (its `internalError` event) fails the test at once.
 */
import * as assert from "uvu/assert";
import { Lobby, type LobbyConfig, type LobbyEvent } from "../lib/lobby/index.ts";
import { SeededRandom } from "../lib/rng.ts";
import { type AdmissionGrant, decodeGrant } from "../lib/security/admission.ts";
import type { CryptoProvider, KeyPair } from "../lib/security/crypto.ts";
import { beginHandshake, Direction, finishHandshake, openFrom } from "../lib/security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../lib/security/session-frame.ts";
import { decode, encode } from "../wire/codec.ts";
import { type AnyKindValue, Kind } from "../wire/kinds.ts";
import { DEFAULT_MAX_DATAGRAM_BYTES, MIN_HELLO_BYTES } from "../wire/limits.ts";
import type { AnyMessage, AnyMessageOf, MessageOf } from "../wire/messages.ts";
import { failOnInternalError } from "./support/internal-errors.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";

const EMPTY = new Uint8Array(0);

/** A Hello padded to exactly MIN_HELLO_BYTES (or its natural size when larger). */
export function helloMessage(req: number, name: string, cookie: Uint8Array = EMPTY, eph: Uint8Array = new Uint8Array(32)): MessageOf<typeof Kind.Hello> {
  const base = { kind: Kind.Hello, req, name, cookie, eph, pad: EMPTY } as const;
  const short = MIN_HELLO_BYTES - encode(base).length;
  return short > 0 ? { ...base, pad: new Uint8Array(short) } : base;
}

export interface Sent {
  to: string;
  bytes: Uint8Array;
  msg: AnyMessage;
  /** It came in a session frame that the client at `to` opened (msg is what it carried). */
  framed: boolean;
}

export class Harness {
  readonly lobby: Lobby;
  nowMs = 0;
  /** Every datagram the lobby sent and nobody has taken yet. */
  outbox: Sent[] = [];
  events: LobbyEvent[] = [];
  readonly maxDatagramBytes: number;
  /** The scripted clients' crypto (the lobby has its own, from the same seed family). */
  readonly peerCrypto: CryptoProvider;
  /** Clients by address: frames to them are opened with their session keys as they are drained. */
  readonly clients = new Map<string, Client>();

  constructor(config: Partial<LobbyConfig> = {}, seed = 1) {
    this.lobby = new Lobby({ random: new SeededRandom(seed), crypto: new SeededNodeCrypto(seed), ...config });
    this.maxDatagramBytes = config.maxDatagramBytes ?? 1200;
    this.peerCrypto = new SeededNodeCrypto(seed + 0x10000);
  }

  /**
   * Feeds raw bytes from `from`; returns what the lobby sent back to `from` in answer, with
   * the bytes (earlier output stays in the outbox, and so do GridStatus notices, which answer
   * nothing: takeOf() them).
   */
  deliverRaw(from: string, bytes: Uint8Array): Sent[] {
    const before = this.outbox.length;
    this.lobby.handleDatagram(this.nowMs, from, bytes);
    this.drain();
    const fresh = this.outbox.slice(before);
    const answer = (s: Sent): boolean => s.to === from && s.msg.kind !== Kind.GridStatus;
    this.outbox = [...this.outbox.slice(0, before), ...fresh.filter((s) => !answer(s))];
    return fresh.filter(answer);
  }

  /** deliverRaw, the replies decoded. */
  deliverBytes(from: string, bytes: Uint8Array): AnyMessage[] {
    return this.deliverRaw(from, bytes).map((s) => s.msg);
  }

  deliver(from: string, msg: AnyMessage): AnyMessage[] {
    return this.deliverBytes(from, encode(msg));
  }

  /** Moves virtual time forward by `ms`, firing every timer on the way at its deadline. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (let at = this.lobby.pollTimeout(); at !== undefined && at <= target; at = this.lobby.pollTimeout()) {
      this.nowMs = Math.max(this.nowMs, at);
      this.lobby.handleTimeout(this.nowMs);
      this.drain();
    }
    this.nowMs = target;
  }

  /** Removes and returns the datagrams sent to `to` (all when `to` is omitted). */
  take(to?: string): Sent[] {
    const mine = this.outbox.filter((s) => to === undefined || s.to === to);
    this.outbox = this.outbox.filter((s) => !(to === undefined || s.to === to));
    return mine;
  }

  /** Removes and returns the messages of `kind` sent to `to`. */
  takeOf<K extends AnyKindValue>(to: string, kind: K): AnyMessageOf<K>[] {
    const mine = this.outbox.filter((s) => s.to === to && s.msg.kind === kind);
    this.outbox = this.outbox.filter((s) => !mine.includes(s));
    return mine.map((s) => s.msg as unknown as AnyMessageOf<K>);
  }

  takeEvents(): LobbyEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  drain(): void {
    for (let t = this.lobby.pollTransmit(); t !== undefined; t = this.lobby.pollTransmit()) {
      assert.ok(t.bytes.length <= this.maxDatagramBytes, `transmit of ${t.bytes.length} bytes > ${this.maxDatagramBytes}`);
      const d = decode(t.bytes, this.maxDatagramBytes, { natTraversal: true });
      if (!d.ok) throw new Error(`lobby sent an undecodable datagram: ${d.code} ${d.detail}`);
      const inner = d.msg.kind === Kind.SessionFrame ? this.clients.get(t.to)?.unframe(d.msg, t.bytes) : undefined;
      this.outbox.push({ to: t.to, bytes: t.bytes, msg: inner ?? d.msg, framed: inner !== undefined });
    }
    for (let e = this.lobby.pollEvent(); e !== undefined; e = this.lobby.pollEvent()) this.events.push(failOnInternalError(e));
  }
}

/** Asserts `msg` is of `kind` and narrows it. */
export function expectKind<K extends AnyKindValue>(msg: AnyMessage | undefined, kind: K): AnyMessageOf<K> {
  assert.ok(msg !== undefined, `expected a reply of kind ${kind}, got none`);
  assert.is(msg.kind, kind, `expected kind 0x${kind.toString(16)}, got ${JSON.stringify(msg)}`);
  return msg as unknown as AnyMessageOf<K>;
}

type Body<K extends AnyKindValue> = Omit<AnyMessageOf<K>, "kind" | "req" | "session">;

/** A scripted peer: one address, one session, request ids counting up. */
export class Client {
  session = 0;
  /** The session key from the latest completed handshake. */
  sessionKey: Uint8Array | undefined;
  /** The latest Hello that carried a cookie, as sent (a retransmission resends these bytes). */
  lastHello: Uint8Array | undefined;
  /** Nonce counter -> the sealed bytes seen under it in the current session: one counter, one ciphertext. */
  readonly nonces = new Map<number, string>();
  /** The X25519 key pair of the latest Hello. */
  ephemeral: KeyPair | undefined;
  /** This session's frames (PROTOCOL.md 6.10), from the latest Welcome. */
  framer: SessionFramer | undefined;
  private nextReq = 1;

  constructor(
    readonly h: Harness,
    readonly addr: string,
  ) {
    h.clients.set(addr, this);
  }

  req(): number {
    return this.nextReq++;
  }

  /**
   * Hello without a cookie -> Retry (<= 3x the Hello) -> the same Hello with the cookie; returns
   * the replies to that second Hello (a Welcome, unless the lobby refuses).
   */
  tryHello(name = "p", req = this.req()): AnyMessage[] {
    const eph = beginHandshake(this.h.peerCrypto);
    this.ephemeral = eph;
    const first = encode(helloMessage(req, name, EMPTY, eph.publicKey));
    const [sent] = this.h.deliverRaw(this.addr, first);
    const retry = expectKind(sent?.msg, Kind.Retry);
    assert.is(retry.req, req);
    assert.ok((sent?.bytes.length ?? 0) <= 3 * first.length, "Retry within 3x of the Hello");
    this.lastHello = encode(helloMessage(req, name, retry.cookie, eph.publicKey));
    return this.h.deliverBytes(this.addr, this.lastHello);
  }

  /** The full handshake: keeps the session and its key, after checking the Welcome's signature under the lobby's identity. */
  hello(name = "p", req = this.req()): MessageOf<typeof Kind.Welcome> {
    const w = expectKind(this.tryHello(name, req)[0], Kind.Welcome);
    assert.is(w.req, req);
    this.accept(w);
    return w;
  }

  /** Checks a Welcome against this client's latest ephemeral key and the lobby's public key, and adopts its session. */
  accept(w: MessageOf<typeof Kind.Welcome>): void {
    assert.ok(this.ephemeral !== undefined, "no Hello sent");
    const welcome = { lobbyEph: w.eph, signature: w.signature, session: w.session };
    const r = finishHandshake(this.h.peerCrypto, this.ephemeral, welcome, this.h.lobby.publicKey);
    assert.ok(r.ok, `Welcome does not verify: ${r.ok ? "" : r.reason}`);
    assert.equal(w.identity, this.h.lobby.publicKey);
    if (this.session !== w.session) this.nonces.clear();
    this.session = w.session;
    this.sessionKey = r.sessionKey;
    this.framer = SessionFramer.forPeer(deriveSessionMacKeys(this.h.peerCrypto, r.sessionKey), w.session);
  }

  /** `msg` (or bytes, as they are) encoded and framed under this session (the bytes a peer sends). */
  frame(msg: AnyMessage | Uint8Array): Uint8Array {
    assert.ok(this.framer !== undefined, "no session to frame for");
    const f = this.framer.frame(msg instanceof Uint8Array ? msg : encode(msg));
    assert.ok(f !== undefined, "session counters spent");
    return f;
  }

  /** The message in a frame the lobby sent this client; fails the test for a frame that does not check. */
  unframe(frame: MessageOf<typeof Kind.SessionFrame>, bytes: Uint8Array): AnyMessage | undefined {
    if (this.framer === undefined || frame.session !== this.framer.session) return undefined;
    const check = this.framer.open(bytes);
    assert.is(check, "fresh", `a frame from the lobby to ${this.addr} did not check`);
    const d = decode(frame.body, DEFAULT_MAX_DATAGRAM_BYTES, { natTraversal: true });
    assert.ok(d.ok, "a frame's body does not decode");
    return d.msg;
  }

  /** Opens a Members reply's grant with the session key; fails the test if it does not open or decode, or if its nonce sealed something else before. */
  grant(m: MessageOf<typeof Kind.Members>): AdmissionGrant {
    assert.ok(this.sessionKey !== undefined, "no session key");
    const sealed = Buffer.from(m.sealed).toString("hex");
    const seen = this.nonces.get(m.nonce);
    assert.ok(seen === undefined || seen === sealed, `nonce ${m.nonce} reused for another grant under session ${this.session}`);
    this.nonces.set(m.nonce, sealed);
    const plain = openFrom(this.h.peerCrypto, this.sessionKey, Direction.LobbyToPeer, m.nonce, m.sealed);
    assert.ok(plain !== null, "the sealed grant does not open under the session key");
    const g = decodeGrant(plain);
    assert.ok(g !== null, "the grant does not decode");
    return g;
  }

  /** Sends a session request, framed, and returns the replies (usually one). */
  send<K extends AnyKindValue>(kind: K, body: Body<K>, req = this.req()): AnyMessage[] {
    const msg = { kind, req, session: this.session, ...body } as unknown as AnyMessage;
    return this.h.deliverBytes(this.addr, this.frame(msg));
  }

  /** Sends a session request as a peer older than session frames would (bare); returns the replies. */
  sendBare<K extends AnyKindValue>(kind: K, body: Body<K>, req = this.req()): AnyMessage[] {
    return this.h.deliver(this.addr, { kind, req, session: this.session, ...body } as unknown as AnyMessage);
  }

  /** Sends a session request and returns its single reply. */
  call<K extends AnyKindValue>(kind: K, body: Body<K>, req = this.req()): AnyMessage {
    const replies = this.send(kind, body, req);
    assert.is(replies.length, 1, `expected one reply, got ${JSON.stringify(replies)}`);
    const r = replies[0] as AnyMessage & { req?: number };
    if (r.req !== undefined) assert.is(r.req, req);
    return r;
  }

  create(name: string, capacity = 0, limit = 4, meta = ""): number {
    return expectKind(this.call(Kind.CreateGrid, { name, capacity, limit, meta }), Kind.GridCreated).grid;
  }

  /** SelectGrid -> Members, whose grant must open (see grant()). */
  select(grid: number, limit = 4, part = 0): MessageOf<typeof Kind.Members> {
    const m = expectKind(this.call(Kind.SelectGrid, { grid, limit, part, role: 0 }), Kind.Members);
    this.grant(m);
    return m;
  }

  link(grid: number, peer: number, other: number, open = true): void {
    expectKind(this.call(Kind.ConnUpdate, { grid, peer, other, open }), Kind.Ack);
  }

  heartbeat(grid: number, peer: number, links: number[]): MessageOf<typeof Kind.HeartbeatAck> {
    return expectKind(this.call(Kind.Heartbeat, { grid, peer, links }), Kind.HeartbeatAck);
  }
}

/** A member of one grid: its client and its peer id. */
export interface Joined {
  client: Client;
  peer: number;
}

/** `n` clients at 10.0.x.y addresses, each with a session, selected into `grid` with `limit`. */
export function joinMany(h: Harness, grid: number, n: number, limit = 4, prefix = "10.0"): Joined[] {
  const out: Joined[] = [];
  for (let i = 0; i < n; i++) {
    const client = new Client(h, `${prefix}.${Math.floor(i / 200)}.${(i % 200) + 1}:4000`);
    client.hello(`p${i}`);
    out.push({ client, peer: client.select(grid, limit).peer });
  }
  return out;
}

/** Both ends report the link a-b. */
export function linkBoth(grid: number, a: Joined, b: Joined): void {
  a.client.link(grid, a.peer, b.peer);
  b.client.link(grid, b.peer, a.peer);
}
