/**
 * Issue 15 over real UDP sockets on loopback: one host (127.0.0.2, many ports) floods the
 * real lobby at about 10,000 datagrams a second with garbage, Hellos (echoing the cookies
 * it gets, so every one of them reaches the handshake quota), and requests naming sessions
 * it does not hold, while two honest peers on 127.0.0.1 join and exchange a broadcast; and
 * an admitted member's Connect with no ticket draws no more than 3 times its size. Bounded:
 * at most 20,000 datagrams, every wait has a deadline. Runs on Bun and Deno too (the
 * platform suites of .ci/run match "node-security").
 */
import { createSocket, type Socket } from "node:dgram";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { insiderOf } from "../lib/peer/insider.ts";
import { Peer } from "../lib/peer/peer.ts";
import type { PeerEvent } from "../lib/peer/events.ts";
import { bindUdp, createLobby, CryptoRandom, driveEndpoint, joinGrid, NodeCrypto, parseAddress, type NodePeer } from "../platform/node/index.ts";
import { decode, encode, Kind } from "../wire/index.ts";
import { helloMessage } from "./lobby-harness.ts";
import { figure } from "./support/figures.ts";
import { waitFor } from "./support/wait.ts";

const ATTACKER_HOST = "127.0.0.2";
const MAX_DATAGRAMS = 20_000;

function bind(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, host, () => resolve(s));
  });
}

test("node: one host floods the lobby at ~10,000 datagrams/s (bounded) and honest peers still join and deliver", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const dest = parseAddress(lobby.address());
  assert.ok(dest !== undefined);
  const sockets = await Promise.all(Array.from({ length: 8 }, () => bind(ATTACKER_HOST)));
  let sent = 0;
  let running = true;
  const send = (s: Socket, b: Uint8Array): void => {
    if (sent >= MAX_DATAGRAMS) return;
    sent++;
    s.send(b, dest.port, dest.host);
  };
  // A Retry is answered at once with the cookie: the lobby's handshake quota is what stops it.
  for (const s of sockets) {
    s.on("message", (m: Uint8Array) => {
      const d = decode(new Uint8Array(m));
      if (running && d.ok && d.msg.kind === Kind.Retry) send(s, encode(helloMessage(d.msg.req, "flood", d.msg.cookie, crypto.getRandomValues(new Uint8Array(32)))));
    });
  }
  let seed = 1;
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
  const tick = (): void => {
    if (!running || sent >= MAX_DATAGRAMS) return;
    for (let i = 0; i < 25; i++) {
      const s = sockets[next() % sockets.length] as Socket;
      const r = next() % 4;
      if (r === 0) send(s, encode(helloMessage(next(), "flood", new Uint8Array(0), new Uint8Array(32).fill(7))));
      else if (r === 1) send(s, encode({ kind: Kind.ListGrids, req: next(), session: next(), filter: "", offset: 0 }));
      else send(s, Uint8Array.from({ length: 1 + (next() % 60) }, () => next() & 0xff));
    }
    setTimeout(tick, 1);
  };
  const peers: NodePeer[] = [];
  try {
    const started = Date.now();
    tick();
    await waitFor("the flood is under way", () => sent >= 500, 5_000);
    peers.push(await joinGrid({ lobby: lobby.address(), grid: "arena", create: true, joinTimeoutMs: 10_000 }));
    peers.push(await joinGrid({ lobby: lobby.address(), grid: "arena", create: true, joinTimeoutMs: 10_000 }));
    const [a, b] = peers as [NodePeer, NodePeer];
    const joinedMs = Date.now() - started;
    await waitFor("a and b linked", () => a.stats().links.length === 1 && b.stats().links.length === 1, 10_000);
    const got: string[] = [];
    b.on("data", (p) => got.push(new TextDecoder().decode(p)));
    a.broadcast(new TextEncoder().encode("still here"));
    await waitFor("b got a's broadcast", () => got.includes("still here"), 5_000);
    const sentDuring = sent;
    await waitFor("the flood ran its course", () => sent >= MAX_DATAGRAMS || Date.now() - started > 8_000, 10_000);
    running = false;
    const rate = Math.round(sent / ((Date.now() - started) / 1000));
    const s = lobby.stats();
    figure("real UDP: lobby flood from one host", `${sentDuring} datagrams sent before both honest peers were in (${joinedMs} ms), ${sent} in all (~${rate}/s); lobby handshakes ${s.handshakes} (2 honest)`);
    // The flooder's valid-cookie Hellos: at most the burst and 20/s, whatever it sent.
    const seconds = (Date.now() - started) / 1000;
    assert.ok(s.handshakes <= 2 + 40 + 20 * seconds + 1, `${s.handshakes} handshakes in ${seconds} s`);
    assert.ok(s.sessions <= 2 + 64);
    assert.is(s.drops["internal-error"], undefined);
  } finally {
    running = false;
    for (const s of sockets) s.close();
    await Promise.all(peers.map((p) => p.close()));
    await lobby.close();
  }
});

test("node: an admitted member's Connect with no ticket draws a refusal no larger than 3x it over real UDP", async () => {
  const lobby = await createLobby({ host: "127.0.0.1", port: 0 });
  const peers: NodePeer[] = [];
  const victim = await bind("127.0.0.1");
  let reflected = 0;
  victim.on("message", (m: Uint8Array) => (reflected += m.length));
  // b is the insider: a Peer on the node driver, so the test can sign as it.
  const b = new Peer({ lobby: lobby.address(), random: new CryptoRandom(), crypto: new NodeCrypto() });
  const bDriver = driveEndpoint<PeerEvent>(await bindUdp("127.0.0.1", 0), b, {});
  try {
    bDriver.command((now) => b.join(now, { grid: "amp", create: true }));
    await waitFor("b is a member", () => b.phase === "member", 5_000);
    peers.push(await joinGrid({ lobby: lobby.address(), grid: "amp", create: true }));
    const [a] = peers as [NodePeer];
    await waitFor("linked", () => a.stats().links.length === 1, 5_000);
    // It tags a Connect under the grid key and sends it from the "victim" socket.
    const bytes = insiderOf(b).seal({ kind: Kind.Connect, req: 9, grid: b.grid, from: 4242, to: a.id, nonce: new Uint8Array(8), ticket: new Uint8Array(0), tag: new Uint8Array(9) });
    assert.ok(bytes !== undefined);
    const to = parseAddress(a.address());
    assert.ok(to !== undefined);
    for (let i = 0; i < 20; i++) victim.send(bytes, to.port, to.host);
    await waitFor("the refusals arrived", () => reflected >= 20 * 20, 3_000);
    await new Promise((r) => setTimeout(r, 50));
    figure("real UDP: 20 ticketless Connects from a victim's address", `${20 * bytes.length} bytes in, ${reflected} bytes at the victim (${(reflected / (20 * bytes.length)).toFixed(1)}x; was 4.7x)`);
    assert.ok(reflected <= 3 * 20 * bytes.length, `${reflected} bytes reflected`);
  } finally {
    victim.close();
    await Promise.all(peers.map((p) => p.close()));
    await bDriver.stop();
    await lobby.close();
  }
});

test.run();
