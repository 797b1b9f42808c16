/**
 * The lobby's side of issue 6: address validation before any state (point 3), the signed
 * session handshake and sealed admission grants (point 1, claims 24 and 34: "opening a
 * connection between a server and a joining peer"), and grid key rotation (point 2).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Endpoint } from "../lib/endpoint.ts";
import { Lobby, LobbyTimer, MIN_MAX_DATAGRAM_BYTES, type LobbyEvent } from "../lib/lobby/index.ts";
import { randomInt, SeededRandom } from "../lib/rng.ts";
import { decodeGrant, encodeGrant } from "../lib/security/admission.ts";
import type { KeyPair } from "../lib/security/crypto.ts";
import { NobleCrypto } from "../lib/security/noble-crypto.ts";
import { Direction, finishHandshake, openFrom, sealFor } from "../lib/security/handshake.ts";
import { readTicket, verifyTicket } from "../lib/security/ticket.ts";
import { SimNetwork } from "../platform/memory/index.ts";
import { decode, encode } from "../wire/codec.ts";
import { Kind, LobbyErrorCode } from "../wire/kinds.ts";
import { MAX_SEALED_BYTES } from "../wire/limits.ts";
import { Client, expectKind, Harness, helloMessage, joinMany, type Joined } from "./lobby-harness.ts";
import { failOnInternalError } from "./support/internal-errors.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";

/** A simulated host that only counts what reaches it (the victim of a spoofed source). */
class Sink implements Endpoint<LobbyEvent> {
  readonly kinds: number[] = [];
  bytes = 0;
  handleDatagram(_now: number, _from: string, bytes: Uint8Array): void {
    this.bytes += bytes.length;
    const d = decode(bytes);
    this.kinds.push(d.ok ? d.msg.kind : -1);
  }
  handleTimeout(): void {}
  pollTimeout(): undefined {
    return undefined;
  }
  pollTransmit(): undefined {
    return undefined;
  }
  pollEvent(): undefined {
    return undefined;
  }
}

test("anti-amplification: spoofed-source Hellos from 1,000 addresses get only Retry, bytes out <= 3x bytes in and no session state", () => {
  // In the simulator: the lobby and 1,000 victims; an attacker's Hellos arrive at the lobby
  // under the victims' addresses, and the victims count every byte the lobby sends them.
  const net = new SimNetwork<LobbyEvent>({ seed: 6, onEvent: (_address, e) => void failOnInternalError(e) });
  const lobby = net.add("lobby:1", new Lobby({ random: new SeededRandom(net.nextSeed()), crypto: new SeededNodeCrypto(6) }));
  const victims = Array.from({ length: 1000 }, (_, i) => net.add(`198.51.${i >> 8}.${i & 0xff}:4000`, new Sink()));
  const rng = new SeededRandom(61);
  const stolen = expectKind(new Harness().deliver("203.0.113.9:1", helloMessage(1, "x"))[0], Kind.Retry).cookie;
  let bytesIn = 0;
  for (const v of victims) {
    for (let k = 0; k < 3; k++) {
      // No cookie, a forged one, or a real cookie made for another address (another lobby's, even).
      const cookie = k === 0 ? new Uint8Array(0) : k === 1 ? new Uint8Array(8).map(() => rng.nextU32()) : stolen;
      const hello = helloMessage(rng.nextU32(), "spoof", cookie, new Uint8Array(32).map(() => rng.nextU32()));
      const bytes = encode(randomInt(rng, 2) === 0 ? hello : { ...hello, pad: new Uint8Array(hello.pad.length + randomInt(rng, 200)) });
      bytesIn += bytes.length;
      lobby.with((ep, now) => ep.handleDatagram(now, v.address, bytes));
    }
  }
  net.runFor(100);
  let bytesOut = 0;
  for (const v of victims) {
    assert.equal(v.endpoint.kinds, [Kind.Retry, Kind.Retry, Kind.Retry], "a spoofed source only ever gets Retry");
    bytesOut += v.endpoint.bytes;
  }
  assert.ok(bytesOut <= 3 * bytesIn, `${bytesOut} bytes out for ${bytesIn} in`);
  assert.ok(bytesOut * 4 < bytesIn, `Retry is far smaller than the Hello: ${bytesOut} out for ${bytesIn} in`);
  const s = lobby.endpoint.stats();
  assert.equal([s.retriesSent, s.handshakes, s.sessions, s.bytesOut], [3000, 0, 0, bytesOut]);
  assert.is(lobby.endpoint.footprint().sessions, 0, "no session state for an unvalidated source");
});

