/**
 * Connection rules as data (claims 26, 29-33, 36, 40-43; DESIGN.md "Policies are data"):
 * which responders a peer opens links with, which full member it forces, and which link a
 * forced member gives up. A game swaps any part by passing its own ConnectionRules.
 */
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

export const defaultConnectionRules: ConnectionRules = Object.freeze({
  name: "first-last-random",
  selectPositive: firstLastThenRandom,
  selectForce: (negatives: readonly Response[]) => fastestResponder(negatives),
  selectDrop: (neighbours: readonly NeighbourInfo[]) => mostConnectedNeighbour(neighbours),
});

/** Claim 31's variant: fill in arrival order instead of at random. */
export const arrivalOrderConnectionRules: ConnectionRules = Object.freeze({
  name: "first-last-arrival",
  selectPositive: (positives: readonly Response[], want: number) => firstLastThenArrival(positives, want),
  selectForce: (negatives: readonly Response[]) => fastestResponder(negatives),
  selectDrop: (neighbours: readonly NeighbourInfo[]) => mostConnectedNeighbour(neighbours),
});
