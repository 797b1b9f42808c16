/**
 * Hostile input to a Peer (SPEC "Standards that come with real"; STYLE.md 10, 15): seeded
 * random bytes, one-byte corruptions of real captured datagrams, forged replies from
 * unknown addresses, forged relay data from a non-link address. Nothing may throw (the
 * simulator turns a throw into a failed run), every datagram that does not decode is a
 * counted drop, and afterwards a broadcast from every member still reaches every member
 * exactly once.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Address } from "../lib/endpoint.ts";
import { randomInt, SeededRandom } from "../lib/rng.ts";
import { decode, DEFAULT_MAX_DATAGRAM_BYTES, encode, Kind, newRelayHeader, readRelay, relaySizeBound, writeRelay, type Message } from "../wire/index.ts";
import { isTaggedControl } from "../lib/peer/core.ts";
import { broadcastFrom, capture, captureRaw, notExactlyOnce, ofKind, sealAs, ticketOf } from "./support/peer-scenarios.ts";
import { peerAccounting } from "./support/fuzz/bounds.ts";
import { LOBBY, SimGrid, type PeerNode } from "./support/sim-grid.ts";

const MALLORY = "mallory";

function totalDrops(p: PeerNode): number {
  return Object.values(p.endpoint.stats().drops).reduce((a, b) => a + b, 0);
}

/** Hands `bytes` to `victim` as if from `from`, returning how many drops it counted. */
function inject(victim: PeerNode, from: Address, bytes: Uint8Array): number {
  const before = totalDrops(victim);
  victim.with((p, now) => p.handleDatagram(now, from, bytes));
  return totalDrops(victim) - before;
}

/** Whether the bytes are a well-formed datagram (the Peer takes Data through its own envelope decoder). */
function wellFormed(bytes: Uint8Array): boolean {
  if (bytes.length >= 3 && bytes[0] === 0x99 && bytes[1] === 1 && bytes[2] === Kind.Data) return readRelay(bytes, newRelayHeader()) === null;
  return decode(bytes, DEFAULT_MAX_DATAGRAM_BYTES, { natTraversal: true }).ok; // the peer speaks NAT traversal (PROTOCOL.md 4.7)
}

/** A settled grid of 8 limit-4 peers; peer-1 is the target. */
function grid(seed: number): { g: SimGrid; victim: PeerNode } {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4 } });
  for (let i = 0; i < 8; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  return { g, victim: g.at("peer-1") };
}

/** After the attack: let the grid recover, then every member broadcasts once. */
function recoverAndBroadcast(g: SimGrid): { origin: number; seq: number }[] {
  g.sim.runFor(5_000); // links to forged peers miss their pings and close
  g.settle(2, 20_000);
  const sent = g.live().map((p) => broadcastFrom(p));
  g.sim.runFor(1_000);
  // The drop table's invariant (lib/peer/drops.ts), for the victim and every other peer.
  const unaccounted = g.peers.flatMap((p) => peerAccounting(p).map((e) => `${p.address}: ${e}`));
  assert.equal(unaccounted, [], "every datagram accepted or dropped under one reason");
  return sent;
}

test("hostile: seeded random bytes from any address never throw; every one that does not decode is a counted drop", () => {
  const { g, victim } = grid(0xbad);
  const rng = new SeededRandom(0xbad);
  const sources = [MALLORY, LOBBY, ...victim.endpoint.linkPeers.map((id) => g.byId(id).address)];
  const kinds = Object.values(Kind);
  let malformed = 0;
  for (let i = 0; i < 3_000; i++) {
    const len = rng.next() < 0.7 ? randomInt(rng, 48) : randomInt(rng, 1_400);
    const bytes = new Uint8Array(len);
    for (let k = 0; k < len; k++) bytes[k] = randomInt(rng, 256);
    // Half of them look like a datagram at first glance, to get past the first checks.
    if (len >= 3 && rng.next() < 0.5) {
      bytes[0] = 0x90 | randomInt(rng, 16);
      bytes[1] = 1;
      bytes[2] = kinds[randomInt(rng, kinds.length)] as number;
    }
    const from = sources[randomInt(rng, sources.length)] as Address;
    const copy = bytes.slice(); // the Peer owns (and may rewrite) what it is given
    const dropped = inject(victim, from, bytes);
    if (!wellFormed(copy)) {
      malformed++;
      assert.is(dropped, 1, `datagram ${i} (${len} bytes from ${from}) counted once`);
    }
  }
  assert.ok(malformed > 2_900, `${malformed} malformed`);
  const drops = victim.endpoint.stats().drops;
  assert.ok(Object.keys(drops).length >= 5, `drops by reason: ${JSON.stringify(drops)}`);
  assert.equal(notExactlyOnce(g, recoverAndBroadcast(g)), []);
});

