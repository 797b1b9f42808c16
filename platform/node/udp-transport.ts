/**
 * The UDP socket under relaygrid/node's driver loop, one interface over three socket APIs:
 * node:dgram (Node, and the fallback everywhere), Bun.udpSocket (Bun: sendMany batches a
 * turn's datagrams into one system call) and Deno.listenDatagram (Deno, when the runtime was
 * started with --unstable-net or "unstable": ["net"] in deno.json). openUdp() picks the
 * native one of the runtime it runs on ("auto", the default), so `joinGrid` and `createLobby`
 * need no option to get it; `udp: "node:dgram"` forces the portable one.
 *
 * Addresses are the driver's strings ("1.2.3.4:5", "[::1]:5"): a transport formats the
 * source of each datagram once per address and parses each destination once (AddressCache,
 * bounded), so the hot path allocates no address.
 */
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { DEFAULT_ADDRESS_CACHE_ENTRIES, formatAddress } from "./address.ts";
import { bunAvailable, openBunUdp } from "../bun/udp-transport.ts";
import { denoAvailable, openDenoUdp } from "../deno/udp-transport.ts";
import { openDgramUdp } from "./dgram-transport.ts";

/** Which socket API carries the datagrams. */
export type UdpTransportKind = "node:dgram" | "bun" | "deno";
/** "auto": the runtime's native API when it has one (Bun.udpSocket, Deno.listenDatagram), else node:dgram. */
export type UdpTransportChoice = "auto" | UdpTransportKind;
/** Defaults to "auto". */
export const DEFAULT_UDP_TRANSPORT: UdpTransportChoice = "auto";

export interface UdpAddressInfo {
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/** What a transport hands received datagrams and failures to (the driver). */
export interface DatagramReceiver {
  /** One datagram from "host:port"; `bytes` is a fresh buffer the receiver owns. */
  datagram(bytes: Uint8Array, from: string): void;
  /** A socket or send failure (the transport keeps running). */
  error(code: ErrorCode, message: string): void;
}

export interface UdpTransport {
  readonly kind: UdpTransportKind;
  /** The bound address, with the real port. */
  address(): UdpAddressInfo;
  /** Starts handing datagrams to `receiver`. Called once, by the driver. */
  listen(receiver: DatagramReceiver): void;
  /**
   * Sends (or queues until flush()) one datagram to "host:port". False, and nothing sent,
   * when `to` is not an address this transport can send to. Never throws.
   */
  send(to: string, bytes: Uint8Array): boolean;
  /** Birthday probing (Transmit.sockets): `bytes` to `to` from `count` extra sockets. Only the peer's transport (probe-sockets.ts) has it. */
  spray?(to: string, bytes: Uint8Array, count: number): void;
  /** Hands every queued datagram to the OS (Bun: one sendMany). Cheap when nothing is queued. */
  flush(): void;
  /** Datagrams handed over but not yet sent (or failed). */
  pending(): number;
  /** Datagrams the OS refused (counted; reported to the receiver as errors). */
  readonly sendErrors: number;
  /** Closes the socket; resolves when it is closed. Idempotent. */
  close(): Promise<void>;
}

export interface OpenUdpOptions {
  /** Defaults to "auto" (DEFAULT_UDP_TRANSPORT). */
  udp?: UdpTransportChoice;
  /**
   * The socket's receive buffer (SO_RCVBUF) in bytes, for a server that must ride out a
   * burst or a pause without dropping datagrams; the OS caps it (Linux: net.core.rmem_max).
   * node:dgram only: Bun.udpSocket and Deno.listenDatagram have no such option and keep
   * the OS default. Defaults to the OS default.
   */
  receiveBufferBytes?: number;
  /**
   * Addresses whose text and parsed form the transport keeps (AddressCache): size it to the
   * addresses the endpoint talks to at once. Defaults to 4096 (DEFAULT_ADDRESS_CACHE_ENTRIES);
   * createLobby passes its maxSessions.
   */
  addressCacheEntries?: number;
}

/** The transport "auto" picks on this runtime. */
export function nativeUdpTransport(): UdpTransportKind {
  if (bunAvailable()) return "bun";
  if (denoAvailable()) return "deno";
  return "node:dgram";
}

/**
 * Binds a UDP socket on `host:port` (udp6 for an IPv6 literal) with the chosen transport.
 * Rejects with a RelayGridError: "socket" when the bind fails, "invalid-config" when the
 * named transport is not available on this runtime (say, "deno" without --unstable-net).
 */
export async function openUdp(host: string, port: number, options: OpenUdpOptions = {}): Promise<UdpTransport> {
  const choice = options.udp ?? DEFAULT_UDP_TRANSPORT;
  const kind = choice === "auto" ? nativeUdpTransport() : choice;
  if (kind === "bun" && !bunAvailable()) {
    throw new RelayGridError(ErrorCode.InvalidConfig, `udp: "bun" needs Bun (Bun.udpSocket); this runtime has none: use "auto" or "node:dgram"`);
  }
  if (kind === "deno" && !denoAvailable()) {
    throw new RelayGridError(
      ErrorCode.InvalidConfig,
      `udp: "deno" needs Deno.listenDatagram: run deno with --unstable-net (or "unstable": ["net"] in deno.json), or use "auto" / "node:dgram"`,
    );
  }
  if (kind !== "bun" && kind !== "deno" && kind !== "node:dgram") {
    throw new RelayGridError(ErrorCode.InvalidConfig, `udp must be "auto", "node:dgram", "bun" or "deno", got ${String(choice)}`);
  }
  try {
    const entries = options.addressCacheEntries ?? DEFAULT_ADDRESS_CACHE_ENTRIES;
    if (kind === "bun") return await openBunUdp(host, port, entries);
    if (kind === "deno") return openDenoUdp(host, port, entries);
    return await openDgramUdp(host, port, options.receiveBufferBytes, entries);
  } catch (e) {
    if (e instanceof RelayGridError) throw e;
    throw new RelayGridError(ErrorCode.Socket, `cannot bind UDP ${formatAddress(host, port)} (${kind}): ${e instanceof Error ? e.message : String(e)}`);
  }
}
