/**
 * The address text form on real sockets (PROTOCOL.md 4.5, issue 11 gap 6): a lobby bound to
 * "::" (dual-stack) sees its IPv4 peers as ::ffff:127.0.0.1. It used to write that form into
 * Members and into the peers' tickets, which IPv4 peers could neither send to nor match with
 * the sources they saw, so no link opened. Now every driver writes an IPv4-mapped source as
 * the IPv4 address, and an IPv6 socket maps it back when it sends. 127.0.0.1 and ::, port 0,
 * bounded in time; skipped (with a note) where the host has no IPv6.
 * Runs on Bun and Deno too (the file name matches the platform suites of .ci/run).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid, parseAddress, type LobbyServer, type NodePeer } from "../platform/node/index.ts";
import { closeWithin, waitFor } from "./support/wait.ts";

test("gap 11.6: IPv4 peers of a dual-stack lobby get IPv4 addresses and tickets, link, and deliver a broadcast", async () => {
  let lobby: LobbyServer;
  try {
    lobby = await createLobby({ host: "::", port: 0 });
  } catch (e) {
    console.log(`  (skipped: cannot bind udp6 "::" here: ${e instanceof Error ? e.message : String(e)})`);
    return;
  }
  const peers: NodePeer[] = [];
  const errors: string[] = [];
  lobby.on("error", (e) => errors.push(`lobby: ${e.message}`));
  lobby.on("internalError", (e) => errors.push(`lobby internal: ${e.message}`));
  try {
    const port = parseAddress(lobby.address())?.port ?? 0;
    for (let i = 0; i < 3; i++) {
      const p = await joinGrid({ lobby: `127.0.0.1:${port}`, grid: "dual", create: true, joinTimeoutMs: 5_000 });
      p.on("error", (e) => errors.push(`peer ${p.id}: ${e.message}`));
      peers.push(p);
    }
    await waitFor("every peer linked to both others", () => peers.every((p) => p.stats().links.length === 2), 5_000);
    const members = lobby.lobby.membersOf(peers[0]?.grid ?? 0) ?? [];
    assert.equal(members.map((m) => m.addr).sort(), peers.map((p) => p.address()).sort(), "the lobby lists the IPv4 texts the peers see");
    for (const m of members) assert.match(m.addr, /^127\.0\.0\.1:\d+$/);
    const got: number[] = [];
    peers[1]?.on("data", (payload) => got.push(payload[0] ?? -1));
    peers[0]?.broadcast(new Uint8Array([42]));
    await waitFor("the broadcast arrives", () => got.length > 0, 5_000);
    assert.equal(got, [42]);
    assert.equal(errors, []);
  } finally {
    await closeWithin(async () => {
      await Promise.all(peers.map((p) => p.close()));
      await lobby.close();
    });
  }
});

test.run();
