/**
 * The Bun transport: Bun.udpSocket (https://bun.com/docs/runtime/networking/udp), Bun's own
 * UDP socket, picked by relaygrid/node's openUdp("auto") on Bun. It does what node:dgram
 * cannot: send() only queues, and flush() hands the whole queue to the kernel with one
 * sendMany (one system call for every datagram of a drain, where node:dgram makes one per
 * datagram). Sends are synchronous: nothing is ever pending after flush().
 *
 * Bun's send takes IP addresses only (it does no DNS), so a destination that is not an IP
 * literal is refused (send() returns false and the driver reports invalid-address). A
 * sendMany that the kernel's buffer cannot take whole returns how many it took; the rest
 * are dropped and counted in sendErrors, as UDP would drop them anyway.
 *
 * Nothing here runs unless Bun does: the Bun global is looked up at call time, so importing
 * this module on Node or Deno is harmless.
 */
import { ErrorCode } from "../../wire/errors.ts";
import { AddressCache, isIpLiteral, type HostPort } from "../node/address.ts";
import type { DatagramReceiver, UdpAddressInfo, UdpTransport } from "../node/udp-transport.ts";

/** The part of Bun's unconnected UDP socket this transport uses. */
interface BunUdpSocket {
  readonly address: { address: string; family: string; port: number };
  send(data: Uint8Array, port: number, address: string): boolean;
  sendMany(packets: readonly (Uint8Array | number | string)[]): number;
  close(): void;
  readonly closed: boolean;
}

interface BunUdpHandlers {
  data(socket: BunUdpSocket, data: Uint8Array, port: number, address: string): void;
  drain(socket: BunUdpSocket): void;
  /** Documented as (socket, error); Bun 1.4.5 calls it with (error) alone. */
  error(a: unknown, b?: unknown): void;
}

interface BunGlobal {
  udpSocket(options: { hostname: string; port: number; binaryType: "uint8array"; socket: BunUdpHandlers }): Promise<BunUdpSocket>;
}

function bun(): BunGlobal | undefined {
  const b = (globalThis as { Bun?: Partial<BunGlobal> }).Bun;
  return typeof b?.udpSocket === "function" ? (b as BunGlobal) : undefined;
}

/** True on Bun (Bun.udpSocket exists). */
export function bunAvailable(): boolean {
  return bun() !== undefined;
}

/** Datagrams queued for one sendMany at most; a longer queue is flushed early. */
export const BUN_MAX_BATCH = 256;

export class BunTransport implements UdpTransport {
  readonly kind = "bun";
  sendErrors = 0;
  private readonly cache: AddressCache<HostPort>;
  /** [bytes, port, host, bytes, port, host, ...]: sendMany's layout for an unconnected socket. */
  private readonly queue: (Uint8Array | number | string)[] = [];
  private queued = 0;
  private receiver: DatagramReceiver | undefined;
  private socket: BunUdpSocket | undefined;
  private closed = false;

  /** The handlers Bun calls; bound once, so no closure per datagram. */
  readonly handlers: BunUdpHandlers = {
    data: (_socket, data, port, address) => {
      if (this.closed) return;
      this.receiver?.datagram(data, this.cache.source(address, port));
    },
    drain: () => {},
    error: (a, b) => {
      const e = b ?? a;
      this.receiver?.error(ErrorCode.Socket, `socket error: ${e instanceof Error ? e.message : String(e)}`);
    },
  };

  constructor(addressCacheEntries?: number) {
    this.cache = new AddressCache<HostPort>((hp) => (isIpLiteral(hp.host) ? hp : null), addressCacheEntries);
  }

  attach(socket: BunUdpSocket): void {
    this.socket = socket;
  }

  address(): UdpAddressInfo {
    const a = (this.socket as BunUdpSocket).address;
    return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  listen(receiver: DatagramReceiver): void {
    this.receiver = receiver;
  }

  send(to: string, bytes: Uint8Array): boolean {
    const d = this.cache.destination(to);
    if (d === null) return false;
    if (this.closed) {
      this.sendErrors++;
      return true;
    }
    this.queue.push(bytes, d.port, d.host);
    if (++this.queued >= BUN_MAX_BATCH) this.flush();
    return true;
  }

  flush(): void {
    const n = this.queued;
    if (n === 0) return;
    this.queued = 0;
    const socket = this.socket as BunUdpSocket;
    const q = this.queue;
    let sent = -1;
    try {
      sent = n === 1 ? (socket.send(q[0] as Uint8Array, q[1] as number, q[2] as string) ? 1 : 0) : socket.sendMany(q);
    } catch {
      // A send throws the socket's pending error (an ICMP port unreachable from an earlier
      // datagram: ECONNREFUSED), not this batch's: send them one by one, counting each failure.
    }
    if (sent < 0) this.sendOneByOne(socket, q, n);
    else if (sent < n) {
      this.sendErrors += n - sent;
      this.receiver?.error(ErrorCode.Socket, `the socket took ${sent} of ${n} datagrams (send buffer full); the rest were dropped`);
    }
    q.length = 0;
  }

  private sendOneByOne(socket: BunUdpSocket, q: (Uint8Array | number | string)[], n: number): void {
    for (let i = 0; i < n; i++) {
      const to = `${String(q[3 * i + 2])}:${String(q[3 * i + 1])}`;
      let error: unknown;
      // Twice: the first throw may be an earlier datagram's pending error, which it clears.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          error = socket.send(q[3 * i] as Uint8Array, q[3 * i + 1] as number, q[3 * i + 2] as string) ? undefined : new Error("send buffer full");
          break;
        } catch (e) {
          error = e;
        }
      }
      if (error === undefined) continue;
      this.sendErrors++;
      this.receiver?.error(ErrorCode.Socket, `send to ${to} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  pending(): number {
    return this.queued;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush();
      this.closed = true;
      try {
        this.socket?.close();
      } catch {
        // already closed
      }
    }
    return Promise.resolve();
  }
}

/** Binds a Bun UDP socket on host:port. Rejects with Bun's bind error. */
export async function openBunUdp(host: string, port: number, addressCacheEntries?: number): Promise<UdpTransport> {
  const b = bun();
  if (b === undefined) throw new Error("Bun.udpSocket is not available on this runtime");
  const t = new BunTransport(addressCacheEntries);
  t.attach(await b.udpSocket({ hostname: host, port, binaryType: "uint8array", socket: t.handlers }));
  return t;
}
