/**
 * Redundancy lists and repair against hostile members (docs/SECURITY.md: an insider holds the
 * grid key; an address spoofer can also forge a neighbour's source address): a Prune speaks
 * only for its sender, so bogus Prunes silence nobody else; Prunes forged from a victim's
 * address cost it a quiet spell and a repair, not a message; a RepairRequest is answered only
 * on a link, with at most 128 Repairs and within the link's byte budget, so it can neither
 * amplify nor be turned against a third party; malformed or misaddressed relay-family
 * datagrams are counted drops.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_REPAIR_BYTES_PER_SECOND } from "../lib/peer/config.ts";
import { Kind, type Message } from "../wire/index.ts";
import { broadcastFrom, NO_AUTH, notExactlyOnce, sealAs, sealOnLinkAs } from "./support/peer-scenarios.ts";
import { SimGrid, type PeerNode } from "./support/sim-grid.ts";

type Sent = { origin: number; seq: number };

function grid(seed: number, n = 12): SimGrid {
  const g = new SimGrid({ seed, peer: { connectionLimit: 4, redundancy: "prune" } });
  g.keepEvents = false;
  for (let i = 0; i < n; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  for (const p of g.peers) grids.set(p, g);
  return g;
}

function play(g: SimGrid, from: readonly PeerNode[], ms: number, each?: () => void): Sent[] {
  const sent: Sent[] = [];
  for (let t = 0; t < ms; t += 100) {
    each?.();
    for (const p of from) if (p.alive && p.endpoint.phase === "member") sent.push(broadcastFrom(p));
    g.sim.runFor(100);
  }
  return sent;
}

/** Hands `bytes` to `to` as if sent from `from`; the relay inspector sees it as sent (a request it may answer). */
const inject = (to: PeerNode, from: string, bytes: Uint8Array): void =>
  to.with((p, now) => {
    grids.get(to)?.inspector.inspect(now, from, to.address, bytes);
    p.handleDatagram(now, from, bytes);
  });
const grids = new Map<PeerNode, SimGrid>();

function balanced(g: SimGrid): string[] {
  return g.peers
    .map((p) => p.endpoint.stats())
    .filter((s) => s.datagramsIn !== s.accepted + Object.values(s.drops).reduce((a, b) => a + b, 0))
    .map((s) => `${s.peer}: in ${s.datagramsIn} accepted ${s.accepted} drops ${JSON.stringify(s.drops)}`);
}

test("hostile: a member that prunes every origin at all its neighbours, again and again, silences only itself: every other member gets every broadcast exactly once", () => {
  const g = grid(0xbad1);
  const members = g.live();
  const mallory = members[3] as PeerNode;
  const origins = members.map((p) => p.endpoint.id);
  const pruneAll = (): void => {
    for (const id of mallory.endpoint.linkPeers) {
      const to = g.byId(id);
      inject(to, mallory.address, sealOnLinkAs(mallory, id, { kind: Kind.Prune, grid: g.gridId, from: mallory.endpoint.id, to: id, origins, ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) }));
    }
  };
  play(g, members, 300);
  const sent = play(g, members, 2_000, pruneAll);
  play(g, members, 300);
  g.sim.runFor(3_000);
  assert.equal(notExactlyOnce(g, sent, members.filter((p) => p !== mallory)), []);
  assert.equal(balanced(g), []);
});

test("hostile: Prunes forged from a victim's address (a member spoofing it) cost the victim a quiet spell and a repair, not a broadcast", () => {
  const g = grid(0xbad2);
  const members = g.live();
  const victim = members[5] as PeerNode;
  const mallory = members.find((p) => p !== victim && !victim.endpoint.linkPeers.includes(p.endpoint.id)) as PeerNode;
  const origins = members.map((p) => p.endpoint.id);
  const forge = (): void => {
    for (const id of victim.endpoint.linkPeers) {
      inject(g.byId(id), victim.address, sealAs(mallory, { kind: Kind.Prune, grid: g.gridId, from: victim.endpoint.id, to: id, origins, ctr: 1, auth: NO_AUTH, tag: new Uint8Array(9) }));
    }
  };
  play(g, members, 300);
  const sent = play(g, members, 3_000, forge);
  play(g, members, 300);
  g.sim.runFor(4_000);
  assert.equal(notExactlyOnce(g, sent, [victim]), [], "the victim grafts its links back and repairs the gaps");
  // Without the victim's link keys the forgeries are dropped at its neighbours (PROTOCOL.md 6.13): no quiet spell at all.
  const linkAuth = victim.endpoint.linkPeers.reduce((n, id) => n + (g.byId(id).endpoint.stats().drops["link-auth"] ?? 0), 0);
  assert.ok(linkAuth > 0, "the neighbours dropped the forged Prunes as link-auth");
});