test("a Hello without a valid cookie gets Retry; with it, a Welcome that verifies under the lobby's identity key", () => {
  // The default providers (pure-JS NobleCrypto from `random`) and a configured identity.
  const noble = new NobleCrypto(new SeededRandom(9));
  const identity = noble.ed25519KeyPair();
  const h = new Harness({ crypto: undefined, identity }, 9);
  assert.equal(h.lobby.publicKey, identity.publicKey);
  h.lobby.publicKey.fill(0); // a copy: the lobby's key is untouched
  assert.equal(h.lobby.publicKey, identity.publicKey);

  const c = new Client(h, "10.0.0.1:4000");
  const replies = c.tryHello("first", 5);
  assert.is(h.lobby.stats().handshakes, 1);
  const w = expectKind(replies[0], Kind.Welcome);
  assert.equal([w.req, w.heartbeatMs, w.identity], [5, 2000, identity.publicKey]);
  c.accept(w); // finishHandshake under the pinned key, with the clients' NodeCrypto
  // The same with pure JS on the peer's side; under any other key the signature does not verify.
  const welcome = { lobbyEph: w.eph, signature: w.signature, session: w.session };
  const eph = c.ephemeral as KeyPair;
  const ok = finishHandshake(noble, eph, welcome, identity.publicKey);
  assert.ok(ok.ok && ok.sessionKey.length === 32 && !ok.trustedOnFirstUse);
  assert.equal(ok.sessionKey, c.sessionKey, "both sides derive the same session key");
  assert.equal(finishHandshake(noble, eph, welcome, noble.ed25519KeyPair().publicKey), { ok: false, reason: "bad-signature" });
  assert.equal(finishHandshake(noble, eph, { ...welcome, session: (w.session ^ 1) >>> 0 }, identity.publicKey), { ok: false, reason: "bad-signature" });
  // The session works.
  assert.is(expectKind(c.call(Kind.ListGrids, { filter: "", offset: 0 }), Kind.GridList).total, 0);

  // A validated source with an unusable key (all zero: low order) gets BadHandshake and no session.
  const d = new Client(h, "10.0.0.2:4000");
  const retry = expectKind(h.deliver(d.addr, helloMessage(1, "d"))[0], Kind.Retry);
  const err = expectKind(h.deliver(d.addr, helloMessage(1, "d", retry.cookie, new Uint8Array(32)))[0], Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadHandshake);
  assert.equal([h.lobby.stats().sessions, h.lobby.stats().handshakes], [1, 1]);
});

test("a cookie from another address or two buckets ago is refused", () => {
  const h = new Harness({ cookieLifetimeMs: 10_000 });
  const a = "10.0.0.1:4000";
  const eph = h.peerCrypto.x25519KeyPair().publicKey;
  const hello = (req: number, cookie?: Uint8Array): ReturnType<typeof helloMessage> => helloMessage(req, "a", cookie, eph);
  const cookie = expectKind(h.deliver(a, hello(1))[0], Kind.Retry).cookie;
  assert.is(cookie.length, 8);
  // From another address: a new Retry, with that address's own cookie.
  const moved = expectKind(h.deliver("10.0.0.1:4001", hello(1, cookie))[0], Kind.Retry);
  assert.not.equal(moved.cookie, cookie);
  // One bucket later it still opens a session.
  h.advance(19_999);
  expectKind(h.deliver(a, hello(2, cookie))[0], Kind.Welcome);
  // Two buckets after it was made: refused.
  h.advance(1);
  const stale = expectKind(h.deliver(a, hello(3, cookie))[0], Kind.Retry);
  assert.not.equal(stale.cookie, cookie);
  expectKind(h.deliver(a, hello(3, stale.cookie))[0], Kind.Welcome);
  assert.equal([h.lobby.stats().retriesSent, h.lobby.stats().handshakes], [3, 2]);
});

