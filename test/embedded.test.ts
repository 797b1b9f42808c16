/**
 * platform/embedded: host-driven peers and a real Lobby wired together in-process through
 * the host `send` callbacks, on a tiny virtual clock owned by the test (no sleeps, no
 * timers), as a console host would drive them from its frame loop.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Lobby } from "../lib/lobby/lobby.ts";
import { SeededRandom } from "../lib/rng.ts";
import { failOnInternalError } from "./support/internal-errors.ts";
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import { randomBytesFrom } from "../lib/security/crypto.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { decode } from "../wire/codec.ts";
import { Kind } from "../wire/kinds.ts";
import {
  createEmbeddedLobby,
  createEmbeddedPeer,
  RelayGridError,
  type EmbeddedPeer,
  type EmbeddedPeerOptions,
  type PeerEvent,
} from "../platform/embedded/index.ts";

const LOBBY = "lobby";

/**
 * The host CSPRNG stand-in for these tests: seeded, so a failing run replays. A real host
 * passes its platform's generator (the "keys and seeds" tests below use node:crypto's).
 */
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const bytesFor = (seed: number): ((n: number) => Uint8Array) => randomBytesFrom(new SeededRandom(0x5eed0000 + seed));
const LATENCY_MS = 2;
const FRAME_MS = 5;

/** In-flight datagrams between host handles, each delivered LATENCY_MS after its send. */
class VirtualNet {
  now = 1000;
  private readonly inFlight: { at: number; from: string; to: string; bytes: Uint8Array }[] = [];
  private readonly hosts = new Map<string, (now: number, from: string, bytes: Uint8Array) => void>();
  private readonly frames: ((now: number) => void)[] = [];

  /** The host `send` for `address`. It copies, as a socket does: the endpoint may reuse its buffers. */
  sender(address: string): (to: string, bytes: Uint8Array) => void {
    return (to, bytes) => this.inFlight.push({ at: this.now + LATENCY_MS, from: address, to, bytes: bytes.slice() });
  }

  attach(address: string, receive: (now: number, from: string, bytes: Uint8Array) => void, update: (now: number) => void): void {
    this.hosts.set(address, receive);
    this.frames.push(update);
  }

  /** Runs frames until `done()` or `limitMs` of virtual time; returns whether done() held. */
  runUntil(done: () => boolean, limitMs = 10_000): boolean {
    const end = this.now + limitMs;
    while (this.now < end) {
      if (done()) return true;
      this.now += FRAME_MS;
      for (let i = 0; i < this.inFlight.length; ) {
        const d = this.inFlight[i] as (typeof this.inFlight)[number];
        if (d.at > this.now) {
          i++;
          continue;
        }
        this.inFlight.splice(i, 1);
        this.hosts.get(d.to)?.(this.now, d.from, d.bytes);
      }
      for (const update of this.frames) update(this.now);
    }
    return done();
  }
}

interface Player {
  address: string;
  peer: EmbeddedPeer;
  /** "origin:payload" -> times delivered */
  got: Map<string, number>;
  events: PeerEvent[];
}

function addPlayer(net: VirtualNet, address: string, seed: number, mode: "callbacks" | "poll"): Player {
  const got = new Map<string, number>();
  const events: PeerEvent[] = [];
  const tally = (origin: number, payload: Uint8Array): void => {
    const k = `${origin}:${Array.from(payload).join(",")}`;
    got.set(k, (got.get(k) ?? 0) + 1);
  };
  const options: EmbeddedPeerOptions = { lobby: LOBBY, seed, randomBytes: bytesFor(seed), connectionLimit: 4, send: net.sender(address) };
  if (mode === "callbacks") {
    options.onData = (payload, info) => tally(info.origin, payload);
    options.onEvent = (e) => events.push(e);
  }
  const peer = createEmbeddedPeer(options);
  const drainPolled = (): void => {
    for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) {
      if (e.type === "data") tally(e.origin, e.payload);
      else events.push(e);
    }
  };
  net.attach(
    address,
    (now, from, bytes) => peer.receive(now, from, bytes),
    (now) => {
      peer.update(now);
      drainPolled();
    },
  );
  return { address, peer, got, events };
}

