/**
 * Drives a sans-IO Lobby in virtual time for the lobby tests: scripted clients send
 * hand-built requests (wire's encode), every transmit is decoded and checked against
 * maxDatagramBytes, and time only moves when a test says so. Not a suite (no .test.ts).
 */
import * as assert from "uvu/assert";
import { Lobby, type LobbyConfig, type LobbyEvent } from "../lib/lobby/index.ts";
import { SeededRandom } from "../lib/rng.ts";
import { decode, encode } from "../wire/codec.ts";
import { Kind, type KindValue } from "../wire/kinds.ts";
import type { Message, MessageOf } from "../wire/messages.ts";

export interface Sent {
  to: string;
  bytes: Uint8Array;
  msg: Message;
}

export class Harness {
  readonly lobby: Lobby;
  nowMs = 0;
  /** Every datagram the lobby sent and nobody has taken yet. */
  outbox: Sent[] = [];
  events: LobbyEvent[] = [];
  readonly maxDatagramBytes: number;

  constructor(config: Partial<LobbyConfig> = {}, seed = 1) {
    this.lobby = new Lobby({ random: new SeededRandom(seed), ...config });
    this.maxDatagramBytes = config.maxDatagramBytes ?? 1200;
  }

  /** Feeds raw bytes from `from`; returns what the lobby sent back to `from` in answer (earlier output stays in the outbox). */
  deliverBytes(from: string, bytes: Uint8Array): Message[] {
    const before = this.outbox.length;
    this.lobby.handleDatagram(this.nowMs, from, bytes);
    this.drain();
    const fresh = this.outbox.slice(before);
    this.outbox = [...this.outbox.slice(0, before), ...fresh.filter((s) => s.to !== from)];
    return fresh.filter((s) => s.to === from).map((s) => s.msg);
  }

  deliver(from: string, msg: Message): Message[] {
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
  takeOf<K extends KindValue>(to: string, kind: K): MessageOf<K>[] {
    const mine = this.outbox.filter((s) => s.to === to && s.msg.kind === kind);
    this.outbox = this.outbox.filter((s) => !mine.includes(s));
    return mine.map((s) => s.msg as unknown as MessageOf<K>);
  }

  takeEvents(): LobbyEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  drain(): void {
    for (let t = this.lobby.pollTransmit(); t !== undefined; t = this.lobby.pollTransmit()) {
      assert.ok(t.bytes.length <= this.maxDatagramBytes, `transmit of ${t.bytes.length} bytes > ${this.maxDatagramBytes}`);
      const d = decode(t.bytes, this.maxDatagramBytes);
      if (!d.ok) throw new Error(`lobby sent an undecodable datagram: ${d.code} ${d.detail}`);
      this.outbox.push({ to: t.to, bytes: t.bytes, msg: d.msg });
    }
    for (let e = this.lobby.pollEvent(); e !== undefined; e = this.lobby.pollEvent()) this.events.push(e);
  }
}

/** Asserts `msg` is of `kind` and narrows it. */
export function expectKind<K extends KindValue>(msg: Message | undefined, kind: K): MessageOf<K> {
  assert.ok(msg !== undefined, `expected a reply of kind ${kind}, got none`);
  assert.is(msg.kind, kind, `expected kind 0x${kind.toString(16)}, got ${JSON.stringify(msg)}`);
  return msg as unknown as MessageOf<K>;
}

type Body<K extends KindValue> = Omit<MessageOf<K>, "kind" | "req" | "session">;

/** A scripted peer: one address, one session, request ids counting up. */
export class Client {
  session = 0;
  private nextReq = 1;

  constructor(
    readonly h: Harness,
    readonly addr: string,
  ) {}

  req(): number {
    return this.nextReq++;
  }

  /** Hello -> Welcome; keeps the session. */
  hello(name = "p", req = this.req()): MessageOf<typeof Kind.Welcome> {
    const w = expectKind(this.h.deliver(this.addr, { kind: Kind.Hello, req, name })[0], Kind.Welcome);
    assert.is(w.req, req);
    this.session = w.session;
    return w;
  }

  /** Sends a session request and returns the replies (usually one). */
  send<K extends KindValue>(kind: K, body: Body<K>, req = this.req()): Message[] {
    const msg = { kind, req, session: this.session, ...body } as unknown as Message;
    return this.h.deliver(this.addr, msg);
  }

  /** Sends a session request and returns its single reply. */
  call<K extends KindValue>(kind: K, body: Body<K>, req = this.req()): Message {
    const replies = this.send(kind, body, req);
    assert.is(replies.length, 1, `expected one reply, got ${JSON.stringify(replies)}`);
    const r = replies[0] as Message & { req?: number };
    if (r.req !== undefined) assert.is(r.req, req);
    return r;
  }

  create(name: string, capacity = 0, limit = 4, meta = ""): number {
    return expectKind(this.call(Kind.CreateGrid, { name, capacity, limit, meta }), Kind.GridCreated).grid;
  }

  select(grid: number, limit = 4, part = 0): MessageOf<typeof Kind.Members> {
    return expectKind(this.call(Kind.SelectGrid, { grid, limit, part }), Kind.Members);
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