test("Members carry a sealed grant only the handshake peer can open: grid key, active epoch and a ticket that verifies for (grid, peer, address)", () => {
  // the whole list, in parts (80 > the default 64 samples); 80 members in one /64
  const h = new Harness({ memberListLimit: 100, maxSessionsPerHost: 100, maxMembersPerGridPerHost: 100, handshakeBurstPerHost: 100 });
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("g");
  // 80 members with the longest addresses: several parts, each with its grant.
  const wide = (i: number): string => `[2001:db8:aaaa:bbbb:cccc:dddd:eeee:${(i + 1).toString(16)}]:40000`.padEnd(64, "0");
  const peers: Joined[] = [];
  for (let i = 0; i < 80; i++) {
    const client = new Client(h, wide(i).slice(0, 64));
    client.hello();
    peers.push({ client, peer: client.select(grid).peer });
  }
  const last = peers[79] as Joined;
  const first = last.client.select(grid, 4, 0);
  assert.ok(first.parts > 2, `${first.parts} parts`);
  const keys = new Set<string>();
  for (let part = 0; part < first.parts; part++) {
    const m = last.client.select(grid, 4, part);
    assert.ok(m.sealed.length <= MAX_SEALED_BYTES);
    const g = last.client.grant(last.client.select(grid, 4, part));
    assert.is(g.activeEpoch, 1);
    assert.equal(g.keys.map((k) => [k.epoch, k.key.length]), [[1, 32]]);
    keys.add(Buffer.from(g.keys[0]?.key ?? []).toString("hex"));
    const expect = { grid, peer: last.peer, address: last.client.addr, minEpoch: 1 };
    assert.is(verifyTicket(h.peerCrypto, h.lobby.publicKey, g.ticket, expect), "ok");
    assert.is(verifyTicket(h.peerCrypto, h.lobby.publicKey, g.ticket, { ...expect, address: "10.6.6.6:1" }), "wrong-address");
    assert.is(verifyTicket(h.peerCrypto, h.lobby.publicKey, g.ticket, { ...expect, peer: 1 }), "wrong-peer");
  }
  // Every member holds the same grid key; each ticket names its own holder.
  const other = peers[3] as Joined;
  const theirs = other.client.grant(other.client.select(grid));
  keys.add(Buffer.from(theirs.keys[0]?.key ?? []).toString("hex"));
  assert.is(keys.size, 1);
  assert.equal(readTicket(theirs.ticket), { grid, peer: other.peer, address: other.client.addr, epoch: 1 });
  // Another session's key does not open it.
  const m = last.client.select(grid);
  assert.is(openFrom(h.peerCrypto, other.client.sessionKey as Uint8Array, Direction.LobbyToPeer, m.nonce, m.sealed), null);
  assert.is(openFrom(h.peerCrypto, last.client.sessionKey as Uint8Array, Direction.PeerToLobby, m.nonce, m.sealed), null);
});

test("parts fit the smallest maxDatagramBytes with the longest addresses and a two-key grant", () => {
  const h = new Harness({ maxDatagramBytes: MIN_MAX_DATAGRAM_BYTES, rotateAfterDepartures: 1 });
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("g");
  const peers = Array.from({ length: 6 }, (_, i) => {
    const client = new Client(h, `${i}`.padStart(64, "a"));
    client.hello();
    return { client, peer: client.select(grid).peer };
  });
  expectKind(peers[5]?.client.call(Kind.Leave, { grid, peer: peers[5]?.peer ?? 0 }), Kind.Ack); // rotation: two keys
  const p = peers[0] as Joined;
  const head = p.client.select(grid);
  assert.is(p.client.grant(head).keys.length, 2);
  const seen: number[] = [];
  for (let part = 0; part < head.parts; part++) seen.push(...p.client.select(grid, 4, part).members.map((e) => e.peer));
  assert.equal(seen, [2, 3, 4, 5], "every other member once, in order (the harness checks each datagram's size)");
});

