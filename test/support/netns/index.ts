/**
 * The NAT bench (test/support/netns): real Linux NAT in network namespaces, for the NAT
 * suites (`npm run test:nat`, test/nat-*.test.ts) and the NAT matrix (scripts/nat-matrix.ts).
 *
 *   bench.ts         NatBench: builds namespaces, veths, bridges and nft rules from a spec; removes them
 *   nft.ts           the nftables rules of each NAT behaviour (full cone, port-restricted, symmetric)
 *   standard.ts      the standard bench: a home of every kind, the lobby, open hosts, a reflector
 *   agent.ts         the process run inside a namespace (UDP sockets, a lobby, relaygrid peers)
 *   agent-client.ts  starts agents and calls them
 *   probe.ts         the RFC 5780-style probe that tells a NAT's mapping and filtering
 */
import { natBenchAvailability } from "./bench.ts";

export * from "./agent-client.ts";
export * from "./bench.ts";
export * from "./nft.ts";
export * from "./matrix.ts";
export * from "./probe.ts";
export * from "./standard.ts";

/** Set to "1" to run the NAT suites (they need root, `ip` and `nft`): `npm run test:nat`. */
export const NAT_ENV = "RELAYGRID_NAT";

/**
 * Whether the NAT suites run here, and why not. They are opt-in (RELAYGRID_NAT=1) so that
 * `npm test` stays quick and CI runs them once, in their own suite; where namespaces cannot
 * be made, the reason says what is missing.
 */
export function natSuiteGate(): { readonly run: true } | { readonly run: false; readonly reason: string } {
  if (process.env[NAT_ENV] !== "1") return { run: false, reason: `${NAT_ENV} is not 1 (npm run test:nat runs the NAT suites)` };
  const a = natBenchAvailability();
  return a.ok ? { run: true } : { run: false, reason: a.reason };
}
