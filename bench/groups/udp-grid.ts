/**
 * udp-grid: 16 peers with limit 4 on loopback, each broadcasting at 30 Hz: deliveries/s,
 * delivery %, p50/p99 latency, CPU per peer, on Node, Bun and Deno. Needs the Node peer
 * driver; until it exists this group reports that instead of a number.
 */
import { nodePeerDriver } from "../support/driver.ts";
import type { BenchContext, Group, GroupResult } from "../types.ts";

export const udpGridGroup: Group = {
  name: "udp-grid",
  title: "16 peers, limit 4, 30 Hz broadcasts on 127.0.0.1",
  udp: true,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const driver = await nodePeerDriver();
    const reason = driver.available
      ? "the Node peer driver exists; this group's measurement is not written yet"
      : `not available yet: ${driver.reason}`;
    ctx.log(`udp-grid (${ctx.runtime}): ${reason}`);
    return {
      group: "udp-grid",
      title: this.title,
      status: "unavailable",
      rows: [
        { key: "deliveriesPerSec", measure: `deliveries/s, delivery %, p50/p99 latency, CPU per peer (${ctx.runtime})`, value: null, note: reason },
      ],
      info: { runtime: ctx.runtime, peers: 16, connectionLimit: 4, broadcastHz: 30 },
      notes: [reason],
    };
  },
};
