/**
 * lobby-capacity: one real lobby process (createLobby on 127.0.0.1) driven over UDP by
 * simulated members in this process (support/lobby-members.ts, one socket each): joins/s,
 * the lobby's CPU per join, its memory per member, heartbeats at the cadence the lobby asks
 * for (every 2 s) from every member, then heartbeat steps of rising rate up to the first one
 * with 1% or more lost, each step against the lobby and against the baseline measured in the
 * same run: a raw node:dgram echo in the lobby's process (the same receive and send, no
 * lobby). Reported: sustained members, joins/s, heartbeats/s at < 1% loss, p99 reply
 * latency, the lobby's CPU per heartbeat and per join, memory per member.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { currentRuntime, scriptCommand } from "../support/runtime.ts";
import { MemberFleet, type HeartbeatResult } from "../support/lobby-members.ts";
import type { LobbyRequest, ProcessUsage } from "../support/lobby-process.ts";
import { closeChild, percentile } from "../support/udp-raw.ts";
import { figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";
import { DEFAULT_HEARTBEAT_MS } from "../../lib/lobby/config.ts";

/** Members per grid (the lobby's default capacity is 256; 64 is a large game session). */
const GRID_SIZE = 64;
/** Joins in flight at once. */
const JOIN_WINDOW = 256;

/** The lobby process: start once, ask it for CPU and memory, close. */
class LobbyProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private constructor(private readonly child: ChildProcess) {
    child.on("message", (m) => {
      const r = m as { id?: number; ok?: boolean; value?: unknown; error?: string };
      const w = r.id === undefined ? undefined : this.waiting.get(r.id);
      if (w === undefined || r.id === undefined) return;
      this.waiting.delete(r.id);
      w(r.ok === true ? r.value : new Error(`lobby process: ${r.error ?? "failed"}`));
    });
  }

  static async start(): Promise<LobbyProcess> {
    const [cmd, args] = scriptCommand(currentRuntime().name, fileURLToPath(new URL("../support/lobby-process.ts", import.meta.url)), ["--expose-gc"]);
    const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`lobby process exited with ${String(code)}`)));
    });
    return new LobbyProcess(child);
  }

  async call<T>(req: LobbyRequest): Promise<T> {
    const id = this.nextId++;
    const v = await new Promise<unknown>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, ...req });
    });
    if (v instanceof Error) throw v;
    return v as T;
  }

  close(): Promise<void> {
    return closeChild(this.child);
  }
}