test("a duplicated SelectGrid gets a fresh nonce, never a reused one", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  const grid = c.create("g");
  const req = c.req();
  const a = expectKind(c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }, req), Kind.Members);
  const b = expectKind(c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }, req), Kind.Members);
  assert.equal([a.peer, b.peer, a.nonce, b.nonce], [1, 1, 1, 2]);
  assert.not.equal(a.sealed, b.sealed);
  assert.equal(c.grant(a), c.grant(b), "the same grant, sealed twice");
  // A new session starts its counter again under its new key.
  c.hello();
  assert.is(c.select(grid).nonce, 1);
});

test("the session's nonce counter never wraps: a spent session gets BadHandshake", () => {
  const h = new Harness();
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  const grid = c.create("g");
  // White box: skip to the last counter rather than send 4 billion requests.
  const core = (h.lobby as unknown as { core: { sessions: { get(id: number): { nextNonce: number } } } }).core;
  (core.sessions.get(c.session) as { nextNonce: number }).nextNonce = 0xffffffff;
  assert.is(c.select(grid).nonce, 0xffffffff);
  const err = expectKind(c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadHandshake);
});

test("the grid key rotates after rotateAfterDepartures departures: next is granted first, activated after rotationDelayMs; HeartbeatAck reports epoch and latest", () => {
  // No island checks in the way of the timer assertion below.
  const h = new Harness({ rotateAfterDepartures: 4, rotationDelayMs: 4000, islandCheckMs: 3_600_000 });
  const owner = new Client(h, "10.0.0.1:4000");
  owner.hello();
  const grid = owner.create("g");
  const peers = joinMany(h, grid, 7);
  const [a, b, c, d, e] = peers as [Joined, Joined, Joined, Joined, Joined];
  const stay = peers.slice(4);
  const ack = (p: Joined = e): [number, number] => {
    const r = p.client.heartbeat(grid, p.peer, []);
    return [r.epoch, r.latest];
  };
  assert.equal(ack(), [1, 1]);
  const before = e.client.grant(e.client.select(grid));
  // Three departures of three kinds: a and b leave, c is replaced by a new session at its address.
  for (const p of [a, b]) expectKind(p.client.call(Kind.Leave, { grid, peer: p.peer }), Kind.Ack);
  const c2 = new Client(h, c.client.addr);
  c2.hello();
  const replaced: Joined = { client: c2, peer: c2.select(grid).peer };
  assert.equal(ack(), [1, 1], "three departures: no rotation yet");
  // The fourth: d falls silent and expires while the others heartbeat.
  for (let t = 0; t < 7; t++) {
    for (const p of [...stay, replaced]) p.client.heartbeat(grid, p.peer, []);
    h.advance(1000);
  }
  assert.ok(h.takeEvents().some((ev) => ev.type === "peerExpired" && ev.peer === d.peer));
  assert.equal(ack(), [1, 2], "next epoch 2 issued, 1 still active");
  assert.equal(h.lobby.keyEpochsOf(grid), { epoch: 1, latest: 2 });
  const during = e.client.grant(e.client.select(grid));
  assert.is(during.activeEpoch, 1);
  assert.equal(during.keys.map((k) => k.epoch), [1, 2]);
  assert.equal(during.keys[0]?.key, before.keys[0]?.key);
  // The ticket is already under the next epoch (issue 15, point 3): after the switch,
  // members refuse tickets of older epochs for new links, and this one stays good.
  assert.is(readTicket(during.ticket)?.epoch, 2);
  h.advance(50); // first the component check that d's expiry armed (standing.ts)
  assert.equal(h.lobby.nextTimer(), { name: LobbyTimer.KeyRotation, atMs: 7000 + 4000 }, "d expired at 7000");
  // rotationDelayMs later epoch 2 is active and alone.
  for (const p of [...stay, replaced]) p.client.heartbeat(grid, p.peer, []);
  h.advance(4000);
  assert.ok(h.takeEvents().some((ev) => ev.type === "gridKeyRotated" && ev.grid === grid && ev.epoch === 2));
  assert.equal(ack(), [2, 2]);
  const after = e.client.grant(e.client.select(grid));
  assert.equal([after.activeEpoch, after.keys.map((k) => k.epoch)], [2, [2]]);
  assert.equal(after.keys[0]?.key, during.keys[1]?.key, "the key announced as next is the one activated");
  const ticket = readTicket(after.ticket);
  assert.equal([ticket?.epoch, ticket?.peer], [2, e.peer]);
  assert.is(h.lobby.stats().keyRotations, 1);

  // rotateAfterDepartures 0: never.
  const still = new Harness({ rotateAfterDepartures: 0 });
  const o = new Client(still, "10.0.0.1:4000");
  o.hello();
  const g2 = o.create("g");
  for (const p of joinMany(still, g2, 6)) expectKind(p.client.call(Kind.Leave, { grid: g2, peer: p.peer }), Kind.Ack);
  assert.equal(still.lobby.keyEpochsOf(g2), { epoch: 1, latest: 1 });
});

