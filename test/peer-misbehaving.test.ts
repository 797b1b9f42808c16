/**
 * Misbehaving and unadmitted peers (issue 6, point 4 and "Done when": "a neighbour that
 * floods or keeps sending invalid datagrams is disconnected and reported to the lobby";
 * "a peer without a ticket cannot open a link or get a byte relayed"; PROTOCOL.md 6.3,
 * 6.6, 6.7; docs/SECURITY.md), on real Peers and a real Lobby in the simulator.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Address } from "../lib/endpoint.ts";
import { DEFAULT_MAX_INVALID_PER_LINK, DEFAULT_STRANGER_BURST } from "../lib/peer/config.ts";
import { issueTicket } from "../lib/security/ticket.ts";
import { DisconnectReason, encode, Kind, relaySizeBound, writeRelay, type Message } from "../wire/index.ts";
import { insiderOf } from "../lib/peer/insider.ts";
import { writeTag } from "../lib/security/grid-keys.ts";
import { broadcastFrom, capture, linkEvents, notExactlyOnce, ofKind, sealAs, ticketOf } from "./support/peer-scenarios.ts";
import { LOBBY, SimGrid, seededCrypto, type PeerNode } from "./support/sim-grid.ts";

const MALLORY = "mallory";
const NO_TAG = new Uint8Array(9);

/** A settled grid of `n` peers; peer-1 is the one under attack. */
function grid(seed: number, n: number, peer: { connectionLimit?: number; maxInvalidPerLink?: number } = {}): { g: SimGrid; victim: PeerNode } {
  const g = new SimGrid({ seed, peer: { connectionLimit: 3, ...peer } });
  for (let i = 0; i < n; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(1_500);
  return { g, victim: g.at("peer-1") };
}

function inject(victim: PeerNode, from: Address, bytes: Uint8Array): void {
  victim.with((p, now) => p.handleDatagram(now, from, bytes));
}

function dropsOf(p: PeerNode, prefix: string): number {
  return Object.entries(p.endpoint.stats().drops)
    .filter(([k]) => k.startsWith(prefix))
    .reduce((a, [, v]) => a + v, 0);
}

/** Relay data from `origin` with a payload, its tag zeroed (for the caller to sign or spoil). */
function dataBytes(gridId: number, origin: number, seq: number, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(relaySizeBound(payload.length));
  return buf.subarray(0, writeRelay(buf, 0, 0, gridId, origin, seq, null, payload, NO_TAG)).slice();
}

/**
 * Invalid datagrams only a member can send: bodies that do not decode, under a valid tag
 * (so they are authenticated as `nb`'s): a 0xc1 byte (malformed), a wrong element count
 * (wrong-arity), a nil where a uint goes (wrong-type). Each is re-signed after the change.
 */
function invalidFrom(g: SimGrid, nb: PeerNode, n: number, to = 1): Uint8Array[] {
  const out: Uint8Array[] = [];
  const keyring = insiderOf(nb.endpoint).keyring;
  for (let i = 0; i < n; i++) {
    const b = sealAs(nb, { kind: Kind.Join, req: 1000 + i, grid: g.gridId, from: nb.endpoint.id, to: to & 0x7f, tag: NO_TAG });
    const toAt = b.length - 11 - 1; // the last byte before the tag: `to` (a fixint id)
    switch (i % 3) {
      case 0:
        b[toAt] = 0xc1; // never valid MessagePack
        break;
      case 1:
        b[0] = 0x98; // says 8 elements, has 7
        break;
      default:
        b[toAt] = 0xc0; // nil where the peer id goes
    }
    writeTag(keyring, b, b.length - 11, -1);
    out.push(b);
  }
  return out;
}

/** What anyone can send from a neighbour's address: garbage and forged tags (no grid key). */
function spoofed(g: SimGrid, nb: PeerNode, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const b = encode({ kind: Kind.Ping, req: 2000 + i, grid: g.gridId, from: nb.endpoint.id, to: 1, ctr: i + 1, auth: new Uint8Array(8), tag: new Uint8Array(9).fill(i & 0xff) });
    out.push(i % 2 === 0 ? b : new Uint8Array([0xc1, i & 0xff, 0]));
  }
  return out;
}

