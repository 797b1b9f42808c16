/**
 * The join policy: connection rules as data (claims 26, 29-33, 36, 40-43; DESIGN.md
 * "Policies are data"). Which positive responders a joining peer opens links with (claims
 * 29-31) and which a member below its limit takes (claim 40), below how many links a peer
 * forces a connection and with which negative responder (claims 32, 33, 42, 43), and which
 * link a forced member gives up (claim 32). The seeker (seeker.ts) only asks; every choice
 * is made here. A game swaps any part by passing its own ConnectionRules.
 */
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import type { Random } from "../rng.ts";
import { shuffle } from "../rng.ts";

/** One answer to a join or connection-available message, with its response time (claims 28, 39). */
export interface Response {
  readonly peer: number;
  readonly addr: string;
  readonly positive: boolean;
  /** The responder's link count when it answered. */
  readonly links: number;
  /** When the answer arrived, on the peer's clock. */
  readonly receivedAt: number;
  /** receivedAt minus when the request was first sent (claims 28, 39). */
  readonly responseTimeMs: number;
  /** 0 for the first answer received, 1 for the next, ... */
  readonly order: number;
}

/** What a forced member knows of a neighbour when it picks a link to drop (claim 32). */
export interface NeighbourInfo {
  readonly peer: number;
  /** The neighbour's link count from its latest pong. */
  readonly links: number;
  readonly rttMs: number;
}

export interface ConnectionRules {
  readonly name: string;
  /**
   * Claims 29-31: choose up to `want` of the positive responses (in arrival order) to open
   * links with, best first. The peer tries them in that order.
   */
  selectPositive(positives: readonly Response[], want: number, random: Random): Response[];
  /**
   * Claim 40: choose up to `want` of a connection-available round's positive responses (in
   * arrival order), best first. Defaults to arrivalOrder (the first positive, then the next).
   */
  selectAvailable?(positives: readonly Response[], want: number, random: Random): Response[];
  /**
   * Claims 32, 42: with no positive response, a peer holding (or asking for) fewer links
   * than this forces a connection; at or above it, it waits for the next round. Capped at
   * the connection limit. Defaults to DEFAULT_FORCE_BELOW_LINKS (2: a leaf or an island
   * forces, a peer with two paths into the grid does not).
   */
  readonly forceBelowLinks?: number;
  /** Claims 33, 43: choose the negative responder to send a force connection request to. */
  selectForce(negatives: readonly Response[], random: Random): Response | undefined;
  /**
   * Claim 32: a forced member chooses which of its links to close, or undefined to refuse.
   * The choice must keep the grid whole.
   */
  selectDrop(neighbours: readonly NeighbourInfo[], random: Random): NeighbourInfo | undefined;
}

/** Claim 29: the first positive response, then the last positive one inside the time limit. */
function firstAndLast(positives: readonly Response[]): Response[] {
  if (positives.length === 0) return [];
  const first = positives[0] as Response;
  const last = positives[positives.length - 1] as Response;
  return first === last ? [first] : [first, last];
}

/** Claims 29 + 30: first, last, then the rest at random. */
export function firstLastThenRandom(positives: readonly Response[], want: number, random: Random): Response[] {
  const picked = firstAndLast(positives);
  const rest = shuffle(random, positives.slice(1, -1));
  return picked.concat(rest).slice(0, want);
}

/** Claims 29 + 31: first, last, then the rest in the order their responses arrived. */
export function firstLastThenArrival(positives: readonly Response[], want: number): Response[] {
  return firstAndLast(positives).concat(positives.slice(1, -1)).slice(0, want);
}

/** Claim 40: the first positive response, then the next ones, in the order they arrived. */
export function arrivalOrder(positives: readonly Response[], want: number): Response[] {
  return positives.slice(0, want);
}

