/**
 * The Deno transport: Deno.listenDatagram (https://docs.deno.com/api/deno/~/Deno.listenDatagram),
 * Deno's own UDP socket, picked by relaygrid/node's openUdp("auto") on Deno when it exists.
 * In Deno 2.x it is an unstable API: it exists only when deno runs with --unstable-net (or
 * "unstable": ["net"] in deno.json); without it "auto" falls back to Deno's node:dgram.
 *
 * One receive is outstanding at a time, into one reused 64 KiB buffer, and each datagram is
 * copied out at its exact length (receive() without a buffer would allocate 64 KiB per
 * datagram). Sends go out one at a time, in order, from a queue: Deno runs send ops issued
 * in one turn in reverse order (seen on 2.9.6, for Deno.DatagramConn and its node:dgram
 * alike: a burst of 20 arrived 19, 18, ..., 0), and a game's updates must not arrive newest
 * first. Deno reads the bytes when the send runs, so (as with node:dgram's send queue) a
 * datagram must not be changed once handed over; the Peer never changes a transmit's bytes.
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
/** Receive failures in a row after which the loop stops (a socket that only fails is gone). */
const MAX_RECEIVE_FAILURES = 100;

export class DenoTransport implements UdpTransport {
  readonly kind = "deno";
  sendErrors = 0;
  private readonly cache: AddressCache<DenoNetAddr>;
  private readonly buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  private receiver: DatagramReceiver | undefined;
  /** Datagrams waiting for the pump, and their destinations. */
  private readonly queue: Uint8Array[] = [];
  private readonly queueTo: DenoNetAddr[] = [];
  private head = 0;
  private pumping = false;
  private closed = false;

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
    void this.receiveLoop();
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

  private async receiveLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      let got: [Uint8Array, DenoNetAddr];
      try {
        got = await this.conn.receive(this.buffer);
      } catch (e) {
        if (this.closed) return;
        // BadResource / Interrupted: the socket is gone. Anything else (an ICMP error on some
        // systems) is reported and the loop goes on.
        const name = e instanceof Error ? e.name : "";
        this.receiver?.error(ErrorCode.Socket, `receive failed: ${e instanceof Error ? e.message : String(e)}`);
        if (name === "BadResource" || name === "Interrupted" || ++failures >= MAX_RECEIVE_FAILURES) return;
        continue;
      }
      failures = 0;
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
