/**
 * A set of ids with O(1) add, delete and a uniformly random pick: an array and each id's
 * index in it (a deleted id's slot takes the last one). For sampling members of a large grid
 * without walking it (lib/lobby/member-sample.ts).
 */
import { randomInt, type Random } from "../rng.ts";

/** Ids with O(1) add, delete and a uniformly random pick (an array and each id's index in it). */
export class IdPool {
  private readonly list: number[] = [];
  private readonly at = new Map<number, number>();

  get size(): number {
    return this.list.length;
  }

  get items(): readonly number[] {
    return this.list;
  }

  has(id: number): boolean {
    return this.at.has(id);
  }

  add(id: number): void {
    if (this.at.has(id)) return;
    this.at.set(id, this.list.length);
    this.list.push(id);
  }

  delete(id: number): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.list.pop() as number;
    this.at.delete(id);
    if (last === id) return;
    this.list[i] = last;
    this.at.set(last, i);
  }

  pick(random: Random): number | undefined {
    return this.list.length === 0 ? undefined : this.list[randomInt(random, this.list.length)];
  }
}
