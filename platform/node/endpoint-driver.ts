/**
 * The generic driver loop (lib/endpoint.ts), shared by the lobby server and the peer: it
 * owns a UDP transport (udp-transport.ts: node:dgram, Bun.udpSocket or Deno.listenDatagram)
 * and one timer, feeds the endpoint datagrams and timeouts, and after every input drains
 * pollTransmit() to the socket and pollEvent() to a callback.
 *
 * Per datagram it does what a bare forwarder does plus the endpoint's work: no closure, no
 * completion callback (dgram-transport.ts), no address formatted or parsed twice (cached).
 * What can wait for the end of the event-loop turn waits, once per turn however many
 * datagrams the turn read (node:dgram hands up to 32 per socket per turn): re-arming the
 * timer at pollTimeout(), and on Bun the sendMany of everything the turn's drains queued.
 * The timer is moved only when the endpoint needs it earlier than it is set; firing early is
 * harmless (handleTimeout is safe to call early) and re-arms it.
 *
 * Nothing escapes as an exception: socket errors, send errors, unsendable addresses and
 * anything thrown by the endpoint or a callback go to `onError` as a RelayGridError (code
 * "socket" or "invalid-address").
 */
import type { Socket } from "node:dgram";
import type { Endpoint } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { formatAddress } from "./address.ts";
import { bindDgram, DgramTransport } from "./dgram-transport.ts";
import type { DatagramReceiver, UdpTransport, UdpTransportKind } from "./udp-transport.ts";

/** setTimeout's largest delay (2^31 - 1 ms); a later deadline is re-armed when this fires. */
const MAX_TIMER_DELAY_MS = 0x7fffffff;
/** flushed() gives up waiting for the socket's send queue after this long. Defaults to 2000 ms. */
export const DEFAULT_FLUSH_WAIT_MS = 2000;

/** Runs `fn` once the current event-loop turn's I/O callbacks are done (setImmediate where the runtime has it). */
const afterTurn: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => void setImmediate(fn) : (fn) => queueMicrotask(fn);

export interface DriverOptions<E> {
  /** Called with each event the endpoint emits, in order. */
  onEvent?: (event: E) => void;
  /** Called with every error instead of throwing. Defaults to ignoring them (they are counted in stats). */
  onError?: (error: RelayGridError) => void;
  /** A monotonic clock in ms. Defaults to performance.now(). */
  clock?: () => number;
  /** Sees every outgoing datagram; returning false drops it (demos emulate loss on loopback). Defaults to none. */
  sendFilter?: (to: string, bytes: Uint8Array) => boolean;
}

export interface DriverStats {
  /** Which socket API carries the datagrams ("node:dgram", "bun" or "deno"). */
  udp: UdpTransportKind;
  datagramsReceived: number;
  /** Datagrams handed to the socket. */
  datagramsSent: number;
  /** Datagrams not sent: an address the transport cannot send to, or a send the OS refused (node:dgram sees one send in 64). */
  sendErrors: number;
  errors: number;
}

