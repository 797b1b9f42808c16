/**
 * Birthday probing's plan (lib/peer/birthday.ts): the easy side's guessed ports and how they
 * are spread, and the chance they give. End to end through real Linux NAT (a symmetric NAT
 * against a port-restricted one, both ways) it is test/nat-peer.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nextProbes, PORT_LOW, PORT_SPAN, PROBE_PORTS, PROBE_ROUNDS, PROBE_SOCKETS, probePlan } from "../lib/peer/birthday.ts";

const seed = (b: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => (b * 31 + i * 7) & 0xff);

test("the plan: PROBE_PORTS distinct ports of the other's public host, in the NAT's range, never the port the lobby saw", () => {
  const plan = probePlan("198.18.5.1:40000", seed(1));
  assert.ok(plan !== undefined);
  assert.is(plan.ports.length, PROBE_PORTS);
  assert.is(new Set(plan.ports).size, PROBE_PORTS);
  assert.ok(plan.ports.every((p) => p >= PORT_LOW && p < PORT_LOW + PORT_SPAN));
  assert.not.ok(plan.ports.includes(40000));
  assert.is(plan.host, "198.18.5.1");
});

test("the same challenge gives the same ports (a seed replays), another challenge others", () => {
  assert.equal(probePlan("198.18.5.1:1", seed(2))?.ports, probePlan("198.18.5.1:1", seed(2))?.ports);
  assert.not.equal(probePlan("198.18.5.1:1", seed(2))?.ports, probePlan("198.18.5.1:1", seed(3))?.ports);
});

test("spread over PROBE_ROUNDS punch rounds, each to the other's host only; nothing after", () => {
  const plan = probePlan("198.18.5.1:1", seed(4));
  assert.ok(plan !== undefined);
  const rounds: string[][] = [];
  for (let i = 0; i < PROBE_ROUNDS + 2; i++) rounds.push(nextProbes(plan));
  assert.equal(rounds.map((r) => r.length), [...Array.from({ length: PROBE_ROUNDS }, () => PROBE_PORTS / PROBE_ROUNDS), 0, 0]);
  assert.ok(rounds.flat().every((a) => /^198\.18\.5\.1:\d+$/.test(a)));
});

test("no plan for an IPv6 host or an unparsable address", () => {
  assert.is(probePlan("[2001:db8::1]:5000", seed(5)), undefined);
  assert.is(probePlan("nonsense", seed(5)), undefined);
});

test("the odds: 1 - (1 - sockets / span)^probes is about 98% for the defaults", () => {
  const p = 1 - (1 - PROBE_SOCKETS / PORT_SPAN) ** PROBE_PORTS;
  console.log(`figure: ${PROBE_SOCKETS} sockets x ${PROBE_PORTS} probes over ${PORT_SPAN} ports: ${(p * 100).toFixed(1)}% per punch`);
  assert.ok(p > 0.97 && p < 0.99);
});

test.run();
