/**
 * The Deno transport: Deno.listenDatagram (https://docs.deno.com/api/deno/~/Deno.listenDatagram),
 * Deno's own UDP socket, picked by relaygrid/node's openUdp("auto") on Deno when it exists.
 * In Deno 2.x it is an unstable API: it exists only when deno runs with --unstable-net (or
 * "unstable": ["net"] in deno.json); without it "auto" falls back to Deno's node:dgram.
 *
 * DENO_RECEIVES_OUTSTANDING (8) receives are kept outstanding, each into its own 64 KiB
 * buffer, and each datagram is copied out at its exact length (receive() without a buffer
 * would allocate 64 KiB per datagram). One outstanding receive loses datagrams on a busy
 * event loop: a receive that finds the socket empty is not tried again until Deno next polls
 * its reactor, and while other receives keep completing at once it does not. Measured on
 * Deno 2.9.6 with 8 peers and a lobby in one process relaying 1,000 broadcasts
 * (test/node-peer.test.ts), one receive per socket: reactor polls up to 250 ms apart, up to
 * 476 datagrams read from one socket between two polls, and the kernel's receive buffer
 * (Linux default 212,992 B: 256 small datagrams; Deno.listenDatagram cannot enlarge it)
 * overflowed in 4 of 6 runs, 75-778 datagrams each (RcvbufErrors). Eight per socket: polls
 * at most 84 ms apart, at most 103 datagrams per socket between them, nothing dropped in 6
 * of 6. The datagrams still arrive in order: each receive takes the kernel's next datagram
 * when it completes, and Deno resolves completed receives in that order.
 *
 * Sends go out one at a time, in order, from a queue: a send Deno cannot complete at once
 * waits among its pending ops, and several of those complete in reverse order (seen on
 * 2.9.6, for Deno.DatagramConn and its node:dgram alike: on a fresh socket with a receive
 * outstanding, a burst of 20 arrived 9, 8, ..., 0, 10, 11, ...), and a game's updates must
 * not arrive newest first. Deno reads the bytes when the send runs, so (as with node:dgram's
 * send queue) a datagram must not be changed once handed over; the Peer never changes a
 * transmit's bytes.
 *
 * Nothing here runs unless Deno does: the Deno global is looked up at call time.
 */
import { ErrorCode } from "../../wire/errors.ts";
import { AddressCache, isIpLiteral } from "../node/address.ts";
import type { DatagramReceiver, UdpAddressInfo, UdpTransport } from "../node/udp-transport.ts";

interface DenoNetAddr {
  transport: "udp";
  hostname: string;
  port: number;
}

/** The part of Deno.DatagramConn this transport uses. */
interface DenoDatagramConn {
  receive(p?: Uint8Array): Promise<[Uint8Array, DenoNetAddr]>;
  send(p: Uint8Array, addr: DenoNetAddr): Promise<number>;
  close(): void;
  readonly addr: DenoNetAddr;
}

interface DenoGlobal {
  listenDatagram(options: { hostname: string; port: number; transport: "udp" }): DenoDatagramConn;
}

function deno(): DenoGlobal | undefined {
  const d = (globalThis as { Deno?: Partial<DenoGlobal> }).Deno;
  return typeof d?.listenDatagram === "function" ? (d as DenoGlobal) : undefined;
}

/** True on Deno with the unstable net API (Deno.listenDatagram exists). */
export function denoAvailable(): boolean {
  return deno() !== undefined;
}

/** The largest UDP payload over IPv4: the receive buffer's size. */
const RECEIVE_BUFFER_BYTES = 65_507;
/** Receive failures in a row after which receiving stops (a socket that only fails is gone). */
const MAX_RECEIVE_FAILURES = 100;
/** Receives kept outstanding per socket, each with its own RECEIVE_BUFFER_BYTES buffer (see the file comment). */
export const DENO_RECEIVES_OUTSTANDING = 8;