/** Claims 33, 43 default: the negative responder that answered fastest (likely the nearest). */
export function fastestResponder(negatives: readonly Response[]): Response | undefined {
  let best: Response | undefined;
  for (const r of negatives) if (best === undefined || r.responseTimeMs < best.responseTimeMs) best = r;
  return best;
}

/**
 * Claim 32 default: drop the neighbour with the most links, so it keeps the most other
 * paths and its side of the grid stays whole; never one left below two links (it would
 * risk becoming a leaf or an island). Ties go to the highest RTT (the worst link).
 */
export function mostConnectedNeighbour(neighbours: readonly NeighbourInfo[]): NeighbourInfo | undefined {
  let best: NeighbourInfo | undefined;
  for (const n of neighbours) {
    if (n.links <= 2) continue;
    if (best === undefined || n.links > best.links || (n.links === best.links && n.rttMs > best.rttMs)) best = n;
  }
  return best;
}

/** Claims 32, 42: a peer with fewer links than this forces a connection when nobody has room. Defaults to 2. */
export const DEFAULT_FORCE_BELOW_LINKS = 2;

export const defaultConnectionRules: ConnectionRules = Object.freeze({
  name: "first-last-random",
  selectPositive: firstLastThenRandom,
  selectAvailable: (positives: readonly Response[], want: number) => arrivalOrder(positives, want),
  forceBelowLinks: DEFAULT_FORCE_BELOW_LINKS,
  selectForce: (negatives: readonly Response[]) => fastestResponder(negatives),
  selectDrop: (neighbours: readonly NeighbourInfo[]) => mostConnectedNeighbour(neighbours),
});

/** Claim 31's variant: fill in arrival order instead of at random. */
export const arrivalOrderConnectionRules: ConnectionRules = Object.freeze({
  name: "first-last-arrival",
  selectPositive: (positives: readonly Response[], want: number) => firstLastThenArrival(positives, want),
  selectAvailable: (positives: readonly Response[], want: number) => arrivalOrder(positives, want),
  forceBelowLinks: DEFAULT_FORCE_BELOW_LINKS,
  selectForce: (negatives: readonly Response[]) => fastestResponder(negatives),
  selectDrop: (neighbours: readonly NeighbourInfo[]) => mostConnectedNeighbour(neighbours),
});

/** ConnectionRules with every optional part filled in (what the seeker calls). */
export type ResolvedConnectionRules = Required<ConnectionRules>;

/**
 * Checks a ConnectionRules from config once and fills in its optional parts. The rules'
 * own methods are called on the object itself, so a class instance keeps its `this`.
 */
export function resolveConnectionRules(rules: ConnectionRules): ResolvedConnectionRules {
  const r = rules as Partial<ConnectionRules> | undefined;
  for (const m of ["selectPositive", "selectForce", "selectDrop"] as const) {
    if (typeof r?.[m] !== "function") {
      throw new RelayGridError(ErrorCode.InvalidConfig, `connectionRules.${m} must be a function (see defaultConnectionRules)`);
    }
  }
  if (r?.selectAvailable !== undefined && typeof r.selectAvailable !== "function") {
    throw new RelayGridError(ErrorCode.InvalidConfig, "connectionRules.selectAvailable must be a function or left out");
  }
  const forceBelowLinks = checkInt("connectionRules.forceBelowLinks", rules.forceBelowLinks ?? DEFAULT_FORCE_BELOW_LINKS, 0, 64);
  return {
    name: typeof rules.name === "string" ? rules.name : "custom",
    selectPositive: (positives, want, random) => rules.selectPositive(positives, want, random),
    selectAvailable: (positives, want, random) =>
      rules.selectAvailable !== undefined ? rules.selectAvailable(positives, want, random) : arrivalOrder(positives, want),
    forceBelowLinks,
    selectForce: (negatives, random) => rules.selectForce(negatives, random),
    selectDrop: (neighbours, random) => rules.selectDrop(neighbours, random),
  };
}
