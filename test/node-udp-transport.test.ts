/**
 * relaygrid/node's UDP transports (platform/node/udp-transport.ts) over real sockets on
 * 127.0.0.1, port 0: "auto" picks the runtime's native socket (Bun.udpSocket on Bun,
 * Deno.listenDatagram on Deno with --unstable-net, node:dgram otherwise) and createLobby /
 * joinGrid use it with no option; every transport delivers a burst sent in one drain, gives
 * each source one string, refuses what it cannot send to, and asks for a transport the
 * runtime lacks with an error that says how to fix it. Runs on Node, Bun and Deno (.ci/run).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Endpoint, Transmit } from "../lib/endpoint.ts";
import {
  AddressCache,
  createLobby,
  driveEndpoint,
  joinGrid,
  nativeUdpTransport,
  openUdp,
  type UdpTransportKind,
} from "../platform/node/index.ts";
import { rejects as rejectsWith, waitFor } from "./support/wait.ts";

const rejects = (fn: () => Promise<unknown>, pattern: RegExp): Promise<void> =>
  rejectsWith(fn, (e) => pattern.test(e instanceof Error ? e.message : String(e)), String(pattern));

declare const Bun: unknown;
declare const Deno: { listenDatagram?: unknown } | undefined;

const expectedNative: UdpTransportKind =
  typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" && typeof Deno.listenDatagram === "function" ? "deno" : "node:dgram";

/** An endpoint that records what it receives and sends what the test queues. */
interface Got {
  from: string;
  bytes: Uint8Array;
  /** bytes[0] when it arrived: a buffer the transport reused would change it later. */
  first: number | undefined;
}

function recorder(): Endpoint<never> & { got: Got[]; out: Transmit[] } {
  const got: Got[] = [];
  const out: Transmit[] = [];
  return {
    got,
    out,
    handleDatagram: (_now, from, bytes) => void got.push({ from, bytes, first: bytes[0] }),
    handleTimeout: () => {},
    pollTimeout: () => undefined,
    pollTransmit: () => out.shift(),
    pollEvent: () => undefined,
  };
}

test(`udp: "auto" is the runtime's native transport (${expectedNative} here), and createLobby and joinGrid use it`, async () => {
  assert.is(nativeUdpTransport(), expectedNative);
  const lobby = await createLobby({ port: 0 });
  try {
    assert.is(lobby.stats().driver.udp, expectedNative);
    const peer = await joinGrid({ lobby: lobby.address(), grid: "auto", create: true });
    try {
      assert.is(peer.stats().driver.udp, expectedNative);
      assert.match(peer.address(), /^127\.0\.0\.1:[0-9]+$/);
    } finally {
      await peer.close();
    }
  } finally {
    await lobby.close();
  }
});

const kinds: UdpTransportKind[] = expectedNative === "node:dgram" ? ["node:dgram"] : ["node:dgram", expectedNative];

for (const kind of kinds) {
  test(`udp ${kind}: a burst of 100 datagrams sent in one drain all arrive, each source is one string, bad addresses are reported`, async () => {
    const a = recorder();
    const b = recorder();
    const ta = await openUdp("127.0.0.1", 0, { udp: kind });
    const tb = await openUdp("127.0.0.1", 0, { udp: kind });
    assert.is(ta.kind, kind);
    const errors: string[] = [];
    const da = driveEndpoint(ta, a, { onError: (e) => errors.push(`${e.code}: ${e.message}`) });
    const db = driveEndpoint(tb, b);
    try {
      const to = `127.0.0.1:${tb.address().port}`;
      const from = `127.0.0.1:${ta.address().port}`;
      da.command(() => {
        for (let i = 0; i < 100; i++) a.out.push({ to, bytes: new Uint8Array([i, 0, 0xab]) });
        a.out.push({ to: "no-port", bytes: new Uint8Array([1]) });
        a.out.push({ to: "[::1]:0", bytes: new Uint8Array([1]) });
      });
      await waitFor("100 datagrams at b", () => b.got.length >= 100, 5000);
      assert.is(new Set(b.got.map((g) => g.bytes[0])).size, 100);
      assert.ok(b.got.every((g) => g.from === from), "every datagram names its source as 127.0.0.1:PORT");
      assert.ok(b.got.every((g) => g.from === (b.got[0] as Got).from), "one string for one source");
      assert.ok(b.got.every((g) => g.bytes[0] === g.first && g.bytes.length === 3), "each datagram is its own buffer: keeping one never sees the next");
      // In order, as loopback delivers it; Deno's own node:dgram sends a burst backwards (see platform/deno/udp-transport.ts).
      if (!(kind === "node:dgram" && typeof Deno !== "undefined")) assert.equal(b.got.map((g) => g.first), [...Array(100).keys()], "in order");
      assert.equal(errors.filter((e) => e.startsWith("invalid-address")).length, 2, errors.join("; "));
      assert.is(da.stats().udp, kind);
      assert.is(da.stats().datagramsSent, 100);
      assert.is(da.stats().sendErrors, 2);
      await da.flushed();
      assert.is(ta.pending(), 0);
    } finally {
      await Promise.all([da.stop(), db.stop()]);
      await da.stop(); // idempotent
    }
  });
}

test("udp: a transport the runtime lacks is a clear error, a bad choice too", async () => {
  if (expectedNative !== "bun") await rejects(() => openUdp("127.0.0.1", 0, { udp: "bun" }), /udp: "bun" needs Bun/);
  if (expectedNative !== "deno") await rejects(() => openUdp("127.0.0.1", 0, { udp: "deno" }), /--unstable-net/);
  await rejects(() => openUdp("127.0.0.1", 0, { udp: "quic" as never }), /udp must be "auto", "node:dgram", "bun" or "deno"/);
  await rejects(() => createLobby({ port: 0, udp: "quic" as never }), /udp must be/);
  await rejects(() => createLobby({ port: 0, receiveBufferBytes: 10 }), /receiveBufferBytes must be an integer from 1024/);
});

test("AddressCache: one string per source, parsed destinations, bounded both ways", () => {
  const cache = new AddressCache((hp) => (hp.port === 9 ? null : hp), 4);
  const s = cache.source("10.0.0.1", 5);
  assert.is(s, "10.0.0.1:5");
  assert.ok(cache.source("10.0.0.1", 5) === s);
  assert.is(cache.source("::1", 7), "[::1]:7");
  assert.equal(cache.destination("10.0.0.1:5"), { host: "10.0.0.1", port: 5 });
  assert.ok(cache.destination("10.0.0.1:5") === cache.destination("10.0.0.1:5"), "parsed once");
  assert.is(cache.destination("10.0.0.1:9"), null, "the transport refused it");
  assert.is(cache.destination("junk"), null);
  // A spoofer cycling through source ports never grows the cache past its bound.
  for (let port = 1; port < 1000; port++) cache.source("10.0.0.2", port);
  for (let port = 1; port < 1000; port++) cache.destination(`10.0.0.3:${port}`);
  assert.ok(cache.size.sources <= 8 && cache.size.destinations <= 8, `at most two generations of 4: ${JSON.stringify(cache.size)}`);
  assert.is(cache.source("10.0.0.1", 5), "10.0.0.1:5", "still right after starting over");
  // The last 4 addresses in use always hit: the same string object comes back.
  const recent = [1, 2, 3, 4].map((port) => cache.source("10.0.0.9", port));
  for (let i = 0; i < 3; i++) cache.source("10.0.0.8", i + 1);
  recent.forEach((text, i) => assert.ok(cache.source("10.0.0.9", i + 1) === text, `recent source ${i} kept`));
});

test.run();
