/**
 * Island repair (SPEC "What the claims leave open", after 7,596,633): given a grid's
 * components, largest first, choose who gets a RepairHint and whom it should connect to.
 *
 * - Recipients: up to RECIPIENTS_PER_ISLAND members of every smaller component, those with
 *   a free link first (they can open a link without dropping one), then at random.
 * - Targets: up to HINT_TARGETS members of the largest component with a free link, at random,
 *   force = false. When none has a free link, force = true and the targets are random members
 *   of the largest component: the recipient sends them a force connection (claims 32, 42).
 */
import { sample, shuffle, type Random } from "../rng.ts";

export const RECIPIENTS_PER_ISLAND = 2;
export const HINT_TARGETS = 4;

export interface RepairPlan {
  readonly recipient: number;
  readonly force: boolean;
  readonly targets: readonly number[];
}

export function planRepair(
  components: readonly (readonly number[])[],
  hasFreeLink: (peer: number) => boolean,
  random: Random,
): RepairPlan[] {
  const largest = components[0];
  if (largest === undefined || components.length < 2) return [];
  const free = largest.filter(hasFreeLink);
  const force = free.length === 0;
  const pool = force ? largest : free;
  const plans: RepairPlan[] = [];
  for (let c = 1; c < components.length; c++) {
    const island = components[c] as readonly number[];
    const withRoom = shuffle(random, island.filter(hasFreeLink));
    const without = shuffle(random, island.filter((p) => !hasFreeLink(p)));
    for (const recipient of [...withRoom, ...without].slice(0, RECIPIENTS_PER_ISLAND)) {
      plans.push({ recipient, force, targets: sample(random, pool, HINT_TARGETS) });
    }
  }
  return plans;
}