function addLobby(net: VirtualNet, seed: number): Lobby {
  const lobby = new Lobby({ random: new SeededRandom(seed) });
  const send = net.sender(LOBBY);
  const drain = (): void => {
    for (let t = lobby.pollTransmit(); t !== undefined; t = lobby.pollTransmit()) send(t.to, t.bytes);
    for (let e = lobby.pollEvent(); e !== undefined; e = lobby.pollEvent()) failOnInternalError(e);
  };
  net.attach(
    LOBBY,
    (now, from, bytes) => {
      lobby.handleDatagram(now, from, bytes);
      drain();
    },
    (now) => {
      const d = lobby.pollTimeout();
      if (d !== undefined && d <= now) lobby.handleTimeout(now);
      drain();
    },
  );
  return lobby;
}

const linked = (players: Player[]): boolean =>
  players.every((p) => p.peer.phase === "member" && p.peer.stats().links.length > 0);

function joinAll(net: VirtualNet, players: Player[]): void {
  for (const p of players) p.peer.join({ grid: "arena", create: true }, net.now);
  assert.ok(net.runUntil(() => linked(players)), "every peer joined with a link");
  net.runUntil(() => false, 1500); // let the links settle (pings, heartbeats)
}

/** Every player broadcasts [id, round]; every other player must get each exactly once, and nothing else. */
function broadcastEachOnce(net: VirtualNet, players: Player[], round = 0): void {
  for (const p of players) p.peer.broadcast(new Uint8Array([p.peer.id, round]));
  net.runUntil(() => false, 500);
  for (const to of players) {
    for (const from of players) {
      if (from === to) continue;
      const k = `${from.peer.id}:${from.peer.id},${round}`;
      assert.is(to.got.get(k), 1, `${to.address} got ${from.address}'s broadcast once`);
    }
    assert.is(to.got.size, (players.length - 1) * (round + 1), `${to.address} got nothing else`);
  }
}

test("three embedded peers and a sans-IO Lobby join one grid and exchange broadcasts both ways, each exactly once", () => {
  const net = new VirtualNet();
  addLobby(net, 1);
  const players = [addPlayer(net, "a", 11, "callbacks"), addPlayer(net, "b", 12, "callbacks"), addPlayer(net, "c", 13, "poll")];
  joinAll(net, players);
  for (const p of players) assert.ok(p.events.some((e) => e.type === "joined"), `${p.address} saw "joined"`);
  broadcastEachOnce(net, players, 0);
  broadcastEachOnce(net, players, 1);
});

test("createEmbeddedLobby serves embedded peers the same way", () => {
  const net = new VirtualNet();
  const lobbyEvents: string[] = [];
  const lobby = createEmbeddedLobby({ randomBytes: bytesFor(5), send: net.sender(LOBBY), onEvent: (e) => lobbyEvents.push(e.type) });
  net.attach(LOBBY, (now, from, bytes) => lobby.receive(now, from, bytes), (now) => lobby.update(now));
  const players = [addPlayer(net, "a", 21, "callbacks"), addPlayer(net, "b", 22, "poll")];
  joinAll(net, players);
  broadcastEachOnce(net, players);
  assert.is(lobby.grids().length, 1);
  assert.is(lobby.grids()[0]?.members, 2);
  assert.ok(lobbyEvents.includes("gridCreated") && lobbyEvents.includes("peerJoined"));
  assert.type(lobby.nextDeadline(), "number");
});

test("receive() of garbage never throws, counts drops, and leaves a working peer", () => {
  const net = new VirtualNet();
  addLobby(net, 2);
  const players = [addPlayer(net, "a", 31, "callbacks"), addPlayer(net, "b", 32, "callbacks")];
  const idle = createEmbeddedPeer({ lobby: LOBBY, seed: 33, randomBytes: bytesFor(33), send: () => {} });
  joinAll(net, players);
  const rng = new SeededRandom(99);
  const target = players[0] as Player;
  const before = Object.values(target.peer.stats().drops).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(rng.nextU32() % 64);
    for (let j = 0; j < bytes.length; j++) bytes[j] = rng.nextU32() & 0xff;
    if (i % 3 === 0 && bytes.length >= 3) bytes.set([0x99, 1, 1]); // the relay envelope's fast-path prefix
    // Mostly strangers (rate-limited, counted); a few from the linked neighbour "b", fewer
    // than maxInvalidPerLink, which would close that link as misbehaving (tested in peer-hostile).
    const from = i % 200 === 0 ? "b" : `stranger-${i % 7}`;
    target.peer.receive(net.now, from, bytes.slice());
    idle.receive(net.now, from, bytes);
  }
  target.peer.receive(net.now, LOBBY, new Uint8Array(0));
  const after = Object.values(target.peer.stats().drops).reduce((a, b) => a + b, 0);
  assert.ok(after - before >= 2000, `drops counted: ${after - before}`);
  broadcastEachOnce(net, players);
});

