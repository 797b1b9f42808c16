/**
 * Island repair (SPEC "What the claims leave open", after 7,596,633): given a grid's
 * components, choose who gets a RepairHint and whom it should connect to, so that a repair
 * costs as few links as possible and a Sybil clique cannot steer it (issue 15, point 4: six
 * colluders forming a clique became the largest component, and the repair tore honest
 * links down to join them).
 *
 * - The main component is the one holding the grid's longest-standing member (the earliest
 *   admitted; the lowest id among equals), not the largest: members who join later, however
 *   many, cannot make themselves the component everyone else is sent to.
 * - Recipients are members of the other islands, never of the main component; targets are
 *   members of the main component.
 * - Free slots first: when both sides have a member with a free link, up to
 *   RECIPIENTS_PER_ISLAND recipients with room are pointed at targets with room, force =
 *   false, and no link anywhere is torn down. When only the main side has room, one island
 *   member is pointed at targets with room (it makes room among its own links once a
 *   target accepted). The main component is asked to drop a link (force = true, claims 32,
 *   42) only when none of its members has a free slot.
 * - Capped: a hint that costs a link goes to one recipient per island, and a forced repair
 *   (the one that costs a link of the main component) at most once every
 *   FORCED_REPAIR_EVERY_CHECKS island checks per grid (the caller keeps the clock).
 */
import { shuffle, type Random } from "../rng.ts";

export const RECIPIENTS_PER_ISLAND = 2;
export const HINT_TARGETS = 4;
/** A forced repair of a grid (force = true) is planned at most once in this many island checks. */
export const FORCED_REPAIR_EVERY_CHECKS = 4;

export interface RepairPlan {
  readonly recipient: number;
  readonly force: boolean;
  readonly targets: readonly number[];
}

/** What island repair knows of each member. */
export interface RepairView {
  /** Reported links below its limit. */
  hasFreeLink(peer: number): boolean;
  /** When it was admitted (smaller: longer standing). */
  admittedMs(peer: number): number;
}

/** The index of the component holding the longest-standing member. */
export function mainComponent(components: readonly (readonly number[])[], view: RepairView): number {
  let best = -1;
  let bestMs = Infinity;
  let bestId = Infinity;
  components.forEach((c, i) => {
    for (const p of c) {
      const ms = view.admittedMs(p);
      if (ms < bestMs || (ms === bestMs && p < bestId)) {
        best = i;
        bestMs = ms;
        bestId = p;
      }
    }
  });
  return best;
}

/** No member of the main component has a free link: only a forced repair can join an island to it. */
export function mainIsFull(main: readonly number[], view: RepairView): boolean {
  return !main.some((p) => view.hasFreeLink(p));
}

/** The hints for one island check; `mayForce` says whether a forced repair is allowed now. */
export function planRepair(components: readonly (readonly number[])[], view: RepairView, random: Random, mayForce: boolean): RepairPlan[] {
  if (components.length < 2) return [];
  const m = mainComponent(components, view);
  const main = components[m] as readonly number[];
  const free = (p: number): boolean => view.hasFreeLink(p);
  const mainFree = main.filter(free);
  const plans: RepairPlan[] = [];
  const targets = (pool: readonly number[]): number[] => shuffle(random, [...pool]).slice(0, HINT_TARGETS);
  components.forEach((island, i) => {
    if (i === m) return;
    const withRoom = shuffle(random, island.filter(free));
    if (mainFree.length > 0 && withRoom.length > 0) {
      for (const recipient of withRoom.slice(0, RECIPIENTS_PER_ISLAND)) plans.push({ recipient, force: false, targets: targets(mainFree) });
    } else if (mainFree.length > 0) {
      plans.push({ recipient: shuffle(random, [...island])[0] as number, force: false, targets: targets(mainFree) });
    } else if (mayForce) {
      const recipient = withRoom[0] ?? (shuffle(random, [...island])[0] as number);
      plans.push({ recipient, force: true, targets: targets(main) });
    }
  });
  return plans;
}
