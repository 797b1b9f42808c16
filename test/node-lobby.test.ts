/**
 * The lobby on real UDP (platform/node): createLobby on loopback port 0 answers a raw
 * node:dgram client; garbage does not stop it; close() sends LobbyClosing. Every wait is
 * bounded, and every socket is closed at the end of each test.
 */
import type { Socket } from "node:dgram";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SeededRandom } from "../lib/rng.ts";
import { bindUdp, createLobby, driveEndpoint, formatAddress, parseAddress, type LobbyEvent } from "../platform/node/index.ts";
import { decode, encode } from "../wire/codec.ts";
import { Kind, type KindValue } from "../wire/kinds.ts";
import type { Message, MessageOf } from "../wire/messages.ts";
import type { Endpoint, Transmit } from "../lib/endpoint.ts";
import { decodeGrant } from "../lib/security/admission.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { beginHandshake, Direction, finishHandshake, openFrom } from "../lib/security/handshake.ts";
import { verifyTicket } from "../lib/security/ticket.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";
import { helloMessage } from "./lobby-harness.ts";
import { deriveSessionMacKeys, SessionFramer } from "../lib/security/session-frame.ts";

const WAIT_MS = 3000;

/** Waits until `cond()` holds, polling; fails after WAIT_MS. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`condition not met within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match(e instanceof Error ? e.message : String(e), pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

/**
 * Decoded datagrams arriving at a client socket, awaited one kind at a time with a deadline.
 * After the handshake, frames from the lobby are checked under the session's keys and what
 * they carry is queued (PROTOCOL.md 6.10); frame() wraps a request the same way.
 */
class Inbox {
  private readonly queue: Message[] = [];
  private wake: (() => void) | undefined;
  framer: SessionFramer | undefined;

  constructor(readonly socket: Socket) {
    socket.on("message", (raw: Uint8Array) => {
      const bytes = new Uint8Array(raw);
      const d = decode(bytes);
      if (d.ok && d.msg.kind === Kind.SessionFrame) {
        if (this.framer?.open(bytes) === "fresh") {
          const inner = decode(d.msg.body);
          if (inner.ok) this.queue.push(inner.msg);
        }
      } else if (d.ok) this.queue.push(d.msg);
      this.wake?.();
    });
  }

  frame(msg: Message): Uint8Array {
    const f = this.framer?.frame(encode(msg));
    assert.ok(f !== undefined, "no session yet");
    return f;
  }

  send(to: string, bytes: Uint8Array): void {
    const dest = parseAddress(to);
    assert.ok(dest !== undefined);
    this.socket.send(bytes, dest.port, dest.host);
  }

  async next<K extends KindValue>(kind: K): Promise<MessageOf<K>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const i = this.queue.findIndex((m) => m.kind === kind);
      if (i >= 0) return this.queue.splice(i, 1)[0] as unknown as MessageOf<K>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message of kind 0x${kind.toString(16)} within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** The peer's side of the handshake over UDP: Hello -> Retry -> Hello with the cookie -> Welcome, verified under `lobbyKey`. */
async function handshake(inbox: Inbox, to: string, req: number, lobbyKey: Uint8Array): Promise<{ session: number; key: Uint8Array }> {
  const crypto = new NobleCrypto(new SeededRandom(req));
  const eph = beginHandshake(crypto);
  inbox.send(to, encode(helloMessage(req, "raw", undefined, eph.publicKey)));
  const retry = await inbox.next(Kind.Retry);
  assert.is(retry.req, req);
  inbox.send(to, encode(helloMessage(req, "raw", retry.cookie, eph.publicKey)));
  const w = await inbox.next(Kind.Welcome);
  assert.is(w.req, req);
  const r = finishHandshake(crypto, eph, { lobbyEph: w.eph, signature: w.signature, session: w.session }, lobbyKey);
  assert.ok(r.ok, "the Welcome verifies under the lobby's public key");
  inbox.framer = SessionFramer.forPeer(deriveSessionMacKeys(crypto, r.sessionKey), w.session);
  return { session: w.session, key: r.sessionKey };
}

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));

