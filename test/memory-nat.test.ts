/**
 * The simulator's NAT routers (platform/memory/nat.ts) behave as RFC 4787 names them: what
 * the NAT traversal tests of the Peer (test/peer-nat*.test.ts) stand on, deterministic
 * beside the real NATs of test/nat-bench.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Address, Endpoint, Millis, Transmit } from "../lib/endpoint.ts";
import { RelayGridError } from "../lib/errors.ts";
import { NAT_KINDS, SimNetwork, type RouterOptions, type SimStats } from "../platform/memory/index.ts";

/** Records what arrives; sends what the test queues. */
class Host implements Endpoint<never> {
  readonly out: Transmit[] = [];
  readonly got: { from: Address; text: string; now: Millis }[] = [];
  handleDatagram(now: Millis, from: Address, bytes: Uint8Array): void {
    this.got.push({ from, text: new TextDecoder().decode(bytes), now });
  }
  handleTimeout(): void {}
  pollTransmit(): Transmit | undefined {
    return this.out.shift();
  }
  pollEvent(): undefined {
    return undefined;
  }
  pollTimeout(): undefined {
    return undefined;
  }
}

interface World {
  sim: SimNetwork<never>;
  hosts: Map<Address, Host>;
  send(from: Address, to: Address, text: string): void;
  heard(at: Address): string[];
}

/** An Internet with `remotes` and one home per entry of `homes`, each with hosts behind it. */
function world(homes: Record<string, RouterOptions & { hosts: Address[] }>, remotes: Address[] = ["198.18.0.2:4000", "198.18.0.3:4000"]): World {
  const sim = new SimNetwork<never>({ seed: 5, link: { latencyMs: 5 } });
  const hosts = new Map<Address, Host>();
  for (const r of remotes) hosts.set(r, sim.add(r, new Host()).endpoint);
  for (const [name, h] of Object.entries(homes)) {
    sim.addRouter(name, h);
    for (const a of h.hosts) hosts.set(a, sim.add(a, new Host(), { behind: name }).endpoint);
  }
  return {
    sim,
    hosts,
    send(from, to, text) {
      sim.withNode(from, () => (hosts.get(from) as Host).out.push({ to, bytes: new TextEncoder().encode(text) }));
      sim.runFor(20);
    },
    heard(at) {
      return (hosts.get(at) as Host).got.splice(0).map((g) => `${g.text} from ${g.from}`);
    },
  };
}

const A = "198.18.0.2:4000";
const B = "198.18.0.3:4000";
const INSIDE = "192.168.1.2:5000";

function balanced(s: SimStats): boolean {
  return s.sent + s.duplicated === s.delivered + s.lost + s.mtuDrops + s.partitionDrops + s.crashedDrops + s.natDrops + s.inFlight;
}

test("full cone: the inside port is kept, and once mapped anyone may send in", () => {
  const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS["full-cone"], hosts: [INSIDE] } });
  w.send(B, "198.18.1.1:5000", "too early");
  assert.equal(w.heard(INSIDE), [], "no mapping yet: dropped");
  w.send(INSIDE, A, "hi");
  assert.equal(w.heard(A), ["hi from 198.18.1.1:5000"]);
  w.send(B, "198.18.1.1:5000", "from a stranger");
  assert.equal(w.heard(INSIDE), [`from a stranger from ${B}`]);
  assert.is(w.sim.stats().natDrops, 1);
});

test("restricted cone: any port of an address the inside sent to", () => {
  const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS.restricted, hosts: [INSIDE] } }, [A, "198.18.0.2:4001", B]);
  w.send(INSIDE, A, "hi");
  w.send("198.18.0.2:4001", "198.18.1.1:5000", "other port");
  w.send(B, "198.18.1.1:5000", "other address");
  assert.equal(w.heard(INSIDE), ["other port from 198.18.0.2:4001"]);
});

test("port-restricted cone: only the address:port the inside sent to; one public port for every remote", () => {
  const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS["port-restricted"], hosts: [INSIDE] } }, [A, "198.18.0.2:4001", B]);
  w.send(INSIDE, A, "hi");
  w.send(INSIDE, B, "hi");
  assert.equal([...w.heard(A), ...w.heard(B)], ["hi from 198.18.1.1:5000", "hi from 198.18.1.1:5000"]);
  w.send("198.18.0.2:4001", "198.18.1.1:5000", "other port");
  w.send(A, "198.18.1.1:5000", "reply");
  assert.equal(w.heard(INSIDE), [`reply from ${A}`]);
});

