import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Address, Endpoint, Millis, Transmit } from "../lib/endpoint.ts";
import { RelayGridError } from "../lib/errors.ts";
import { SeededRandom, randomInt } from "../lib/rng.ts";
import { DEFAULT_LATENCY_MS, SimNetwork, SimulationError, type LinkOptions, type SimStats } from "../platform/memory/index.ts";

// ---- Test endpoints -------------------------------------------------------------------

const PING = 0;
const PONG = 1;
const DATA = 2;

type TestEvent =
  | { readonly kind: "datagram"; readonly now: Millis; readonly from: Address; readonly bytes: Uint8Array }
  | { readonly kind: "timeout"; readonly now: Millis };

/**
 * A scriptable endpoint: records what it receives, echoes PING as PONG, keeps one timer
 * the test sets directly, and checks that time never goes backwards.
 */
class Box implements Endpoint<TestEvent> {
  readonly out: Transmit[] = [];
  readonly events: TestEvent[] = [];
  readonly received: Array<{ now: Millis; from: Address; bytes: Uint8Array }> = [];
  deadline: Millis | undefined = undefined;
  timeouts: Millis[] = [];
  lastNow = -Infinity;
  timeWentBack = false;
  touched = 0;
  onTimeout: ((self: Box, now: Millis) => void) | undefined;
  onDatagram: ((self: Box, now: Millis, from: Address, bytes: Uint8Array) => void) | undefined;

  private readonly emitEvents: boolean;

  constructor(emitEvents = true) {
    this.emitEvents = emitEvents;
  }

  send(to: Address, bytes: Uint8Array | number[]): void {
    this.out.push({ to, bytes: bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes) });
  }

  handleDatagram(now: Millis, from: Address, bytes: Uint8Array): void {
    this.see(now);
    this.received.push({ now, from, bytes });
    if (this.emitEvents) this.events.push({ kind: "datagram", now, from, bytes });
    if (bytes[0] === PING) {
      const reply = bytes.slice();
      reply[0] = PONG;
      this.out.push({ to: from, bytes: reply });
    }
    this.onDatagram?.(this, now, from, bytes);
  }

  handleTimeout(now: Millis): void {
    this.see(now);
    if (this.deadline === undefined || this.deadline > now) return;
    this.deadline = undefined;
    this.timeouts.push(now);
    if (this.emitEvents) this.events.push({ kind: "timeout", now });
    this.onTimeout?.(this, now);
  }

  pollTimeout(): Millis | undefined {
    return this.deadline;
  }

  pollTransmit(): Transmit | undefined {
    return this.out.shift();
  }

  pollEvent(): TestEvent | undefined {
    return this.events.shift();
  }

  private see(now: Millis): void {
    this.touched++;
    if (now < this.lastNow) this.timeWentBack = true;
    this.lastNow = now;
  }
}

/** Every `intervalMs`, for `rounds` rounds, pings `fanout` peers it picks with its own seeded rng. */
class Pinger extends Box {
  pongs = 0;
  private seq = 0;

  constructor(peers: readonly Address[], rng: SeededRandom, fanout: number, rounds: number, intervalMs: number) {
    super(false);
    let left = rounds;
    this.deadline = 0;
    this.onTimeout = (self, now) => {
      for (let i = 0; i < fanout; i++) {
        const to = peers[randomInt(rng, peers.length)] as Address;
        const s = this.seq++;
        self.send(to, [PING, s & 0xff, (s >> 8) & 0xff]);
      }
      if (--left > 0) self.deadline = now + intervalMs;
    };
    this.onDatagram = (_self, _now, _from, bytes) => {
      if (bytes[0] === PONG) this.pongs++;
    };
  }
}

function sink(sim: SimNetwork<TestEvent>, address: Address): Box {
  const box = new Box(false);
  sim.add(address, box);
  return box;
}

/** Sends `count` DATA datagrams a -> b, one per ms, each carrying its index. */
function stream(sim: SimNetwork<TestEvent>, from: Address, to: Address, count: number): void {
  for (let i = 0; i < count; i++) {
    sim.withNode(from, (ep) => (ep as Box).send(to, [DATA, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff]));
    sim.runFor(1);
  }
}

function indexOf(bytes: Uint8Array): number {
  return (bytes[1] as number) | ((bytes[2] as number) << 8) | ((bytes[3] as number) << 16);
}

