/**
 * What a peer that reaches no member is told (ErrorCode "unreachable", PROTOCOL.md 7.2): where
 * the lobby sees it, whether it is behind a NAT and what kind that looks like, what its
 * punches found, and what would fix it. The numbers come from the NAT client's counters.
 */
import type { Address } from "../endpoint.ts";
import { splitSocketAddress } from "../../wire/address.ts";

export interface UnreachableFacts {
  readonly afterMs: number;
  /** unreachableAfterMs windows waited: 2 when the peer held proven paths at the end of the first. */
  readonly windows: number;
  /** Proven paths held now (members whose punch got through, though no link came up). */
  readonly provenPaths: number;
  readonly grid: string;
  /** Members this peer knows of. */
  readonly members: number;
  /** The NAT client's state (registered, unsupported, off, ...). */
  readonly state: string;
  readonly observed: Address | undefined;
  readonly locals: readonly string[];
  readonly punchesOk: number;
  readonly punchesFailed: number;
  readonly noKey: number;
  /** Links held but not yet confirmed by the neighbour. */
  readonly links: number;
}

/** Where the lobby sees this peer and what that says about its NAT. */
function whereSeen(f: UnreachableFacts): string {
  if (f.observed === undefined) {
    return f.state === "off"
      ? "NAT traversal is off (natTraversal: false), so members behind NATs cannot be punched"
      : "the lobby does not speak NAT traversal (it did not answer Register), so members behind NATs cannot be punched";
  }
  const seen = `the lobby sees this peer at ${f.observed}`;
  if (f.locals.length === 0) return seen;
  if (f.locals.includes(f.observed)) return `${seen}, its own address: it is not behind a NAT`;
  const port = splitSocketAddress(f.observed)?.port;
  const samePort = f.locals.some((l) => splitSocketAddress(l)?.port === port);
  return samePort
    ? `${seen}: behind a NAT that keeps its port (${f.locals[0] as string} inside)`
    : `${seen}: behind a NAT that gave it another port than its socket's (${f.locals[0] as string} inside), likely one that maps every destination to a new port (symmetric), which cannot reach members behind NATs that filter by address and port`;
}

export function unreachableMessage(f: UnreachableFacts): string {
  const tried =
    f.punchesOk + f.punchesFailed + f.noKey === 0
      ? "no member could be introduced yet"
      : `punches: ${f.punchesOk} proven, ${f.punchesFailed} failed; ${f.noKey} member(s) without a link key (asked as before NAT traversal)`;
  const pending = f.links > 0 ? `; ${f.links} link(s) opened but not confirmed by the other end` : "";
  const paths = f.provenPaths > 0 ? `; ${f.provenPaths} proven path(s) but no link on them` : "";
  const within = f.windows > 1 ? `${f.windows} x unreachableAfterMs ${f.afterMs} (${f.windows * f.afterMs} ms)` : `unreachableAfterMs ${f.afterMs}`;
  return (
    `no member of grid ${f.grid} could be reached within ${within} of admission (${f.members} known; ${tried}${pending}${paths}); ` +
    `${whereSeen(f)}. To fix: forward a UDP port to this host, join from a network without this NAT, or have a member on a public ` +
    "address (or behind a full-cone NAT: every NAT kind reaches one) join this grid. The peer keeps trying and joins as soon as a member is reachable."
  );
}