/** Linux's count of UDP datagrams dropped because a socket's receive buffer was full (every socket here), or undefined elsewhere. */
function receiveBufferDrops(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) => l.startsWith("Udp:"));
    const names = (lines[0] ?? "").split(/\s+/);
    const values = (lines[1] ?? "").split(/\s+/);
    const v = Number(values[names.indexOf("RcvbufErrors")]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

interface Window {
  readonly hb: HeartbeatResult;
  /** Datagrams the kernel dropped at a full receive buffer during the window (any socket on the machine's loopback namespace). */
  readonly bufferDrops: number | undefined;
  /** The server process's CPU per reply (us) and its CPU use over the window (% of one core). */
  readonly serverCpuUs: number;
  readonly serverCpuPct: number;
  /** The server's longest event-loop stall and GC pause in the window (ms). */
  readonly stallMs: number;
  readonly gcMs: number;
}

async function window(lp: LobbyProcess, fleet: MemberFleet, port: number, perSec: number, ms: number): Promise<Window> {
  const u0 = await lp.call<ProcessUsage>({ op: "usage" });
  const d0 = receiveBufferDrops();
  const hb = await fleet.heartbeats({ port }, perSec, ms);
  const d1 = receiveBufferDrops();
  const u1 = await lp.call<ProcessUsage>({ op: "usage" });
  const cpu = u1.cpuUs - u0.cpuUs;
  const bufferDrops = d0 === undefined || d1 === undefined ? undefined : d1 - d0;
  return { hb, bufferDrops, stallMs: u1.maxLoopDelayMs, gcMs: u1.maxGcMs, serverCpuUs: cpu / Math.max(1, hb.sent - hb.lost), serverCpuPct: (100 * cpu) / 1e6 / (hb.seconds + 0.5) };
}

export const lobbyCapacityGroup: Group = {
  name: "lobby-capacity",
  title: "one lobby process over UDP on 127.0.0.1, simulated members from another process",
  udp: true,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const rt = currentRuntime();
    const members = ctx.quick ? 500 : 10_000;
    const repeats = ctx.quick ? 1 : 3;
    const windowMs = ctx.quick ? 600 : 2000;
    // Offered heartbeat rates after the 2 s cadence (members / 2 per second); stepping stops at the first with >= 1% lost.
    const steps = ctx.quick ? [5_000, 10_000] : [5_000, 10_000, 20_000, 30_000, 40_000, 60_000, 80_000];
    const cadencePerSec = members / (DEFAULT_HEARTBEAT_MS / 1000);
    const rows: Row[] = [];
    const lp = await LobbyProcess.start();
    let fleet: MemberFleet | undefined;
    const info: Record<string, unknown> = { runtime: rt.name, runtimeVersion: rt.version, members, gridSize: GRID_SIZE, joinWindow: JOIN_WINDOW, windowMs, repeats };
    try {
      // Limits a capacity run needs raised: sessions and tracked sources for every member; the
      // per-session request rate, so stepped-up heartbeats from one member are not throttled
      // (the steps stand in for more members at 2 s each); expiry, so the first members do not
      // expire while the last join. heartbeatMs stays the default the Welcome announces.
      const options = {
        maxSessions: members + 256,
        maxTrackedSources: 2 * members,
        requestsPerSecondPerSession: 1000,
        requestBurstPerSession: 2000,
        expireAfterMs: 600_000,
        maxGrids: Math.ceil(members / GRID_SIZE) + 16,
        // Every simulated member is on 127.0.0.1, one host: its quotas fit them all.
        maxSessionsPerHost: members + 256,
        maxGridsPerHost: Math.ceil(members / GRID_SIZE) + 16,
        maxMembersPerGridPerHost: GRID_SIZE,
        handshakesPerSecondPerHost: 100_000,
        handshakeBurstPerHost: 100_000,
      };
      info.lobbyOptions = options;
      const started = await lp.call<{ lobby: string; echo: number }>({ op: "start", options });
      const lobbyPort = Number(started.lobby.split(":")[1]);
      const mem0 = await lp.call<ProcessUsage>({ op: "usage", gc: true });
      fleet = await MemberFleet.open(members, GRID_SIZE);
      ctx.log(`lobby-capacity: ${members} member sockets open; joining ${started.lobby} (${JOIN_WINDOW} in flight)`);
      fleet.startBackground(DEFAULT_HEARTBEAT_MS);
      const c0 = await lp.call<ProcessUsage>({ op: "usage" });
      const joined = await fleet.join(lobbyPort, JOIN_WINDOW);
      const c1 = await lp.call<ProcessUsage>({ op: "usage" });
      if (joined.joined < members * 0.99) throw new Error(`lobby-capacity: only ${joined.joined} of ${members} members joined (${joined.retries} retries)`);
      const mem1 = await lp.call<ProcessUsage>({ op: "usage", gc: true });
      const stats = await lp.call<{ peers: number; sessions: number; grids: number; components: number }>({ op: "stats" });
      info.joined = { ...joined, latencyMs: undefined, lobbyPeers: stats.peers, sessions: stats.sessions, grids: stats.grids, components: stats.components };
      ctx.log(`lobby-capacity: ${joined.joined} joined in ${joined.seconds.toFixed(1)} s (${joined.retries} retries); lobby holds ${stats.peers} peers in ${stats.grids} grids, ${stats.components} components`);
      rows.push(
        { key: "joinsPerSec", measure: `joins/s (Hello, Retry, Hello, Welcome, SelectGrid, Members; ${JOIN_WINDOW} in flight) into grids of ${GRID_SIZE}`, value: figure([joined.joined / joined.seconds], "join/s") },
        { key: "joinP99Ms", measure: "join latency p99 (first Hello to Members)", value: figure([percentile(joined.latencyMs, 99)], "ms") },
        { key: "lobbyCpuUsPerJoin", measure: "lobby process CPU per join (X25519 + Ed25519 sign per Hello, ticket signature and sealing per admission)", value: figure([(c1.cpuUs - c0.cpuUs) / joined.joined], "us") },
        { key: "lobbyHeapBytesPerMember", measure: `lobby heap per member (after GC, ${joined.joined} members vs none)`, value: figure([(mem1.heapUsed - mem0.heapUsed) / joined.joined], "B") },
        { key: "lobbyRssBytesPerMember", measure: "lobby resident memory per member (RSS, same two points)", value: figure([(mem1.rss - mem0.rss) / joined.joined], "B") },
      );

      // Sustained: every member at the lobby's cadence, measured.
      fleet.stopBackground();
      const sustained: Window[] = [];
      for (let r = 0; r < repeats; r++) sustained.push(await window(lp, fleet, lobbyPort, cadencePerSec, windowMs));
      const sus = (f: (w: Window) => number): number[] => sustained.map(f);
      rows.push(
        { key: "sustainedMembers", measure: `members held, each heartbeating every ${DEFAULT_HEARTBEAT_MS} ms (the lobby's default cadence)`, value: figure(sus(() => joined.joined), "members") },
        { key: "sustainedLossPct", measure: "  their heartbeats without an ack", value: figure(sus((w) => w.hb.lossPct), "%") },
        { key: "sustainedP99Ms", measure: "  heartbeat reply latency p99", value: figure(sus((w) => percentile(w.hb.latencyMs, 99)), "ms") },
        { key: "sustainedLobbyCpuPct", measure: "  lobby process CPU (% of one core)", value: figure(sus((w) => w.serverCpuPct), "%") },
      );

      // Steps: the lobby and the echo alternate in each repeat.
      const best = { lobby: 0, echo: 0 };
      const stepInfo: unknown[] = [];
      let lastGood: { lobby: Window[]; echo: Window[]; rate: number } | undefined;
      let first: { lobby: Window[]; echo: Window[]; rate: number } | undefined;
      for (const rate of steps) {
        const got: { lobby: Window[]; echo: Window[] } = { lobby: [], echo: [] };
        for (let r = 0; r < repeats; r++) {
          for (const which of r % 2 === 0 ? (["lobby", "echo"] as const) : (["echo", "lobby"] as const)) {
            got[which].push(await window(lp, fleet, which === "lobby" ? lobbyPort : started.echo, rate, windowMs));
          }
        }
        const loss = (ws: Window[]): number => figure(ws.map((w) => w.hb.lossPct), "").median;
        const acked = (ws: Window[]): number => figure(ws.map((w) => w.hb.ackedPerSec), "").median;
        const generated = figure(got.lobby.map((w) => w.hb.sentPerSec), "").median;
        first ??= { ...got, rate };
        stepInfo.push({
          offered: rate,
          generated: Math.round(generated),
          lobbyLossPct: loss(got.lobby),
          echoLossPct: loss(got.echo),
          lobbyAcked: Math.round(acked(got.lobby)),
          lobbyCpuPct: figure(got.lobby.map((w) => w.serverCpuPct), "").median,
          receiveBufferDrops: got.lobby.map((w) => w.bufferDrops),
          lobbyMaxStallMs: got.lobby.map((w) => Math.round(w.stallMs)),
          lobbyMaxGcMs: got.lobby.map((w) => Math.round(w.gcMs)),
          echoMaxStallMs: got.echo.map((w) => Math.round(w.stallMs)),
        });
        ctx.log(`lobby-capacity: ${rate}/s offered (${Math.round(generated)}/s generated): lobby ${loss(got.lobby).toFixed(2)}% lost, echo ${loss(got.echo).toFixed(2)}% lost`);
        if (loss(got.echo) < 1) best.echo = Math.max(best.echo, acked(got.echo));
        const lobbyOk = loss(got.lobby) < 1;
        if (lobbyOk) {
          best.lobby = Math.max(best.lobby, acked(got.lobby));
          lastGood = { ...got, rate };
        }
        // The generator is one process too: when it cannot offer 90% of the step, higher steps measure it, not the lobby.
        if (!lobbyOk || generated < 0.9 * rate) break;
      }
      info.steps = stepInfo;
      info.lobbyDrops = (await lp.call<{ drops: Record<string, number> }>({ op: "stats" })).drops;
      const lg = lastGood ?? first;
      if (lg !== undefined) {
        const held = lastGood !== undefined;
        const f = (ws: Window[], g: (w: Window) => number): number[] => ws.map(g);
        rows.push(
          {
            key: "heartbeatsPerSec",
            measure: held ? `heartbeats/s answered at < 1% loss (highest step that held: ${lg.rate}/s offered)` : `heartbeats/s answered (no step held < 1% loss; the first: ${lg.rate}/s offered)`,
            value: figure(f(lg.lobby, (w) => w.hb.ackedPerSec), "hb/s"),
            ratio: ratio(f(lg.lobby, (w) => w.hb.ackedPerSec), f(lg.echo, (w) => w.hb.ackedPerSec)),
            ratioKey: "heartbeatsVsEchoRatio",
            baseline: "lobby / raw echo at the same offered rate, per repeat",
          },
          { key: "heartbeatLossPct", measure: "  lost at that step", value: figure(f(lg.lobby, (w) => w.hb.lossPct), "%") },
          {
            key: "heartbeatP99Ms",
            measure: "  heartbeat reply latency p99 at that step",
            value: figure(f(lg.lobby, (w) => percentile(w.hb.latencyMs, 99)), "ms"),
            ratio: ratio(f(lg.lobby, (w) => percentile(w.hb.latencyMs, 99)), f(lg.echo, (w) => percentile(w.hb.latencyMs, 99))),
            ratioKey: "heartbeatP99VsEchoRatio",
            baseline: "lobby / raw echo, per repeat",
          },
          {
            key: "lobbyCpuUsPerHeartbeat",
            measure: "  lobby process CPU per heartbeat answered",
            value: figure(f(lg.lobby, (w) => w.serverCpuUs), "us"),
            ratio: ratio(f(lg.lobby, (w) => w.serverCpuUs), f(lg.echo, (w) => w.serverCpuUs)),
            ratioKey: "lobbyCpuVsEchoRatio",
            baseline: "lobby / raw echo CPU per reply, per repeat",
          },
          { key: "lobbyCpuPctAtStep", measure: "  lobby process CPU at that step (% of one core)", value: figure(f(lg.lobby, (w) => w.serverCpuPct), "%") },
          { key: "generatorCpuUsPerHeartbeat", measure: "  this process (the members) CPU per heartbeat sent and answered", value: figure(f(lg.lobby, (w) => w.hb.loadCpuUs), "us") },
        );
        const cpuUs = figure(f(lg.lobby, (w) => w.serverCpuUs), "").median;
        const perMember = (mem1.heapUsed - mem0.heapUsed) / joined.joined;
        info.projection = {
          heartbeatsPerCoreSecond: Math.round(1e6 / cpuUs),
          membersAt2sPerCore: Math.round((1e6 / cpuUs) * (DEFAULT_HEARTBEAT_MS / 1000)),
          membersPerGiBHeap: Math.round(2 ** 30 / perMember),
        };
        rows.push({
          key: "projectedMembersPerCore",
          measure: `members one lobby core would serve at ${DEFAULT_HEARTBEAT_MS / 1000} s heartbeats (1 s / CPU per heartbeat x ${DEFAULT_HEARTBEAT_MS / 1000} s; joins and island checks not included)`,
          value: figure(f(lg.lobby, (w) => (1e6 / w.serverCpuUs) * (DEFAULT_HEARTBEAT_MS / 1000)), "members"),
        });
      }
    } finally {
      fleet?.stopBackground();
      fleet?.close();
      await lp.close();
    }
    return {
      group: "lobby-capacity",
      title: this.title,
      status: "ok",
      rows,
      info,
      notes: [
        `The lobby runs in its own process (${rt.name} ${rt.version}, --expose-gc); this process simulates ${members} members, one node:dgram socket each (a session is bound to its Hello's address), in grids of ${GRID_SIZE}: Hello, Retry, Hello with the cookie, Welcome, CreateGrid (one member per grid) or SelectGrid, Members, then Heartbeats listing its two ring neighbours (which list it back), so each grid is one component. Members do not verify the Welcome or open the grant: that is a peer's CPU, not the lobby's.`,
        `While members join, every joined member heartbeats every ${DEFAULT_HEARTBEAT_MS} ms as a live one would. Lobby options raised for the run: maxSessions, maxTrackedSources, maxGrids to fit ${members} members; requestsPerSecondPerSession 1000 so the stepped-up heartbeats of one simulated member are not rate-limited, and the per-host quotas (maxSessionsPerHost, maxGridsPerHost, maxMembersPerGridPerHost, handshakesPerSecondPerHost), since every simulated member is on 127.0.0.1 (each step stands in for more members at the 2 s cadence); expireAfterMs 600 s so the first members do not expire while the last join.`,
        `Steps: ${windowMs} ms windows of heartbeats at a fixed offered rate spread over all members, ${repeats} per step for the lobby and for the baseline (a raw node:dgram echo socket in the lobby's process: receive, send back), alternating; a heartbeat without its reply 500 ms after the window is lost. Stepping stops at the first step with >= 1% lost at the lobby, or when this process cannot generate 90% of the offered rate. CPU per heartbeat: the server process's process.cpuUsage() over the window / replies.`,
        "Memory per member: the lobby process's heap after a full GC and its RSS, with every member joined minus before any joined, / members.",
      ],
    };
  },
};
