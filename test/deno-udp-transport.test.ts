/**
 * Regression: the Deno transport (platform/deno/udp-transport.ts) kept one receive
 * outstanding per socket, and test/node-peer.test.ts lost broadcasts on Deno.listenDatagram
 * in 2 of 6 runs: a receive that found its socket empty was not tried again until Deno next
 * polled its reactor, and meanwhile the kernel's receive buffer overflowed (RcvbufErrors).
 * It now keeps DENO_RECEIVES_OUTSTANDING receives outstanding, each with its own buffer.
 *
 * These checks drive DenoTransport over a scripted Deno.DatagramConn, so they run the same on
 * every runtime and need no timing: how many receives are outstanding and into which
 * buffers, that datagrams are handed over in the order the receives complete, each as its
 * own copy, and that a socket that is gone or closed ends every receive with at most one
 * report. The real socket is covered by node-udp-transport.test.ts and node-peer.test.ts on
 * Deno (.ci/run).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DENO_RECEIVES_OUTSTANDING, DenoTransport } from "../platform/deno/udp-transport.ts";

interface NetAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

interface Pending {
  buffer: Uint8Array;
  resolve: (r: [Uint8Array, NetAddr]) => void;
  reject: (e: Error) => void;
}

/** A Deno.DatagramConn whose receives complete when the test says so. */
class ScriptedConn {
  readonly addr: NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 4000 };
  readonly pending: Pending[] = [];
  receives = 0;
  closed = false;

  receive(p?: Uint8Array): Promise<[Uint8Array, NetAddr]> {
    this.receives++;
    if (p === undefined) throw new Error("the transport must pass its own buffer");
    return new Promise((resolve, reject) => this.pending.push({ buffer: p, resolve, reject }));
  }

  send(): Promise<number> {
    return Promise.resolve(0);
  }

  close(): void {
    this.closed = true;
    const e = new Error("closed");
    e.name = "Interrupted";
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  /** Completes the oldest outstanding receive with `bytes` from 127.0.0.1:port. */
  deliver(bytes: number[], port: number): void {
    const p = this.pending.shift();
    if (p === undefined) throw new Error("no receive outstanding");
    p.buffer.set(bytes);
    p.resolve([p.buffer.subarray(0, bytes.length), { transport: "udp", hostname: "127.0.0.1", port }]);
  }

  /** Fails the oldest outstanding receive with an error named `name`. */
  fail(name: string): void {
    const e = new Error(`${name} failure`);
    e.name = name;
    this.pending.shift()?.reject(e);
  }
}

/** Lets the transport's receive loops run (each await is one microtask hop). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function open(): { conn: ScriptedConn; transport: DenoTransport; got: { bytes: Uint8Array; from: string }[]; errors: string[] } {
  const conn = new ScriptedConn();
  const transport = new DenoTransport(conn);
  const got: { bytes: Uint8Array; from: string }[] = [];
  const errors: string[] = [];
  transport.listen({ datagram: (bytes, from) => void got.push({ bytes, from }), error: (code, message) => void errors.push(`${code}: ${message}`) });
  return { conn, transport, got, errors };
}

test("deno transport: listen() keeps DENO_RECEIVES_OUTSTANDING receives outstanding, each into its own buffer", async () => {
  const { conn, transport } = open();
  assert.ok(DENO_RECEIVES_OUTSTANDING >= 2, "more than one receive outstanding");
  assert.is(conn.pending.length, DENO_RECEIVES_OUTSTANDING);
  const buffers = new Set(conn.pending.map((p) => p.buffer.buffer));
  assert.is(buffers.size, DENO_RECEIVES_OUTSTANDING, "no two receives share memory");
  assert.ok(conn.pending.every((p) => p.buffer.byteLength === 65_507), "each buffer takes the largest IPv4 UDP payload");
  // A completed receive is replaced at once: the count outstanding stays the same.
  conn.deliver([1, 2, 3], 5000);
  await settle();
  assert.is(conn.pending.length, DENO_RECEIVES_OUTSTANDING);
  await transport.close();
});

test("deno transport: datagrams are handed over in the order the receives complete, each its own exact-length copy", async () => {
  const { conn, transport, got, errors } = open();
  for (let i = 0; i < 3 * DENO_RECEIVES_OUTSTANDING; i++) {
    conn.deliver([i, 0xab, 0xcd].slice(0, 1 + (i % 3)), 5000 + (i % 2));
    if (i % 5 === 4) await settle();
  }
  await settle();
  assert.is(got.length, 3 * DENO_RECEIVES_OUTSTANDING);
  assert.equal(
    got.map((g) => g.bytes[0]),
    [...Array(3 * DENO_RECEIVES_OUTSTANDING).keys()],
    "in completion order",
  );
  assert.ok(got.every((g, i) => g.bytes.length === 1 + (i % 3)), "each at its exact length");
  assert.ok(got.every((g, i) => g.from === `127.0.0.1:${5000 + (i % 2)}`), "the source as HOST:PORT");
  // A later datagram into the same buffer never changes one already handed over.
  for (let i = 0; i < DENO_RECEIVES_OUTSTANDING; i++) conn.deliver([0xff, 0xff, 0xff], 6000);
  await settle();
  assert.ok(got.slice(0, 3 * DENO_RECEIVES_OUTSTANDING).every((g, i) => g.bytes[0] === i), "copies, not views of a reused buffer");
  assert.equal(errors, []);
  await transport.close();
});

test("deno transport: a socket that is gone ends every receive with one report; close() ends them with none", async () => {
  const gone = open();
  gone.conn.fail("BadResource");
  await settle();
  assert.is(gone.errors.length, 1, gone.errors.join("; "));
  assert.match(gone.errors[0] ?? "", /^socket: receive failed: BadResource failure/);
  // The other receives end as they fail, silently, and none is started again.
  const started = gone.conn.receives;
  while (gone.conn.pending.length > 0) gone.conn.fail("BadResource");
  await settle();
  assert.is(gone.conn.receives, started, "no receive started after the socket was gone");
  assert.is(gone.errors.length, 1);
  await gone.transport.close();

  // Any other failure is reported and receiving goes on.
  const flaky = open();
  flaky.conn.fail("ConnectionRefused");
  await settle();
  assert.is(flaky.errors.length, 1);
  assert.is(flaky.conn.pending.length, DENO_RECEIVES_OUTSTANDING, "the failed receive was started again");
  flaky.conn.deliver([9], 5000);
  await settle();
  assert.is(flaky.got.length, 1);

  // close(): every outstanding receive rejects, nothing is reported, nothing starts again.
  const before = flaky.conn.receives;
  await flaky.transport.close();
  await settle();
  assert.ok(flaky.conn.closed);
  assert.is(flaky.conn.pending.length, 0);
  assert.is(flaky.conn.receives, before);
  assert.is(flaky.errors.length, 1);
});

test.run();
