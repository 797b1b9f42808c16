/**
 * Issue 18, item 7: admission. What was wrong: the lobby admitted anyone who could reach it
 * into any grid by name. Now an admission policy the game controls decides (LobbyConfig
 * admission): join tokens its backend signs (joinTokenAdmission), or a plain function. Attacked
 * as a hostile player would: no token, a forged or foreign one, an expired or far-future one,
 * a token copied from another player, one sealed for another session, and a flood of tokens.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { joinTokenAdmission, type AdmissionRequest, type JoinTokenAdmissionOptions } from "../lib/lobby/admission.ts";
import type { LobbyConfig } from "../lib/lobby/config.ts";
import { encodeGrant } from "../lib/security/admission.ts";
import { Direction, sealFor } from "../lib/security/handshake.ts";
import { createJoinToken } from "../lib/security/join-token.ts";
import { Kind, LobbyErrorCode } from "../wire/kinds.ts";
import type { AnyMessage as Message } from "../wire/messages.ts";
import { Client, expectKind, Harness } from "./lobby-harness.ts";
import { SeededNodeCrypto } from "./support/seeded-node-crypto.ts";

const crypto = new SeededNodeCrypto(77);
const backend = crypto.ed25519KeyPair();
const NOW_S = 1_800_000_000;

/** A lobby that admits holders of the backend's tokens; `clock` is its Unix time in seconds. */
function tokenLobby(
  clock = { s: NOW_S },
  policy: Partial<JoinTokenAdmissionOptions> = {},
  lobby: Partial<LobbyConfig> = {},
): { h: Harness; clock: { s: number } } {
  const admission = joinTokenAdmission({ publicKeys: [backend.publicKey], crypto, unixTimeMs: () => clock.s * 1000, ...policy });
  return { h: new Harness({ ...lobby, admission }, 21), clock };
}

let nonceSeq = 0;
function token(grid: string, player = "", expiresAt = NOW_S + 60, key = backend.secretKey): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, ++nonceSeq);
  return createJoinToken(crypto, key, { grid, player, expiresAt, nonce });
}

/** JoinToken, sealed under `c`'s session key as a peer does (PeerToLobby, nonce = req). */
function present(c: Client, t: Uint8Array, req = c.req()): Message {
  return c.call(Kind.JoinToken, { sealed: sealFor(crypto, c.sessionKey as Uint8Array, Direction.PeerToLobby, req, t) }, req);
}

function refused(msg: Message, detail: RegExp): void {
  const e = expectKind(msg, Kind.Error);
  assert.is(e.code, LobbyErrorCode.NotAdmitted, e.detail);
  assert.match(e.detail, detail);
}

function createWith(_h: Harness, c: Client, name: string): Message {
  return c.call(Kind.CreateGrid, { name, capacity: 0, limit: 4, meta: "" });
}

test("issue 18 item 7: with join tokens, no token is NotAdmitted for CreateGrid and SelectGrid; the backend's token admits, and names the player", () => {
  const { h } = tokenLobby();
  const a = new Client(h, "10.1.0.1:4000");
  a.hello();
  refused(createWith(h, a, "match-1"), /no join token for grid "match-1"/);
  assert.equal(h.lobby.grids(), [], "nothing created");
  expectKind(present(a, token("match-1", "alice")), Kind.Ack);
  const grid = expectKind(createWith(h, a, "match-1"), Kind.GridCreated).grid;
  const alice = a.select(grid);
  // A second player: no token, then a token for another grid, then its own.
  const b = new Client(h, "10.1.0.2:4000");
  b.hello();
  refused(b.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /no join token/);
  expectKind(present(b, token("match-2", "bob")), Kind.Ack);
  refused(b.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /is for grid "match-2", not "match-1"/);
  expectKind(present(b, token("match-1", "bob")), Kind.Ack);
  const bob = b.select(grid);
  assert.equal(h.lobby.membersOf(grid)?.map((m) => m.peer), [alice.peer, bob.peer]);
  const joined = h.takeEvents().filter((e) => e.type === "peerJoined");
  assert.equal(joined.map((e) => (e.type === "peerJoined" ? e.player : "")), ["alice", "bob"]);
  // Selecting again (a refresh, a limit change) asks nothing: it is a member.
  assert.is(b.select(grid, 6).peer, bob.peer);
  assert.is(h.lobby.stats().notAdmitted, 3);
  assert.is(h.lobby.stats().errorsSent.NotAdmitted, 3);
});

