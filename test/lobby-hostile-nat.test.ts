/**
 * NAT traversal attacked (issue 13, item 3; PROTOCOL.md 6.9, 6.10): an address spoofer and an
 * admitted member try to make the lobby introduce, reflect or amplify. Each attack runs and
 * fails: spoofed and replayed requests are dropped unanswered; a member asking
 * introductions to everyone draws a bounded trickle, every notice goes to an admitted
 * member's own address and names only the attacker's own address; a victim's address
 * cannot be planted as a local address; corrupted NAT datagrams are counted, never thrown.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomInt, SeededRandom } from "../lib/rng.ts";
import { sealLinkKey } from "../lib/security/link-key.ts";
import type { LobbyStats } from "../lib/lobby/index.ts";
import { decode, encode } from "../wire/codec.ts";
import { IntroStatus, Kind, LobbyErrorCode, NatKind } from "../wire/kinds.ts";
import { SESSION_FRAME_OVERHEAD_BYTES } from "../wire/limits.ts";
import { expectKind } from "./lobby-harness.ts";
import { natGrid, NatClient, registeredMembers } from "./lobby-nat-harness.ts";

function counted(s: LobbyStats): void {
  const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
  assert.is(s.datagramsIn, s.accepted + drops, "every datagram is accepted or dropped by reason");
  assert.is(s.drops["internal-error"], undefined, "no handler threw");
}


test("spoofer: an Introduce with a member's session from another address is dropped; nobody is sent anything", () => {
  const { h, grid } = natGrid();
  const [a, b] = registeredMembers(h, grid, 2) as [NatClient, NatClient];
  h.take();
  const forged = encode({ kind: NatKind.Introduce, req: 5, session: a.session, grid, peer: a.peer, targets: [b.peer] });
  assert.equal(h.deliverBytes("203.0.113.66:4000", forged), []);
  assert.equal(h.take(), [], "no Introduction to a, b or the spoofer");
  assert.is(h.lobby.stats().drops["address-mismatch"], 1);
  // A captured Register replayed from elsewhere: the same.
  assert.equal(h.deliverBytes("203.0.113.66:4000", encode({ kind: NatKind.Register, req: 6, session: a.session, grid, peer: a.peer, locals: [], sealed: new Uint8Array(48) })), []);
  counted(h.lobby.stats());
});

test("spoofer: a made-up session gets UnknownSession within 3x, and introduces nobody", () => {
  const { h, grid } = natGrid();
  registeredMembers(h, grid, 4);
  h.take();
  const bytes = encode({ kind: NatKind.Introduce, req: 5, session: 12345, grid, peer: 1, targets: [1, 2, 3, 4] });
  const out = h.deliverRaw("203.0.113.66:4000", bytes);
  assert.equal(out.map((s) => s.msg.kind), [Kind.UnknownSession]);
  assert.ok((out[0]?.bytes.length ?? 0) <= 3 * bytes.length);
  assert.equal(h.take(), []);
});

test("member: a Register sealed for one membership does not register another", () => {
  const { h, grid } = natGrid();
  const a = new NatClient(h, "198.18.1.1:1").join(grid);
  const b = new NatClient(h, "198.18.2.1:1").join(grid);
  // What a's Register carried (seen on the path), pasted into b's own Register, same req:
  // another session key and another AAD, so it does not open.
  const req = 40;
  const aSealed = sealLinkKey(h.peerCrypto, a.sessionKey as Uint8Array, req, grid, a.peer, a.linkKey.publicKey);
  const replay = b.send(NatKind.Register, { grid, peer: b.peer, locals: [], sealed: aSealed }, req);
  assert.is(expectKind(replay[0], Kind.Error).code, LobbyErrorCode.BadRequest);
  assert.is(h.lobby.stats().registrations, 0);
});

test("member: a victim's address cannot be planted as a local address, so no Introduction can aim punches at it", () => {
  const { h, grid } = natGrid();
  const m = new NatClient(h, "198.18.7.1:40000").join(grid);
  for (const victim of ["203.0.113.5:53", "198.51.100.9:80", "[2001:db8::1]:443", "127.0.0.1:7777", "[::1]:7777", "0.0.0.0:1"]) {
    assert.is(expectKind(m.register([victim])[0], Kind.Error).code, LobbyErrorCode.BadRequest, victim);
  }
});

test("member: asking introductions to everyone draws a bounded trickle, only to admitted members, naming only the attacker", () => {
  const rate = 8;
  const burst = 16;
  // A long heartbeat: the targets stay members for the whole attack without heartbeating.
  const { h, grid } = natGrid({ introductionsPerSecond: rate, introductionBurst: burst, requestsPerSecondPerSession: 1000, requestBurstPerSession: 1000, heartbeatMs: 60_000 });
  const members = registeredMembers(h, grid, 64);
  const [attacker, ...others] = members as [NatClient, ...NatClient[]];
  attacker.registered(["192.168.1.50:4000"]);
  const admitted = new Set(members.map((m) => m.addr));
  h.take();
  let asked = 0;
  let refused = 0;
  const seconds = 10;
  for (let t = 0; t < seconds * 10; t++) {
    // Ten Introduce a second, each naming 8 members, cycling through the whole grid.
    const targets = Array.from({ length: 8 }, (_, i) => (others[(t * 8 + i) % others.length] as NatClient).peer);
    const replies = attacker.introduce(targets);
    const done = expectKind(replies.find((r) => r.kind === NatKind.Introduced), NatKind.Introduced);
    asked += done.results.length;
    refused += done.results.filter((r) => r.status === IntroStatus.RateLimited).length;
    h.advance(100);
  }
  const sent = h.take();
  const notices = sent.filter((s) => s.msg.kind === NatKind.Introduction);
  const allowed = burst + rate * seconds;
  assert.ok(notices.length <= allowed, `${notices.length} Introductions to targets, at most ${allowed}`);
  assert.ok(notices.length >= rate * seconds, `the attacker still gets its fair share: ${notices.length}`);
  assert.is(asked, seconds * 10 * 8);
  assert.is(refused, asked - notices.length);
  for (const s of sent) assert.ok(admitted.has(s.to), `sent only to admitted members, not to ${s.to}`);
  // Besides the Introductions, only what the unlinked grid gets anyway: island repair, and
  // GridStatus `main` = false to members stranded alone past the island grace (standing.ts).
  assert.equal([...new Set(sent.map((s) => s.msg.kind))].sort(), [Kind.RepairHint, Kind.GridStatus, NatKind.Introduction].sort());
  assert.ok(sent.filter((s) => s.msg.kind === Kind.GridStatus).every((s) => (s.msg as { main?: boolean }).main === false), "nobody alone is told `main`");
  for (const s of notices) {
    const n = expectKind(s.msg, NatKind.Introduction);
    assert.equal([n.other, n.addr, n.locals], [attacker.peer, attacker.addr, []], "names the attacker's own address, and no LAN address");
  }
  const bytes = notices.reduce((n, s) => n + s.bytes.length, 0);
  // About 40 bytes each, in a session frame.
  assert.ok(bytes <= allowed * (40 + SESSION_FRAME_OVERHEAD_BYTES), `${bytes} bytes of notices in ${seconds} s`);
  const s = h.lobby.stats();
  assert.is(s.introductionsRefused["RateLimited"], refused);
  counted(s);
  // Honest members still get introduced meanwhile: the attacker spent its own budget, not theirs.
  const [x, y] = others as [NatClient, NatClient];
  assert.is(expectKind(x.introduce([y.peer]).find((r) => r.kind === NatKind.Introduced), NatKind.Introduced).results[0]?.status, IntroStatus.Introduced);
});

test("members: many asking for one target make it punch at most its own budget", () => {
  const { h, grid } = natGrid({ introductionsPerSecond: 8, introductionBurst: 16 });
  const members = registeredMembers(h, grid, 40);
  const [target, ...askers] = members as [NatClient, ...NatClient[]];
  h.take();
  for (const a of askers) a.introduce([target.peer]);
  assert.is(h.takeOf(target.addr, NatKind.Introduction).length, 16);
});

test("corrupted NAT datagrams are counted, never thrown, and the lobby keeps serving", () => {
  const { h, grid } = natGrid({ requestsPerSecondPerSession: 1_000_000, requestBurstPerSession: 1_000_000 });
  const [a, b] = registeredMembers(h, grid, 2) as [NatClient, NatClient];
  // The requests as a peer sends them: session frames (PROTOCOL.md 6.10).
  const frames: Uint8Array[] = [];
  const deliverBytes = h.deliverBytes.bind(h);
  h.deliverBytes = (from: string, bytes: Uint8Array) => {
    frames.push(bytes.slice());
    return deliverBytes(from, bytes);
  };
  a.register(["192.168.1.2:4000"]);
  a.introduce([b.peer, 99, a.peer]);
  a.send(NatKind.PunchReport, { grid, peer: a.peer, other: b.peer, ok: true, attempts: 1, elapsedMs: 5 });
  h.deliverBytes = deliverBytes;
  const bodies = frames.map((f) => {
    const d = decode(f);
    assert.ok(d.ok && d.msg.kind === Kind.SessionFrame);
    return d.msg.body;
  });
  const rng = new SeededRandom(13);
  for (let i = 0; i < 5000; i++) {
    // Half corrupt a frame (its tag then fails); half corrupt the request and frame it
    // afresh, so the NAT decoders and handlers see every corruption.
    const fresh = i % 2 === 0;
    const from = fresh ? bodies : frames;
    const bytes = (from[randomInt(rng, from.length)] as Uint8Array).slice();
    const at = randomInt(rng, bytes.length);
    bytes[at] = ((bytes[at] as number) + 1 + randomInt(rng, 255)) & 0xff;
    h.deliverBytes(a.addr, fresh ? a.frame(bytes) : bytes);
    if (i % 100 === 0) h.advance(50);
  }
  counted(h.lobby.stats());
  assert.ok((h.lobby.stats().drops["bad-mac"] ?? 0) > 0, "corrupted frames fail their tag");
  assert.is(expectKind(a.introduce([b.peer]).find((r) => r.kind === NatKind.Introduced), NatKind.Introduced).results[0]?.status, IntroStatus.Introduced);
});

test.run();