function balanced(s: SimStats): boolean {
  return s.sent + s.duplicated === s.delivered + s.lost + s.mtuDrops + s.partitionDrops + s.crashedDrops + s.natDrops + s.inFlight;
}

const FAULTY: Partial<LinkOptions> = { latencyMs: 15, jitterMs: 20, lossPercent: 10, duplicatePercent: 5, reorderPercent: 10 };

/** 30 pingers on a faulty network; returns everything observable about the run. */
function pingRun(seed: number): { hash: number; stats: SimStats; events: string[] } {
  const events: string[] = [];
  const sim = new SimNetwork<TestEvent>({
    seed,
    link: FAULTY,
    onEvent: (address, e, now) => events.push(`${now} ${address} ${e.kind}`),
  });
  const addresses = Array.from({ length: 30 }, (_, i) => `10.0.0.${i}:7000`);
  // The traffic pattern comes from a fixed rng: only the network's faults depend on `seed`.
  const pattern = new SeededRandom(1);
  for (const a of addresses) sim.add(a, new Pinger(addresses, new SeededRandom(pattern.nextU32()), 3, 10, 25));
  sim.runFor(2_000);
  return { hash: sim.traceHash, stats: sim.stats(), events };
}

// ---- Determinism ------------------------------------------------------------------------

test("memory: one seed gives one run", () => {
  const a = pingRun(42);
  const b = pingRun(42);
  assert.is(a.hash, b.hash);
  assert.equal(a.stats, b.stats);
  assert.equal(a.events, b.events);
  assert.ok(a.stats.lost > 0 && a.stats.duplicated > 0 && a.stats.reordered > 0, "the faults were exercised");
});

test("memory: another seed gives another run", () => {
  const a = pingRun(42);
  const c = pingRun(43);
  assert.is.not(a.hash, c.hash);
  assert.is(a.stats.sent > 0 && c.stats.sent > 0, true);
});

test("memory: nextSeed is derived from the seed without shifting the faults", () => {
  const a = new SimNetwork({ seed: 5 });
  const b = new SimNetwork({ seed: 5 });
  assert.equal([a.nextSeed(), a.nextSeed()], [b.nextSeed(), b.nextSeed()]);
  assert.is.not(new SimNetwork({ seed: 6 }).nextSeed(), new SimNetwork({ seed: 5 }).nextSeed());
});

// ---- Link model -------------------------------------------------------------------------

test("memory: virtual time starts at 0 and a clean link delivers after exactly latencyMs", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1, link: { latencyMs: 7 } });
  assert.is(sim.now, 0);
  const a = sink(sim, "a");
  const b = sink(sim, "b");
  sim.withNode("a", () => a.send("b", [DATA, 1]));
  sim.runFor(3);
  sim.withNode("a", () => a.send("b", [DATA, 2]));
  sim.runFor(100);
  assert.equal(b.received.map((r) => r.now), [7, 10]);
  assert.is(sim.now, 103);
  assert.is(sim.linkOptions("a", "b").jitterMs, 0);
  assert.is(new SimNetwork({ seed: 1 }).linkOptions("x", "y").latencyMs, DEFAULT_LATENCY_MS);
});

test("memory: a fractional latencyMs delivers at fractional virtual times, as real paths do", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 3, link: { latencyMs: 2.25 } });
  const a = sink(sim, "a");
  const b = sink(sim, "b");
  sim.withNode("a", () => a.send("b", [DATA]));
  sim.runFor(3);
  sim.withNode("a", () => a.send("b", [DATA]));
  sim.runFor(10);
  assert.equal(b.received.map((r) => r.now), [2.25, 5.25]);
});

test("memory: jitter spreads delivery over latencyMs..latencyMs+jitterMs", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 3, link: { latencyMs: 10, jitterMs: 5 } });
  sink(sim, "a");
  const b = sink(sim, "b");
  for (let i = 0; i < 500; i++) sim.withNode("a", (ep) => (ep as Box).send("b", [DATA]));
  sim.runFor(100);
  const times = new Set(b.received.map((r) => r.now));
  assert.equal([...times].sort((x, y) => x - y), [10, 11, 12, 13, 14, 15]);
});

