/**
 * What ReplyTimer (relaygrid_lobby_reply_duration_seconds) adds to the lobby's per-datagram
 * path: a Heartbeat handled and drained 200,000 times straight and through the timer, 7
 * alternating repeats, medians (min-max) in ns per datagram. No I/O.
 *
 *   npx tsx scripts/reply-timer-cost.ts
 */
import type { Endpoint } from "../lib/endpoint.ts";
import { ReplyTimer } from "../platform/node/reply-timer.ts";
import { Client, Harness, joinMany } from "../test/lobby-harness.ts";
import { encode } from "../wire/codec.ts";
import { Kind } from "../wire/kinds.ts";

const N = 200_000;
const REPEATS = 7;

const h = new Harness({ requestsPerSecondPerSession: 1_000_000, requestBurstPerSession: 1_000_000 }, 1);
const owner = new Client(h, "10.0.9.1:4000");
owner.hello();
const grid = owner.create("bench");
const [a, b] = joinMany(h, grid, 2, 4);
if (a === undefined || b === undefined) throw new Error("no members");
const bytes = encode({ kind: Kind.Heartbeat, req: 77, session: a.client.session, grid, peer: a.peer, links: [b.peer] });

/** ns per datagram; virtual time moves 1 us per datagram so the rate limit never bites. */
function run(ep: Endpoint<unknown>): number {
  const t0 = performance.now();
  let now = h.nowMs;
  for (let i = 0; i < N; i++) {
    now += 0.001;
    ep.handleDatagram(now, a!.client.addr, bytes);
    while (ep.pollTransmit() !== undefined);
    while (ep.pollEvent() !== undefined);
  }
  h.nowMs = now;
  return ((performance.now() - t0) / N) * 1e6;
}

const timed = new ReplyTimer(h.lobby);
run(h.lobby);
run(timed);
const direct: number[] = [];
const wrapped: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  direct.push(run(h.lobby));
  wrapped.push(run(timed));
}
const show = (x: number[]): string => {
  const s = [...x].sort((p, q) => p - q);
  return `${(s[s.length >> 1] as number).toFixed(0)} ns (${(s[0] as number).toFixed(0)}-${(s[s.length - 1] as number).toFixed(0)})`;
};
const st = h.lobby.stats();
console.log(`heartbeat handled+drained: direct ${show(direct)}, through ReplyTimer ${show(wrapped)}; accepted ${st.accepted}, drops ${JSON.stringify(st.drops)}`);