test("issue 18 item 7: a forged, an expired and a far-future token are refused, each with its reason", () => {
  const clock = { s: NOW_S };
  const { h } = tokenLobby(clock);
  const c = new Client(h, "10.1.0.1:4000");
  c.hello();
  const mallory = crypto.ed25519KeyPair();
  expectKind(present(c, token("g", "", NOW_S + 60, mallory.secretKey)), Kind.Ack);
  refused(createWith(h, c, "g"), /signature does not verify/);
  expectKind(present(c, token("g", "", NOW_S - 31)), Kind.Ack);
  refused(createWith(h, c, "g"), /expired 31 s ago/);
  expectKind(present(c, token("g", "", NOW_S + 3600 + 31)), Kind.Ack);
  refused(createWith(h, c, "g"), /more than the lobby's maxLifetimeS 3600/);
  const bytes = token("g");
  bytes[0] = 2; // another version: malformed
  expectKind(present(c, bytes), Kind.Ack);
  refused(createWith(h, c, "g"), /malformed/);
  // Within the allowed skew (30 s) a token just past its expiry still admits.
  expectKind(present(c, token("g", "", NOW_S - 29)), Kind.Ack);
  expectKind(createWith(h, c, "g"), Kind.GridCreated);
});

test("issue 18 item 7: replay: a token admits one session; another session presenting it is refused, the same one may select again", () => {
  const clock = { s: NOW_S };
  const { h } = tokenLobby(clock);
  const owner = new Client(h, "10.1.0.1:4000");
  owner.hello();
  expectKind(present(owner, token("arena", "owner")), Kind.Ack);
  const grid = expectKind(createWith(h, owner, "arena"), Kind.GridCreated).grid;
  const t = token("arena", "eve");
  const eve = new Client(h, "10.1.0.5:4000");
  eve.hello();
  expectKind(present(eve, t), Kind.Ack);
  const first = eve.select(grid).peer;
  // Eve shares her token (or it leaked): a second client cannot use it while it is valid.
  const friend = new Client(h, "10.1.0.6:4000");
  friend.hello();
  expectKind(present(friend, t), Kind.Ack);
  refused(friend.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /already used by another session/);
  // Her own session re-selects, and a retransmitted JoinToken is the same Ack.
  assert.is(eve.select(grid).peer, first);
  const req = eve.req();
  expectKind(present(eve, t, req), Kind.Ack);
  expectKind(present(eve, t, req), Kind.Ack);
  // Once expired it admits nobody, and the lobby forgets it.
  clock.s += 4000;
  refused(friend.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /expired/);
});

test("issue 18 item 7: one member per player: the same player admitted again replaces the older member", () => {
  const { h } = tokenLobby();
  const owner = new Client(h, "10.1.0.1:4000");
  owner.hello();
  expectKind(present(owner, token("arena", "owner")), Kind.Ack);
  const grid = expectKind(createWith(h, owner, "arena"), Kind.GridCreated).grid;
  const phone = new Client(h, "10.1.0.7:4000");
  phone.hello();
  expectKind(present(phone, token("arena", "zoe")), Kind.Ack);
  const old = phone.select(grid).peer;
  const laptop = new Client(h, "10.1.0.8:4000");
  laptop.hello();
  expectKind(present(laptop, token("arena", "zoe")), Kind.Ack);
  const now = laptop.select(grid).peer;
  assert.ok(h.takeEvents().some((e) => e.type === "peerLeft" && e.peer === old && e.reason === "replaced"));
  assert.equal(h.lobby.membersOf(grid)?.map((m) => m.peer).includes(old), false);
  assert.ok(h.lobby.membersOf(grid)?.some((m) => m.peer === now));
});

test("issue 18 item 7: JoinToken sealed for another session, or empty, is a BadRequest; a session keeps at most 4 tokens", () => {
  const { h } = tokenLobby();
  const a = new Client(h, "10.1.0.1:4000");
  a.hello();
  const b = new Client(h, "10.1.0.2:4000");
  b.hello();
  // Sealed under a's key but sent on b's session (a token lifted from a's datagram).
  const req = b.req();
  const stolen = sealFor(crypto, a.sessionKey as Uint8Array, Direction.PeerToLobby, req, token("g"));
  const e = expectKind(b.call(Kind.JoinToken, { sealed: stolen }, req), Kind.Error);
  assert.is(e.code, LobbyErrorCode.BadRequest);
  assert.is(expectKind(b.call(Kind.JoinToken, { sealed: new Uint8Array(0) }), Kind.Error).code, LobbyErrorCode.BadRequest);
  // Five tokens: the oldest is forgotten.
  const first = token("g1");
  expectKind(present(a, first), Kind.Ack);
  for (const g of ["g2", "g3", "g4", "g5"]) expectKind(present(a, token(g)), Kind.Ack);
  refused(createWith(h, a, "g1"), /is for grid "g5", not "g1"/);
  expectKind(createWith(h, a, "g5"), Kind.GridCreated);
});

test("issue 18 item 7: a flood of distinct valid tokens stops at maxTrackedTokens (fail closed), and expired ones make room again", () => {
  const clock = { s: NOW_S };
  const { h } = tokenLobby(clock, { maxTrackedTokens: 3 });
  const grid = ((): number => {
    const o = new Client(h, "10.1.0.1:4000");
    o.hello();
    expectKind(present(o, token("arena")), Kind.Ack);
    return expectKind(createWith(h, o, "arena"), Kind.GridCreated).grid;
  })();
  const joinWith = (i: number): Message => {
    const c = new Client(h, `10.2.0.${i}:4000`);
    c.hello();
    expectKind(present(c, token("arena", `p${i}`, clock.s + 60)), Kind.Ack);
    return c.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 });
  };
  expectKind(joinWith(1), Kind.Members);
  expectKind(joinWith(2), Kind.Members);
  refused(joinWith(3), /3 join tokens in use \(maxTrackedTokens\)/);
  clock.s += 3600 + 61;
  expectKind(joinWith(4), Kind.Members);
});