test("memory: 10% loss drops about 10%", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 11, link: { lossPercent: 10 } });
  sink(sim, "a");
  const b = sink(sim, "b");
  for (let i = 0; i < 10_000; i++) sim.withNode("a", (ep) => (ep as Box).send("b", [DATA]));
  sim.runFor(1_000);
  const s = sim.stats();
  // Binomial(10000, 0.1): sd is 30, so 900..1100 is more than 3 sd either way.
  assert.ok(s.lost >= 900 && s.lost <= 1_100, `lost ${s.lost}`);
  assert.is(s.delivered, b.received.length);
  assert.is(s.delivered + s.lost, 10_000);
});

test("memory: duplicatePercent delivers some datagrams twice", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 12, link: { duplicatePercent: 20, jitterMs: 3 } });
  sink(sim, "a");
  const b = sink(sim, "b");
  stream(sim, "a", "b", 2_000);
  sim.runFor(100);
  const s = sim.stats();
  assert.ok(s.duplicated >= 320 && s.duplicated <= 480, `duplicated ${s.duplicated}`);
  assert.is(b.received.length, 2_000 + s.duplicated);
  const distinct = new Set(b.received.map((r) => indexOf(r.bytes)));
  assert.is(distinct.size, 2_000);
});

test("memory: reordered datagrams are overtaken by later ones", () => {
  const inOrder = (reorderPercent: number): { inversions: number; reordered: number } => {
    const sim = new SimNetwork<TestEvent>({ seed: 13, link: { reorderPercent, reorderDelayMs: 30 } });
    sink(sim, "a");
    const b = sink(sim, "b");
    stream(sim, "a", "b", 1_000);
    sim.runFor(100);
    let inversions = 0;
    const seen = b.received.map((r) => indexOf(r.bytes));
    for (let i = 1; i < seen.length; i++) if ((seen[i] as number) < (seen[i - 1] as number)) inversions++;
    assert.is(seen.length, 1_000);
    return { inversions, reordered: sim.stats().reordered };
  };
  assert.equal(inOrder(0), { inversions: 0, reordered: 0 });
  const r = inOrder(10);
  assert.ok(r.reordered >= 60 && r.reordered <= 140, `reordered ${r.reordered}`);
  assert.ok(r.inversions > 0, "some datagram arrived before an earlier one");
});

test("memory: setLink overrides both directions, setDirectedLink one, and the default applies elsewhere", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1, link: { latencyMs: 5 } });
  const boxes = new Map(["a", "b", "c"].map((x) => [x, sink(sim, x)]));
  sim.setLink("a", "b", { latencyMs: 50 });
  sim.setDirectedLink("c", "a", { latencyMs: 30 });
  const arrival = (from: Address, to: Address): Millis => {
    const start = sim.now;
    sim.withNode(from, (ep) => (ep as Box).send(to, [DATA]));
    sim.runFor(200);
    const got = boxes.get(to)?.received.at(-1);
    assert.ok(got !== undefined);
    return got.now - start;
  };
  assert.equal([arrival("a", "b"), arrival("b", "a"), arrival("c", "a"), arrival("a", "c"), arrival("b", "c")], [50, 50, 30, 5, 5]);
  sim.setDefaultLink({ latencyMs: 8 });
  assert.equal([arrival("a", "b"), arrival("a", "c")], [50, 8], "overrides keep their fields, others follow the new default");
});

test("memory: per-link counters count bytes sent and delivered", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1 });
  sink(sim, "a");
  sink(sim, "b");
  sim.withNode("a", (ep) => {
    (ep as Box).send("b", [DATA, 1, 2]);
    (ep as Box).send("b", [DATA]);
  });
  sim.runFor(50);
  assert.equal(sim.linkStats("a", "b"), { sentDatagrams: 2, sentBytes: 4, deliveredDatagrams: 2, deliveredBytes: 4 });
  assert.is(sim.linkStats("b", "a"), undefined);
});

// ---- Topology faults --------------------------------------------------------------------

test("memory: datagrams to unknown addresses are counted as lost", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1 });
  sink(sim, "a");
  sim.withNode("a", (ep) => (ep as Box).send("nobody", [DATA]));
  sim.runFor(50);
  const s = sim.stats();
  assert.equal([s.sent, s.lost, s.unknownAddress, s.delivered], [1, 1, 1, 0]);
});