test(`a linked neighbour sending more than maxInvalidPerLink (${DEFAULT_MAX_INVALID_PER_LINK}) invalid datagrams in one ping interval is closed as misbehaving, and the lobby hears it`, () => {
  const { g, victim } = grid(0x3b1, 6);
  const nb = g.byId(victim.endpoint.linkPeers[0] as number);
  const events = linkEvents(g);
  const updates = capture(g, [Kind.ConnUpdate, Kind.Disconnect]);
  const bad = invalidFrom(g, nb, DEFAULT_MAX_INVALID_PER_LINK + 1);
  for (const b of bad.slice(0, DEFAULT_MAX_INVALID_PER_LINK)) inject(victim, nb.address, b);
  assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), `${DEFAULT_MAX_INVALID_PER_LINK} invalid datagrams: still linked`);
  assert.equal(events.filter((e) => e.type === "closed"), []);
  inject(victim, nb.address, bad[DEFAULT_MAX_INVALID_PER_LINK] as Uint8Array);
  assert.not.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), "one more: closed");
  const closed = events.filter((e) => e.type === "closed" && e.address === victim.address);
  assert.equal(closed.map((e) => [e.peer, e.reason]), [[nb.endpoint.id, "misbehaving"]]);
  // Every one of them was counted under its reason.
  const s = victim.endpoint.stats().drops;
  assert.ok((s["malformed"] ?? 0) >= 10 && (s["wrong-arity"] ?? 0) >= 10 && (s["wrong-type"] ?? 0) >= 10, JSON.stringify(s));
  // The neighbour is told why, and the lobby hears the link closed (claim 51).
  g.sim.runFor(500);
  const told = ofKind(updates, Kind.Disconnect).filter((c) => c.from === victim.address && c.to === nb.address);
  assert.equal(told.map((c) => c.msg.reason), [DisconnectReason.Misbehaving]);
  const reported = ofKind(updates, Kind.ConnUpdate).filter((c) => c.from === victim.address && c.to === LOBBY);
  assert.ok(reported.some((c) => c.msg.other === nb.endpoint.id && !c.msg.open), "ConnUpdate open=false to the lobby");
  assert.not.ok((g.lobbyGraph().get(victim.endpoint.id) ?? []).includes(nb.endpoint.id), "the lobby's graph lost the link");
  assert.not.ok(nb.endpoint.linkPeers.includes(victim.endpoint.id), "the neighbour closed its side too");
  // The grid heals around it and still delivers everything exactly once.
  g.settle(2, 30_000);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("fewer than maxInvalidPerLink invalid datagrams per ping interval never close the link, however many in all", () => {
  const limit = 5;
  const { g, victim } = grid(0x3b2, 6, { maxInvalidPerLink: limit });
  const nb = g.byId(victim.endpoint.linkPeers[0] as number);
  const events = linkEvents(g);
  // limit per interval for 6 intervals: 30 invalid datagrams, the counter resets at each ping tick.
  for (let round = 0; round < 6; round++) {
    for (const b of invalidFrom(g, nb, limit)) inject(victim, nb.address, b);
    assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), `round ${round}: still linked`);
    g.sim.runFor(1_001); // past the next ping tick
  }
  assert.equal(events.filter((e) => e.type === "closed"), []);
  // Spoofed garbage from its address (anyone can send it, nobody can tag it) is dropped and
  // counted but never held against the link: otherwise an outsider could cut any link.
  for (const b of spoofed(g, nb, 10 * limit)) inject(victim, nb.address, b);
  assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), "spoofed garbage does not close a link");
  // Honest traffic over the link still flows.
  const sent = [broadcastFrom(nb), broadcastFrom(victim)];
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
  // limit + 1 in one interval closes it (the option is honoured).
  for (const b of invalidFrom(g, nb, limit + 1)) inject(victim, nb.address, b);
  assert.equal(events.filter((e) => e.type === "closed").map((e) => e.reason), ["misbehaving"]);
});

