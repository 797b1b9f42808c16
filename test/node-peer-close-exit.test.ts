/**
 * Bug: a script that closed every peer and its lobby still did not exit for the rest of
 * close()'s timeout (2 s by default): close() armed a timer to bound an unacknowledged leave
 * and never cleared it once the leave completed. A game's test script or a CLI tool waited
 * for nothing. Now close() leaves no timer behind: once the lobby and both peers are closed,
 * the process holds exactly the timers and sockets it held before they were created.
 * Real UDP on 127.0.0.1, bounded by joinGrid's own deadline. Counted on Node, whose
 * process.getActiveResourcesInfo() lists timers and UDP sockets.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid } from "../platform/node/index.ts";

/** Timers and UDP sockets this process holds (Node's own accounting, not a clock). */
function held(): { timers: number; sockets: number } {
  const r = process.getActiveResourcesInfo();
  return { timers: r.filter((x) => x === "Timeout").length, sockets: r.filter((x) => x === "UDPWrap").length };
}

test("a closed lobby and closed peers hold no timer or socket, so the process can exit at once", async () => {
  const before = held();
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const alice = await joinGrid({ lobby: lobby.address(), grid: "exit", create: true, connectionLimit: 4 });
  const bob = await joinGrid({ lobby: lobby.address(), grid: "exit", create: true });
  if (held().sockets < before.sockets + 3) {
    // Bun's and Deno's native sockets are not in Node's resource accounting: nothing to count there.
    console.log("figure: not counted on this runtime (its sockets are not in process.getActiveResourcesInfo)");
    await Promise.all([alice.close(), bob.close()]);
    await lobby.close();
    return;
  }
  await alice.close();
  await bob.close();
  await lobby.close();
  await new Promise<void>((r) => setImmediate(r)); // let socket close callbacks run
  const after = held();
  console.log(`figure: timers held after close ${after.timers - before.timers} (before the fix: 2, one per peer), sockets ${after.sockets - before.sockets}`);
  assert.is(after.timers, before.timers, "no timer outlives close()");
  assert.is(after.sockets, before.sockets, "every socket closed");
});

test.run();