test("memory: partition drops crossing traffic until heal", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1, link: { latencyMs: 10 } });
  const [a, b, c, d] = ["a", "b", "c", "d"].map((x) => sink(sim, x)) as [Box, Box, Box, Box];
  sim.withNode("a", () => a.send("c", [DATA, 0])); // in flight when the cut appears
  sim.runFor(5);
  sim.partition(["a", "b"], ["c", "d"]);
  sim.withNode("a", () => {
    a.send("b", [DATA, 1]);
    a.send("c", [DATA, 2]);
  });
  sim.withNode("d", () => {
    d.send("c", [DATA, 3]);
    d.send("b", [DATA, 4]);
  });
  sim.runFor(50);
  assert.equal([a.received.length, b.received.length, c.received.length, d.received.length], [0, 1, 1, 0]);
  assert.is(c.received[0]?.from, "d");
  assert.is(sim.stats().partitionDrops, 3);
  sim.heal();
  sim.withNode("a", () => a.send("c", [DATA, 5]));
  sim.runFor(50);
  assert.is(c.received.at(-1)?.from, "a");
  assert.ok(balanced(sim.stats()));
});

test("memory: an address in both partition groups is a caller mistake", () => {
  const sim = new SimNetwork({ seed: 1 });
  assert.throws(() => sim.partition(["a", "b"], ["b"]), (e: unknown) => e instanceof RelayGridError && /b is in both/.test(e.message));
});

test("memory: crash drops queued deliveries and timers", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1, link: { latencyMs: 10 } });
  const a = sink(sim, "a");
  const b = new Box();
  const handle = sim.add("b", b);
  handle.with((box, now) => (box.deadline = now + 100));
  sim.withNode("a", () => [1, 2, 3].forEach((i) => a.send("b", [DATA, i])));
  sim.runFor(5);
  sim.crash("b");
  assert.is(sim.stats().crashedDrops, 3, "in-flight deliveries are dropped at the crash");
  assert.is(sim.stats().inFlight, 0);
  assert.not.ok(handle.alive);
  sim.withNode("a", () => a.send("b", [DATA, 4]));
  sim.runFor(500);
  assert.is(b.touched, 0, "the crashed endpoint got no datagram and no timeout");
  assert.is(sim.stats().crashedDrops, 4);
  assert.is(sim.stats().timerFires, 0);
  assert.throws(() => sim.withNode("b", () => undefined), (e: unknown) => e instanceof RelayGridError && e.code === "closed");

  const b2 = new Box();
  sim.withNode("a", () => a.send("b", [DATA, 5])); // sent while down, lands after restart: still dropped
  const handle2 = sim.restart("b", b2);
  sim.withNode("a", () => a.send("b", [DATA, 6]));
  sim.runFor(50);
  assert.equal(b2.received.map((r) => r.bytes[1]), [6]);
  assert.is(b.touched, 0);
  assert.throws(() => handle.with(() => undefined), (e: unknown) => e instanceof RelayGridError && /restart\(\) returned/.test(e.message));
  assert.ok(handle2.alive);
  assert.ok(balanced(sim.stats()));
});

test("memory: a restart drops deliveries queued to the old incarnation", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1, link: { latencyMs: 10 } });
  const a = sink(sim, "a");
  sink(sim, "b");
  sim.withNode("a", () => a.send("b", [DATA, 1]));
  const fresh = new Box();
  sim.restart("b", fresh); // a live node: crashed and replaced in one go
  sim.runFor(50);
  assert.is(fresh.received.length, 0);
  assert.is(sim.stats().crashedDrops, 1);
});

// ---- Timers -----------------------------------------------------------------------------

test("memory: a timer fires at its deadline, and one set in the past fires now", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1 });
  const box = new Box();
  const node = sim.add("a", box);
  node.with((b, now) => (b.deadline = now + 100));
  sim.runFor(40);
  node.with((b) => (b.deadline = 300)); // moved later: the earlier wake-up must not fire it
  sim.runFor(100);
  node.with((b) => (b.deadline = 60)); // now in the past
  sim.runFor(10);
  node.with((b, now) => (b.deadline = now + 20));
  node.with((b) => (b.deadline = undefined)); // disarmed
  sim.runFor(500);
  assert.equal(box.timeouts, [140]);
  assert.is(sim.stats().timerFires, 1);
  assert.equal(node.takeEvents(), [{ kind: "timeout", now: 140 }]);
  assert.not.ok(box.timeWentBack);
});