test("Rejoin after a restart restores the grid at epoch + 1", () => {
  const h = new Harness({}, 14);
  const a = new Client(h, "10.4.0.1:4000");
  a.hello();
  expectKind(a.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 5, limit: 4, links: [6], epoch: 7, sealed: new Uint8Array(0) }), Kind.Ack);
  assert.equal(h.lobby.keyEpochsOf(77), { epoch: 8, latest: 8 });
  const hb = a.heartbeat(77, 5, [6]);
  assert.equal([hb.epoch, hb.latest], [8, 8]);
  // Later Rejoins of the same grid change nothing, whatever epoch they carry.
  const b = new Client(h, "10.4.0.2:4000");
  b.hello();
  expectKind(b.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 6, limit: 4, links: [5], epoch: 30, sealed: new Uint8Array(0) }), Kind.Ack);
  assert.equal(h.lobby.keyEpochsOf(77), { epoch: 8, latest: 8 });
  // The peer then selects the grid (keeping its id) for its grant under the new epoch.
  const m = a.select(77);
  assert.is(m.peer, 5);
  const g = a.grant(a.select(77));
  assert.equal([g.activeEpoch, g.keys.map((k) => k.epoch)], [8, [8]]);
  assert.is(verifyTicket(h.peerCrypto, h.lobby.publicKey, g.ticket, { grid: 77, peer: 5, address: a.addr, minEpoch: 8 }), "ok");
  // No epoch after the last u32.
  const err = expectKind(b.call(Kind.Rejoin, { grid: 78, name: "other", peer: 1, limit: 4, links: [], epoch: 0xffffffff, sealed: new Uint8Array(0) }), Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadRequest);
});

test("Rejoin carrying the grid key it holds (sealed for the session) restores the grid with that same key and epoch: no gap", () => {
  const h = new Harness({}, 15);
  const a = new Client(h, "10.4.0.3:4000");
  a.hello();
  const held = new Uint8Array(32).fill(0x5a);
  const req = a.req();
  const sealed = sealFor(h.peerCrypto, a.sessionKey as Uint8Array, Direction.PeerToLobby, req, encodeGrant({ activeEpoch: 7, keys: [{ epoch: 7, key: held }], ticket: new Uint8Array(0) }));
  const replies = h.deliverBytes(a.addr, a.frame({ kind: Kind.Rejoin, req, session: a.session, grid: 77, name: "arena", peer: 5, limit: 4, links: [6], epoch: 7, sealed }));
  assert.ok(replies.some((m) => m.kind === Kind.Ack));
  assert.equal(h.lobby.keyEpochsOf(77), { epoch: 7, latest: 7 });
  const g = a.grant(a.select(77));
  assert.equal(g.keys.map((k) => [k.epoch, [...k.key]]), [[7, [...held]]], "the members' own key, so their tags stay valid");
  // Sealed under another key (not this session's): ignored, a new key one epoch later.
  const b = new Client(h, "10.4.0.4:4000");
  b.hello();
  const req2 = b.req();
  const forged = sealFor(h.peerCrypto, new Uint8Array(32).fill(1), Direction.PeerToLobby, req2, encodeGrant({ activeEpoch: 3, keys: [{ epoch: 3, key: held }], ticket: new Uint8Array(0) }));
  h.deliverBytes(b.addr, b.frame({ kind: Kind.Rejoin, req: req2, session: b.session, grid: 88, name: "other", peer: 1, limit: 4, links: [], epoch: 3, sealed: forged }));
  assert.equal(h.lobby.keyEpochsOf(88), { epoch: 4, latest: 4 });
});

