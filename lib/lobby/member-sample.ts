/**
 * Which members a joiner is told about (claim 24; issue 16, item 4: 10,000 members). A grid
 * with at most memberListLimit other members hands every joiner the whole list, in parts
 * (members.ts). A larger one hands each a sample that fits one datagram (at most 32 entries),
 * drawn without walking the grid: members with a free link first, those in the main component
 * before the rest (they are where a joiner should link, issue 18 item 3), then any members (a
 * full one answers "no", and is whom a joiner forces, claims 32, 33). A peer that runs out of
 * candidates asks again (SelectGrid) and gets a fresh sample.
 *
 * Bookkeeping, O(1) per change: every member id in `grid.ids`, and in `grid.free` every member
 * that may have a free link. A member is put in `free` whenever it may have gained one (admitted,
 * a link report dropped, a limit raised: noteFree) and taken out lazily, when a draw finds it full.
 */
import type { Random } from "../rng.ts";
import { hasFreeLink, type Grid, type Member } from "./registry.ts";

/** `m` may have gained a free link: it becomes a candidate for samples. */
export function noteFree(grid: Grid, m: Member | undefined): void {
  if (m !== undefined && hasFreeLink(grid, m)) grid.free.add(m.id);
}

/**
 * Up to `size` member ids other than `self`, for a grid larger than its full-list limit: free
 * members of the main component, then other free members, then any. O(size) expected.
 */
export function sampleMembers(grid: Grid, self: number, size: number, random: Random): number[] {
  const taken = new Set<number>([self]);
  const mainFree: number[] = [];
  const otherFree: number[] = [];
  const free = grid.free;
  // A small pool is read whole; a large one is drawn from (a full member found is dropped from it).
  const draws = free.size <= 2 * size ? free.size : 3 * size;
  const whole = draws === free.size;
  for (let i = 0; i < draws && mainFree.length + otherFree.length < 2 * size; i++) {
    const id = whole ? (free.items[free.size - 1 - i] as number) : (free.pick(random) as number);
    const m = grid.members.get(id);
    if (m === undefined || !hasFreeLink(grid, m)) {
      if (!whole) free.delete(id);
      continue;
    }
    if (taken.has(id)) continue;
    taken.add(id);
    (m.main ? mainFree : otherFree).push(id);
  }
  if (whole) for (const id of [...free.items]) if (!hasFreeLink(grid, grid.members.get(id) as Member)) free.delete(id);
  const out = [...mainFree, ...otherFree].slice(0, size);
  // Then anyone, at random: full members answer "no" and are whom a joiner forces.
  const wanted = Math.min(size, grid.members.size - 1);
  for (let tries = 0; out.length < wanted && tries < 4 * size; tries++) {
    const id = grid.ids.pick(random) as number;
    if (taken.has(id)) continue;
    taken.add(id);
    out.push(id);
  }
  return out;
}
