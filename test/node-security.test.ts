/**
 * Issue 6, "Done when", over real UDP sockets on 127.0.0.1: a peer without a ticket (and
 * without the grid key) cannot open a link or get a byte relayed; the grid it attacks keeps
 * delivering. The attacker is a raw node:dgram socket speaking the wire format.
 */
import { createSocket } from "node:dgram";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createLobby, joinGrid, type NodePeer } from "../platform/node/index.ts";
import { encode, Kind, relaySizeBound, writeRelay } from "../wire/index.ts";
import { waitFor } from "./support/wait.ts";

test("node: a stranger with no ticket and no grid key gets no link and no byte relayed over real UDP", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const peers: NodePeer[] = [];
  const attacker = createSocket("udp4");
  await new Promise<void>((r) => attacker.bind(0, "127.0.0.1", () => r()));
  const answers: Uint8Array[] = [];
  attacker.on("message", (m) => answers.push(new Uint8Array(m)));
  try {
    peers.push(await joinGrid({ lobby: lobby.address(), grid: "arena", create: true }));
    peers.push(await joinGrid({ lobby: lobby.address(), grid: "arena", create: true }));
    const [a, b] = peers as [NodePeer, NodePeer];
    await waitFor("a and b linked", () => a.stats().links.length === 1 && b.stats().links.length === 1);
    const got: string[] = [];
    b.on("data", (p) => got.push(new TextDecoder().decode(p)));
    const target = a.address().split(":");
    const port = Number(target[1]);
    const send = (bytes: Uint8Array): void => void attacker.send(bytes, port, "127.0.0.1");
    // 1. Ask for a link with a made-up ticket and a guessed tag.
    send(encode({ kind: Kind.Connect, req: 1, grid: a.grid, from: 99, to: a.id, nonce: new Uint8Array(8), ticket: new Uint8Array(80).fill(1), tag: new Uint8Array(9) }));
    send(encode({ kind: Kind.Force, req: 2, grid: a.grid, from: 99, to: a.id, nonce: new Uint8Array(8), ticket: new Uint8Array(80).fill(1), tag: new Uint8Array(9) }));
    // 2. Inject relay data claiming to come from b's id.
    const payload = new TextEncoder().encode("forged");
    const buf = new Uint8Array(relaySizeBound(payload.length));
    for (let seq = 1; seq <= 20; seq++) send(buf.slice(0, writeRelay(buf, 0, 0, a.grid, b.id, 1000 + seq, null, payload, new Uint8Array(9))));
    await waitFor("the peer counted the attack", () => {
      const d = a.stats().drops;
      const tagDrops = Object.entries(d).filter(([k]) => k.startsWith("tag-")).reduce((n, [, v]) => n + v, 0);
      return tagDrops >= 2 && (d["not-linked"] ?? 0) >= 20;
    }, 3000).catch((e: Error) => {
      throw new Error(`${e.message}: drops ${JSON.stringify(a.stats().drops)}, in ${a.stats().datagramsIn}`);
    });
    // 3. The real grid still works.
    a.broadcast(new TextEncoder().encode("real"));
    await waitFor("b got the real broadcast", () => got.includes("real"), 3000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, ["real"], "nothing forged was delivered or relayed");
    assert.is(a.stats().links.length, 1, "no link for the stranger");
    assert.equal(answers, [], "the stranger got no answer at all (no reply to an unauthenticated request)");
  } finally {
    attacker.close();
    await Promise.all(peers.map((p) => p.close()));
    await lobby.close();
  }
});

test.run();
