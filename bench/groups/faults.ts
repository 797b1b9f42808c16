/**
 * faults: the fault matrix of the security and fault-tolerance issue (forged, replayed,
 * corrupted and flooded datagrams; crashes and partitions) with its figures. A place in the
 * runner until that issue lands.
 */
import type { BenchContext, Group, GroupResult } from "../types.ts";

export const faultsGroup: Group = {
  name: "faults",
  title: "fault matrix (security and fault-tolerance issue)",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const reason = "not available yet: needs the security and fault-tolerance issue's fault matrix (and the Node peer driver for its UDP cells)";
    ctx.log(`faults: ${reason}`);
    return {
      group: "faults",
      title: this.title,
      status: "unavailable",
      rows: [{ key: "faultMatrix", measure: "fault matrix", value: null, note: reason }],
      info: {},
      notes: [reason],
    };
  },
};