test("memory: a deadline stuck at or before now after handleTimeout advances 1 ms and is counted", () => {
  const sim = new SimNetwork({ seed: 1 });
  let fires = 0;
  const stuck: Endpoint<never> = {
    handleDatagram: () => undefined,
    handleTimeout: () => void fires++,
    pollTimeout: () => 0, // a buggy endpoint that never clears its timer
    pollTransmit: () => undefined,
    pollEvent: () => undefined,
  };
  sim.add("stuck", stuck);
  sim.runFor(10);
  assert.is(fires, 11, "once per virtual ms, 0..10");
  assert.is(sim.stats().stuckTimers, 11);
});

test("memory: time never goes backwards for an endpoint", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 9, link: { ...FAULTY, reorderDelayMs: 40 } });
  const addresses = Array.from({ length: 20 }, (_, i) => `n${i}`);
  const rng = new SeededRandom(2);
  const nodes = addresses.map((a) => {
    const p = new Pinger(addresses, new SeededRandom(rng.nextU32()), 4, 20, 7);
    sim.add(a, p);
    return p;
  });
  sim.runFor(3_000);
  assert.ok(nodes.every((n) => !n.timeWentBack && n.touched > 0));
});

// ---- Events -----------------------------------------------------------------------------

test("memory: events go to onEvent and the newest eventLogLimit stay in the log", () => {
  const seen: string[] = [];
  const sim = new SimNetwork<TestEvent>({ seed: 1, eventLogLimit: 4, onEvent: (addr, e, now) => seen.push(`${addr}@${now}:${e.kind}`) });
  sink(sim, "a");
  sim.add("b", new Box());
  for (let i = 0; i < 10; i++) sim.withNode("a", (ep) => (ep as Box).send("b", [DATA, i]));
  sim.runFor(50);
  assert.is(seen.length, 10);
  assert.is(seen[0], `b@${DEFAULT_LATENCY_MS}:datagram`);
  const kept = sim.takeEvents("b");
  assert.equal(kept.map((e) => (e.kind === "datagram" ? e.bytes[1] : -1)), [6, 7, 8, 9]);
  assert.is(sim.stats().eventsDropped, 6);
  assert.equal(sim.takeEvents("b"), [], "takeEvents drains the log");
});

// ---- Failures carry the seed --------------------------------------------------------------

function pingPongForever(seed: number): SimNetwork<TestEvent> {
  const sim = new SimNetwork<TestEvent>({ seed, link: { latencyMs: 0 }, eventLogLimit: 0 });
  for (const self of ["a", "b"]) {
    const box = new Box(false);
    box.onDatagram = (b, _now, from, bytes) => b.send(from, bytes);
    sim.add(self, box);
  }
  sim.withNode("a", (ep) => (ep as Box).send("b", [DATA]));
  return sim;
}

test("memory: runUntil step limit throws with the seed", () => {
  const sim = pingPongForever(77);
  try {
    sim.runUntil(() => false, { maxSteps: 1_000 });
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.instance(err, SimulationError);
    const e = err as SimulationError;
    assert.match(e.message, /maxSteps 1000/);
    assert.match(e.message, /seed 77/);
    assert.match(e.message, /t=0ms/);
    assert.is(e.seed, 77);
  }
  assert.is(sim.stats().steps, 1_000);
});

test("memory: runFor step limit throws with the seed instead of spinning at one instant", () => {
  const sim = pingPongForever(78);
  assert.throws(() => sim.runFor(10, { maxSteps: 500 }), /maxSteps 500.*seed 78/);
});

test("memory: runUntil time limit throws with the seed and the virtual time", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 5 });
  const box = new Box(false);
  box.deadline = 10;
  box.onTimeout = (b, now) => (b.deadline = now + 10);
  sim.add("tick", box);
  assert.throws(() => sim.runUntil(() => false, { maxTimeMs: 500 }), /maxTimeMs 500.*seed 5, t=500ms/);
  let done = false;
  box.onTimeout = (b, now) => {
    done = now >= 600;
    b.deadline = now + 10;
  };
  sim.runUntil(() => done, { maxTimeMs: 1_000 });
  assert.is(sim.now, 600);
});

test("memory: runUntil on an idle network throws instead of waiting forever", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 6 });
  sink(sim, "a");
  assert.throws(() => sim.runUntil(() => false), /went idle.*seed 6/);
});