export class DenoTransport implements UdpTransport {
  readonly kind = "deno";
  sendErrors = 0;
  private readonly cache: AddressCache<DenoNetAddr>;
  private receiver: DatagramReceiver | undefined;
  /** Datagrams waiting for the pump, and their destinations. */
  private readonly queue: Uint8Array[] = [];
  private readonly queueTo: DenoNetAddr[] = [];
  private head = 0;
  private pumping = false;
  private closed = false;
  /** Set when receiving stopped for good (closed, or the socket is gone): every receive loop ends. */
  private receiveStopped = false;
  /** Receive failures in a row, across the loops. */
  private receiveFailures = 0;

  constructor(
    private readonly conn: DenoDatagramConn,
    addressCacheEntries?: number,
  ) {
    this.cache = new AddressCache<DenoNetAddr>((hp) => (isIpLiteral(hp.host) ? { transport: "udp", hostname: hp.host, port: hp.port } : null), addressCacheEntries);
  }

  address(): UdpAddressInfo {
    const a = this.conn.addr;
    return { address: a.hostname, port: a.port, family: a.hostname.includes(":") ? "IPv6" : "IPv4" };
  }

  listen(receiver: DatagramReceiver): void {
    this.receiver = receiver;
    for (let i = 0; i < DENO_RECEIVES_OUTSTANDING; i++) void this.receiveLoop(new Uint8Array(RECEIVE_BUFFER_BYTES));
  }

  send(to: string, bytes: Uint8Array): boolean {
    const d = this.cache.destination(to);
    if (d === null) return false;
    if (this.closed) {
      this.sendErrors++;
      return true;
    }
    this.queue.push(bytes);
    this.queueTo.push(d);
    if (!this.pumping) void this.pump();
    return true;
  }

  flush(): void {}

  pending(): number {
    return this.queue.length - this.head + (this.pumping ? 1 : 0);
  }

  /** Sends the queue in order, one send op at a time (see the file comment). */
  private async pump(): Promise<void> {
    this.pumping = true;
    while (this.head < this.queue.length && !this.closed) {
      const bytes = this.queue[this.head] as Uint8Array;
      const to = this.queueTo[this.head] as DenoNetAddr;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.queueTo.length = 0;
        this.head = 0;
      }
      try {
        await this.conn.send(bytes, to);
      } catch (e) {
        this.sendErrors++;
        if (!this.closed) this.receiver?.error(ErrorCode.Socket, `send to ${to.hostname}:${to.port} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.pumping = false;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try {
        this.conn.close();
      } catch {
        // already closed
      }
    }
    return Promise.resolve();
  }

  /** One of the outstanding receives: receives into `buffer`, hands a copy over, receives again. */
  private async receiveLoop(buffer: Uint8Array): Promise<void> {
    while (!this.closed && !this.receiveStopped) {
      let got: [Uint8Array, DenoNetAddr];
      try {
        got = await this.conn.receive(buffer);
      } catch (e) {
        if (this.closed || this.receiveStopped) return;
        // BadResource / Interrupted: the socket is gone. Anything else (an ICMP error on some
        // systems) is reported and receiving goes on.
        const name = e instanceof Error ? e.name : "";
        this.receiver?.error(ErrorCode.Socket, `receive failed: ${e instanceof Error ? e.message : String(e)}`);
        if (name === "BadResource" || name === "Interrupted" || ++this.receiveFailures >= MAX_RECEIVE_FAILURES) this.receiveStopped = true;
        continue;
      }
      this.receiveFailures = 0;
      const [view, from] = got;
      this.receiver?.datagram(view.slice(), this.cache.source(from.hostname, from.port));
    }
  }
}

/** Binds a Deno datagram socket on host:port. Throws Deno's bind error. */
export function openDenoUdp(host: string, port: number, addressCacheEntries?: number): UdpTransport {
  const d = deno();
  if (d === undefined) throw new Error("Deno.listenDatagram is not available (run deno with --unstable-net)");
  return new DenoTransport(d.listenDatagram({ hostname: host, port, transport: "udp" }), addressCacheEntries);
}
