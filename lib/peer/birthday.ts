/**
 * Birthday probing (PROTOCOL.md 7.2, "Hard NATs"; issue 13 item 4): what a punch does when
 * its first PROBE_AFTER_MS found no path, so that a peer behind a NAT that maps every
 * destination to a new port (symmetric) can still meet one behind a NAT that keeps one
 * mapping for all destinations but filters by address and port (port-restricted, two hosts
 * behind one router, a double NAT).
 *
 * Why plain punching cannot open such a pair: the symmetric side's Punches reach the other
 * NAT from a port nobody announced, and the other side's Punches go to the port the lobby
 * saw, which the symmetric NAT gave the lobby only. So both sides guess:
 * - the hard side (its public port is not its socket's: punch.ts asks nat-registration)
 *   sends one Punch from each of PROBE_SOCKETS extra sockets to the other's public address
 *   (Transmit.sockets): its NAT opens PROBE_SOCKETS mappings towards it, each on a random port;
 * - the easy side (it keeps its port, so its one mapping is what the other sends to) sends
 *   Punches to PROBE_PORTS random ports of the hard side's public host, spread over
 *   PROBE_ROUNDS punch rounds: each opens its own NAT's filter for that port.
 * A probe that lands on one of the mappings goes in to that socket, whose PunchReply comes
 * out of the same port, through the filter the probe opened: the path is proven as any
 * other. The chance that some probe hits is 1 - (1 - PROBE_SOCKETS / PORT_SPAN)^PROBE_PORTS,
 * about 98% for 256 sockets and 1,024 probes over Linux's 64,512 (Tailscale's figures).
 * Two symmetric NATs never meet this way (neither side has a port to aim at): a relay's job.
 *
 * Bounded: one spray and one probe schedule per punch, which itself needs an Introduction
 * (budgeted by the lobby, and a member whose punch failed is not introduced again for
 * UNREACHABLE_RETRY_MS); probes go only to the public host the lobby saw the other member
 * at, never to an address a member chose; at most MAX_PROBING punches probe at once.
 * The ports come from the punch's own fresh challenge (no draw from the peer's random
 * stream, so a seed replays the rest of a run unchanged).
 */
import type { Address } from "../endpoint.ts";
import { formatSocketAddress, splitSocketAddress } from "../../wire/address.ts";

/** A punch that found no path this long after it started probes. Defaults to 500 ms. */
export const PROBE_AFTER_MS = 500;
/** The easy side starts its probes this long after that (the hard side's mappings come first). Defaults to 200 ms. */
export const PROBE_DELAY_MS = 200;
/** Extra sockets the hard side sends from. Defaults to 256. */
export const PROBE_SOCKETS = 256;
/** Ports of the hard side's public host the easy side probes. Defaults to 1024. */
export const PROBE_PORTS = 1024;
/** Punch rounds the easy side spreads its probes over (100 to 250 ms apart: punch.ts). Defaults to 8. */
export const PROBE_ROUNDS = 8;
/** Punches probing at once at most. Defaults to 4. */
export const MAX_PROBING = 4;
/** The ports a NAT picks from for a socket on an unprivileged port (Linux: 1024-65535). */
export const PORT_LOW = 1024;
export const PORT_SPAN = 65536 - PORT_LOW;

/** Which side of a birthday probe this peer takes: by its own NAT, as the lobby sees it. */
export type ProbeRole = "hard" | "easy" | "none";

/** The easy side's schedule for one punch. */
export interface ProbePlan {
  readonly host: string;
  /** The ports, in sending order; `next` of them are sent. */
  readonly ports: readonly number[];
  next: number;
}

/** The probe plan towards `addr`'s host, its ports drawn from `seed` (16 bytes or more). */
export function probePlan(addr: Address, seed: Uint8Array): ProbePlan | undefined {
  const hp = splitSocketAddress(addr);
  if (hp === undefined || hp.host.includes(":")) return undefined; // IPv6 needs no port guessing
  // xorshift32 from the challenge: any spread of ports will do, but the same one per seed.
  let x = ((seed[0] ?? 1) | ((seed[1] ?? 0) << 8) | ((seed[2] ?? 0) << 16) | ((seed[3] ?? 0) << 24)) >>> 0 || 0x9e3779b9;
  const seen = new Set<number>([hp.port]);
  const ports: number[] = [];
  while (ports.length < PROBE_PORTS) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const port = PORT_LOW + (x % PORT_SPAN);
    if (seen.has(port)) continue;
    seen.add(port);
    ports.push(port);
  }
  return { host: hp.host, ports, next: 0 };
}

/** The next round's share of the plan's probe addresses (empty when all are sent). */
export function nextProbes(plan: ProbePlan): Address[] {
  const per = Math.ceil(PROBE_PORTS / PROBE_ROUNDS);
  const out = plan.ports.slice(plan.next, plan.next + per).map((p) => formatSocketAddress(plan.host, p));
  plan.next += out.length;
  return out;
}
