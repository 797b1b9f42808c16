/**
 * Real relaygrid peers through real NATs (issue 13, "Done when"): Node peers (joinGrid, the
 * whole stack) run in the NAT bench's namespaces (support/netns), behind full-cone,
 * port-restricted, symmetric, same-NAT and double-NAT routers made with nftables, and link
 * by PROTOCOL.md 4.7: the lobby introduces them, both ends punch, and they link over the
 * path a PunchReply proved, with key-bound tickets.
 *
 * - a grid of 12 peers, two on every kind of home, joins, reaches one component and delivers
 *   every broadcast to every member exactly once;
 * - pairs: two hosts behind one router link over the LAN; a symmetric NAT links to a
 *   full-cone member; a symmetric NAT and a port-restricted one link by birthday probing
 *   (lib/peer/birthday.ts), both ways; a peer that can reach no member (two symmetric NATs,
 *   which probing cannot open) is told `unreachable` within 10 s, and the lobby counts it.
 *
 * Needs root, `ip` and `nft`, and RELAYGRID_NAT=1 (`npm run test:nat`); about a minute.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Agent, NatBench, natSuiteGate, runGrid, runPair, runRelayed, STANDARD_BENCH, startMatrix, stopMatrix, type MatrixContext } from "./support/netns/index.ts";

const gate = natSuiteGate();
if (!gate.run) console.log(`  NAT peer suite skipped: ${gate.reason}`);
const natTest = gate.run ? test : test.skip;

let bench: NatBench | undefined;
let ctx: MatrixContext | undefined;
let lobby: Agent | undefined;

function lobbyAgent(): Agent {
  assert.ok(lobby !== undefined, "no lobby agent");
  return lobby;
}

function context(): MatrixContext {
  assert.ok(ctx !== undefined, "the bench did not start");
  return ctx;
}

interface LobbyStats {
  stats: { isolated: number; isolations: number; punchesOk: number; punchesFailed: number };
}

if (gate.run) {
  test.before(async () => {
    bench = NatBench.create(STANDARD_BENCH);
    ({ ctx, lobbyAgent: lobby } = await startMatrix(bench, 150_000));
  });
  test.after(async () => {
    if (ctx !== undefined) await stopMatrix(ctx);
    bench?.destroy();
  });
}

natTest("issue 13 done-when: 12 Node peers behind every kind of NAT join one grid, reach one component, and deliver every broadcast to every member exactly once", async () => {
  const g = await runGrid(context(), lobbyAgent());
  const failed = g.members.filter((m) => m.error !== undefined).map((m) => `${m.host}: ${m.error?.code} ${m.error?.message}`);
  assert.equal(failed, [], "every peer joined");
  assert.is(g.components.length, 1, `components: ${JSON.stringify(g.components)}`);
  assert.is(g.components[0]?.length, 12);
  for (const m of g.members) assert.ok(m.links.length >= 1, `${m.host} holds a link`);
  for (const m of g.members) assert.equal([m.host, m.received, m.receivedTwice], [m.host, 11 * 3, 0], `${m.host}: every broadcast of the 11 others, once`);
  assert.ok(g.everyBroadcastEverywhere);
  const view = await lobbyAgent().call<LobbyStats>("lobby.view");
  assert.is(view.stats.isolated, 0, "the lobby counts nobody isolated");
});

natTest("pairs: two peers behind one router link over the LAN; a symmetric NAT links to a full-cone member and a full-cone peer to a symmetric member", async () => {
  const [same, syFc, fcSy] = await Promise.all([
    runPair(context(), "same-nat", "same-nat"),
    runPair(context(), "symmetric", "full-cone"),
    runPair(context(), "full-cone", "symmetric"),
  ]);
  for (const r of [same, syFc, fcSy]) {
    assert.ok(r.linked, `${r.joinerKind} -> ${r.memberKind}: ${JSON.stringify(r.error ?? r.memberDrops)}`);
    assert.ok(r.punch?.ok === true, `${r.joinerKind} -> ${r.memberKind}: punched`);
  }
  assert.ok(same.punch?.local === true, "the proven path is the member's LAN address");
  assert.match(same.linkAddress ?? "", /^192\.168\.1\.\d+:\d+$/);
});

natTest("issue 13 item 4, hard NATs: a symmetric NAT and a port-restricted one link by birthday probing, both ways (plain punching never opens them)", async () => {
  // A probe hits with about 98% per punch (birthday-probing.test.ts): a pair that missed
  // gets one more trial, so the test fails on a broken probe, not on a 2% miss.
  const trial = async (j: "symmetric" | "port-restricted", m: "symmetric" | "port-restricted"): Promise<{ r: Awaited<ReturnType<typeof runPair>>; trials: number }> => {
    const first = await runPair(context(), j, m);
    return first.linked ? { r: first, trials: 1 } : { r: await runPair(context(), j, m), trials: 2 };
  };
  const got = await Promise.all([trial("symmetric", "port-restricted"), trial("port-restricted", "symmetric")]);
  for (const { r, trials } of got) {
    const name = `${r.joinerKind} -> ${r.memberKind}`;
    assert.ok(r.linked, `${name}: ${JSON.stringify(r.error ?? r.punch)}`);
    const p = r.punch;
    assert.ok(p?.ok === true && (r.joinerKind === "symmetric" ? p.sprayed : p.probes > 0), `${name}: linked by probing ${JSON.stringify(p)}`);
    console.log(`figure: ${name}: linked in ${r.timeToLinkMs} ms after ${trials} trial(s); joiner's probes ${p.probes}, sprayed ${p.sprayed} (before birthday probing: never)`);
  }
});

natTest("issue 13 item 4: a peer that can reach no member (two symmetric NATs, which probing cannot open) is told unreachable within 10 s, and the lobby counts it", async () => {
  const before = await lobbyAgent().call<LobbyStats>("lobby.view");
  const r = await runPair(context(), "symmetric", "symmetric");
  assert.not.ok(r.linked);
  assert.is(r.error?.code, "unreachable", JSON.stringify(r.error));
  assert.ok((r.error?.afterMs ?? Infinity) < 10_000, `told after ${r.error?.afterMs} ms`);
  assert.match(r.error?.message ?? "", /the lobby sees this peer at 198\.18\.6\.1:\d+/);
  assert.match(r.error?.message ?? "", /symmetric/);
  assert.ok(r.punch !== undefined && !r.punch.ok, "its punch failed and was reported");
  const after = await lobbyAgent().call<LobbyStats>("lobby.view");
  assert.is(after.stats.isolations - before.stats.isolations, 1, "the lobby counted it");
  assert.ok(after.stats.punchesFailed > before.stats.punchesFailed);
});

natTest("issue 13 item 4, beyond: two symmetric NATs that probing cannot open are still served by a relay member on a public address (docs/NAT.md, the relay of last resort in its simplest form)", async () => {
  const r = await runRelayed(context(), lobbyAgent());
  assert.equal(r.joined, [undefined, undefined], "both joined");
  assert.not.ok(r.direct, "no direct link between the two: probing cannot open it");
  for (const links of r.links) assert.equal(links, [r.relay], "each holds one link, to the relay");
  assert.equal(r.received, [r.perMember, r.perMember], "each got every broadcast of the other");
  assert.equal(r.receivedTwice, [0, 0], "exactly once");
  console.log(`figure: two symmetric NATs through a relay member: ${r.received[0]}/${r.perMember} and ${r.received[1]}/${r.perMember} broadcasts, once each (alone: both unreachable)`);
});

test.run();
