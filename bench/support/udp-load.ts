/**
 * The load side of the udp-hop group, run as a child process so the process under test does
 * nothing but forward: a source and a sink on 127.0.0.1. The source keeps at most `window`
 * datagrams in flight (one new datagram per arrival at the sink), so no socket on the path
 * holds more than one event-loop turn's read (32 datagrams) and nothing is lost; the result
 * counts anything that was. Commands and results go over the IPC channel.
 */
import { createSocket, type Socket } from "node:dgram";

const HOST = "127.0.0.1";

export interface LoadCommand {
  readonly firstHopPort: number;
  readonly payloadBytes: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoadResult {
  /** Arrivals at the sink per second of the measured span. */
  readonly perSec: number;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /** One-way times source -> sink (ms) of the datagrams that arrived in the measured span. */
  readonly latencyMs: number[];
}

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, HOST, () => resolve(s));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(cmd: LoadCommand, src: Socket, sink: Socket): Promise<LoadResult> {
  // A ring of send buffers: one is rewritten only after the datagram it held has arrived.
  const ring = Array.from({ length: cmd.window * 2 }, () => Buffer.alloc(Math.max(16, cmd.payloadBytes)));
  let sent = 0;
  let received = 0;
  let sending = true;
  let measuring = false;
  const latencyMs: number[] = [];
  let done: (() => void) | undefined;
  const sendOne = (): void => {
    const b = ring[sent % ring.length] as Buffer;
    b.writeDoubleLE(performance.now(), 0);
    b.writeUInt32LE(sent, 8);
    sent++;
    src.send(b, cmd.firstHopPort, HOST);
  };
  sink.removeAllListeners("message");
  sink.on("message", (msg: Buffer) => {
    received++;
    if (measuring) latencyMs.push(performance.now() - msg.readDoubleLE(0));
    if (sending) sendOne();
    else if (received === sent) done?.();
  });
  for (let i = 0; i < cmd.window; i++) sendOne();
  await sleep(cmd.warmupMs);
  const r0 = received;
  const t0 = performance.now();
  measuring = true;
  await sleep(cmd.durationMs);
  measuring = false;
  const r1 = received;
  const ms = performance.now() - t0;
  sending = false;
  if (received !== sent) await Promise.race([new Promise<void>((r) => (done = r)), sleep(500)]);
  return { perSec: (r1 - r0) / (ms / 1000), sent, received, lost: sent - received, latencyMs };
}

async function main(): Promise<void> {
  const src = await bind();
  const sink = await bind();
  process.send?.({ sinkPort: sink.address().port });
  process.on("message", (m: LoadCommand | "exit") => {
    if (m === "exit") {
      src.close();
      sink.close();
      process.disconnect?.();
      return;
    }
    void run(m, src, sink).then((r) => process.send?.(r));
  });
}

if (process.send !== undefined) void main();