test("node: createLobby on 127.0.0.1 port 0 serves a raw UDP client, survives garbage, says LobbyClosing", async () => {
  const server = await createLobby({ host: "127.0.0.1", port: 0, random: new SeededRandom(1) });
  const socket = await bindUdp("127.0.0.1", 0);
  const inbox = new Inbox(socket);
  const junkSocket = await bindUdp("127.0.0.1", 0);
  const events: LobbyEvent[] = [];
  server.on("event", (e) => events.push(e));
  let created = 0;
  server.on("gridCreated", (e) => (created = e.grid));
  try {
    const addr = server.address();
    assert.match(addr, /^127\.0\.0\.1:[0-9]+$/);
    assert.is.not(parseAddress(addr)?.port, 0);

    assert.match(server.publicKey(), /^[0-9a-f]{64}$/);
    assert.equal(fromHex(server.publicKey()), server.lobby.publicKey);
    const welcome = await handshake(inbox, addr, 1, fromHex(server.publicKey()));

    // Garbage of every sort, from another socket (from this one it would soon be rate-limited):
    // nothing stops the lobby.
    const rng = new SeededRandom(3);
    const dest = parseAddress(addr);
    // In batches, waiting for each to arrive: one process sending 200 datagrams at once would
    // overflow the lobby socket's receive buffer before the lobby gets a turn to read it.
    for (let batch = 0; batch < 20; batch++) {
      for (let i = 0; i < 10; i++) {
        const junk = new Uint8Array(1 + (rng.nextU32() % 1500));
        for (let j = 0; j < junk.length; j++) junk[j] = rng.nextU32() & 0xff;
        junkSocket.send(junk, dest?.port ?? 0, "127.0.0.1");
      }
      await until(() => server.stats().driver.datagramsReceived >= 2 + 10 * (batch + 1));
    }
    inbox.send(addr, inbox.frame({ kind: Kind.CreateGrid, req: 2, session: welcome.session, name: "arena", capacity: 8, limit: 4, meta: "" }));
    const grid = await inbox.next(Kind.GridCreated);
    assert.is(grid.name, "arena");
    assert.is(created, grid.grid);
    inbox.send(addr, inbox.frame({ kind: Kind.SelectGrid, req: 3, session: welcome.session, grid: grid.grid, limit: 4, part: 0, role: 0 }));
    const members = await inbox.next(Kind.Members);
    assert.is(members.peer, 1);
    const self = formatAddress("127.0.0.1", socket.address().port);
    assert.equal(server.lobby.membersOf(grid.grid)?.[0]?.addr, self);
    // The grant opens under the session key, and its ticket names this socket's address.
    const plain = openFrom(new NodeCrypto(), welcome.key, Direction.LobbyToPeer, members.nonce, members.sealed);
    const grant = plain === null ? null : decodeGrant(plain);
    assert.ok(grant !== null);
    const expect = { grid: grid.grid, peer: 1, address: self, minEpoch: 1 };
    assert.is(verifyTicket(new NodeCrypto(), fromHex(server.publicKey()), grant.ticket, expect), "ok");

    const stats = server.stats();
    assert.ok(stats.datagramsIn >= 204, `${stats.datagramsIn} in`);
    assert.ok(Object.keys(stats.drops).length > 0, "garbage is counted by reason");
    assert.ok(events.some((e) => e.type === "peerJoined"));

    await server.close("maintenance");
    const closing = await inbox.next(Kind.LobbyClosing);
    assert.is(closing.reason, "maintenance");
    await server.close(); // idempotent
  } finally {
    socket.close();
    junkSocket.close();
    await server.close();
  }
});

test("node: an IPv6 lobby speaks [v6]:port addresses, with the identity it was given", async () => {
  const identity = new NodeCrypto().ed25519KeyPair();
  const server = await createLobby({ host: "::1", port: 0, random: new SeededRandom(2), identity });
  const socket = await bindUdp("::1", 0);
  const inbox = new Inbox(socket);
  try {
    assert.match(server.address(), /^\[::1\]:[0-9]+$/);
    assert.is(server.publicKey(), Buffer.from(identity.publicKey).toString("hex"));
    await handshake(inbox, server.address(), 5, identity.publicKey);
  } finally {
    socket.close();
    await server.close();
  }
});

test("node: bad options and a taken port are clear errors, never a leaked socket", async () => {
  await rejects(() => createLobby({ port: 70000 }), /port must be an integer from 0 to 65535/);
  const first = await createLobby({ port: 0 });
  try {
    const port = parseAddress(first.address())?.port ?? 0;
    await rejects(() => createLobby({ port }), /cannot bind UDP 127\.0\.0\.1:/);
  } finally {
    await first.close();
  }
});

test("node: the driver reports bad addresses and endpoint exceptions instead of throwing", async () => {
  const errors: string[] = [];
  let fired = 0;
  // A stub endpoint: one timer 5 ms out, one transmit to an unparsable address, a throw on input.
  const out: Transmit[] = [{ to: "no-port", bytes: new Uint8Array([1]) }];
  let deadline: number | undefined = performance.now() + 5;
  const stub: Endpoint<string> = {
    handleDatagram: () => {
      throw new Error("bug");
    },
    handleTimeout: (now) => {
      if (deadline !== undefined && now >= deadline) {
        fired++;
        deadline = undefined;
      }
    },
    pollTimeout: () => deadline,
    pollTransmit: () => out.shift(),
    pollEvent: () => undefined,
  };
  const socket = await bindUdp("127.0.0.1", 0);
  const driver = driveEndpoint(socket, stub, { onError: (e) => errors.push(`${e.code}: ${e.message}`) });
  const sender = await bindUdp("127.0.0.1", 0);
  try {
    sender.send(new Uint8Array([0x90]), socket.address().port, "127.0.0.1");
    await until(() => fired > 0 && errors.length >= 2);
    assert.is(fired, 1, "the one timer fired");
    assert.ok(errors.some((e) => e.startsWith("invalid-address")), errors.join("; "));
    assert.ok(errors.some((e) => /handleDatagram threw: bug/.test(e)), errors.join("; "));
    assert.is(driver.stats().datagramsReceived, 1);
  } finally {
    sender.close();
    await driver.stop();
    await driver.stop();
  }
});

test("node: addresses parse and format both ways", () => {
  assert.equal(parseAddress("1.2.3.4:5"), { host: "1.2.3.4", port: 5 });
  assert.equal(parseAddress("[::1]:7777"), { host: "::1", port: 7777 });
  assert.equal(parseAddress("localhost:80"), { host: "localhost", port: 80 });
  for (const bad of ["", "1.2.3.4", "::1:5", "[::1]", "[]:5", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x"]) {
    assert.is(parseAddress(bad), undefined, bad);
  }
  assert.is(formatAddress("::1", 9), "[::1]:9");
  assert.is(formatAddress("10.0.0.1", 9), "10.0.0.1:9");
});

test.run();