test("memory: oversized datagram is counted and throws under strictMtu", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 21, mtuBytes: 100 });
  const a = sink(sim, "a");
  const b = new Box(false);
  b.onDatagram = (self, _now, from) => self.send(from, new Uint8Array(101)); // replies too big
  sim.add("b", b);
  sim.withNode("a", () => a.send("b", new Uint8Array(100))); // exactly the MTU: fine
  assert.throws(() => sim.runUntil(() => false), /b sent 101 bytes to a > mtuBytes 100.*seed 21/);
  assert.is(sim.stats().mtuDrops, 1);
  assert.is(a.received.length, 0);
  assert.throws(() => sim.withNode("a", () => a.send("b", new Uint8Array(1_201))), /a sent 1201 bytes/);
});

test("memory: oversized datagram is only counted when strictMtu is false", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 21, strictMtu: false });
  const a = sink(sim, "a");
  const b = sink(sim, "b");
  sim.withNode("a", () => a.send("b", new Uint8Array(1_201)));
  sim.runFor(100);
  assert.equal([sim.stats().mtuDrops, b.received.length], [1, 0]);
});

test("memory: inspect sees every transmit and its throw fails the run with the seed", () => {
  const seen: string[] = [];
  const sim = new SimNetwork<TestEvent>({
    seed: 31,
    inspect: (now, from, to, bytes) => {
      seen.push(`${now} ${from}->${to} ${bytes.length}`);
      if (bytes[0] === PONG) throw new Error("no pongs allowed");
    },
  });
  const a = sink(sim, "a");
  sink(sim, "b");
  sim.withNode("a", () => a.send("b", [PING, 9]));
  try {
    sim.runFor(100);
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.instance(err, SimulationError);
    assert.match((err as Error).message, /inspect rejected 2 bytes b -> a: Error: no pongs allowed \(seed 31, t=10ms\)/);
    assert.instance((err as Error).cause, Error);
  }
  assert.equal(seen, ["0 a->b 2", "10 b->a 2"]);
});

test("memory: an endpoint that throws fails the run with its address and the seed", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 41 });
  const a = sink(sim, "a");
  const b = new Box(false);
  b.onDatagram = () => {
    throw new TypeError("boom");
  };
  sim.add("b", b);
  sim.withNode("a", () => a.send("b", [DATA]));
  assert.throws(() => sim.runFor(100), /b threw handling a datagram from a: TypeError: boom \(seed 41, t=10ms\)/);
});

test("memory: bad options are caller mistakes that name the field", () => {
  const bad = (fn: () => unknown, field: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof RelayGridError && e.code === "invalid-config" && field.test(e.message));
  bad(() => new SimNetwork({ seed: -1 }), /seed/);
  bad(() => new SimNetwork({ seed: 1, link: { lossPercent: 101 } }), /lossPercent must be a number from 0 to 100, got 101/);
  bad(() => new SimNetwork({ seed: 1, link: { latencyMs: -1 } }), /latencyMs/);
  bad(() => new SimNetwork({ seed: 1, link: { latencyMs: Number.NaN } }), /latencyMs/);
  bad(() => new SimNetwork({ seed: 1, link: { latency: 5 } as Partial<LinkOptions> }), /unknown link option "latency"/);
  bad(() => new SimNetwork({ seed: 1, mtuBytes: 0 }), /mtuBytes/);
  const sim = new SimNetwork({ seed: 1 });
  bad(() => sim.setLink("a", "b", { jitterMs: -1 }), /jitterMs/);
  bad(() => sim.runUntil(() => true, { maxSteps: 0 }), /maxSteps/);
  assert.throws(() => sim.withNode("ghost", () => undefined), (e: unknown) => e instanceof RelayGridError && e.code === "invalid-address");
});

test("memory: a timeout handler that throws fails the run with its address and the seed", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 42 });
  const box = new Box(false);
  box.deadline = 25;
  box.onTimeout = () => {
    throw new RangeError("bad timer");
  };
  sim.add("t", box);
  assert.throws(() => sim.runFor(100), /t threw handling a timeout: RangeError: bad timer \(seed 42, t=25ms\)/);
});

// ---- Commands -----------------------------------------------------------------------------

