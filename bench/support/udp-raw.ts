/**
 * The raw node:dgram baselines of the udp-hop group, on 127.0.0.1 only: forwarders in this
 * process that send every datagram on unchanged, and the source and sink in a child process
 * (udp-load.ts), so this process does nothing but forward, as a relaying peer would. The same
 * child also holds the lobby and the relaygrid members at the ends of the relaygrid paths.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { currentRuntime, scriptCommand } from "./runtime.ts";
import type { Runtime } from "../types.ts";
import type { LoadRequest, LoadResult, RunCommand } from "./udp-load.ts";

const HOST = "127.0.0.1";
/** A receiving socket reads at most this many datagrams per event-loop turn (libuv). */
export const READS_PER_TURN = 32;

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, HOST, () => resolve(s));
  });
}

/** The load child (udp-load.ts): start once, send it many requests, close. */
export class LoadProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    /** The raw sink's port, and the raw source's (a chain that ends at the source). */
    readonly sinkPort: number,
    readonly sourcePort: number,
  ) {
    child.on("message", (m) => {
      const r = m as { id?: number; ok?: boolean; value?: unknown; error?: string };
      const w = r.id === undefined ? undefined : this.waiting.get(r.id);
      if (w === undefined || r.id === undefined) return;
      this.waiting.delete(r.id);
      if (r.ok === true) w.resolve(r.value);
      else w.reject(new Error(`load process: ${r.error ?? "failed"}`));
    });
    child.on("exit", (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`udp load process exited with ${String(code)}`));
      this.waiting.clear();
    });
  }

  /** Starts the load child on `runtime` (defaults to this process's runtime). */
  static async start(runtime: Runtime = currentRuntime().name): Promise<LoadProcess> {
    const [cmd, args] = scriptCommand(runtime, fileURLToPath(new URL("./udp-load.ts", import.meta.url)));
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const ports = await new Promise<{ sinkPort: number; sourcePort: number }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { sinkPort: number; sourcePort: number }));
      child.once("exit", (code) => reject(new Error(`udp load process exited with ${String(code)}`)));
    });
    return new LoadProcess(child, ports.sinkPort, ports.sourcePort);
  }

  /** One request to the load process (see udp-load.ts LoadRequest). */
  call<T>(req: LoadRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, ...req });
    });
  }

  run(cmd: RunCommand): Promise<LoadResult> {
    return this.call<LoadResult>({ op: "run", ...cmd });
  }

  /** Tells the child to close everything and waits (bounded) for it to exit. */
  close(): Promise<void> {
    return closeChild(this.child);
  }
}

/** Sends a bench child "exit" over IPC and waits up to 3 s for it to exit, then kills it. */
export async function closeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.send("exit");
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 3000)))]);
  clearTimeout(timer);
  if (child.exitCode === null) child.kill();
}

/** A chain of `count` raw forwarders ending at `sinkPort`; returns the first one's port. */
export async function rawForwarders(count: number, sinkPort: number): Promise<{ port: number; close(): void }> {
  const socks: Socket[] = [];
  for (let i = 0; i < count; i++) socks.push(await bind());
  socks.forEach((s, i) => {
    const next = socks[i + 1]?.address().port ?? sinkPort;
    s.on("message", (msg) => s.send(msg, next, HOST));
  });
  return { port: (socks[0] as Socket).address().port, close: () => socks.forEach((s) => s.close()) };
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

interface DenoDatagramConn {
  receive(p?: Uint8Array): Promise<[Uint8Array, { hostname: string; port: number }]>;
  send(p: Uint8Array, addr: { transport: "udp"; hostname: string; port: number }): Promise<number>;
  close(): void;
  readonly addr: { port: number };
}
type DenoNet = { listenDatagram?: (o: { hostname: string; port: number; transport: "udp" }) => DenoDatagramConn };
interface BunUdp {
  readonly port: number;
  send(data: Uint8Array, port: number, address: string): boolean;
  close(): void;
}
type BunNet = {
  udpSocket?: (o: { hostname: string; port: number; binaryType: "uint8array"; socket: { data(s: BunUdp, d: Uint8Array): void } }) => Promise<BunUdp>;
};

/** Which native raw forwarder nativeForwarders() builds here, or undefined on Node (and on Deno without --unstable-net). */
export function nativeRawKind(): "bun" | "deno" | undefined {
  if (typeof (globalThis as { Bun?: BunNet }).Bun?.udpSocket === "function") return "bun";
  if (typeof (globalThis as { Deno?: DenoNet }).Deno?.listenDatagram === "function") return "deno";
  return undefined;
}

/**
 * A chain of `count` raw forwarders on the runtime's native UDP API, ending at `sinkPort`:
 * Bun.udpSocket (data -> send unchanged) or Deno.listenDatagram (one receive at a time into
 * a reused buffer, the datagram copied out, the send not awaited). Undefined on Node.
 */
export async function nativeForwarders(count: number, sinkPort: number): Promise<{ port: number; close(): void } | undefined> {
  const kind = nativeRawKind();
  if (kind === "bun") {
    const udp = (globalThis as unknown as { Bun: Required<BunNet> }).Bun.udpSocket;
    const socks: BunUdp[] = [];
    const next: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = i;
      socks.push(await udp({ hostname: HOST, port: 0, binaryType: "uint8array", socket: { data: (s, d) => void s.send(d, next[at] as number, HOST) } }));
    }
    socks.forEach((_, i) => next.push(socks[i + 1]?.port ?? sinkPort));
    return { port: (socks[0] as BunUdp).port, close: () => socks.forEach((s) => s.close()) };
  }
  if (kind !== "deno") return undefined;
  const listen = (globalThis as unknown as { Deno: Required<DenoNet> }).Deno.listenDatagram;
  const conns = Array.from({ length: count }, () => listen({ hostname: HOST, port: 0, transport: "udp" }));
  conns.forEach((c, i) => {
    const next = { transport: "udp" as const, hostname: HOST, port: conns[i + 1]?.addr.port ?? sinkPort };
    const buf = new Uint8Array(65_507);
    void (async () => {
      try {
        for (;;) {
          const [data] = await c.receive(buf);
          void c.send(data.slice(), next).catch(() => {});
        }
      } catch {
        // closed
      }
    })();
  });
  return { port: (conns[0] as DenoDatagramConn).addr.port, close: () => conns.forEach((c) => c.close()) };
}