test('broadcast before joined throws a RelayGridError with code "not-joined"', () => {
  const peer = createEmbeddedPeer({ lobby: LOBBY, seed: 1, randomBytes: bytesFor(1), send: () => {} });
  for (const attempt of [() => peer.broadcast(new Uint8Array([1])), () => peer.broadcast(new Uint8Array([1]), 5)]) {
    try {
      attempt();
      assert.unreachable("broadcast before join must throw");
    } catch (err) {
      assert.instance(err, RelayGridError);
      assert.is((err as RelayGridError).code, "not-joined");
    }
  }
  peer.join({ grid: "arena" }, 0); // still not joined: waiting for the lobby
  assert.throws(() => peer.broadcast(new Uint8Array([1])), (e: unknown) => e instanceof RelayGridError && e.code === "not-joined");
});

test("options: no randomBytes, a constant one, seed with random, or no send is the caller's mistake (invalid-config)", () => {
  const isConfig = (e: unknown): boolean => e instanceof RelayGridError && e.code === "invalid-config";
  const rb = bytesFor(1);
  // A seed alone is refused: keys must come from the host's CSPRNG (issue 18, item 1).
  const seedOnly = { lobby: LOBBY, seed: 1, send: () => {} } as unknown as EmbeddedPeerOptions;
  assert.throws(() => createEmbeddedPeer(seedOnly), (e: unknown) => isConfig(e) && /randomBytes\(n\) is required/.test((e as Error).message));
  assert.throws(() => createEmbeddedPeer({ lobby: LOBBY, randomBytes: (n) => new Uint8Array(n), send: () => {} }), (e: unknown) =>
    isConfig(e) && /same bytes twice/.test((e as Error).message));
  assert.throws(() => createEmbeddedPeer({ lobby: LOBBY, randomBytes: () => new Uint8Array(3), send: () => {} }), isConfig);
  const noSend = { lobby: LOBBY, seed: 1, randomBytes: rb } as unknown as EmbeddedPeerOptions;
  assert.throws(() => createEmbeddedPeer(noSend), isConfig);
  const both = { lobby: LOBBY, seed: 1, random: new SeededRandom(1), randomBytes: rb, send: () => {} } as unknown as EmbeddedPeerOptions;
  assert.throws(() => createEmbeddedPeer(both), isConfig);
  assert.throws(() => createEmbeddedPeer({ lobby: LOBBY, seed: -1, randomBytes: rb, send: () => {} }), isConfig);
  assert.ok(createEmbeddedPeer({ lobby: LOBBY, random: new SeededRandom(3), randomBytes: rb, send: () => {} }));
  assert.ok(createEmbeddedPeer({ lobby: LOBBY, randomBytes: rb, send: () => {} }), "seed and random are optional");
  const seededLobby = { seed: 1, randomBytes: rb, send: () => {} } as unknown as Parameters<typeof createEmbeddedLobby>[0];
  assert.throws(() => createEmbeddedLobby(seededLobby), isConfig);
  const noBytesLobby = { random: new SeededRandom(1), send: () => {} } as unknown as Parameters<typeof createEmbeddedLobby>[0];
  assert.throws(() => createEmbeddedLobby(noBytesLobby), isConfig);
});

/** The Hello an embedded peer sends first: its request id and its X25519 handshake key. */
function firstHello(seed: number, randomBytes: (n: number) => Uint8Array): { req: number; eph: Uint8Array } {
  const sent: Uint8Array[] = [];
  const peer = createEmbeddedPeer({ lobby: LOBBY, seed, randomBytes, send: (_to, bytes) => sent.push(bytes.slice()) });
  peer.join({ grid: "arena" }, 0);
  const d = decode(sent[0] as Uint8Array);
  assert.ok(d.ok && d.msg.kind === Kind.Hello, "the first datagram is a Hello");
  return { req: d.msg.req, eph: d.msg.eph };
}