test("hostile: one-byte corruptions of real captured datagrams, delivered from their real senders, never throw and are counted", () => {
  const g = new SimGrid({ seed: 0xc0de, peer: { connectionLimit: 4 } });
  const captured = captureRaw(g, () => true);
  for (let i = 0; i < 8; i++) g.addPeer();
  g.settle(2);
  for (const p of g.live()) broadcastFrom(p);
  g.sim.runFor(2_000);
  g.taps.length = 0;
  const victim = g.at("peer-1");
  const gridId = g.gridId;
  // Up to 12 datagrams of every kind seen, each corrupted at 4 seeded positions.
  const byKind = new Map<number, typeof captured>();
  for (const c of captured) {
    const k = c.bytes[2] as number;
    const list = byKind.get(k) ?? [];
    if (list.length < 12) list.push(c);
    byKind.set(k, list);
  }
  // Lobby messages after the handshake all travel as one kind, the session frame (PROTOCOL.md 6.10).
  assert.ok(byKind.size >= 17 && byKind.has(Kind.SessionFrame), `${byKind.size} kinds captured`);
  const rng = new SeededRandom(0xc0de);
  const header = newRelayHeader();
  /** (origin, seq) pairs claimed by a corrupted relay envelope that still decoded. */
  const forged = new Set<string>();
  let injected = 0;
  let counted = 0;
  const deliveredBefore = victim.endpoint.stats().delivered;
  for (const list of byKind.values()) {
    for (const c of list) {
      const kind = c.bytes[2] as number;
      const tagged = kind === Kind.Data || isTaggedControl(kind);
      for (let n = 0; n < 4; n++) {
        const bytes = c.bytes.slice();
        const at = randomInt(rng, bytes.length);
        bytes[at] = ((bytes[at] as number) + 1 + randomInt(rng, 255)) & 0xff; // always a different value
        if (bytes[2] === Kind.Data && readRelay(bytes, header) === null && header.grid === gridId) forged.add(`${header.origin}:${header.seq}`);
        const ok = wellFormed(bytes);
        const dropped = inject(victim, c.from, bytes);
        injected++;
        // The tag covers every byte of a peer datagram but relay data's hop byte (offset 3),
        // so any other change is a counted drop even when the result still decodes.
        if (!ok || (tagged && !(kind === Kind.Data && at === 3))) {
          counted++;
          assert.is(dropped, 1, `corrupted ${c.from} -> ${c.to} kind ${kind} at byte ${at}: one counted drop`);
        }
      }
    }
  }
  assert.ok(injected > 500 && counted > injected / 2, `${counted} of ${injected} corruptions were counted drops`);
  // Authenticated relay: a corrupted envelope that still decodes fails its tag, so none of
  // the identities it claims is delivered or taken from the real broadcasts.
  assert.ok(forged.size > 0, "some corrupted envelopes still decoded");
  assert.is(victim.endpoint.stats().delivered, deliveredBefore, "no corrupted datagram was delivered");
  const sent = recoverAndBroadcast(g);
  assert.equal(notExactlyOnce(g, sent), []);
  for (const [address, m] of g.deliveries) for (const [id, n] of m) assert.ok(n <= 1, `${address} got ${id} ${n} times`);
});

