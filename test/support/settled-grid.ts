/**
 * The grid the redundancy and message suites start from: `n` real Peers of connection limit
 * `limit` on the simulator, settled (every peer a member with >= 2 links, one component) and
 * then 2 s more, so every link's pings have run and the lobby's graph agrees. Redundancy lists
 * + repair ("prune") unless the test asks for flooding.
 */
import type { Redundancy } from "../../lib/peer/config.ts";
import type { LinkOptions } from "../../platform/memory/index.ts";
import { SimGrid } from "./sim-grid.ts";

export function settledGrid(seed: number, n: number, limit = 4, link: Partial<LinkOptions> = {}, redundancy: Redundancy = "prune"): SimGrid {
  const g = new SimGrid({ seed, link, peer: { connectionLimit: limit, redundancy } });
  g.keepEvents = false;
  for (let i = 0; i < n; i++) g.addPeer();
  g.settle(2);
  g.sim.runFor(2_000);
  return g;
}
