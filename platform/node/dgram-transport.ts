/**
 * The node:dgram transport: Node's UDP socket, which Deno and Bun implement too (the
 * portable fallback). Per datagram it does what a bare forwarder does and no more: one
 * cached source string, one cached destination, one socket.send without a callback.
 *
 * Send failures: node:dgram reports a failed send only to a completion callback (without one
 * it drops the error), and a callback per datagram is work on every send. So one send in
 * SEND_CHECK_EVERY carries the shared callback, as does the first send to each destination:
 * a lasting failure (no route, a firewall, a closed port's ICMP on some systems) is reported
 * within that many datagrams, a one-off failure may go unseen. Sends to a host name (which
 * node:dgram resolves by DNS first) always carry it. pending() is the callbacks outstanding
 * plus the socket's send queue (getSendQueueCount, Node >= 18.8; 0 where the runtime lacks it).
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { ErrorCode } from "../../wire/errors.ts";
import { AddressCache, DEFAULT_ADDRESS_CACHE_ENTRIES, type HostPort, isIpLiteral, sendHost, socketTypeFor } from "./address.ts";
import type { DatagramReceiver, UdpAddressInfo, UdpTransport } from "./udp-transport.ts";

/** One send in this many carries a completion callback (and so reports a failure). */
export const SEND_CHECK_EVERY = 64;

/** A destination, and whether its sends always carry the callback (a host name: DNS can fail). */
type Checked = HostPort & { checked: boolean; resolves: boolean };

export class DgramTransport implements UdpTransport {
  readonly kind = "node:dgram";
  sendErrors = 0;
  private readonly cache: AddressCache<Checked>;
  private receiver: DatagramReceiver | undefined;
  private sends = 0;
  /** Sends with a callback not yet called back. */
  private inFlight = 0;
  private closing: Promise<void> | undefined;
  private readonly onSent = (err: Error | null): void => {
    this.inFlight--;
    if (err === null) return;
    this.sendErrors++;
    this.receiver?.error(ErrorCode.Socket, `send failed: ${err.message}`);
  };
  private readonly onMessage = (msg: Uint8Array, rinfo: RemoteInfo): void => {
    // A plain Uint8Array view (not a Buffer): the Peer sees one array type on every path.
    this.receiver?.datagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), this.cache.source(rinfo.address, rinfo.port));
  };
  private readonly onError = (err: Error): void => {
    this.receiver?.error(ErrorCode.Socket, `socket error: ${err.message}`);
  };

  /** Takes over a bound node:dgram socket. */
  constructor(
    readonly socket: Socket,
    addressCacheEntries = DEFAULT_ADDRESS_CACHE_ENTRIES,
  ) {
    // A dual-stack IPv6 socket reaches IPv4 peers only as ::ffff:a.b.c.d (sendHost); the
    // mapping is done once per cached destination, not per datagram.
    const ipv6 = isIpv6Socket(socket);
    this.cache = new AddressCache<Checked>((hp) => ({ host: sendHost(hp.host, ipv6), port: hp.port, checked: false, resolves: !isIpLiteral(hp.host) }), addressCacheEntries);
  }

  address(): UdpAddressInfo {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: a.family === "IPv6" ? "IPv6" : "IPv4" };
  }

  listen(receiver: DatagramReceiver): void {
    this.receiver = receiver;
    this.socket.on("message", this.onMessage);
    this.socket.on("error", this.onError);
  }

  send(to: string, bytes: Uint8Array): boolean {
    const d = this.cache.destination(to);
    if (d === null) return false;
    try {
      if (!d.checked || d.resolves || ++this.sends >= SEND_CHECK_EVERY) {
        d.checked = true;
        this.sends = 0;
        this.inFlight++;
        this.socket.send(bytes, d.port, d.host, this.onSent);
      } else {
        this.socket.send(bytes, d.port, d.host);
      }
    } catch (e) {
      // Closed, or not bound: thrown before the callback was taken.
      this.inFlight++;
      this.onSent(e instanceof Error ? e : new Error(String(e)));
    }
    return true;
  }

  flush(): void {}

  /** Callbacks outstanding plus the socket's send queue. Exact once the sends' address lookups ran (the next tick, for an IP). */
  pending(): number {
    const s = this.socket as Socket & { getSendQueueCount?: () => number };
    let queued = 0;
    try {
      queued = typeof s.getSendQueueCount === "function" ? s.getSendQueueCount() : 0;
    } catch {
      // closed
    }
    return this.inFlight + queued;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.socket.off("message", this.onMessage);
      try {
        // The "error" listener stays until the socket is closed, so a late error is never unhandled.
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
    return this.closing;
  }
}

/** Binds a node:dgram socket (udp6 for an IPv6 literal host, else udp4). Rejects with the bind error. */
export function bindDgram(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: socketTypeFor(host) });
    const fail = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // not running yet: nothing to close
      }
      reject(err);
    };
    socket.once("error", fail);
    socket.bind(port, host, () => {
      socket.off("error", fail);
      resolve(socket);
    });
  });
}

export async function openDgramUdp(host: string, port: number, receiveBufferBytes?: number, addressCacheEntries?: number): Promise<UdpTransport> {
  const socket = await bindDgram(host, port);
  // Not on Deno: its node:dgram does not set SO_RCVBUF but allocates a receive buffer of
  // twice that size for every datagram (measured on Deno 2.9.6 with 20,000 64-byte
  // datagrams: 4 MiB made receiving 5.7x slower and RSS 118 -> 357 MB).
  if (receiveBufferBytes !== undefined && (globalThis as { Deno?: unknown }).Deno === undefined) {
    try {
      socket.setRecvBufferSize(receiveBufferBytes); // the kernel caps it (Linux: net.core.rmem_max)
    } catch {
      // a runtime without it keeps the OS default
    }
  }
  return new DgramTransport(socket, addressCacheEntries);
}

/** Whether a bound socket is IPv6 (dual-stack unless ipv6Only): it sends to IPv4 hosts as ::ffff:a.b.c.d. */
function isIpv6Socket(socket: Socket): boolean {
  try {
    const family: unknown = socket.address().family; // "IPv6", or 6 on older runtimes
    return family === "IPv6" || family === 6;
  } catch {
    return false; // not bound: nothing to map
  }
}