test("hostile: forged replies from an unknown address to every request of a joining peer change nothing", () => {
  const { g } = grid(0xf0);
  const requests = capture(g, [Kind.Hello, Kind.ListGrids, Kind.CreateGrid, Kind.SelectGrid, Kind.Join, Kind.Connect, Kind.Force, Kind.Available, Kind.ConnUpdate]);
  const toMallory: string[] = [];
  g.taps.push((_now, from, to) => {
    if (to === MALLORY) toMallory.push(from);
  });
  const j = g.addPeer();
  let forgedCount = 0;
  let seen = 0;
  const tag = new Uint8Array(9).fill(7); // mallory holds no grid key: any tag is a guess
  const forge = (m: Message): Message | undefined => {
    if (!("req" in m)) return undefined;
    const req = m.req;
    const gridId = "grid" in m ? m.grid : 1;
    switch (m.kind) {
      case Kind.Hello:
        return { kind: Kind.Welcome, req, session: 0xdead, heartbeatMs: 10, eph: new Uint8Array(32).fill(1), identity: new Uint8Array(32).fill(2), signature: new Uint8Array(64).fill(3) };
      case Kind.ListGrids:
        return { kind: Kind.GridList, req, total: 1, offset: 0, grids: [{ grid: 7, name: "arena", members: 1, capacity: 9, limit: 4, meta: "" }] };
      case Kind.CreateGrid:
        return { kind: Kind.GridCreated, req, grid: 7, name: "arena" };
      case Kind.SelectGrid:
        return { kind: Kind.Members, req, grid: gridId, peer: 99, part: 0, parts: 1, members: [{ peer: 98, addr: MALLORY, links: 0 }], nonce: 1, sealed: new Uint8Array(40) };
      case Kind.Join:
        return { kind: Kind.JoinReply, req, grid: gridId, from: 98, to: 99, positive: true, links: 0, limit: 8, tag };
      case Kind.Available:
        return { kind: Kind.AvailableReply, req, grid: gridId, from: 98, to: 99, positive: true, links: 0, tag };
      case Kind.Connect:
        return { kind: Kind.ConnectReply, req, grid: gridId, from: 98, to: 99, accepted: true, nonce: new Uint8Array(8), ticket: new Uint8Array(80), tag };
      case Kind.Force:
        return { kind: Kind.ForceReply, req, grid: gridId, from: 98, to: 99, ok: true, nonce: new Uint8Array(8), ticket: new Uint8Array(80), tag };
      case Kind.ConnUpdate:
        return { kind: Kind.Error, req, code: 2, detail: "go away" };
      default:
        return undefined;
    }
  };
  // Each request gets a forged answer from mallory 1 ms after it leaves, ahead of the real one.
  const until = g.sim.now + 4_000;
  while (g.sim.now < until) {
    g.sim.runFor(1);
    for (; seen < requests.length; seen++) {
      const r = requests[seen];
      if (r === undefined || r.from !== j.address) continue;
      const reply = forge(r.msg);
      if (reply === undefined) continue;
      assert.is(inject(j, MALLORY, encode(reply)), 1, `forged answer to ${r.msg.kind} dropped`);
      forgedCount++;
    }
  }
  assert.ok(forgedCount >= 6, `${forgedCount} forged replies`);
  // Lobby-kind forgeries come from another address than the lobby's; peer-kind ones fail their tag first.
  const d = j.endpoint.stats().drops;
  const tagDrops = Object.entries(d).filter(([k]) => k.startsWith("tag-")).reduce((a, [, v]) => a + v, 0);
  assert.is((d["not-from-lobby"] ?? 0) + tagDrops, forgedCount);
  assert.is(j.endpoint.phase, "member", "the real replies still got it in");
  assert.ok(j.endpoint.id !== 99 && !j.endpoint.linkPeers.includes(98));
  assert.equal(toMallory, [], "nothing was ever sent to the forger");
  assert.ok(ofKind(requests, Kind.Join).some((c) => c.from === j.address));
  assert.equal(notExactlyOnce(g, recoverAndBroadcast(g)), []);
});

test("hostile: relay data forged from a non-link address is dropped, not delivered, and does not take the identity it claims", () => {
  const { g, victim } = grid(0xda7a);
  const origin = g.byId(Math.max(...g.live().map((p) => p.endpoint.id)));
  const stranger = g.live().find((p) => p !== victim && !victim.endpoint.linkPeers.includes(p.endpoint.id));
  assert.ok(stranger !== undefined && origin !== victim);
  const nextSeq = origin.endpoint.stats().broadcasts + 1;
  const payload = new Uint8Array([6, 6, 6]);
  const forgeData = (seq: number): Uint8Array => {
    const buf = new Uint8Array(relaySizeBound(payload.length));
    return buf.subarray(0, writeRelay(buf, 0, 0, g.gridId, origin.endpoint.id, seq, null, payload, new Uint8Array(9)));
  };
  const deliveredBefore = victim.endpoint.stats().delivered;
  for (const from of [MALLORY, stranger.address, LOBBY]) {
    for (const seq of [nextSeq, nextSeq + 1, nextSeq + 1_000_000]) assert.is(inject(victim, from, forgeData(seq)), 1);
  }
  assert.is(victim.endpoint.stats().drops["not-linked"], 9);
  assert.is(victim.endpoint.stats().delivered, deliveredBefore, "no data event");
  // The real broadcasts with those sequence values arrive exactly once, everywhere.
  const sent = [broadcastFrom(origin), broadcastFrom(origin)];
  assert.equal(sent.map((s) => s.seq), [nextSeq, nextSeq + 1]);
  g.sim.runFor(1_000);
  assert.equal(notExactlyOnce(g, sent), []);
});

