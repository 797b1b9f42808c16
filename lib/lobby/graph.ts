/**
 * One grid's connection graph (claims 44, 51). Each member's *reported* link set is kept as
 * the member said it (ConnUpdate adds or removes one id, Heartbeat replaces the set); an edge
 * is *confirmed*, and counts in the graph, only when both ends report it. A report may name
 * a peer that is not (yet) a member: after a lobby restart peers re-register one by one, and
 * a link becomes confirmed when its second end arrives.
 *
 * Memory: at most MAX_LINKS reported ids per member, and a reverse index of the same size.
 */
import { MAX_LINKS } from "../../wire/limits.ts";

export class LinkGraph {
  /** member -> the ids it reports being linked to. Its keys are the members. */
  private readonly out = new Map<number, Set<number>>();
  /** id -> the members that report a link to it (the id may not be a member). */
  private readonly inbound = new Map<number, Set<number>>();
  private confirmed = 0;
  private cache: number[][] | undefined;
  private changes = 0;

  /** Counts changes to the membership or to a confirmed edge: equal versions, equal components. */
  get version(): number {
    return this.changes;
  }

  /** Confirmed edges. */
  get edgeCount(): number {
    return this.confirmed;
  }

  get memberCount(): number {
    return this.out.size;
  }

  has(member: number): boolean {
    return this.out.has(member);
  }

  addMember(member: number): void {
    if (this.out.has(member)) return;
    this.out.set(member, new Set());
    this.invalidate();
  }

  /** Removes `member` and every report to or from it. Returns the ids whose pair with it changed. */
  removeMember(member: number): number[] {
    const mine = this.out.get(member);
    if (mine === undefined) return [];
    const touched = new Set<number>();
    for (const other of [...mine]) {
      this.setReported(member, other, false);
      touched.add(other);
    }
    for (const reporter of [...(this.inbound.get(member) ?? [])]) {
      this.setReported(reporter, member, false);
      touched.add(reporter);
    }
    this.out.delete(member);
    this.invalidate();
    return [...touched];
  }

  /** The ids `member` reports, or an empty set for a non-member. */
  reported(member: number): ReadonlySet<number> {
    return this.out.get(member) ?? EMPTY;
  }

  /** The members that report a link to `id` (which may not be a member). */
  reportersOf(id: number): number[] {
    const rev = this.inbound.get(id);
    return rev === undefined ? [] : [...rev];
  }

  reports(a: number, b: number): boolean {
    return this.out.get(a)?.has(b) === true;
  }

  isConfirmed(a: number, b: number): boolean {
    return this.reports(a, b) && this.reports(b, a);
  }

  /** Exactly one end of a pair of members reports the link: it needs checking. */
  isOneSided(a: number, b: number): boolean {
    return this.out.has(a) && this.out.has(b) && this.reports(a, b) !== this.reports(b, a);
  }

  /**
   * Records that `member` reports (`on`) or no longer reports a link to `other`. Returns
   * false, changing nothing, when `member` is not a member, names itself, or already reports
   * MAX_LINKS links.
   */
  setReported(member: number, other: number, on: boolean): boolean {
    const mine = this.out.get(member);
    if (mine === undefined || member === other) return false;
    if (mine.has(other) === on) return true;
    if (on && mine.size >= MAX_LINKS) return false;
    const before = this.isConfirmed(member, other);
    if (on) {
      mine.add(other);
      let rev = this.inbound.get(other);
      if (rev === undefined) this.inbound.set(other, (rev = new Set()));
      rev.add(member);
    } else {
      mine.delete(other);
      const rev = this.inbound.get(other);
      rev?.delete(member);
      if (rev !== undefined && rev.size === 0) this.inbound.delete(other);
    }
    const after = this.isConfirmed(member, other);
    if (before !== after) {
      this.confirmed += after ? 1 : -1;
      this.invalidate();
    }
    return true;
  }

  /** Replaces `member`'s whole reported set (a Heartbeat). Returns the ids whose pair changed. */
  replaceReported(member: number, links: readonly number[]): number[] {
    const mine = this.out.get(member);
    if (mine === undefined) return [];
    const next = new Set<number>();
    for (const id of links) if (id !== member && next.size < MAX_LINKS) next.add(id);
    const touched: number[] = [];
    for (const id of [...mine]) {
      if (!next.has(id)) {
        this.setReported(member, id, false);
        touched.push(id);
      }
    }
    for (const id of next) {
      if (!mine.has(id)) {
        this.setReported(member, id, true);
        touched.push(id);
      }
    }
    return touched;
  }

  /** Confirmed links of `member`. */
  degree(member: number): number {
    let n = 0;
    for (const other of this.reported(member)) if (this.reports(other, member)) n++;
    return n;
  }

  /** Confirmed neighbours of `member`, ascending. */
  neighbours(member: number): number[] {
    const list: number[] = [];
    for (const other of this.reported(member)) if (this.reports(other, member)) list.push(other);
    return list.sort((x, y) => x - y);
  }

  private invalidate(): void {
    this.cache = undefined;
    this.changes++;
  }

  /**
   * Connected components of the confirmed graph by a marking pass (breadth first): each
   * component's ids ascending, the components largest first (ties: lowest id first).
   * Cached until the membership or a confirmed edge changes.
   */
  components(): readonly (readonly number[])[] {
    if (this.cache !== undefined) return this.cache;
    const seen = new Set<number>();
    const result: number[][] = [];
    for (const start of this.out.keys()) {
      if (seen.has(start)) continue;
      seen.add(start);
      const comp = [start];
      for (let i = 0; i < comp.length; i++) {
        const at = comp[i] as number;
        for (const other of this.reported(at)) {
          if (!seen.has(other) && this.reports(other, at)) {
            seen.add(other);
            comp.push(other);
          }
        }
      }
      result.push(comp.sort((x, y) => x - y));
    }
    result.sort((x, y) => y.length - x.length || (x[0] as number) - (y[0] as number));
    this.cache = result;
    return result;
  }
}

const EMPTY: ReadonlySet<number> = new Set();
