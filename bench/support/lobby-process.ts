/**
 * The lobby-capacity group's server side, run as its own process (`--expose-gc`) so the
 * process that simulates the members (support/lobby-members.ts) never shares its CPU or
 * heap: one real lobby (createLobby on 127.0.0.1, port 0) and, on another port, the
 * baseline: a raw node:dgram echo that sends every datagram back unchanged (what the UDP
 * path alone costs per request: the same receive and send, no lobby).
 *
 * IPC: the parent sends { id, op } and gets { id, ok, value | error }:
 *   op "start" (with the lobby options)  -> { lobby: "127.0.0.1:PORT", echo: PORT, publicKey }
 *   op "usage" (gc?)                     -> { cpuUs, rss, heapUsed } (with gc: after a full GC)
 *   op "stats"                           -> the lobby's stats() (peers, sessions, drops, ...)
 *   "exit"                               -> closes everything and exits
 */
import { createSocket, type Socket } from "node:dgram";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { createLobby, DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES, type CreateLobbyOptions, type LobbyServer } from "../../platform/node/index.ts";

const HOST = "127.0.0.1";
export interface ProcessUsage {
  /** User + system CPU of the whole process since it started, in microseconds. */
  readonly cpuUs: number;
  readonly rss: number;
  /** V8 heap in use after a full GC (when --expose-gc), bytes. */
  readonly heapUsed: number;
  /** Since the previous usage call: the longest event-loop stall and the longest GC pause (ms). */
  readonly maxLoopDelayMs: number;
  readonly maxGcMs: number;
}

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
let maxGcMs = 0;

export type LobbyRequest = { op: "start"; options: Omit<CreateLobbyOptions, "random" | "crypto" | "identity"> } | { op: "usage"; gc?: boolean } | { op: "stats" };

/** CPU and memory now; with `gc`, after a full GC (for the heap figure; it costs CPU, so not around a timed window). */
function usage(gc: boolean): ProcessUsage {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  const c = process.cpuUsage();
  const m = process.memoryUsage();
  const out = { cpuUs: c.user + c.system, rss: m.rss, heapUsed: m.heapUsed, maxLoopDelayMs: loopDelay.max / 1e6, maxGcMs };
  loopDelay.reset();
  maxGcMs = 0;
  return out;
}

async function main(): Promise<void> {
  loopDelay.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
  }).observe({ entryTypes: ["gc"] });
  let lobby: LobbyServer | undefined;
  let echo: Socket | undefined;
  const handle = async (m: LobbyRequest): Promise<unknown> => {
    switch (m.op) {
      case "start": {
        lobby = await createLobby({ ...m.options, host: HOST, port: 0 });
        const e = createSocket("udp4");
        await new Promise<void>((resolve) => e.bind(0, HOST, () => resolve()));
        e.setRecvBufferSize(DEFAULT_LOBBY_RECEIVE_BUFFER_BYTES); // as the lobby's
        e.on("message", (msg, rinfo) => void e.send(msg, rinfo.port, rinfo.address));
        echo = e;
        return { lobby: lobby.address(), echo: e.address().port, publicKey: lobby.publicKey() };
      }
      case "usage":
        return usage(m.gc === true);
      case "stats":
        return lobby?.stats();
    }
  };
  process.on("message", (raw: unknown) => {
    if (raw === "exit") {
      void (async () => {
        echo?.close();
        await Promise.race([lobby?.close(), new Promise((r) => setTimeout(r, 1500))]);
        process.disconnect?.();
        process.exit(0);
      })();
      return;
    }
    const { id, ...req } = raw as { id: number } & LobbyRequest;
    handle(req as LobbyRequest).then(
      (value) => process.send?.({ id, ok: true, value }),
      (e: unknown) => process.send?.({ id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.send?.({ ready: true });
}

if (process.send !== undefined) void main();
