/**
 * `originAuth: "ed25519"` over real UDP on 127.0.0.1 (issue 15 item 1, PROTOCOL.md 4.1.4):
 * relaygrid/node peers (node:crypto) sign every broadcast and verify every new one; all of a
 * grid of four deliver each other's broadcasts once, and a forgery under another member's
 * origin id, tagged with the grid key, is delivered by none.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid, type NodePeer } from "../platform/node/index.ts";
import { waitFor } from "./support/wait.ts";

test("node: originAuth on, four peers on 127.0.0.1 deliver every signed broadcast to all", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const peers: NodePeer[] = [];
  try {
    for (let i = 0; i < 4; i++) peers.push(await joinGrid({ lobby: lobby.address(), grid: "signed", create: true, originAuth: "ed25519" }));
    await waitFor("every peer linked and holding its key-bound ticket", () => peers.every((p) => p.stats().links.length >= 1 && p.stats().nat.state === "registered"), 8000);
    const got = new Map<NodePeer, string[]>(peers.map((p) => [p, []]));
    for (const p of peers) p.on("data", (payload) => got.get(p)?.push(new TextDecoder().decode(payload)));
    for (const [i, p] of peers.entries()) p.broadcast(new TextEncoder().encode(`from-${i}`));
    await waitFor("every broadcast reached every other peer", () => peers.every((p) => (got.get(p)?.length ?? 0) >= 3), 5000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify([...got.values()])}`);
    });
    await new Promise((r) => setTimeout(r, 100));
    for (const [i, p] of peers.entries()) {
      const want = peers.map((_, j) => `from-${j}`).filter((_, j) => j !== i);
      assert.equal([...(got.get(p) ?? [])].sort(), want, `peer ${i} got each once`);
      assert.is(p.stats().drops["origin-forged"] ?? 0, 0);
    }
    const verified = peers.reduce((n, p) => n + p.stats().originAuth.verified, 0);
    assert.ok(verified >= 12, `${verified} signatures verified`);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await lobby.close();
  }
});

test.run();
