/**
 * The lobby's side of NAT traversal (issue 13, items 1-3; PROTOCOL.md 4.7), on the
 * virtual-time harness: Register gives a key-bound ticket and the address the lobby sees;
 * Introduce tells both ends at once, with local addresses only behind one public address;
 * PunchReport is counted; a member that reaches nobody is counted isolated; and a member that
 * never registers sees exactly what it saw before (version 1 tickets, no new messages).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sealLinkKey } from "../lib/security/link-key.ts";
import { ticketVersion, verifyTicketV2 } from "../lib/security/ticket.ts";
import { IntroStatus, Kind, LobbyErrorCode, NatKind } from "../wire/kinds.ts";
import { Client, expectKind } from "./lobby-harness.ts";
import { natGrid, NatClient, registeredMembers } from "./lobby-nat-harness.ts";


test("Register: Registered carries the address the lobby sees and a key-bound ticket for this key, grid, peer and epoch", () => {
  const { h, grid } = natGrid();
  const a = new NatClient(h, "198.18.3.1:40000").join(grid);
  const r = a.registered(["192.168.1.2:40000"]);
  assert.equal([r.grid, r.peer, r.observed], [grid, a.peer, "198.18.3.1:40000"]);
  assert.is(ticketVersion(r.ticket), 2);
  const expect = { grid, peer: a.peer, minEpoch: 1, provenKey: a.linkKey.publicKey };
  assert.is(verifyTicketV2(h.peerCrypto, h.lobby.publicKey, r.ticket, expect), "ok");
  // Registering again (the same key) is idempotent: the same ticket, new locals allowed.
  assert.equal(a.registered(["10.0.0.9:40000"]).ticket, r.ticket);
  assert.is(h.lobby.stats().registrations, 2);
});

test("Register: another key for the same membership, a seal that does not open, or a bad local address is a BadRequest", () => {
  const { h, grid } = natGrid();
  const a = new NatClient(h, "198.18.3.1:40000").join(grid);
  a.registered();
  const other = h.peerCrypto.ed25519KeyPair().publicKey;
  const err = expectKind(a.register([], other)[0], Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadRequest);
  assert.match(err.detail, /another link key/);
  // Sealed for another membership (the AAD names grid and peer): does not open.
  const b = new NatClient(h, "198.18.4.1:40000").join(grid);
  const req = b.req();
  const forA = sealLinkKey(h.peerCrypto, b.sessionKey as Uint8Array, req, grid, a.peer, b.linkKey.publicKey);
  const e1 = expectKind(b.send(NatKind.Register, { grid, peer: b.peer, locals: [], sealed: forA }, req)[0], Kind.Error);
  assert.match(e1.detail, /does not open/);
  const e2 = expectKind(b.send(NatKind.Register, { grid, peer: b.peer, locals: [], sealed: new Uint8Array(48) })[0], Kind.Error);
  assert.match(e2.detail, /does not open/);
  for (const bad of ["203.0.113.5:80", "127.0.0.1:7777", "192.168.001.2:1", "192.168.1.2", "[::1]:1", "example.com:1"]) {
    const e = expectKind(b.register([bad])[0], Kind.Error);
    assert.is(e.code, LobbyErrorCode.BadRequest, bad);
    assert.match(e.detail, /local address/, bad);
  }
  for (const good of ["10.1.2.3:1", "172.31.0.1:65535", "100.64.0.11:4000", "169.254.9.9:9", "[fd00::7]:40000", "[fe80::1%eth0]:40000"]) {
    assert.is(b.register([good])[0]?.kind, NatKind.Registered, good);
  }
});

test("Register and Introduce need the membership: another session's peer id gets BadRequest, an unknown grid UnknownGrid", () => {
  const { h, grid } = natGrid();
  const a = new NatClient(h, "198.18.3.1:40000").join(grid);
  const b = new NatClient(h, "198.18.4.1:40000").join(grid);
  const err = expectKind(b.send(NatKind.Introduce, { grid, peer: a.peer, targets: [b.peer] })[0], Kind.Error);
  assert.is(err.code, LobbyErrorCode.BadRequest);
  const unknown = expectKind(b.send(NatKind.Introduce, { grid: grid + 1, peer: b.peer, targets: [a.peer] })[0], Kind.Error);
  assert.is(unknown.code, LobbyErrorCode.UnknownGrid);
  // Introduce before Register: told to register first.
  assert.match(expectKind(b.introduce([a.peer])[0], Kind.Error).detail, /Register/);
});

test("Introduce: both ends get an Introduction at once, one id, each naming the other's public address; Introduced gives a status per target", () => {
  const { h, grid } = natGrid();
  const [a, b, c] = registeredMembers(h, grid, 3) as [NatClient, NatClient, NatClient];
  const legacy = new Client(h, "198.18.9.9:4000");
  legacy.hello();
  const old = legacy.select(grid).peer;
  h.take(); // nothing pending
  const replies = a.introduce([b.peer, c.peer, b.peer, old, 999, a.peer]);
  const intros = replies.filter((m) => m.kind === NatKind.Introduction).map((m) => expectKind(m, NatKind.Introduction));
  const result = expectKind(replies[replies.length - 1], NatKind.Introduced);
  assert.equal(result.results, [
    { peer: b.peer, status: IntroStatus.Introduced },
    { peer: c.peer, status: IntroStatus.Introduced },
    { peer: old, status: IntroStatus.NoKey },
    { peer: 999, status: IntroStatus.NotMember },
    { peer: a.peer, status: IntroStatus.Self },
  ]);
  assert.equal(intros.map((i) => [i.other, i.addr, i.asked, i.peer]), [
    [b.peer, b.addr, true, a.peer],
    [c.peer, c.addr, true, a.peer],
  ]);
  for (const [target, mine] of [[b, intros[0]], [c, intros[1]]] as const) {
    const theirs = h.takeOf(target.addr, NatKind.Introduction);
    assert.is(theirs.length, 1, "the target's copy, sent in the same turn");
    assert.equal([theirs[0]?.req, theirs[0]?.other, theirs[0]?.addr, theirs[0]?.asked], [mine?.req, a.peer, a.addr, false]);
  }
  assert.is.not(intros[0]?.req, intros[1]?.req, "every introduction has its own id");
  assert.equal(h.take(legacy.addr), [], "a member that never registered is never sent a NAT kind");
  const s = h.lobby.stats();
  assert.is(s.introductions, 2);
  assert.equal(s.introductionsRefused, { NoKey: 1, NotMember: 1, Self: 1 });
});

test("same NAT: local addresses pass only between members on one public IP address", () => {
  const { h, grid } = natGrid();
  const a = new NatClient(h, "198.18.7.1:40000").join(grid);
  const b = new NatClient(h, "198.18.7.1:40001").join(grid);
  const c = new NatClient(h, "198.18.8.1:40000").join(grid);
  a.registered(["192.168.1.2:40000"]);
  b.registered(["192.168.1.3:40001", "[fd00::3]:40001"]);
  c.registered(["192.168.1.2:40000"]);
  const toA = a.introduce([b.peer, c.peer]).filter((m) => m.kind === NatKind.Introduction).map((m) => expectKind(m, NatKind.Introduction));
  assert.equal(toA[0]?.locals, [{ addr: "192.168.1.3:40001" }, { addr: "[fd00::3]:40001" }], "b is behind a's NAT: its LAN addresses");
  assert.equal(toA[1]?.locals, [], "c is elsewhere: a LAN address of c's would lead into a's own LAN");
  assert.equal(h.takeOf(b.addr, NatKind.Introduction)[0]?.locals, [{ addr: "192.168.1.2:40000" }]);
  assert.equal(h.takeOf(c.addr, NatKind.Introduction)[0]?.locals, []);
});

test("a retransmitted Introduce gets the same replies and sends the target no second notice", () => {
  const { h, grid } = natGrid();
  const [a, b] = registeredMembers(h, grid, 2) as [NatClient, NatClient];
  const first = a.introduce([b.peer], 77);
  h.take(b.addr);
  const again = a.introduce([b.peer], 77);
  assert.equal(again, first);
  assert.equal(h.take(b.addr), [], "no second notice for a retransmission");
  assert.is(h.lobby.stats().introductions, 1);
  // A new request (a retry by the peer) introduces again.
  a.introduce([b.peer], 78);
  assert.is(h.takeOf(b.addr, NatKind.Introduction).length, 1);
});

test("budgets: a member gets introductionBurst at once then introductionsPerSecond; a target receives no more", () => {
  const { h, grid } = natGrid({ introductionsPerSecond: 4, introductionBurst: 6 });
  const members = registeredMembers(h, grid, 20);
  const [asker, ...rest] = members as [NatClient, ...NatClient[]];
  const statuses = (targets: number[]): number[] =>
    expectKind(asker.introduce(targets).filter((m) => m.kind === NatKind.Introduced)[0], NatKind.Introduced).results.map((r) => r.status);
  const eight = rest.slice(0, 8).map((c) => c.peer);
  assert.equal(statuses(eight), [0, 0, 0, 0, 0, 0, 3, 3], "a burst of 6, then RateLimited");
  h.advance(500);
  assert.equal(statuses(rest.slice(8, 11).map((c) => c.peer)), [0, 0, 3], "4 per second: 2 after half a second");
  // Many askers towards one target: it is introduced at most its own burst at once.
  const target = rest[18] as NatClient;
  let told = 0;
  for (const c of rest.slice(0, 10)) {
    if (expectKind(c.introduce([target.peer]).find((m) => m.kind === NatKind.Introduced), NatKind.Introduced).results[0]?.status === 0) told++;
  }
  assert.is(told, 6);
  assert.is(h.takeOf(target.addr, NatKind.Introduction).length, 6);
});

test("PunchReport is acknowledged, counted and reported as an event", () => {
  const { h, grid } = natGrid();
  const [a, b] = registeredMembers(h, grid, 2) as [NatClient, NatClient];
  h.takeEvents();
  const report = (ok: boolean, other = b.peer) => a.send(NatKind.PunchReport, { grid, peer: a.peer, other, ok, attempts: 3, elapsedMs: 180 });
  expectKind(report(true)[0], Kind.Ack);
  expectKind(report(false)[0], Kind.Ack);
  assert.is(expectKind(report(true, a.peer)[0], Kind.Error).code, LobbyErrorCode.BadRequest);
  const s = h.lobby.stats();
  assert.equal([s.punchesOk, s.punchesFailed], [1, 1]);
  assert.equal(
    h.takeEvents().filter((e) => e.type === "punchReported"),
    [
      { type: "punchReported", grid, peer: a.peer, other: b.peer, ok: true, attempts: 3, elapsedMs: 180 },
      { type: "punchReported", grid, peer: a.peer, other: b.peer, ok: false, attempts: 3, elapsedMs: 180 },
    ],
  );
});

test("isolation: a member with no confirmed link for isolatedAfterMs, in a grid with others, is counted once; linking ends it", () => {
  const { h, grid } = natGrid({ isolatedAfterMs: 5000, islandCheckMs: 1000, heartbeatMs: 60_000 });
  const lone = new NatClient(h, "198.18.1.1:1").join(grid);
  h.advance(8000);
  assert.is(h.lobby.stats().isolated, 0, "the only member of its grid is not isolated");
  const a = new NatClient(h, "198.18.2.1:1").join(grid);
  const b = new NatClient(h, "198.18.3.1:1").join(grid);
  h.takeEvents();
  h.advance(4000);
  // lone has been alone 12 s; a and b only 4 s.
  assert.equal(h.takeEvents().filter((e) => e.type === "peerIsolated").map((e) => (e as { peer: number }).peer), [lone.peer]);
  h.advance(2000);
  assert.equal(h.lobby.stats().isolated, 3);
  assert.equal(h.takeEvents().filter((e) => e.type === "peerIsolated").length, 2, "a and b, once each");
  a.link(grid, a.peer, b.peer);
  b.link(grid, b.peer, a.peer);
  h.advance(1000);
  const s = h.lobby.stats();
  assert.equal([s.isolated, s.isolations], [1, 3], "a and b linked; lone is still alone");
  expectKind(lone.call(Kind.Leave, { grid, peer: lone.peer }), Kind.Ack);
  assert.is(h.lobby.stats().isolated, 0, "leaving ends the count");
});

test("issue 13 item 4: a member that leaves with no link after only failed punches is counted as an isolation (it gave up before isolatedAfterMs); one whose punch worked, or that never punched, is not", () => {
  const { h, grid } = natGrid({ isolatedAfterMs: 10_000, islandCheckMs: 1000, heartbeatMs: 60_000 });
  const open = new NatClient(h, "198.18.0.2:1").join(grid);
  const [sy, pr, quiet] = ["198.18.6.1:1", "198.18.4.1:1", "198.18.5.1:1"].map((a) => new NatClient(h, a).join(grid)) as [NatClient, NatClient, NatClient];
  const report = (c: NatClient, ok: boolean) => expectKind(c.send(NatKind.PunchReport, { grid, peer: c.peer, other: open.peer, ok, attempts: 18, elapsedMs: 3000 })[0], Kind.Ack);
  report(sy, false);
  report(sy, false);
  report(pr, false);
  report(pr, true);
  h.takeEvents();
  h.advance(8000); // the peer's unreachableAfterMs: it is told, and leaves
  for (const c of [sy, pr, quiet]) expectKind(c.call(Kind.Leave, { grid, peer: c.peer }), Kind.Ack);
  const isolated = h.takeEvents().filter((e) => e.type === "peerIsolated");
  assert.equal(isolated.map((e) => (e as { peer: number }).peer), [sy.peer]);
  assert.ok((isolated[0] as { aloneMs: number }).aloneMs >= 8000);
  assert.equal([h.lobby.stats().isolations, h.lobby.stats().isolated], [1, 0]);
});

test("after a key rotation, registering again gives a key-bound ticket under the new epoch", () => {
  const { h, grid } = natGrid({ rotateAfterDepartures: 1, rotationDelayMs: 1000, islandCheckMs: 3_600_000 });
  const a = new NatClient(h, "198.18.3.1:40000").join(grid);
  const first = a.registered();
  const b = new NatClient(h, "198.18.4.1:40000").join(grid);
  expectKind(b.call(Kind.Leave, { grid, peer: b.peer }), Kind.Ack);
  h.advance(1000);
  assert.is(h.lobby.keyEpochsOf(grid)?.epoch, 2);
  const second = a.registered();
  const expect = { grid, peer: a.peer, minEpoch: 2, provenKey: a.linkKey.publicKey };
  assert.is(verifyTicketV2(h.peerCrypto, h.lobby.publicKey, first.ticket, expect), "expired");
  assert.is(verifyTicketV2(h.peerCrypto, h.lobby.publicKey, second.ticket, expect), "ok");
});

test("a member that never registers gets version 1 tickets in its grants, as before", () => {
  const { h, grid } = natGrid();
  const c = new Client(h, "198.18.3.1:40000");
  c.hello();
  const m = c.select(grid);
  assert.is(ticketVersion(c.grant(m).ticket), 1);
  const n = new NatClient(h, "198.18.4.1:40000").join(grid);
  n.registered();
  assert.is(ticketVersion(n.grant(n.select(grid)).ticket), 1, "a registered member's grant keeps its version 1 ticket too");
});

test.run();