test("a stranger flooding a peer is rate-limited (counted as rate-limited) while the peer keeps relaying and a newcomer still joins", () => {
  const { g, victim } = grid(0x3b3, 6);
  const before = victim.endpoint.stats();
  const rateLimitedBefore = before.drops["rate-limited"] ?? 0;
  const dropsBefore = Object.values(before.drops).reduce((a, b) => a + b, 0);
  // Half the flood is tagged under the grid key (a member sending from an address that is not
  // a link): the strangers' bucket is charged only once the tag verified. The other half is
  // untagged garbage: dropped at the tag check, charged to nobody (issue 15: a spoofer must
  // not be able to spend the budget of the address it forges).
  const insider = g.live().find((p) => p !== victim) as PeerNode;
  const join = sealAs(insider, { kind: Kind.Join, req: 1, grid: g.gridId, from: 99, to: victim.endpoint.id, tag: NO_TAG });
  const sent: { origin: number; seq: number }[] = [];
  let newcomer: PeerNode | undefined;
  // 2,000 datagrams in one second of virtual time: 100 every 50 ms, while members broadcast.
  for (let step = 0; step < 20; step++) {
    for (let i = 0; i < 100; i++) inject(victim, MALLORY, i % 2 === 0 ? join.slice() : new Uint8Array([0x96, 1, 0x10, i]));
    const live = g.live();
    sent.push(broadcastFrom(live[step % live.length] as PeerNode));
    if (step === 5) newcomer = g.addPeer();
    g.sim.runFor(50);
  }
  const after = victim.endpoint.stats();
  const limited = (after.drops["rate-limited"] ?? 0) - rateLimitedBefore;
  // Of the 1,000 tagged: the burst, then 20 per second (the defaults), about 60, get past the limit.
  assert.ok(limited >= 1_000 - DEFAULT_STRANGER_BURST - 25 && limited <= 1_000 - DEFAULT_STRANGER_BURST, `${limited} rate-limited`);
  assert.ok((after.drops["tag-missing"] ?? 0) >= 1_000, "the untagged half is dropped at the tag check, charged to nobody");
  const dropped = Object.values(after.drops).reduce((a, b) => a + b, 0) - dropsBefore;
  // Every flood datagram is a counted drop but the ~60 tagged Joins the bucket let through (answered).
  assert.ok(dropped >= 1_000 + limited, `every flood datagram over the limit is a counted drop (${dropped})`);
  assert.ok(after.relayed > before.relayed, "it kept relaying");
  g.runUntil(() => newcomer?.endpoint.phase === "member", 10_000);
  g.sim.runFor(1_000);
  const members = g.live().filter((p) => p !== newcomer);
  assert.equal(notExactlyOnce(g, sent, members), [], "every broadcast during the flood reached every member once");
});

