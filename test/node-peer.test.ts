/**
 * relaygrid/node over real UDP on 127.0.0.1 (port 0): a lobby and 8 peers exchange 1,000
 * broadcasts; every peer gets every broadcast exactly once; everything closes in bounded time.
 * The same file runs on Bun and Deno (see .ci/run).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid, RelayGridError, type NodePeer } from "../platform/node/index.ts";
import { rejects, waitFor } from "./support/wait.ts";

const PEERS = 8;
const BROADCASTS = 1000;

test("node: a lobby and 8 peers on 127.0.0.1 exchange 1,000 broadcasts, each delivered exactly once", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0, islandGraceMs: 500, islandCheckMs: 250 });
  const peers: NodePeer[] = [];
  try {
    const joined = await Promise.all(
      Array.from({ length: PEERS }, () => joinGrid({ lobby: lobby.address(), grid: "arena", create: true, connectionLimit: 4 })),
    );
    peers.push(...joined);
    assert.is(new Set(peers.map((p) => p.id)).size, PEERS, "unique peer ids");
    // Concurrent joiners can form islands; the lobby's repair hints join them.
    await waitFor("one component, every peer with 2+ links", () => {
      const s = lobby.stats();
      return s.components === 1 && s.peers === PEERS && peers.every((p) => p.stats().links.length >= 2);
    });
    const seen = peers.map(() => new Map<string, number>());
    peers.forEach((p, i) => p.on("data", (_payload, info) => {
      const k = `${info.origin}:${info.seq}`;
      seen[i]?.set(k, (seen[i]?.get(k) ?? 0) + 1);
    }));
    const sent: string[] = [];
    for (let i = 0; i < BROADCASTS; i++) {
      const p = peers[i % PEERS] as NodePeer;
      sent.push(`${p.id}:${p.broadcast(new Uint8Array([i & 0xff, i >> 8, 7, 7, 7]))}`);
      // Pace to the socket's read batch: a burst of more than ~32 datagrams per turn at one receiver is lost.
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1));
    }
    const expected = BROADCASTS - BROADCASTS / PEERS;
    await waitFor("every broadcast delivered", () => seen.every((m) => m.size >= expected), 10_000);
    await new Promise((r) => setTimeout(r, 100)); // late duplicates would show up here
    peers.forEach((p, i) => {
      const m = seen[i] as Map<string, number>;
      for (const k of sent) {
        if (k.startsWith(`${p.id}:`)) continue;
        assert.is(m.get(k), 1, `peer ${p.id} got ${k} ${m.get(k) ?? 0} times`);
      }
    });
  } finally {
    // A hang guard, not a speed claim: close() must finish (graceful leave, then the socket).
    let guard: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      (async () => {
        await Promise.all(peers.map((p) => p.close()));
        await lobby.close();
      })(),
      new Promise((_, reject) => (guard = setTimeout(() => reject(new Error("close() hung for 10 s")), 10_000))),
    ]).finally(() => clearTimeout(guard));
  }
});

test("node, issue 18 item 3: 11 peers joining at once resolve joinGrid once `connected` (default lobby timing: no short island grace), and broadcasts sent right then reach all 10 others", async () => {
  // What broke: all 11 resolved on their first link, in islands the lobby left alone for ~4 s;
  // a broadcast then reached 4 of 11. joinGrid now resolves on the lobby's GridStatus.
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const peers: NodePeer[] = [];
  try {
    const n = 11;
    peers.push(...(await Promise.all(Array.from({ length: n }, () => joinGrid({ lobby: lobby.address(), grid: "rush", create: true, connectionLimit: 4 })))));
    for (const p of peers) assert.equal(p.standing?.main, true, `peer ${p.id} resolved before it was connected`);
    const seen = peers.map(() => new Map<string, number>());
    peers.forEach((p, i) => p.on("data", (_payload, info) => {
      const k = `${info.origin}:${info.seq}`;
      seen[i]?.set(k, (seen[i]?.get(k) ?? 0) + 1);
    }));
    const sent = peers.map((p) => `${p.id}:${p.broadcast(new Uint8Array([1, 2, 3]))}`);
    await waitFor("each broadcast at the 10 others", () => seen.every((m) => m.size >= n - 1), 3_000);
    await new Promise((r) => setTimeout(r, 50));
    peers.forEach((p, i) => {
      for (const k of sent) if (!k.startsWith(`${p.id}:`)) assert.is(seen[i]?.get(k), 1, `peer ${p.id} got ${k} ${seen[i]?.get(k) ?? 0} times`);
    });
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await lobby.close();
  }
});

test("node: caller mistakes reject with a RelayGridError that says how to fix them", async () => {
  await rejects(
    () => joinGrid({ lobby: "not-an-address", grid: "x" }),
    (e: unknown) => e instanceof RelayGridError && e.code === "invalid-address" && /HOST:PORT/.test(e.message),
  );
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  try {
    await rejects(
      () => joinGrid({ lobby: lobby.address(), grid: "missing", joinTimeoutMs: 3000 }),
      (e: unknown) => e instanceof RelayGridError && e.code === "unknown-grid" && /create: true/.test(e.message),
    );
    const p = await joinGrid({ lobby: lobby.address(), grid: "solo", create: true });
    assert.throws(
      () => p.broadcast(new Uint8Array(5000)),
      (e: unknown) => e instanceof RelayGridError && e.code === "payload-too-large" && /5000 bytes > maxPayloadBytes 1150/.test(e.message),
    );
    await p.close();
    assert.throws(() => p.broadcast(new Uint8Array(1)), (e: unknown) => e instanceof RelayGridError && e.code === "closed");
  } finally {
    await lobby.close();
  }
});

test("node: an unreachable lobby rejects with a timeout instead of hanging", async () => {
  await rejects(
    () => joinGrid({ lobby: "127.0.0.1:9", grid: "x", retransmitMs: 20, maxAttempts: 3, joinTimeoutMs: 2000 }),
    (e: unknown) => e instanceof RelayGridError && e.code === "timeout",
  );
});

test.run();