test("PROTOCOL.md 4.3: a Rejoin grant is restored only as its layout says (activeEpoch = Rejoin.epoch); any other gets a new key at epoch + 1", () => {
  const h = new Harness({}, 16);
  const held = new Uint8Array(32).fill(0x33);
  const rejoin = (addr: string, grid: number, epoch: number, grantEpoch: number): void => {
    const c = new Client(h, addr);
    c.hello();
    const req = c.req();
    const sealed = sealFor(h.peerCrypto, c.sessionKey as Uint8Array, Direction.PeerToLobby, req, encodeGrant({ activeEpoch: grantEpoch, keys: [{ epoch: grantEpoch, key: held }], ticket: new Uint8Array(0) }));
    assert.ok(h.deliverBytes(c.addr, c.frame({ kind: Kind.Rejoin, req, session: c.session, grid, name: `g${grid}`, peer: 1, limit: 4, links: [], epoch, sealed })).some((m) => m.kind === Kind.Ack));
  };
  rejoin("10.4.1.1:4000", 91, 7, 6); // the grant names epoch 6, the Rejoin 7
  assert.equal(h.lobby.keyEpochsOf(91), { epoch: 8, latest: 8 });
  rejoin("10.4.1.2:4000", 92, 0, 0); // epoch 0 means "no key", whatever is sealed
  assert.equal(h.lobby.keyEpochsOf(92), { epoch: 1, latest: 1 });
  rejoin("10.4.1.3:4000", 93, 7, 7);
  assert.equal(h.lobby.keyEpochsOf(93), { epoch: 7, latest: 7 });
});

test("config: identity, cookie and rotation options are checked", () => {
  const crypto = new SeededNodeCrypto(3);
  const a = crypto.ed25519KeyPair();
  const b = crypto.ed25519KeyPair();
  const make = (extra: object): Lobby => new Lobby({ random: new SeededRandom(1), crypto, ...extra });
  assert.throws(() => make({ identity: { secretKey: a.secretKey, publicKey: b.publicKey } }), /identity.publicKey is not the public key of identity.secretKey/);
  assert.throws(() => make({ identity: { secretKey: a.secretKey.subarray(1), publicKey: a.publicKey } }), /identity.secretKey must be 32 bytes/);
  assert.throws(() => make({ cookieLifetimeMs: 0 }), /cookieLifetimeMs must be an integer from 1/);
  assert.throws(() => make({ rotateAfterDepartures: -1 }), /rotateAfterDepartures must be an integer from 0/);
  assert.throws(() => make({ rotationDelayMs: 1.5 }), /rotationDelayMs must be an integer/);
  // The identity is copied: changing the caller's array later changes nothing.
  const secret = a.secretKey.slice();
  const lobby = make({ identity: { secretKey: secret, publicKey: a.publicKey } });
  secret.fill(0);
  const h = new Harness({ crypto, identity: a });
  const c = new Client(h, "10.0.0.1:4000");
  c.hello();
  assert.equal(lobby.publicKey, a.publicKey);
  // Two lobbies with the default identity have different keys.
  assert.not.equal(make({}).publicKey, make({}).publicKey);
});

test.run();