test("issue 18 item 7: a plain admission function sees the request (action, grid, address, name) and its reason reaches the peer", () => {
  const seen: AdmissionRequest[] = [];
  const h = new Harness({
    admission: (req) => {
      seen.push(req);
      return req.address.startsWith("10.9.") ? { ok: true, player: req.name } : { ok: false, reason: `only 10.9.0.0/16, not ${req.address}` };
    },
  });
  const inside = new Client(h, "10.9.0.1:4000");
  inside.hello("host");
  const grid = expectKind(createWith(h, inside, "lan"), Kind.GridCreated).grid;
  inside.select(grid);
  const outside = new Client(h, "192.0.2.1:4000");
  outside.hello("guest");
  refused(outside.call(Kind.SelectGrid, { grid, limit: 4, part: 0, role: 0 }), /only 10\.9\.0\.0\/16, not 192\.0\.2\.1:4000/);
  assert.equal(seen.map((r) => [r.action, r.grid, r.gridId === grid || r.gridId === 0, r.name]), [
    ["create", "lan", true, "host"],
    ["select", "lan", true, "host"],
    ["select", "lan", true, "guest"],
  ]);
});

test("issue 18 item 7: after a lobby restart a member that shows the grid's key rejoins without a token; one that cannot recreate the grid without one", () => {
  const { h } = tokenLobby();
  const owner = new Client(h, "10.1.0.1:4000");
  owner.hello();
  expectKind(present(owner, token("arena", "o")), Kind.Ack);
  const grid = expectKind(createWith(h, owner, "arena"), Kind.GridCreated).grid;
  const granted = owner.grant(owner.select(grid));
  const key = granted.keys[0] as { epoch: number; key: Uint8Array };
  const identity = { secretKey: new Uint8Array(32).fill(5), publicKey: crypto.ed25519KeyPair(new Uint8Array(32).fill(5)).publicKey };
  // The restarted lobby (empty state), admitting the same backend's tokens.
  const { h: h2 } = tokenLobby({ s: NOW_S }, {}, { identity });
  const rejoin = (c: Client, peer: number, withKey: boolean): Message => {
    const req = c.req();
    const sealed = withKey ? sealFor(crypto, c.sessionKey as Uint8Array, Direction.PeerToLobby, req, encodeGrant({ activeEpoch: key.epoch, keys: [key], ticket: new Uint8Array(0) })) : new Uint8Array(0);
    return c.call(Kind.Rejoin, { grid, name: "arena", peer, limit: 4, links: [], epoch: withKey ? key.epoch : 0, sealed }, req);
  };
  const first = new Client(h2, "10.1.0.1:4000");
  first.hello();
  refused(rejoin(first, 1, true), /no join token for grid "arena"/);
  expectKind(present(first, token("arena", "o")), Kind.Ack);
  expectKind(rejoin(first, 1, true), Kind.Ack);
  // A second member proves it was admitted before: it holds the grid's key.
  const second = new Client(h2, "10.1.0.2:4000");
  second.hello();
  expectKind(rejoin(second, 2, true), Kind.Ack);
  // Someone without the key (or a token) cannot slip in by claiming an id.
  const stranger = new Client(h2, "10.1.0.66:4000");
  stranger.hello();
  refused(rejoin(stranger, 9, false), /no join token/);
  assert.equal(h2.lobby.membersOf(grid)?.map((m) => m.peer), [1, 2]);
});

test.run();
