/**
 * The sans-IO contract shared by every relaygrid state machine (Peer, Lobby).
 *
 * An endpoint never reads a clock, sets a timer or touches a socket. A driver
 * (platform/node, platform/embedded, platform/memory) owns those and runs a loop:
 *
 *   1. feed input:   handleDatagram(now, from, bytes) for each datagram,
 *                    handleTimeout(now) when pollTimeout()'s deadline has passed;
 *   2. drain output: pollTransmit() until undefined (send each one),
 *                    pollEvent() until undefined (hand each to the application);
 *   3. re-arm:       one timer at pollTimeout().
 *
 * Commands from the application (broadcast, join, ...) take `now` as well and
 * only queue work; the driver drains after calling them.
 */

/** An opaque transport address the driver understands ("127.0.0.1:7000", "[::1]:7000", a host handle). */
export type Address = string;

/** One datagram to send. `bytes` may be shared with other transmits: the driver must not mutate it. */
export interface Transmit {
  readonly to: Address;
  readonly bytes: Uint8Array;
  /**
   * Birthday probing (PROTOCOL.md 7.2, hard NATs): send `bytes` to `to` once from each of this
   * many extra sockets of the driver's (opened for it), so a NAT that maps every socket to its
   * own port opens that many mappings; a datagram that then arrives on one of them is handed
   * in as any other, and what the endpoint sends to its source goes out through that socket.
   * A driver without extra sockets sends it once, as a plain transmit. Undefined: a plain one.
   */
  readonly sockets?: number;
}

/** Milliseconds on the driver's clock. Monotonic is best; a clock that goes backwards is ignored. */
export type Millis = number;

export interface Endpoint<E> {
  /**
   * Untrusted input. Never throws: bad bytes are counted in stats() and dropped.
   * The endpoint takes ownership of `bytes`: it may rewrite them in place (the relay path
   * patches the hop byte and forwards the same buffer) and keep views of them (a data
   * event's payload), so a driver that reuses its receive buffer must pass a copy.
   */
  handleDatagram(now: Millis, from: Address, bytes: Uint8Array): void;
  /** Fire every timer whose deadline is <= now. Safe to call early or twice. */
  handleTimeout(now: Millis): void;
  /** The earliest deadline, or undefined when no timer is armed. */
  pollTimeout(): Millis | undefined;
  /** The next datagram to send, or undefined when the queue is empty. */
  pollTransmit(): Transmit | undefined;
  /** The next event for the application, or undefined. */
  pollEvent(): E | undefined;
}
