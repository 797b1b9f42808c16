/**
 * The NAT bench itself (issue 13, item 5): before any relaygrid result on it means
 * something, each router must behave as its name says. A reflector on the bench's Internet
 * tells every home host its mapped address towards two remotes (mapping), then sends to
 * that mapping from the contacted remote, from its other port and from an address never
 * contacted (filtering), and once before the host sent anything (nothing gets in).
 * Two hosts behind one NAT share its address and reach each other over the LAN but not
 * through the router (no hairpinning); a double NAT shows the carrier's address.
 *
 * Needs root, `ip` and `nft`, and RELAYGRID_NAT=1 (`npm run test:nat`); elsewhere every test
 * is skipped and the reason printed.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import {
  Agent,
  NatBench,
  natSuiteGate,
  probeNat,
  publicAddressOf,
  REFLECTOR_ADDRS,
  REFLECTOR_HOST,
  startAgents,
  startReflector,
  STANDARD_BENCH,
  sweepStale,
  type NatProbe,
  type Reflector,
} from "./support/netns/index.ts";
import { run } from "./support/netns/shell.ts";

const gate = natSuiteGate();
if (!gate.run) console.log(`  NAT bench suite skipped: ${gate.reason}`);
const natTest = gate.run ? test : test.skip;

let bench: NatBench | undefined;
let agents = new Map<string, Agent>();
let reflector: Reflector | undefined;

function agent(host: string): Agent {
  const a = agents.get(host);
  assert.ok(a !== undefined, `no agent on ${host}`);
  return a;
}

async function probe(host: string): Promise<NatProbe> {
  assert.ok(reflector !== undefined && bench !== undefined);
  return probeNat(agent(host), reflector, publicAddressOf(host));
}

const PROBED = ["open1", "fc1h", "pr1h", "sy1h", "samea", "sameb", "d1h"];

if (gate.run) {
  test.before(async () => {
    bench = NatBench.create(STANDARD_BENCH);
    agents = await startAgents(bench, [REFLECTOR_HOST, ...PROBED], 90_000);
    reflector = await startReflector(agent(REFLECTOR_HOST), REFLECTOR_ADDRS);
  });
  test.after(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    bench?.destroy();
  });
}

natTest("open host: the reflector sees its own address, and anyone reaches it", async () => {
  const p = await probe("open1");
  assert.is(p.mapped[0], p.local.replace("0.0.0.0", "198.18.0.2"));
  assert.ok(p.independentMapping && p.fromContacted && p.fromOtherPort && p.fromOtherAddress);
  assert.ok(p.beforeOutbound, "no NAT in front: even the first datagram arrives");
});

natTest("full cone: one mapping for every remote (also one that sent first), and anyone may send to it once it exists", async () => {
  const p = await probe("fc1h");
  assert.ok(p.mapped[0].startsWith("198.18.1.1:"), p.mapped[0]);
  assert.ok(p.independentMapping, `mapped ${p.mapped.join(", ")}`);
  assert.ok(p.fromContacted && p.fromOtherPort && p.fromOtherAddress, JSON.stringify(p));
  assert.not.ok(p.beforeOutbound, "nothing is mapped before the host sends");
});

natTest("port-restricted cone: one mapping for every remote (also one that sent first), but only the remote endpoint it sent to gets in", async () => {
  const p = await probe("pr1h");
  assert.ok(p.mapped[0].startsWith("198.18.3.1:"), p.mapped[0]);
  assert.ok(p.independentMapping, `mapped ${p.mapped.join(", ")}`);
  assert.ok(p.fromContacted, "the contacted remote answers through the mapping");
  assert.not.ok(p.fromOtherPort, "the same address on another port is filtered");
  assert.not.ok(p.fromOtherAddress, "an address never contacted is filtered");
  assert.not.ok(p.beforeOutbound);
});

natTest("symmetric: a different external port towards each remote, and port-restricted filtering", async () => {
  const p = await probe("sy1h");
  assert.ok(p.mapped[0].startsWith("198.18.5.1:") && p.mapped[1].startsWith("198.18.5.1:"), p.mapped.join(", "));
  assert.not.ok(p.independentMapping, `mapped ${p.mapped.join(", ")}: masquerade random must differ per remote`);
  assert.ok(p.fromContacted);
  assert.not.ok(p.fromOtherPort || p.fromOtherAddress || p.beforeOutbound, JSON.stringify(p));
});

natTest("double NAT: the carrier's address outside, port-restricted behaviour end to end", async () => {
  const p = await probe("d1h");
  assert.ok(p.mapped[0].startsWith("198.18.8.1:"), `the Internet sees the carrier's WAN, got ${p.mapped[0]}`);
  assert.ok(p.independentMapping && p.fromContacted, JSON.stringify(p));
  assert.not.ok(p.fromOtherPort || p.fromOtherAddress || p.beforeOutbound, JSON.stringify(p));
});

natTest("same NAT: two hosts share the public address, reach each other on the LAN, not by hairpin", async () => {
  const [a, b] = [await probe("samea"), await probe("sameb")];
  assert.ok(a.mapped[0].startsWith("198.18.7.1:") && b.mapped[0].startsWith("198.18.7.1:"), `${a.mapped[0]} ${b.mapped[0]}`);
  const sa = await agent("samea").call<{ id: number; address: string }>("udp.open", {});
  const sb = await agent("sameb").call<{ id: number; address: string }>("udp.open", {});
  try {
    // b's mapping, made by sending to the reflector: what the lobby would list for it.
    await agent("sameb").call("udp.send", { id: sb.id, to: `${REFLECTOR_ADDRS[0]}:3478`, text: "who" });
    const seen = await agent("sameb").call<{ text: string }[]>("udp.take", { id: sb.id, waitMs: 1500, min: 1 });
    const bPublic = (seen[0]?.text ?? "").slice(5);
    assert.ok(bPublic.startsWith("198.18.7.1:"), bPublic);
    const bPort = sb.address.slice(sb.address.lastIndexOf(":") + 1);
    await agent("samea").call("udp.send", { id: sa.id, to: bPublic, text: "hairpin" });
    await agent("samea").call("udp.send", { id: sa.id, to: `192.168.1.3:${bPort}`, text: "lan" });
    const got = await agent("sameb").call<{ from: string; text: string }[]>("udp.take", { id: sb.id, waitMs: 1500, min: 2 });
    assert.equal(got.map((d) => d.text), ["lan"], "the LAN path works; the router does not hairpin");
    assert.ok(got[0]?.from.startsWith("192.168.1.2:"), "a LAN datagram keeps its LAN source");
  } finally {
    await agent("samea").call("udp.close", { id: sa.id });
    await agent("sameb").call("udp.close", { id: sb.id });
  }
});

natTest("every router holds exactly one nft table of the bench, with its drop counter", () => {
  assert.ok(bench !== undefined);
  for (const router of Object.keys(STANDARD_BENCH.routers)) {
    const rules = bench.rulesOf(router);
    assert.match(rules, "chain gate");
    const nat = STANDARD_BENCH.routers[router]?.nat;
    assert.is(rules.includes("masquerade random"), nat === "symmetric", `${router}: masquerade random only on a symmetric NAT`);
    assert.is(rules.includes("map cone"), nat === "full-cone", `${router}: the cone map only on a full cone`);
  }
});

natTest("cleanup: destroy() removes every namespace, and a dead run's bench is swept at the next start", async () => {
  assert.ok(bench !== undefined);
  // A namespace as a killed run leaves it: named after a pid that no longer exists.
  const dead = spawnSync(process.execPath, ["-e", ""]).pid;
  const stale = `rgnat-${dead}-1-stale`;
  run("ip", ["netns", "add", stale]);
  assert.ok(sweepStale().includes(stale));
  assert.not.ok(run("ip", ["netns", "list"]).includes(stale));
  await Promise.all([...agents.values()].map((a) => a.stop()));
  agents = new Map();
  bench.destroy();
  assert.equal(bench.leftovers(), [], "no namespace of this bench is left");
});

test.run();
