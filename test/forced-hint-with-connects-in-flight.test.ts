/**
 * Bug (issue 12, Done-when 3: partition heal at least as good as flooding's): a forced
 * RepairHint that reached a full peer while its own Connects were in flight was ignored.
 *
 * The seeker took "full and something pending" for "a repair already in flight" and
 * returned. The lobby sends the forced repair of a split with a full main component at
 * once (lib/lobby/standing.ts), to one island peer, and holds the next one for
 * FORCED_REPAIR_EVERY_CHECKS island checks (4 s). So when the main component filled up
 * just before the lift and the one hint met a peer still linking inside its own half, the
 * halves stayed apart until the next forced repair: the fault matrix's 64-peer partition,
 * seed 9, was whole 4.05 s after the lift (seed 6: 3.80 s), against 0.10 s before
 * 67da7a6, whose new message fields only moved that race's timing. Only a repair in flight
 * (Seeker.repairing) now makes a full peer skip a forced hint (an unforced one still waits
 * for its connects: the lossy convergence test of peer-resilience holds on that).
 *
 * The matrix's own row on the simulator (virtual time, one seed: deterministic).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFaultRow } from "../bench/support/fault-run.ts";
import { rows, settings } from "../bench/support/fault-rows.ts";
import { figure } from "./support/figures.ts";

test("a forced RepairHint that meets the full peer's own connects in flight is acted on: the 64-peer partition (seed 9) is whole soon after the lift, not at the lobby's next forced repair 4 s later", () => {
  const s = settings(false);
  const row = rows(s.timing).find((r) => r.id === "partition");
  assert.ok(row !== undefined);
  const r = runFaultRow(row, 9, s);
  figure("partition heal after the lift, 64 peers limit 4, prune, seed 9", `${((r.healMs ?? NaN) / 1000).toFixed(2)} s (4.05 s while such a hint was ignored); delivered ${((100 * r.all.delivered) / r.all.expected).toFixed(3)}% (61.508% then)`);
  assert.ok(r.healMs !== null && r.healMs <= 1_000, `whole ${r.healMs} ms after the lift`);
  assert.is(r.duplicateDeliveries, 0);
});

test.run();