test("regression: a Connect or Force from a linked neighbour's address naming another peer id is refused", () => {
  // It used to open a second link at that address: data from the neighbour was taken as
  // from the phantom id (and relayed back to its sender), and when the phantom link timed
  // out its close tore down the real one.
  const { g, victim } = grid(0xa11a5);
  g.sim.runFor(1_000);
  const nb = g.byId(victim.endpoint.linkPeers[0] as number);
  const before = [...victim.endpoint.linkPeers];
  const replies = capture(g, [Kind.ConnectReply, Kind.ForceReply]);
  const disconnects = capture(g, [Kind.Disconnect]);
  // Sent by the neighbour itself (it holds the grid key), naming ids that are not its own.
  const tag = new Uint8Array(9);
  inject(victim, nb.address, sealAs(nb, { kind: Kind.Connect, req: 1, grid: g.gridId, from: 77, to: victim.endpoint.id, nonce: new Uint8Array(8).fill(1), ticket: ticketOf(nb), tag }));
  inject(victim, nb.address, sealAs(nb, { kind: Kind.Force, req: 2, grid: g.gridId, from: 78, to: victim.endpoint.id, nonce: new Uint8Array(8).fill(2), ticket: ticketOf(nb), tag }));
  assert.equal(victim.endpoint.linkPeers, before, "no phantom link, nothing dropped to make room");
  assert.equal(replies.map((c) => ("accepted" in c.msg ? c.msg.accepted : "ok" in c.msg ? c.msg.ok : undefined)), [false, false]);
  // Data from the neighbour is still its own: relayed on, never back (the inspector checks claim 15).
  const sent = [broadcastFrom(nb), broadcastFrom(victim)];
  g.sim.runFor(5_000);
  assert.equal(notExactlyOnce(g, sent), []);
  assert.ok(victim.endpoint.linkPeers.includes(nb.endpoint.id), "the real link survives");
  assert.equal(disconnects.filter((c) => c.from === victim.address), [], "it never closed a link over it");
});

test("regression: a reply from the asked member's address naming another peer id is dropped", () => {
  // It used to be taken as the answer: a link opened under the wrong id and the real
  // member's slot stayed held in `pending` for good (never asked again, one slot lost).
  const { g } = grid(0x5107);
  const connects = capture(g, [Kind.Connect, Kind.Force]);
  const j = g.addPeer();
  let seen = 0;
  let forged = 0;
  const until = g.sim.now + 3_000;
  while (g.sim.now < until) {
    g.sim.runFor(1);
    for (; seen < connects.length; seen++) {
      const c = connects[seen];
      if (c === undefined || c.from !== j.address || c.msg.kind === Kind.Data) continue;
      // Sent by the asked member itself (an insider with the grid key), naming another id.
      const member = g.at(c.to);
      const tag = new Uint8Array(9);
      const reply: Message =
        c.msg.kind === Kind.Connect
          ? { kind: Kind.ConnectReply, req: c.msg.req, grid: g.gridId, from: 77, to: j.endpoint.id, accepted: true, nonce: new Uint8Array(8), ticket: ticketOf(member), tag }
          : { kind: Kind.ForceReply, req: (c.msg as { req: number }).req, grid: g.gridId, from: 77, to: j.endpoint.id, ok: true, nonce: new Uint8Array(8), ticket: ticketOf(member), tag };
      assert.is(inject(j, c.to, sealAs(member, reply)), 1);
      forged++;
    }
  }
  assert.ok(forged >= 1);
  assert.is(j.endpoint.stats().drops["unmatched-reply"], forged);
  assert.not.ok(j.endpoint.linkPeers.includes(77));
  const asked = [...new Set(connects.filter((c) => c.from === j.address).map((c) => g.at(c.to).endpoint.id))];
  for (const id of asked) assert.ok(j.endpoint.linkPeers.includes(id), `linked to ${id}, which it asked`);
  assert.equal(notExactlyOnce(g, recoverAndBroadcast(g)), []);
});

test.run();
