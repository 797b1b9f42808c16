/**
 * The generic Node driver loop (DESIGN.md "A driver is a loop"), shared by the lobby server
 * and the peer: it owns a node:dgram socket and one timer, feeds the endpoint datagrams and
 * timeouts, and after every input drains pollTransmit() to the socket, pollEvent() to a
 * callback, and re-arms the timer at pollTimeout().
 *
 * Runs unchanged on Node, Deno and Bun: it uses node:dgram, the global timers and
 * performance.now(), nothing else. Nothing escapes as an exception: socket errors, send
 * errors, unparsable addresses and anything thrown by the endpoint or a callback go to
 * `onError` as a RelayGridError (code "socket" or "invalid-address").
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Endpoint } from "../../lib/endpoint.ts";
import { ErrorCode, RelayGridError } from "../../wire/errors.ts";
import { formatAddress, parseAddress, sendHost, socketTypeFor } from "./address.ts";

/** setTimeout's largest delay (2^31 - 1 ms); a later deadline is re-armed when this fires. */
const MAX_TIMER_DELAY_MS = 0x7fffffff;

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
  datagramsReceived: number;
  datagramsSent: number;
  sendErrors: number;
  errors: number;
}

export interface EndpointDriver {
  /** The clock the endpoint runs on. */
  now(): number;
  /** Runs a command on the endpoint with the current time, then drains and re-arms. Returns what `fn` returns. */
  command<T>(fn: (now: number) => T): T;
  /** Resolves when every datagram handed to the socket so far has been sent or has failed. */
  flushed(): Promise<void>;
  stats(): DriverStats;
  /** Stops the loop and closes the socket; resolves when it is closed. Idempotent. */
  stop(): Promise<void>;
}

/** Binds a UDP socket (udp6 for an IPv6 literal host, else udp4); rejects with a RelayGridError. */
export function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: socketTypeFor(host) });
    const fail = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // not running yet: nothing to close
      }
      reject(new RelayGridError(ErrorCode.Socket, `cannot bind UDP ${formatAddress(host, port)}: ${err.message}`));
    };
    socket.once("error", fail);
    socket.bind(port, host, () => {
      socket.off("error", fail);
      resolve(socket);
    });
  });
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

/** Drives `endpoint` from `socket` until stop(). The driver owns the socket from now on. */
export function driveEndpoint<E>(socket: Socket, endpoint: Endpoint<E>, options: DriverOptions<E> = {}): EndpointDriver {
  const clock = options.clock ?? (() => performance.now());
  const ipv6 = isIpv6Socket(socket);
  const stats: DriverStats = { datagramsReceived: 0, datagramsSent: 0, sendErrors: 0, errors: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armedAt: number | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let inFlight = 0;
  let waiters: (() => void)[] = [];

  const report = (code: ErrorCode, message: string): void => {
    stats.errors++;
    if (options.onError === undefined) return;
    try {
      options.onError(new RelayGridError(code, message));
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  };
  const guard = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      report(ErrorCode.Socket, `${what} threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const settle = (): void => {
    if (inFlight > 0) return;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  };

  const send = (to: string, bytes: Uint8Array): void => {
    if (options.sendFilter !== undefined && !options.sendFilter(to, bytes)) return;
    const dest = parseAddress(to);
    if (dest === undefined) {
      stats.sendErrors++;
      report(ErrorCode.InvalidAddress, `cannot send to "${to}": expected "1.2.3.4:5" or "[::1]:5"`);
      return;
    }
    inFlight++;
    const done = (err: Error | null): void => {
      inFlight--;
      if (err) {
        stats.sendErrors++;
        report(ErrorCode.Socket, `send to ${to} failed: ${err.message}`);
      } else {
        stats.datagramsSent++;
      }
      settle();
    };
    try {
      socket.send(bytes, dest.port, sendHost(dest.host, ipv6), done);
    } catch (e) {
      done(e instanceof Error ? e : new Error(String(e)));
    }
  };

  const arm = (): void => {
    if (stopped) return;
    const at = endpoint.pollTimeout();
    if (at === armedAt && timer !== undefined) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    armedAt = at;
    if (at === undefined) return;
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Math.ceil(at - clock())));
    timer = setTimeout(onTimer, delay);
  };

  /** Drain output after every input, then re-arm (lib/endpoint.ts driver order). */
  const drain = (): void => {
    for (let t = endpoint.pollTransmit(); t !== undefined; t = endpoint.pollTransmit()) send(t.to, t.bytes);
    for (let e = endpoint.pollEvent(); e !== undefined; e = endpoint.pollEvent()) {
      const event = e;
      if (options.onEvent !== undefined) guard("onEvent", () => options.onEvent?.(event));
    }
    arm();
  };

  function onTimer(): void {
    timer = undefined;
    armedAt = undefined;
    if (stopped) return;
    guard("handleTimeout", () => endpoint.handleTimeout(clock()));
    guard("drain", drain);
  }

  const onMessage = (msg: Uint8Array, rinfo: RemoteInfo): void => {
    if (stopped) return;
    stats.datagramsReceived++;
    const from = formatAddress(rinfo.address, rinfo.port);
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    guard("handleDatagram", () => endpoint.handleDatagram(clock(), from, bytes));
    guard("drain", drain);
  };
  const onSocketError = (err: Error): void => report(ErrorCode.Socket, `socket error: ${err.message}`);

  socket.on("message", onMessage);
  socket.on("error", onSocketError);
  guard("drain", drain);

  return {
    now: clock,
    command<T>(fn: (now: number) => T): T {
      try {
        return fn(clock());
      } finally {
        guard("drain", drain);
      }
    },
    flushed(): Promise<void> {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
    stats: () => ({ ...stats }),
    stop(): Promise<void> {
      stopping ??= new Promise((resolve) => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        socket.off("message", onMessage);
        try {
          // The "error" listener stays until the socket is closed, so a late error is never unhandled.
          socket.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      });
      return stopping;
    },
  };
}