test("memory: poke drains work an endpoint queued behind the network's back", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1 });
  const a = new Box(false);
  const handle = sim.add("a", a);
  const b = sink(sim, "b");
  a.send("b", [DATA, 1]);
  a.deadline = 30;
  sim.runFor(100);
  assert.equal([b.received.length, a.timeouts.length], [0, 0], "nothing happens until the driver drains");
  handle.poke();
  sim.runFor(100);
  assert.equal([b.received.length, a.timeouts], [1, [100]]);
  assert.is(handle.address, "a");
});

test("memory: onEvent may command other nodes", () => {
  let sim: SimNetwork<TestEvent> | undefined = undefined;
  const forwarded: string[] = [];
  sim = new SimNetwork<TestEvent>({
    seed: 1,
    onEvent: (address, e) => {
      if (address === "b" && e.kind === "datagram") {
        forwarded.push(`b got ${String(e.bytes[1])}`);
        sim?.withNode("c", (ep) => (ep as Box).send("d", e.bytes));
      }
    },
  });
  const a = sink(sim, "a");
  sim.add("b", new Box());
  sink(sim, "c");
  const d = sink(sim, "d");
  sim.withNode("a", () => a.send("b", [DATA, 7]));
  sim.runFor(100);
  assert.equal(forwarded, ["b got 7"]);
  assert.equal(d.received.map((r) => [r.now, r.from, r.bytes[1]]), [[2 * DEFAULT_LATENCY_MS, "c", 7]]);
});

// ---- Bytes and books ----------------------------------------------------------------------

test("memory: each delivered copy has its own bytes", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 2, link: { duplicatePercent: 100 } });
  const a = sink(sim, "a");
  const b = new Box(false);
  b.onDatagram = (_self, _now, _from, bytes) => (bytes[1] = 0xee); // rewrites in place, like a relay's hop field
  sim.add("b", b);
  const shared = Uint8Array.from([DATA, 1]);
  sim.withNode("a", () => a.send("b", shared));
  shared[1] = 0x55; // the sender reuses its buffer after pollTransmit()
  sim.runFor(50);
  assert.is(sim.stats().duplicated, 1);
  assert.equal(b.received.length, 2);
  assert.ok(b.received.every((r) => r.bytes[1] === 0xee) && b.received[0]?.bytes !== b.received[1]?.bytes);
});

test("memory: every datagram ends in exactly one stats bucket", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 17, link: FAULTY, strictMtu: false, mtuBytes: 3 });
  const addresses = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const rng = new SeededRandom(4);
  for (const a of addresses) sim.add(a, new Pinger([...addresses, "ghost"], new SeededRandom(rng.nextU32()), 3, 30, 10));
  sim.withNode("n0", (ep) => (ep as Box).send("n1", new Uint8Array(4))); // over the MTU
  sim.runFor(50);
  sim.partition(addresses.slice(0, 4), addresses.slice(4, 8));
  sim.runFor(50);
  sim.crash("n9");
  sim.runFor(50);
  assert.ok(balanced(sim.stats()), "mid-run, with datagrams in flight");
  sim.heal();
  sim.restart("n9", new Box(false));
  sim.runFor(2_000);
  const s = sim.stats();
  assert.ok(balanced(s), JSON.stringify(s));
  assert.ok(s.lost > 0 && s.unknownAddress > 0 && s.partitionDrops > 0 && s.crashedDrops > 0 && s.mtuDrops === 1 && s.inFlight === 0);
});

// ---- Scale --------------------------------------------------------------------------------

test("memory: 1,000 endpoints in one process", () => {
  const sim = new SimNetwork<TestEvent>({ seed: 1_000, link: { latencyMs: 20, jitterMs: 10 } });
  const addresses = Array.from({ length: 1_000 }, (_, i) => `10.${i >> 8}.${i & 0xff}.1:7000`);
  const rng = new SeededRandom(7);
  const pingers = addresses.map((a) => {
    const p = new Pinger(addresses, new SeededRandom(rng.nextU32()), 2, 5, 20);
    sim.add(a, p);
    return p;
  });
  sim.runUntil(() => sim.stats().inFlight === 0 && sim.now > 100, { maxTimeMs: 1_000 });
  const s = sim.stats();
  assert.is(s.sent, 1_000 * 2 * 5 * 2, "every ping answered by a pong");
  assert.is(s.delivered, s.sent);
  assert.is(pingers.reduce((n, p) => n + p.pongs, 0), 1_000 * 2 * 5);
  assert.is(s.timerFires, 1_000 * 5);
});

test.run();