export interface EndpointDriver {
  /** The clock the endpoint runs on. */
  now(): number;
  /** Runs a command on the endpoint with the current time, then drains. Returns what `fn` returns. */
  command<T>(fn: (now: number) => T): T;
  /** Resolves when every datagram handed to the socket so far has left (or failed), or after DEFAULT_FLUSH_WAIT_MS. */
  flushed(): Promise<void>;
  stats(): DriverStats;
  /** Stops the loop and closes the socket; resolves when it is closed. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Binds a node:dgram socket (udp6 for an IPv6 literal host, else udp4); rejects with a
 * RelayGridError. For a socket the driver runs, openUdp() (udp-transport.ts) also offers
 * the runtime's native transport.
 */
export async function bindUdp(host: string, port: number): Promise<Socket> {
  try {
    return await bindDgram(host, port);
  } catch (e) {
    throw new RelayGridError(ErrorCode.Socket, `cannot bind UDP ${formatAddress(host, port)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function isTransport(s: Socket | UdpTransport): s is UdpTransport {
  return typeof (s as UdpTransport).listen === "function" && typeof (s as UdpTransport).flush === "function";
}

/** Drives `endpoint` from `socket` (a node:dgram Socket or an openUdp() transport) until stop(). The driver owns it from now on. */
export function driveEndpoint<E>(socket: Socket | UdpTransport, endpoint: Endpoint<E>, options: DriverOptions<E> = {}): EndpointDriver {
  const transport: UdpTransport = isTransport(socket) ? socket : new DgramTransport(socket);
  const clock = options.clock ?? (() => performance.now());
  const { onEvent, onError, sendFilter } = options;
  let received = 0;
  let sent = 0;
  let unsendable = 0;
  let errors = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (undefined: none armed). */
  let armedAt: number | undefined;
  let turnPending = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;

  const report = (code: ErrorCode, message: string): void => {
    errors++;
    if (onError === undefined) return;
    try {
      onError(new RelayGridError(code, message));
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  };
  const threw = (what: string, e: unknown): void =>
    report(ErrorCode.Socket, `${what} threw: ${e instanceof Error ? e.message : String(e)}`);

  const send = (to: string, bytes: Uint8Array): void => {
    if (sendFilter !== undefined && !sendFilter(to, bytes)) return;
    if (transport.send(to, bytes)) {
      sent++;
      return;
    }
    unsendable++;
    const hint = transport.kind === "node:dgram" ? "" : ` (an IP address: ${transport.kind}'s socket does no DNS)`;
    report(ErrorCode.InvalidAddress, `cannot send to "${to}": expected "1.2.3.4:5" or "[::1]:5"${hint}`);
  };

  /** Drain output after every input (lib/endpoint.ts driver order); the timer and a batched flush wait for the turn's end. */
  const drain = (): void => {
    for (let t = endpoint.pollTransmit(); t !== undefined; t = endpoint.pollTransmit()) {
      if (t.sockets !== undefined && transport.spray !== undefined) transport.spray(t.to, t.bytes, t.sockets);
      else send(t.to, t.bytes);
    }
    for (let e = endpoint.pollEvent(); e !== undefined; e = endpoint.pollEvent()) {
      if (onEvent === undefined) continue;
      try {
        onEvent(e);
      } catch (err) {
        threw("onEvent", err);
      }
    }
    if (!turnPending) {
      turnPending = true;
      afterTurn(onTurnEnd);
    }
  };

  function onTurnEnd(): void {
    turnPending = false;
    if (stopped) return;
    transport.flush();
    arm();
  }

  function arm(): void {
    let at: number | undefined;
    try {
      at = endpoint.pollTimeout();
    } catch (e) {
      threw("pollTimeout", e);
      return;
    }
    if (at === undefined || (timer !== undefined && armedAt !== undefined && armedAt <= at)) return;
    if (timer !== undefined) clearTimeout(timer);
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(at - clock())));
    armedAt = at;
    timer = setTimeout(onTimer, delay);
  }

  function onTimer(): void {
    timer = undefined;
    armedAt = undefined;
    if (stopped) return;
    try {
      endpoint.handleTimeout(clock());
    } catch (e) {
      threw("handleTimeout", e);
    }
    try {
      drain();
    } catch (e) {
      threw("drain", e);
    }
    arm(); // the deadline may be later than the one that fired, or no longer wanted: set it now
  }

  const receiver: DatagramReceiver = {
    datagram(bytes: Uint8Array, from: string): void {
      if (stopped) return;
      received++;
      try {
        endpoint.handleDatagram(clock(), from, bytes);
      } catch (e) {
        threw("handleDatagram", e);
      }
      try {
        drain();
      } catch (e) {
        threw("drain", e);
      }
    },
    error: report,
  };

  transport.listen(receiver);
  try {
    drain();
  } catch (e) {
    threw("drain", e);
  }

  return {
    now: clock,
    command<T>(fn: (now: number) => T): T {
      try {
        return fn(clock());
      } finally {
        try {
          drain();
        } catch (e) {
          threw("drain", e);
        }
      }
    },
    flushed(): Promise<void> {
      transport.flush();
      const until = clock() + DEFAULT_FLUSH_WAIT_MS;
      return new Promise((resolve) => {
        const check = (): void => {
          if (transport.pending() === 0 || clock() >= until) resolve();
          else setTimeout(check, 1);
        };
        // node:dgram hands a send to the socket only after its address lookup (the next tick,
        // for an IP), so the send queue is counted after this turn.
        afterTurn(check);
      });
    },
    stats: () => ({ udp: transport.kind, datagramsReceived: received, datagramsSent: sent, sendErrors: unsendable + transport.sendErrors, errors }),
    stop(): Promise<void> {
      stopping ??= (() => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        transport.flush();
        return transport.close();
      })();
      return stopping;
    },
  };
}
