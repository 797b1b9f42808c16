/**
 * The peer's extra sockets for birthday probing (lib/peer/birthday.ts, Transmit.sockets):
 * a UDP transport over the peer's own socket that, asked to spray, sends one datagram from
 * each of up to `count` extra sockets (bound on the peer's host, port 0, opened on first use),
 * so a NAT that maps every socket to its own port opens that many mappings. A datagram that
 * arrives on an extra socket goes to the peer as any other, and the socket becomes the route
 * to its source: whatever the peer sends there later leaves through it (the mapping that let
 * it in). Extra sockets that no route holds are closed IDLE_MS after the last spray.
 */
import { ErrorCode } from "../../wire/errors.ts";
import { bindDgram, DgramTransport } from "./dgram-transport.ts";
import type { DatagramReceiver, UdpAddressInfo, UdpTransport } from "./udp-transport.ts";

/** Extra sockets no route holds are closed this long after the last spray. Defaults to 15000 ms. */
export const IDLE_MS = 15_000;
/** Extra sockets at most. Defaults to 256 (birthday.ts PROBE_SOCKETS). */
export const MAX_EXTRA_SOCKETS = 256;

export class ProbeSockets implements UdpTransport {
  readonly kind: UdpTransport["kind"];
  private receiver: DatagramReceiver | undefined;
  private readonly extra: DgramTransport[] = [];
  private opening: Promise<void> | undefined;
  /** Source address -> the extra socket it was first heard on. */
  private readonly routes = new Map<string, DgramTransport>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    /** The peer's own socket: everything but a spray and its routes goes through it. */
    readonly main: UdpTransport,
    private readonly host: string,
  ) {
    this.kind = main.kind;
  }

  get sendErrors(): number {
    return this.extra.reduce((n, t) => n + t.sendErrors, this.main.sendErrors);
  }

  /** Extra sockets open now, and sources routed through one. */
  counts(): { sockets: number; routes: number } {
    return { sockets: this.extra.length, routes: this.routes.size };
  }

  address(): UdpAddressInfo {
    return this.main.address();
  }

  listen(receiver: DatagramReceiver): void {
    this.receiver = receiver;
    this.main.listen(receiver);
  }

  send(to: string, bytes: Uint8Array): boolean {
    // Every datagram a peer sends comes here: no route (no probing ever answered, the usual
    // case) costs no Map lookup by the address string.
    if (this.routes.size === 0) return this.main.send(to, bytes);
    const via = this.routes.get(to);
    return via !== undefined ? via.send(to, bytes) : this.main.send(to, bytes);
  }

  /** `bytes` to `to` from `count` extra sockets (opened as needed; sent once they are bound). */
  spray(to: string, bytes: Uint8Array, count: number): void {
    if (this.closed) return;
    const want = Math.min(count, MAX_EXTRA_SOCKETS);
    const copy = bytes.slice();
    void this.open(want).then(() => {
      if (this.closed) return;
      for (const t of this.extra.slice(0, want)) t.send(to, copy);
    });
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeIdle(), IDLE_MS);
    this.idleTimer.unref?.();
  }

  flush(): void {
    this.main.flush();
  }

  pending(): number {
    return this.extra.reduce((n, t) => n + t.pending(), this.main.pending());
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    await this.opening?.catch(() => undefined);
    await Promise.all([this.main.close(), ...this.extra.map((t) => t.close())]);
    this.extra.length = 0;
    this.routes.clear();
  }

  private open(want: number): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.extra.length < want && !this.closed) {
        const batch = await Promise.allSettled(Array.from({ length: Math.min(32, want - this.extra.length) }, () => bindDgram(this.host, 0)));
        let bound = 0;
        for (const r of batch) {
          if (r.status !== "fulfilled") continue;
          bound++;
          const t = new DgramTransport(r.value);
          t.listen(this.extraReceiver(t));
          if (this.closed) void t.close();
          else this.extra.push(t);
        }
        if (bound === 0) {
          this.receiver?.error(ErrorCode.Socket, `birthday probing: cannot bind extra sockets on ${this.host}`);
          return;
        }
      }
    };
    const next = (this.opening ?? Promise.resolve()).then(run);
    this.opening = next.catch(() => undefined);
    return next;
  }

  private extraReceiver(t: DgramTransport): DatagramReceiver {
    return {
      datagram: (bytes, from) => {
        if (!this.routes.has(from)) this.routes.set(from, t);
        this.receiver?.datagram(bytes, from);
      },
      error: (code, message) => this.receiver?.error(code, message),
    };
  }

  /** Closes the extra sockets no route holds. */
  private closeIdle(): void {
    this.idleTimer = undefined;
    const held = new Set(this.routes.values());
    const keep = this.extra.filter((t) => held.has(t));
    for (const t of this.extra) if (!held.has(t)) void t.close();
    this.extra.length = 0;
    this.extra.push(...keep);
  }
}