test("a peer with the stolen grid key but no ticket for its own address cannot open a link, asking or answering", () => {
  const { g, victim } = grid(0x3b4, 3, { connectionLimit: 4 }); // everyone has room for more
  const member = g.at("peer-2");
  const events = linkEvents(g);
  const toMallory: Message[] = [];
  const replies = capture(g, [Kind.ConnectReply, Kind.ForceReply, Kind.Disconnect, Kind.Connect]);
  g.taps.push((_now, _from, to, bytes) => {
    if (to === MALLORY) toMallory.push({ kind: bytes[2] } as Message);
  });
  const links = [...victim.endpoint.linkPeers];
  const epoch = insiderOf(victim.endpoint).keyring.currentEpoch as number;
  const forged = issueTicket(seededCrypto(9), new Uint8Array(32).fill(9), { grid: g.gridId, peer: 99, address: MALLORY, epoch });
  const tickets: [string, Uint8Array, number][] = [
    ["malformed", new Uint8Array(0), 99], // no ticket at all
    ["wrong-address", ticketOf(member), member.endpoint.id], // another member's ticket (its address)
    ["bad-signature", forged, 99], // a ticket for its own address, not signed by the lobby
  ];
  let req = 1;
  for (const [, ticket, from] of tickets) {
    // Tagged under the real grid key: the tag check passes, the ticket check must not.
    inject(victim, MALLORY, sealAs(member, { kind: Kind.Connect, req: req++, grid: g.gridId, from, to: victim.endpoint.id, nonce: new Uint8Array(8).fill(req), ticket, tag: NO_TAG }));
    inject(victim, MALLORY, sealAs(member, { kind: Kind.Force, req: req++, grid: g.gridId, from, to: victim.endpoint.id, nonce: new Uint8Array(8).fill(req), ticket, tag: NO_TAG }));
  }
  const d = victim.endpoint.stats().drops;
  for (const [verdict] of tickets) assert.is(d[`ticket-${verdict}`], 2, `ticket-${verdict}: ${JSON.stringify(d)}`);
  g.sim.runFor(10);
  const answers = replies.filter((c) => c.to === MALLORY);
  assert.equal(answers.map((c) => ("accepted" in c.msg ? c.msg.accepted : "ok" in c.msg ? c.msg.ok : "?")), [false, false, false, false, false, false]);
  assert.equal(victim.endpoint.linkPeers, links, "no link opened, none dropped to make room");

  // Answering. A RepairHint forged at the lobby's address no longer makes the victim ask
  // mallory: lobby messages are authenticated now (PROTOCOL.md 6.10).
  inject(victim, LOBBY, encode({ kind: Kind.RepairHint, grid: g.gridId, peer: victim.endpoint.id, force: false, targets: [{ peer: member.endpoint.id + 50, addr: MALLORY }] }));
  assert.is(victim.endpoint.stats().drops.unauthenticated, 1);
  assert.equal(replies.filter((c) => c.to === MALLORY && c.msg.kind === Kind.Connect), []);
  // So mallory makes itself known as any member can, with a Join under the grid key; the
  // victim, below its limit, asks it in its next connection-available round (claim 36);
  // mallory says yes, and its "yes" to the Connect shows another member's ticket: refused.
  const asks = capture(g, [Kind.Available]);
  const fake = member.endpoint.id + 50;
  inject(victim, MALLORY, sealAs(member, { kind: Kind.Join, req: req++, grid: g.gridId, from: fake, to: victim.endpoint.id, tag: NO_TAG }));
  g.runUntil(() => asks.some((c) => c.to === MALLORY), 5_000, 1);
  const av = ofKind(asks, Kind.Available).find((c) => c.to === MALLORY);
  assert.ok(av !== undefined);
  inject(victim, MALLORY, sealAs(member, { kind: Kind.AvailableReply, req: av.msg.req, grid: g.gridId, from: fake, to: victim.endpoint.id, positive: true, links: 0, tag: NO_TAG }));
  // It asks the lobby to introduce the target first (PROTOCOL.md 4.7): NotMember, so it asks as in 4.2.
  g.runUntil(() => replies.some((c) => c.to === MALLORY && c.msg.kind === Kind.Connect), 1_000, 1);
  const ask = replies.find((c) => c.to === MALLORY && c.msg.kind === Kind.Connect);
  assert.ok(ask !== undefined && ask.msg.kind === Kind.Connect, "the victim asked mallory");
  inject(victim, MALLORY, sealAs(member, { kind: Kind.ConnectReply, req: ask.msg.req, grid: g.gridId, from: member.endpoint.id + 50, to: victim.endpoint.id, accepted: true, nonce: new Uint8Array(8).fill(7), ticket: ticketOf(member), tag: NO_TAG }));
  assert.is(victim.endpoint.stats().drops["ticket-wrong-peer"], 1);
  g.sim.runFor(10);
  const refused = ofKind(replies, Kind.Disconnect).filter((c) => c.from === victim.address && c.to === MALLORY);
  assert.equal(refused.map((c) => c.msg.reason), [DisconnectReason.Misbehaving]);
  assert.equal(victim.endpoint.linkPeers, links);
  assert.equal(events.filter((e) => e.type === "open" && e.address === victim.address), [], "no linkOpen ever");
  assert.not.ok(toMallory.some((m) => m.kind === Kind.Data), "not one datagram of relay data went to mallory");
});