test("hostile: a RepairRequest from an address that is not a link gets nothing back (not-linked); from a link, at most 128 Repairs answer one request, and a stream of them stays within the link's byte budget", () => {
  const g = grid(0xbad3);
  const members = g.live();
  const victim = members[0] as PeerNode;
  play(g, members, 1_000); // the victim's buffer holds ~10 messages of every origin
  const linked = g.byId(victim.endpoint.linkPeers[0] as number);
  const stranger = members.find((p) => p !== victim && !victim.endpoint.linkPeers.includes(p.endpoint.id)) as PeerNode;
  const wants = members.filter((p) => p !== victim).flatMap((p) => [{ origin: p.endpoint.id, first: 1, mask: 0xffffffff }]);
  const ask = (as: PeerNode): Uint8Array => {
    const msg = { kind: Kind.RepairRequest, grid: g.gridId, from: as.endpoint.id, to: victim.endpoint.id, wants: wants.slice(0, 64), ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) } as const;
    return as === stranger ? sealAs(as, { ...msg, wants: msg.wants } as Message) : sealOnLinkAs(as, victim.endpoint.id, { ...msg, wants: msg.wants });
  };
  let repairs = 0;
  let bytes = 0;
  g.taps.push((_now, from, _to, b) => {
    if (from === victim.address && b[2] === Kind.Repair) {
      repairs++;
      bytes += b.length;
    }
  });
  const drops = (): number => victim.endpoint.stats().drops["not-linked"] ?? 0;
  const d0 = drops();
  const request = ask(stranger);
  inject(victim, stranger.address, request);
  assert.is(repairs, 0, "nothing for an address that is not a link");
  assert.is(drops() - d0, 1);
  inject(victim, linked.address, ask(linked));
  assert.ok(repairs > 0 && repairs <= 128, `${repairs} Repairs for one request`);
  // One second of requests, 100 of them: never more than the budget's burst and one second of its rate.
  repairs = 0;
  bytes = 0;
  for (let i = 0; i < 100; i++) {
    inject(victim, linked.address, ask(linked));
    g.sim.runFor(10);
  }
  const bound = DEFAULT_REPAIR_BYTES_PER_SECOND / 8 + DEFAULT_REPAIR_BYTES_PER_SECOND * 1.01;
  assert.ok(bytes <= bound, `${bytes} bytes of Repairs in a second > ${bound}`);
  assert.ok(bytes / request.length > 3, "a linked member may be answered with more than it asked (it is authenticated and budgeted)");
  assert.equal(balanced(g), []);
});

test("hostile: Prune, Graft and RepairRequest whose from is not the link at their address are dropped as wrong-sender and change no list; from no link, not-linked", () => {
  const g = grid(0xbad4);
  const members = g.live();
  const victim = members[2] as PeerNode;
  const neighbour = g.byId(victim.endpoint.linkPeers[0] as number);
  const other = members.find((p) => p !== victim && p !== neighbour) as PeerNode;
  const origin = members.find((p) => p !== victim && p !== neighbour) as PeerNode;
  const before = victim.endpoint.redundancyOf(origin.endpoint.id).listed;
  const prune = sealAs(other, { kind: Kind.Prune, grid: g.gridId, from: other.endpoint.id, to: victim.endpoint.id, origins: [origin.endpoint.id], ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) });
  const graft = sealAs(other, { kind: Kind.Graft, grid: g.gridId, from: other.endpoint.id, to: victim.endpoint.id, origins: [{ origin: origin.endpoint.id, have: 0 }], ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) });
  const s0 = victim.endpoint.stats().drops;
  inject(victim, neighbour.address, prune); // from says `other`, the address is `neighbour`'s link
  inject(victim, neighbour.address, graft);
  inject(victim, "203.0.113.9:1", prune); // no link at all
  const s1 = victim.endpoint.stats().drops;
  assert.is((s1["wrong-sender"] ?? 0) - (s0["wrong-sender"] ?? 0), 2);
  assert.is((s1["not-linked"] ?? 0) - (s0["not-linked"] ?? 0), 1);
  assert.equal(victim.endpoint.redundancyOf(origin.endpoint.id).listed, before);
  // Wrong grid, unsigned, truncated: counted too.
  inject(victim, neighbour.address, sealAs(neighbour, { kind: Kind.Prune, grid: g.gridId + 1, from: neighbour.endpoint.id, to: victim.endpoint.id, origins: [1], ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) }));
  const unsigned = sealAs(neighbour, { kind: Kind.RepairRequest, grid: g.gridId, from: neighbour.endpoint.id, to: victim.endpoint.id, wants: [], ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) });
  unsigned.fill(0, unsigned.length - 8);
  inject(victim, neighbour.address, unsigned);
  inject(victim, neighbour.address, prune.subarray(0, 7));
  const s2 = victim.endpoint.stats().drops;
  assert.is((s2["wrong-grid"] ?? 0) - (s1["wrong-grid"] ?? 0), 1);
  assert.is((s2["tag-bad-tag"] ?? 0) + (s2["tag-missing"] ?? 0) - (s1["tag-bad-tag"] ?? 0) - (s1["tag-missing"] ?? 0), 2);
  assert.equal(balanced(g), []);
});

test("hostile: a member grafting every origin with have 0 over and over gets at most 32 Repairs per Graft, within the link's budget", () => {
  const g = grid(0xbad5);
  const members = g.live();
  play(g, members, 1_000);
  const victim = members[1] as PeerNode;
  const mallory = g.byId(victim.endpoint.linkPeers[0] as number);
  const origins = members.filter((p) => p !== victim).map((p) => ({ origin: p.endpoint.id, have: 0 }));
  let repairs = 0;
  g.taps.push((_now, from, to, b) => {
    if (from === victim.address && to === mallory.address && b[2] === Kind.Repair) repairs++;
  });
  inject(victim, mallory.address, sealOnLinkAs(mallory, victim.endpoint.id, { kind: Kind.Graft, grid: g.gridId, from: mallory.endpoint.id, to: victim.endpoint.id, origins, ctr: 0, auth: NO_AUTH, tag: new Uint8Array(9) }));
  assert.ok(repairs > 0 && repairs <= 32, `${repairs} Repairs for one Graft`);
  assert.equal(balanced(g), []);
});

test.run();
