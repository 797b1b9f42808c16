/**
 * A read-only picture of one grid's connection graph for dashboards (issue 17): every member
 * with its limit and link counts, every pair that at least one end reports (both ends:
 * confirmed, counts in `links` and in the components; one end: one-sided, the lobby probes
 * the silent end after unconfirmedEdgeMs), and the components of the confirmed graph.
 *
 * Only what the lobby tracks: a Heartbeat carries link ids, never RTT or loss (wire/PROTOCOL.md,
 * "Heartbeat (0x27)"), so there is none here. No secret either: no session id, ticket or grid key.
 */
import type { Address } from "../endpoint.ts";
import type { Grid } from "./registry.ts";

export interface TopologyMember {
  readonly peer: number;
  readonly addr: Address;
  readonly limit: number;
  /** Confirmed links (both ends report them). */
  readonly links: number;
  /** Ids it reports being linked to: confirmed, one-sided, or naming no member. */
  readonly reported: number;
  /** When the lobby last heard from it, on the driver's clock (the `now` it is fed). */
  readonly lastHeardMs: number;
  /** Index into `components` of the component it is in (0: the largest). */
  readonly component: number;
}

export interface TopologyEdge {
  /** Confirmed: the lower id. One-sided: the end that reports the link. */
  readonly a: number;
  /** Confirmed: the higher id. One-sided: the silent end. */
  readonly b: number;
  readonly confirmed: boolean;
}

export interface GridTopology {
  readonly grid: number;
  readonly name: string;
  readonly capacity: number;
  /** The creator's suggested connection limit. */
  readonly limit: number;
  /** All members, even when `members` was cut to maxMembers. */
  readonly memberCount: number;
  /** Members by ascending id, at most maxMembers of them (the lowest ids). */
  readonly members: readonly TopologyMember[];
  /** Pairs among `members`: confirmed ones once (a < b), then one-sided ones, each by ascending a, b. */
  readonly edges: readonly TopologyEdge[];
  /** Components of the whole confirmed graph, largest first, each ascending (GridSummary.components is their count). */
  readonly components: readonly (readonly number[])[];
  /** Since when the grid has been seen split at an island check, or undefined while whole. */
  readonly splitSinceMs: number | undefined;
  /** `members` is not every member. */
  readonly truncated: boolean;
}

/** The topology of `grid`, its members cut to the `maxMembers` lowest ids. */
export function gridTopology(grid: Grid, maxMembers: number): GridTopology {
  const graph = grid.graph;
  const components = grid.members.size === 0 ? [] : graph.components().map((c) => [...c]);
  const componentOf = new Map<number, number>();
  components.forEach((c, i) => {
    for (const id of c) componentOf.set(id, i);
  });
  const ids = [...grid.members.keys()].sort((x, y) => x - y).slice(0, Math.max(0, maxMembers));
  const shown = new Set(ids);
  const members: TopologyMember[] = [];
  const confirmed: TopologyEdge[] = [];
  const oneSided: TopologyEdge[] = [];
  for (const id of ids) {
    const m = grid.members.get(id);
    if (m === undefined) continue;
    const reported = [...graph.reported(id)].sort((x, y) => x - y);
    let links = 0;
    for (const other of reported) {
      const back = graph.reports(other, id);
      if (back) links++;
      if (!shown.has(other)) continue;
      if (back && id < other) confirmed.push({ a: id, b: other, confirmed: true });
      else if (!back) oneSided.push({ a: id, b: other, confirmed: false });
    }
    members.push({
      peer: id,
      addr: m.addr,
      limit: m.limit,
      links,
      reported: reported.length,
      lastHeardMs: m.lastHeardMs,
      component: componentOf.get(id) ?? 0,
    });
  }
  return {
    grid: grid.id,
    name: grid.name,
    capacity: grid.capacity,
    limit: grid.limit,
    memberCount: grid.members.size,
    members,
    edges: [...confirmed, ...oneSided],
    components,
    splitSinceMs: grid.splitSinceMs,
    truncated: ids.length < grid.members.size,
  };
}
