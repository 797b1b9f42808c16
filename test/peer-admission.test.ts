/**
 * Issue 18, item 7 end to end on the simulator: real Peers and a real Lobby that admits only
 * holders of join tokens from the game's backend. A peer with its token creates or joins and
 * relays; one without a token, with an expired one, or with a token another player already
 * used fails its join with the typed error "not-admitted", and never gets a grid key.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { joinTokenAdmission } from "../lib/lobby/admission.ts";
import { ErrorCode } from "../lib/errors.ts";
import { createJoinToken } from "../lib/security/join-token.ts";
import { broadcastFrom, notExactlyOnce } from "./support/peer-scenarios.ts";
import { seededCrypto, SimGrid, type PeerNode } from "./support/sim-grid.ts";

const crypto = seededCrypto(0xad);
const backend = crypto.ed25519KeyPair();
const clock = { ms: 1_800_000_000_000 };
let n = 0;

function token(grid: string, player: string, ttlS = 60): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, ++n);
  return createJoinToken(crypto, backend.secretKey, { grid, player, expiresAt: Math.floor(clock.ms / 1000) + ttlS, nonce });
}

function lobbyWithTokens(seed: number): SimGrid {
  return new SimGrid({ seed, lobby: { admission: joinTokenAdmission({ publicKeys: [backend.publicKey], crypto, unixTimeMs: () => clock.ms }) }, peer: { connectionLimit: 4 } });
}

/** Starts a join with `tok` (or none) and runs until it is a member or failed. */
function join(g: SimGrid, tok: Uint8Array | undefined, create = false): PeerNode {
  const p = g.addPeerWith({}, { grid: "match-7", create, token: tok });
  g.runUntil(() => p.endpoint.phase === "member" || p.endpoint.phase === "idle", 30_000, 10);
  return p;
}

function errorOf(g: SimGrid, p: PeerNode): { code: string; message: string } | undefined {
  const e = g.events.find((x) => x.address === p.address && x.event.type === "error")?.event;
  return e?.type === "error" ? { code: e.code, message: e.message } : undefined;
}

test("issue 18 item 7: token holders create and join a grid and relay to each other; the lobby knows each player", () => {
  const g = lobbyWithTokens(1);
  const host = join(g, token("match-7", "host"), true);
  const guests = ["ann", "bo", "cy"].map((who) => join(g, token("match-7", who)));
  for (const p of [host, ...guests]) assert.is(p.endpoint.phase, "member", p.address);
  g.settle(2);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(500);
  assert.equal(notExactlyOnce(g, sent), []);
  const joined = g.lobby.endpoint.membersOf(g.gridId)?.length;
  assert.is(joined, 4);
});

test("issue 18 item 7: no token, an expired token, or another player's used token: the join fails with not-admitted and the peer never holds a grid key", () => {
  const g = lobbyWithTokens(2);
  join(g, token("match-7", "host"), true);
  const shared = token("match-7", "dee");
  const dee = join(g, shared);
  assert.is(dee.endpoint.phase, "member");
  const cases: [string, Uint8Array | undefined, RegExp][] = [
    ["no token", undefined, /no join token for grid "match-7"/],
    ["expired", token("match-7", "old", -120), /expired 120 s ago/],
    ["copied", shared, /already used by another session/],
    ["other grid", token("match-8", "x"), /is for grid "match-8"/],
  ];
  for (const [name, tok, why] of cases) {
    const p = join(g, tok);
    assert.is(p.endpoint.phase, "idle", name);
    const e = errorOf(g, p);
    assert.is(e?.code, ErrorCode.NotAdmitted, name);
    assert.match(e?.message ?? "", why);
    assert.is(p.endpoint.id, 0, `${name}: no peer id`);
    assert.equal(p.endpoint.linkPeers, [], name);
  }
  assert.is(g.lobby.endpoint.membersOf(g.gridId)?.length, 2);
});

test.run();
