/**
 * The lobby's side of NAT traversal through real NATs (issue 13, items 1-3; PROTOCOL.md
 * 4.7): members behind every kind of home router register and ask for introductions over
 * UDP from their namespaces. The lobby reports each member's public mapping (Registered.
 * observed), signs a key-bound ticket, and its Introductions reach both NATed ends through
 * the mappings their lobby traffic keeps open, with LAN addresses only between the two
 * hosts behind one router. The members are scripted (support/netns/nat-member.ts), so the
 * test sees the lobby's own messages; nothing here punches (test/nat-peer.test.ts runs real
 * peers).
 *
 * Needs root, `ip` and `nft`, and RELAYGRID_NAT=1 (`npm run test:nat`).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { verifyTicketV2Signature, readTicketV2 } from "../lib/security/ticket.ts";
import { NodeCrypto } from "../platform/node/node-crypto.ts";
import { IntroStatus } from "../wire/kinds.ts";
import { Agent, LOBBY_HOST, NatBench, natSuiteGate, STANDARD_BENCH, startAgents, startLobby } from "./support/netns/index.ts";

const gate = natSuiteGate();
if (!gate.run) console.log(`  NAT lobby suite skipped: ${gate.reason}`);
const natTest = gate.run ? test : test.skip;

const HOSTS = ["open1", "pr1h", "pr2h", "sy1h", "samea", "sameb", "d1h"];
let bench: NatBench | undefined;
let agents = new Map<string, Agent>();
let lobby = { address: "", key: "" };
const joined = new Map<string, { handle: number; peer: number; observed: string; ticket: string; local: string }>();

function agent(host: string): Agent {
  const a = agents.get(host);
  assert.ok(a !== undefined, `no agent on ${host}`);
  return a;
}

const port = (addr: string): string => addr.slice(addr.lastIndexOf(":") + 1);

if (gate.run) {
  test.before(async () => {
    bench = NatBench.create(STANDARD_BENCH);
    agents = await startAgents(bench, [LOBBY_HOST, ...HOSTS], 90_000);
    lobby = await startLobby(agent(LOBBY_HOST));
    for (const [i, host] of HOSTS.entries()) {
      const locals = host === "open1" ? [] : [`${bench.addrOf(host)}:0`];
      const r = await agent(host).call<{ handle: number; peer: number; observed: string; ticket: string; local: string }>("nat.join", {
        lobby: lobby.address,
        lobbyKey: lobby.key,
        grid: "nat-lobby",
        create: i === 0,
        locals,
      });
      joined.set(host, r);
    }
  });
  test.after(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    bench?.destroy();
  });
}

function member(host: string): { handle: number; peer: number; observed: string; ticket: string; local: string } {
  const m = joined.get(host);
  assert.ok(m !== undefined, `${host} did not join`);
  return m;
}

natTest("Registered.observed is each member's public mapping: the router's WAN address (the carrier's for a double NAT)", () => {
  const wan: Record<string, string> = { open1: "198.18.0.2", pr1h: "198.18.3.1", pr2h: "198.18.4.1", sy1h: "198.18.5.1", samea: "198.18.7.1", sameb: "198.18.7.1", d1h: "198.18.8.1" };
  for (const host of HOSTS) {
    const m = member(host);
    assert.is(m.observed.slice(0, m.observed.lastIndexOf(":")), wan[host], `${host}: ${m.observed}`);
  }
  // Port-preserving NATs keep the socket's port; a symmetric one picks another.
  assert.is(port(member("pr1h").observed), port(member("pr1h").local));
  assert.is(port(member("open1").observed), port(member("open1").local));
});

natTest("the key-bound ticket from Registered is the lobby's signature over this member's id", () => {
  const crypto = new NodeCrypto();
  const key = Buffer.from(lobby.key, "hex");
  for (const host of HOSTS) {
    const t = Buffer.from(member(host).ticket, "hex");
    assert.ok(verifyTicketV2Signature(crypto, key, t), host);
    assert.is(readTicketV2(t)?.peer, member(host).peer, host);
  }
});

interface Intro {
  req: number;
  peer: number;
  other: number;
  asked: boolean;
  addr: string;
  locals: { addr: string }[];
}

natTest("same NAT: both hosts get an Introduction through the router, each with the other's LAN address", async () => {
  const [a, b] = [member("samea"), member("sameb")];
  const results = await agent("samea").call<{ peer: number; status: number }[]>("nat.introduce", { handle: a.handle, targets: [b.peer] });
  assert.equal(results, [{ peer: b.peer, status: IntroStatus.Introduced }]);
  const [toA] = await agent("samea").call<Intro[]>("nat.introductions", { handle: a.handle, waitMs: 2000, min: 1 });
  const [toB] = await agent("sameb").call<Intro[]>("nat.introductions", { handle: b.handle, waitMs: 2000, min: 1 });
  assert.ok(toA !== undefined && toB !== undefined, "both ends were reached through their NAT");
  assert.is(toA.req, toB.req, "one introduction, one id");
  assert.equal([toA.other, toA.asked, toA.addr, toA.locals], [b.peer, true, b.observed, [{ addr: `192.168.1.3:${port(b.local)}` }]]);
  assert.equal([toB.other, toB.asked, toB.addr, toB.locals], [a.peer, false, a.observed, [{ addr: `192.168.1.2:${port(a.local)}` }]]);
});

natTest("homes apart: an Introduction reaches a port-restricted, a symmetric and a double-NAT member, with public addresses only", async () => {
  const asker = member("pr1h");
  const targets = ["pr2h", "sy1h", "d1h"];
  const results = await agent("pr1h").call<{ peer: number; status: number }[]>("nat.introduce", { handle: asker.handle, targets: targets.map((h) => member(h).peer) });
  assert.ok(results.every((r) => r.status === IntroStatus.Introduced), JSON.stringify(results));
  const mine = await agent("pr1h").call<Intro[]>("nat.introductions", { handle: asker.handle, waitMs: 2000, min: 3 });
  assert.equal(mine.map((i) => [i.other, i.addr, i.locals]), targets.map((h) => [member(h).peer, member(h).observed, []]));
  for (const h of targets) {
    const [n] = await agent(h).call<Intro[]>("nat.introductions", { handle: member(h).handle, waitMs: 2000, min: 1 });
    assert.ok(n !== undefined, `${h} got no Introduction through its NAT`);
    assert.equal([n.other, n.addr, n.locals, n.asked], [asker.peer, asker.observed, [], false], h);
  }
  const view = await agent(LOBBY_HOST).call<{ stats: { introductions: number; registrations: number } }>("lobby.view");
  assert.is(view.stats.introductions, 4);
  assert.is(view.stats.registrations, HOSTS.length);
});

test.run();