test("issue 18 item 1: two embedded peers with the same seed get different handshake keys (keys come from randomBytes, not the seed)", () => {
  const csprng = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
  const a = firstHello(7, csprng);
  const b = firstHello(7, csprng);
  assert.is.not(hex(a.eph), hex(b.eph), "same seed, different X25519 keys");
  assert.is(a.req, b.req, "the seed still drives the non-secret choices (request ids)");
  // The key is the public key of bytes the host's generator returned, and no seed reproduces it.
  const drawn: Uint8Array[] = [];
  const recorded = (n: number): Uint8Array => {
    const out = csprng(n);
    drawn.push(out);
    return out;
  };
  const c = firstHello(7, recorded);
  assert.ok(drawn.some((d) => d.length === 32 && hex(x25519.getPublicKey(d)) === hex(c.eph)), "eph = X25519(one draw of randomBytes)");
  const fromSeed = new NobleCrypto(new SeededRandom(7)).x25519KeyPair().publicKey;
  assert.is.not(hex(c.eph), hex(fromSeed), "not the key the seed alone would give");
});

test("issue 18 item 1: two embedded lobbies given the same seeded random get different identities", () => {
  const csprng = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
  const a = createEmbeddedLobby({ random: new SeededRandom(1), randomBytes: csprng, send: () => {} });
  const b = createEmbeddedLobby({ random: new SeededRandom(1), randomBytes: csprng, send: () => {} });
  assert.is(a.publicKey.length, 32);
  assert.is.not(hex(a.publicKey), hex(b.publicKey));
});

test("update() before nextDeadline() sends nothing; at the deadline it retransmits (the host may sleep until then)", () => {
  const sent: number[] = [];
  const peer = createEmbeddedPeer({ lobby: LOBBY, seed: 4, randomBytes: bytesFor(4), send: (_to, bytes) => sent.push(bytes.length) });
  assert.is(peer.nextDeadline(), undefined);
  peer.join({ grid: "arena" }, 100);
  assert.is(sent.length, 1, "join sends Hello at once");
  const deadline = peer.nextDeadline() as number;
  assert.type(deadline, "number");
  peer.update(deadline - 1);
  assert.is(sent.length, 1);
  peer.update(deadline);
  assert.is(sent.length, 2, "the Hello is retransmitted");
});

test("a command called from a callback is sent by the running flush, without nesting deliveries", () => {
  const net = new VirtualNet();
  addLobby(net, 3);
  const echoes: number[] = [];
  const a = addPlayer(net, "a", 41, "callbacks");
  let depth = 0;
  const b = createEmbeddedPeer({
    lobby: LOBBY,
    seed: 42,
    randomBytes: bytesFor(42),
    send: net.sender("b"),
    onData: (payload) => {
      depth++;
      assert.is(depth, 1, "deliveries are not nested");
      if (payload[0] === 1) echoes.push(b.broadcast(new Uint8Array([2])));
      depth--;
    },
  });
  net.attach("b", (now, from, bytes) => b.receive(now, from, bytes), (now) => b.update(now));
  a.peer.join({ grid: "arena", create: true }, net.now);
  b.join({ grid: "arena", create: true }, net.now);
  assert.ok(net.runUntil(() => b.phase === "member" && b.stats().links.length > 0 && a.peer.stats().links.length > 0));
  a.peer.broadcast(new Uint8Array([1]));
  net.runUntil(() => false, 200);
  assert.is(echoes.length, 1);
  assert.is(a.got.get(`${b.id}:2`), 1, "the echo reached a once");
});

test("events nobody takes wait in a bounded queue: the oldest are dropped and counted", () => {
  const net = new VirtualNet();
  addLobby(net, 4);
  const host = addPlayer(net, "a", 51, "callbacks");
  const quiet = createEmbeddedPeer({ lobby: LOBBY, seed: 52, randomBytes: bytesFor(52), send: net.sender("q"), maxQueuedEvents: 1 });
  net.attach("q", (now, from, bytes) => quiet.receive(now, from, bytes), (now) => quiet.update(now));
  host.peer.join({ grid: "arena", create: true }, net.now);
  quiet.join({ grid: "arena", create: true }, net.now);
  assert.ok(net.runUntil(() => quiet.phase === "member" && quiet.stats().links.length > 0));
  const kept = quiet.pollEvent();
  assert.ok(kept !== undefined && kept.type !== "admitted", `the newest event is kept, got ${String(kept?.type)}`);
  assert.is(quiet.pollEvent(), undefined);
  assert.ok(quiet.stats().eventsDropped >= 2, `admitted, joined, linkOpen: ${quiet.stats().eventsDropped} dropped`);
});

test.run();
