/**
 * The raw node:dgram baselines of the udp-hop group, on 127.0.0.1 only: forwarders in this
 * process that send every datagram on unchanged, and the source and sink in a child process
 * (udp-load.ts), so this process does nothing but forward, as a relaying peer would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { fileURLToPath } from "node:url";
import { currentRuntime, scriptCommand } from "./runtime.ts";
import type { LoadCommand, LoadResult } from "./udp-load.ts";

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

/** The source/sink child: start once, run many loads, close. */
export class LoadProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly sinkPort: number,
  ) {}

  static async start(): Promise<LoadProcess> {
    // The load runs on the same runtime as the forwarders, so both sides of a socket match.
    const [cmd, args] = scriptCommand(currentRuntime().name, fileURLToPath(new URL("./udp-load.ts", import.meta.url)));
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const sinkPort = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { sinkPort: number }).sinkPort));
      child.once("exit", (code) => reject(new Error(`udp load process exited with ${String(code)}`)));
    });
    return new LoadProcess(child, sinkPort);
  }

  run(cmd: LoadCommand): Promise<LoadResult> {
    return new Promise((resolve) => {
      this.child.once("message", (m) => resolve(m as LoadResult));
      this.child.send(cmd);
    });
  }

  close(): void {
    this.child.send("exit");
  }
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
