/**
 * Restart recovery (issue 3): a lobby restarted with empty state answers UnknownSession;
 * scripted peers Hello again and Rejoin with their grid, peer id, limit and links, and the
 * registry comes back, with the same ids, within three heartbeat intervals.
 */
import type { SessionFramer } from "../lib/security/session-frame.ts";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Kind, LobbyErrorCode } from "../wire/kinds.ts";
import { Client, expectKind, Harness, joinMany, linkBoth, type Joined } from "./lobby-harness.ts";

const HEARTBEAT_MS = 2000;

function before(): { h: Harness; grid: number; peers: Joined[] } {
  const h = new Harness({}, 11);
  const owner = new Client(h, "10.3.0.1:4000");
  owner.hello();
  const grid = owner.create("arena", 0, 3);
  const peers = joinMany(h, grid, 10, 3);
  for (let i = 0; i < 10; i++) linkBoth(grid, peers[i] as Joined, peers[(i + 1) % 10] as Joined);
  linkBoth(grid, peers[0] as Joined, peers[5] as Joined);
  return { h, grid, peers };
}

/** What a peer re-registers with: its view of itself. */
interface Memory {
  addr: string;
  peer: number;
  limit: number;
  links: number[];
  oldSession: number;
  /** The old session's frames: the restarted lobby knows neither the session nor its key. */
  oldFramer: SessionFramer | undefined;
}

test("restart: a new lobby says UnknownSession and peers re-register with the same ids and links", () => {
  const old = before();
  const snapshot = { grids: old.h.lobby.grids(), members: old.h.lobby.membersOf(old.grid), graph: old.h.lobby.graphOf(old.grid) };
  const memories: Memory[] = old.peers.map((p) => {
    const m = old.h.lobby.membersOf(old.grid)?.find((x) => x.peer === p.peer);
    return { addr: p.client.addr, peer: p.peer, limit: m?.limit ?? 0, links: m?.reported ?? [], oldSession: p.client.session, oldFramer: p.client.framer };
  });

  // The restarted lobby: same config, different seed, empty state.
  const h = new Harness({}, 12);
  h.advance(500);
  const clients = memories.map((m) => {
    const c = new Client(h, m.addr);
    c.session = m.oldSession;
    c.framer = m.oldFramer;
    return c;
  });
  // Each peer's next heartbeat is answered UnknownSession (spread over one interval).
  for (let i = 0; i < clients.length; i++) {
    const c = clients[i] as Client;
    const mem = memories[i] as Memory;
    const req = c.req();
    const replies = c.send(Kind.Heartbeat, { grid: old.grid, peer: mem.peer, links: mem.links }, req);
    assert.equal(replies, [{ kind: Kind.UnknownSession, req }]);
    h.advance(HEARTBEAT_MS / clients.length);
  }
  // ...so it says Hello and Rejoins. Half of them now, half one interval later.
  const rejoin = (i: number): void => {
    const c = clients[i] as Client;
    const mem = memories[i] as Memory;
    c.hello(`p${i}`);
    expectKind(c.call(Kind.Rejoin, { grid: old.grid, name: "arena", peer: mem.peer, limit: mem.limit, links: mem.links, epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  };
  for (let i = 0; i < 5; i++) rejoin(i);
  // Links to peers not back yet are held, not confirmed.
  assert.is(h.lobby.graphOf(old.grid)?.get(memories[4]?.peer ?? 0)?.length, 1);
  h.advance(HEARTBEAT_MS);
  for (let i = 5; i < 10; i++) rejoin(i);
  assert.ok(h.nowMs <= 3 * HEARTBEAT_MS, `registry back at ${h.nowMs} ms`);

  const [g] = h.lobby.grids();
  assert.equal({ grid: g?.grid, name: g?.name, members: g?.members, links: g?.links }, {
    grid: snapshot.grids[0]?.grid,
    name: "arena",
    members: 10,
    links: 11,
  });
  assert.equal(h.lobby.graphOf(old.grid), snapshot.graph);
  assert.equal(
    h.lobby.membersOf(old.grid)?.map((m) => [m.peer, m.addr, m.limit, m.reported]),
    snapshot.members?.map((m) => [m.peer, m.addr, m.limit, m.reported]),
  );
  assert.ok(h.takeEvents().some((e) => e.type === "gridCreated" && e.restored));

  // A peer joining after the restart gets an id above every restored one.
  const late = new Client(h, "10.3.9.9:4000");
  late.hello();
  assert.is(late.select(old.grid).peer, 11);
});

test("restart: rejoin conflicts are refused", () => {
  const h = new Harness({}, 3);
  const a = new Client(h, "10.4.0.1:4000");
  a.hello();
  expectKind(a.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 5, limit: 4, links: [6], epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  // Retransmitted: same answer, nothing duplicated.
  expectKind(a.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 5, limit: 4, links: [6], epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  assert.is(h.lobby.membersOf(77)?.length, 1);
  // Peer 5 is held by a live peer at another address.
  const b = new Client(h, "10.4.0.2:4000");
  b.hello();
  const taken = expectKind(b.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 5, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Error);
  assert.is(taken.code, LobbyErrorCode.BadRequest);
  // The grid id is known under another name.
  const renamed = expectKind(b.call(Kind.Rejoin, { grid: 77, name: "other", peer: 6, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Error);
  assert.is(renamed.code, LobbyErrorCode.BadRequest);
  // The name belongs to another grid id.
  const clash = expectKind(b.call(Kind.Rejoin, { grid: 78, name: "arena", peer: 6, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Error);
  assert.is(clash.code, LobbyErrorCode.NameTaken);
  // Peer 6 comes back and the 5-6 link is confirmed.
  expectKind(b.call(Kind.Rejoin, { grid: 77, name: "arena", peer: 6, limit: 4, links: [5], epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  assert.is(h.lobby.stats().links, 1);
  const zero = expectKind(b.call(Kind.Rejoin, { grid: 0, name: "x", peer: 1, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Error);
  assert.is(zero.code, LobbyErrorCode.BadRequest);
});

test("restart: the same peer re-registering under a new session moves to it", () => {
  const h = new Harness({}, 4);
  const a = new Client(h, "10.5.0.1:4000");
  a.hello("a", 1);
  expectKind(a.call(Kind.Rejoin, { grid: 9, name: "g", peer: 3, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  const oldSession = a.session;
  const oldFramer = a.framer;
  a.hello("a", 2);
  expectKind(a.call(Kind.Rejoin, { grid: 9, name: "g", peer: 3, limit: 4, links: [], epoch: 1, sealed: new Uint8Array(0) }), Kind.Ack);
  a.heartbeat(9, 3, []);
  a.session = oldSession;
  a.framer = oldFramer;
  const err = expectKind(a.call(Kind.Heartbeat, { grid: 9, peer: 3, links: [] }), Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadRequest);
});

test.run();