test("a peer without the grid key cannot get a byte relayed: its Data is dropped at the first hop with a tag-* reason", () => {
  const { g, victim } = grid(0x3b5, 6);
  const nb = g.byId(victim.endpoint.linkPeers[0] as number);
  const marker = new Uint8Array([0x6d, 0x61, 0x6c, 0x6c, 0x6f, 0x72, 0x79, 0x21]); // "mallory!"
  const carried: string[] = [];
  g.taps.push((_now, from, to, bytes) => {
    if (bytes[2] === Kind.Data && Buffer.from(bytes).includes(Buffer.from(marker))) carried.push(`${from}->${to}`);
  });
  const deliveredBefore = g.live().map((p) => p.endpoint.stats().delivered);
  const origin = 77;
  // From its own address: not a link (claim 14).
  inject(victim, MALLORY, dataBytes(g.gridId, origin, 1, marker));
  assert.is(victim.endpoint.stats().drops["not-linked"], 1);
  // Spoofing a linked neighbour's address: the tag is what stops it.
  const epochByte = (insiderOf(victim.endpoint).keyring.currentEpoch as number) & 0xff;
  const zeroTag = dataBytes(g.gridId, origin, 2, marker); // tag bytes all zero: epoch 0 is not held
  const guessed = dataBytes(g.gridId, origin, 3, marker);
  guessed[guessed.length - 9] = epochByte; // the right epoch byte, a guessed SipHash
  for (let i = 1; i <= 8; i++) guessed[guessed.length - i] = (i * 37) & 0xff;
  const tagDropsBefore = dropsOf(victim, "tag-");
  inject(victim, nb.address, zeroTag);
  inject(victim, nb.address, guessed);
  assert.is(dropsOf(victim, "tag-") - tagDropsBefore, 2);
  assert.is(victim.endpoint.stats().drops["tag-unknown-epoch"], 1);
  assert.is(victim.endpoint.stats().drops["tag-bad-tag"], 1);
  // Control messages without the key are dropped before decoding: no answer at all.
  const toMallory: string[] = [];
  g.taps.push((_now, from, to) => {
    if (to === MALLORY) toMallory.push(from);
  });
  inject(victim, MALLORY, encode({ kind: Kind.Join, req: 5, grid: g.gridId, from: origin, to: victim.endpoint.id, tag: NO_TAG }));
  g.sim.runFor(1_000);
  assert.equal(toMallory, [], "nothing was ever sent back");
  assert.equal(carried, [], "no link ever carried the payload");
  assert.equal(g.live().map((p) => p.endpoint.stats().delivered), deliveredBefore, "no member delivered it");
  assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), "two invalid datagrams do not close the link");
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("regression: a Members reply whose grant does not open (forged at the lobby's address, or corrupted) no longer stalls a join", () => {
  // It used to be taken as the answer to the SelectGrid before its grant was checked: the
  // grant failed ("bad-grant"), the real Members then found no request ("unmatched-reply"),
  // and the joining peer sat in phase "lobby" for good, with no timer and no error event.
  const { g } = grid(0x3b6, 3);
  const selects = capture(g, [Kind.SelectGrid]);
  const j = g.addPeer();
  g.runUntil(() => selects.some((c) => c.from === j.address), 5_000, 1);
  const sel = ofKind(selects, Kind.SelectGrid).find((c) => c.from === j.address);
  assert.ok(sel !== undefined);
  // The on-path forger answers first: right req, right source, a grant that does not open.
  // Outside a session frame it is not even looked at now (PROTOCOL.md 6.10); either way the
  // SelectGrid stays outstanding.
  inject(j, LOBBY, encode({ kind: Kind.Members, req: sel.msg.req, grid: sel.msg.grid, peer: 9, part: 0, parts: 1, members: [], nonce: 1, sealed: new Uint8Array(40) }));
  assert.is(j.endpoint.stats().drops.unauthenticated, 1);
  g.runUntil(() => j.endpoint.phase === "member" && j.endpoint.linkPeers.length > 0, 10_000);
  g.settle(2, 20_000);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test.run();
