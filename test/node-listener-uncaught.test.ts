/**
 * Issue 18 item 2: an exception thrown by an on("data") listener vanished when the peer had
 * no "error" listener. Now it is rethrown asynchronously, so it reaches the process as an
 * uncaught exception with the listener's own error (what a throwing node:events listener
 * on a socket does), and the peer's loop is not cut off halfway through a drain.
 * Node only (the Bun and Deno runs take the node-peer suites, not this file).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid } from "../platform/node/index.ts";

test('issue 18 item 2: with no "error" listener, a throwing on("data") listener surfaces as an uncaught exception, and delivery goes on', async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const a = await joinGrid({ lobby: lobby.address(), grid: "g", create: true });
  const b = await joinGrid({ lobby: lobby.address(), grid: "g", create: true });
  const uncaught: unknown[] = [];
  const catcher = (e: unknown): void => void uncaught.push(e);
  // Replaces the default (print and exit) for the duration of the test only.
  const previous = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", catcher);
  try {
    const deadline = Date.now() + 5000;
    while (!(a.stats().links.length > 0 && b.stats().links.length > 0)) {
      if (Date.now() > deadline) assert.unreachable("no link within 5 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    const got: number[] = [];
    const boom = new Error("game code bug");
    b.on("data", (payload) => {
      got.push(payload[0] as number);
      if (payload[0] === 1) throw boom;
    });
    a.broadcast(new Uint8Array([1]));
    a.broadcast(new Uint8Array([2]));
    const until = Date.now() + 3000;
    while (got.length < 2 || uncaught.length < 1) {
      if (Date.now() > until) assert.unreachable(`got ${JSON.stringify(got)}, uncaught ${uncaught.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(got, [1, 2]);
    assert.equal(uncaught, [boom], "the listener's own error, once");
  } finally {
    process.off("uncaughtException", catcher);
    for (const l of previous) process.on("uncaughtException", l);
    await Promise.all([a.close(), b.close()]);
    await lobby.close();
  }
});

test.run();