test("symmetric: a new random public port per remote, each open only to its remote", () => {
  const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS.symmetric, hosts: [INSIDE] } });
  w.send(INSIDE, A, "hi");
  w.send(INSIDE, B, "hi");
  const [toA] = w.heard(A);
  const [toB] = w.heard(B);
  const portA = (toA as string).split(":").pop() as string;
  const portB = (toB as string).split(":").pop() as string;
  assert.is.not(portA, portB);
  assert.is.not(portA, "5000");
  w.send(B, `198.18.1.1:${portA}`, "B on A's mapping");
  w.send(A, `198.18.1.1:${portA}`, "A on A's mapping");
  assert.equal(w.heard(INSIDE), [`A on A's mapping from ${A}`]);
});

test("mappings and permissions expire after mappingTimeoutMs idle; traffic either way keeps them", () => {
  const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS["port-restricted"], mappingTimeoutMs: 30_000, hosts: [INSIDE] } });
  w.send(INSIDE, A, "open");
  for (let i = 0; i < 5; i++) {
    w.sim.runFor(20_000);
    w.send(A, "198.18.1.1:5000", `keepalive ${i}`); // inbound traffic alone refreshes it, as conntrack does
  }
  assert.is(w.heard(INSIDE).length, 5, "100 s of inbound keepalives every 20 s");
  w.sim.runFor(31_000);
  w.send(A, "198.18.1.1:5000", "too late");
  assert.equal(w.heard(INSIDE), []);
  assert.is(w.sim.natMappings("home"), 0);
});

test("two hosts behind one router: over the LAN directly; through the router's WAN only with hairpinning", () => {
  const other = "192.168.1.3:5001";
  for (const hairpin of [false, true]) {
    const w = world({ home: { wan: "198.18.1.1", ...NAT_KINDS["full-cone"], hairpin, hosts: [INSIDE, other] } });
    w.send(INSIDE, other, "lan");
    assert.equal(w.heard(other), [`lan from ${INSIDE}`]);
    w.send(other, A, "map"); // other's mapping: 198.18.1.1:5001
    w.send(INSIDE, "198.18.1.1:5001", "hairpin");
    assert.equal(w.heard(other), hairpin ? ["hairpin from 198.18.1.1:5000"] : [], `hairpin ${String(hairpin)}`);
  }
});

test("double NAT: the Internet sees the carrier's address; replies find their way in through both", () => {
  const w = world({
    cg: { wan: "198.18.8.1", ...NAT_KINDS["port-restricted"], hosts: [] },
    home: { wan: "100.64.0.11", upstream: "cg", ...NAT_KINDS["port-restricted"], hosts: [INSIDE] },
  });
  w.send(INSIDE, A, "hi");
  assert.equal(w.heard(A), ["hi from 198.18.8.1:5000"]);
  w.send(A, "198.18.8.1:5000", "reply");
  assert.equal(w.heard(INSIDE), [`reply from ${A}`]);
  w.send(B, "198.18.8.1:5000", "stranger");
  assert.equal(w.heard(INSIDE), []);
});

test("a LAN address of another home is unknown from outside it; the books balance with NAT drops", () => {
  const w = world({
    h1: { wan: "198.18.1.1", ...NAT_KINDS["port-restricted"], hosts: [INSIDE] },
    h2: { wan: "198.18.2.1", ...NAT_KINDS["port-restricted"], hosts: ["192.168.2.2:5000"] },
  });
  w.send(INSIDE, "192.168.2.2:5000", "across homes");
  w.send(A, "198.18.1.1:5000", "unsolicited");
  assert.equal(w.heard("192.168.2.2:5000"), []);
  const s = w.sim.stats();
  assert.is(s.unknownAddress, 1);
  assert.is(s.natDrops, 1);
  assert.ok(balanced(s), JSON.stringify(s));
});

test("router options are checked", () => {
  const sim = new SimNetwork<never>({ seed: 1 });
  sim.addRouter("r", { wan: "198.18.1.1" });
  assert.throws(() => sim.addRouter("r", { wan: "198.18.1.2" }), (e: unknown) => e instanceof RelayGridError && /already exists/.test(e.message));
  assert.throws(() => sim.addRouter("s", { wan: "198.18.1.1" }), /another router's/);
  assert.throws(() => sim.addRouter("t", { wan: "198.18.1.3", upstream: "nope" }), /not a router/);
  assert.throws(() => sim.addRouter("u", { wan: "198.18.1.4:1" }), /IPv4 address/);
  assert.throws(() => sim.add("peer-1", new Host(), { behind: "r" }), /ip:port/);
  assert.throws(() => sim.add("192.168.1.2:1", new Host(), { behind: "x" }), /no router named x/);
});

test.run();
