/**
 * `relaygrid demo`: a lobby and a crowd of peers on loopback, each broadcasting game-state
 * updates at a tick rate, with a live table and a closing summary. Exits non-zero if any
 * broadcast missed a peer when no loss was asked for. Ctrl-C ends the run early: the
 * summary is printed and the exit code is 0.
 */
import { createLobby, joinGrid, type JoinGridOptions, type LobbyServer, type NodePeer } from "../node/index.ts";
import { HTTP_FLAG_HELP, parseHttpFlag, startDashboard } from "../http/cli-flag.ts";
import { parseFlags, type FlagSpec } from "./args.ts";
import { CrashPlan } from "./demo-crash.ts";
import { DemoTally } from "./demo-tally.ts";
import type { CommandIo } from "./io.ts";

/** How long a broadcast may be in flight: the live "delivery" column counts only older ones, and the run waits this long at its end. */
export const IN_FLIGHT_MS = 1000;

const FLAGS = {
  peers: { type: "int", default: 16, min: 2, max: 250, short: "n" },
  limit: { type: "int", default: 4, min: 2, max: 64 },
  seconds: { type: "int", default: 20, min: 1, max: 3600, short: "s" },
  tick: { type: "int", default: 20, min: 1, max: 120 },
  loss: { type: "string", default: "0" },
  bytes: { type: "int", default: 64, min: 16, max: 1150 },
  crash: { type: "int", default: 0, min: 0, max: 248 },
  http: { type: "string", default: "" },
  help: { type: "boolean" },
} as const satisfies Record<string, FlagSpec>;

/** With --http, the gap between two joins. */
const JOIN_GAP_MS = 400;

export const DEMO_HELP = `Usage: relaygrid demo [options]

Starts a lobby and a crowd of peers on 127.0.0.1, lets them form a grid, then has every
peer broadcast a game-state update each tick. Shows links per peer, delivery, hops,
message rate and RTT live ("delivery" counts broadcasts older than ${IN_FLIGHT_MS} ms, so
messages still in flight do not show as missed), and a summary at the end. Ctrl-C stops
early and still prints the summary.

Options:
  -n, --peers N    peers in the grid (default 16)
  --limit N        connection limit of every peer (default 4)
  -s, --seconds N  how long to broadcast (default 20)
  --tick N         updates per second per peer (default 20)
  --loss P         drop this fraction of every peer's outgoing datagrams, e.g. 0.05 (default 0)
  --bytes N        payload size (default 64, at most 1150)
  --crash N        a third of the way in, N peers crash (their sockets close, nobody is
                   told) and the grid heals around them; two thirds in, N new peers join
  --http HOST:PORT
                   ${HTTP_FLAG_HELP};
                   peers then join ${JOIN_GAP_MS} ms apart, so the page shows the grid forming
  -h, --help       show this help

Exit code 0 when every broadcast reached every peer (or loss or crashes were asked for, or
the run was interrupted with Ctrl-C), 1 otherwise; 2 for a bad option or an --http port in use.`;

export async function demoCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags(argv, FLAGS);
  if (f.help) {
    io.out(DEMO_HELP);
    return 0;
  }
  const loss = Number(f.loss);
  if (!(loss >= 0 && loss < 1)) {
    io.err(`relaygrid demo: --loss must be a fraction from 0 to 0.99, got "${f.loss}"`);
    return 2;
  }
  if (f.crash > f.peers - 2) {
    io.err(`relaygrid demo: --crash must leave at least 2 of the ${f.peers} peers, got ${f.crash}`);
    return 2;
  }
  const httpAt = f.http === "" ? undefined : parseHttpFlag(f.http);
  // Peers joining at once converge without help (the lobby repairs newcomers' islands at
  // once). With crashes, 1 s heartbeats (a crashed member expires after 3.5 s, not 7) and a
  // short island grace, so the splits crashes cause are repaired while the demo runs.
  const fast = { heartbeatMs: 1000, islandGraceMs: 500, islandCheckMs: 250 };
  const lobby = await createLobby({ host: "127.0.0.1", port: 0, ...(f.crash > 0 ? fast : {}) });
  const dashboard = httpAt === undefined ? undefined : await startDashboard(lobby, httpAt, io, "demo");
  if (httpAt !== undefined && dashboard === undefined) {
    await lobby.close();
    return 2;
  }
  const peers: NodePeer[] = [];
  const tally = new DemoTally();
  const t0 = performance.now();
  let named = 0;
  const join = async (): Promise<NodePeer> => {
    const options: JoinGridOptions = { lobby: lobby.address(), grid: "demo", create: true, name: `player-${++named}`, connectionLimit: f.limit, simulatedLossPercent: loss * 100 };
    const p = await joinGrid(options);
    p.on("data", (_payload, info) => tally.onDelivered(info.origin, info.seq, info.hops, performance.now()));
    return p;
  };
  try {
    io.out(`relaygrid demo: lobby on ${lobby.address()}, ${f.peers} peers, limit ${f.limit}, ${f.tick} Hz, ${f.bytes}-byte updates, loss ${loss * 100}%`);
    if (dashboard === undefined) peers.push(...(await Promise.all(Array.from({ length: f.peers }, join))));
    else {
      for (let i = 0; i < f.peers; i++) {
        peers.push(await join());
        await new Promise((r) => setTimeout(r, JOIN_GAP_MS));
      }
    }
    io.out(`joined ${peers.length} peers in ${(performance.now() - t0).toFixed(0)} ms; waiting for one connected grid...`);
    const interrupted = (): boolean => io.interrupts.received !== undefined;
    const settled = await settle(lobby, peers, Math.min(f.limit, f.peers - 1, 2), 15_000, interrupted);
    if (!interrupted()) io.out(settled ? `grid connected after ${(performance.now() - t0).toFixed(0)} ms` : "grid did not settle in 15 s; broadcasting anyway");

    const payload = new Uint8Array(f.bytes);
    const interval = 1000 / f.tick;
    const end = performance.now() + f.seconds * 1000;
    let nextTable = performance.now() + 1000;
    let tick = 0;
    const crashes = f.crash > 0 ? new CrashPlan(f.crash, end - f.seconds * 1000, f.seconds * 1000) : undefined;
    while (performance.now() < end && !interrupted()) {
      const now = performance.now();
      for (const p of peers) {
        payload[0] = tick & 0xff;
        const seq = p.broadcast(payload);
        tally.onSent(p.id, seq, now, peers.length - 1);
      }
      tick++;
      if (now >= nextTable) {
        io.out(row(peers, tally, lobby, now));
        nextTable += 1000;
      }
      crashes?.step(now, peers, lobby, join, io);
      const wait = t0Next(now, interval);
      await Promise.race([new Promise((r) => setTimeout(r, wait)), io.interrupts.stopped]);
    }
    if (interrupted()) io.out(`interrupted after ${tick} ticks: letting the last updates land, then the summary`);
    await new Promise((r) => setTimeout(r, IN_FLIGHT_MS)); // let the last updates land
    io.out(row(peers, tally, lobby, performance.now()));
    io.out(summary(peers, tally));
    const missed = loss === 0 && f.crash === 0 && tally.incomplete() > 0;
    if (missed) io.err(`relaygrid demo: ${tally.incomplete()} broadcasts missed at least one peer with no loss asked for`);
    return missed && !interrupted() ? 1 : 0;
  } finally {
    await Promise.all(peers.map((p) => p.close(1000)));
    await dashboard?.close();
    await lobby.close();
  }
}

function t0Next(now: number, interval: number): number {
  return Math.max(0, interval - (performance.now() - now));
}

async function settle(lobby: LobbyServer, peers: NodePeer[], minLinks: number, timeoutMs: number, interrupted: () => boolean): Promise<boolean> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs && !interrupted()) {
    const s = lobby.stats();
    if (s.components === 1 && peers.every((p) => p.stats().links.length >= minLinks)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function row(peers: NodePeer[], t: DemoTally, lobby: LobbyServer, now: number): string {
  const links = peers.map((p) => p.stats().links);
  const counts = links.map((l) => l.length);
  const rtts = links.flat().map((l) => l.srttMs).filter((x) => x > 0);
  const rtt = rtts.length === 0 ? 0 : rtts.reduce((a, b) => a + b, 0) / rtts.length;
  return (
    `peers ${peers.length}  links/peer ${Math.min(...counts)}-${Math.max(...counts)} ` +
    `(avg ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(1)})  ` +
    `islands ${lobby.stats().components}  delivery ${t.settledDeliveryPercent(now - IN_FLIGHT_MS).toFixed(2)}%  ` +
    `hops ${t.meanHops().toFixed(2)}/${t.hopsMax}  ${t.takeWindow()} msg/s  rtt ${rtt.toFixed(2)} ms`
  );
}

function summary(peers: NodePeer[], t: DemoTally): string {
  const relayed = peers.reduce((a, p) => a + p.stats().relayed, 0);
  const dups = peers.reduce((a, p) => a + p.stats().duplicates, 0);
  return [
    "summary:",
    `  broadcasts ${t.sent}, deliveries ${t.delivered} of ${t.expected} (${t.deliveryPercent().toFixed(3)}%), duplicates delivered ${t.duplicates}`,
    `  hops mean ${t.meanHops().toFixed(2)}, max ${t.hopsMax}; latency p50 ${t.latencyPercentile(50).toFixed(2)} ms, p99 ${t.latencyPercentile(99).toFixed(2)} ms`,
    `  relayed ${relayed} forwards, ${dups} redundant copies dropped by the duplicate window`,
    `  broadcasts that missed a peer: ${t.incomplete()}`,
  ].join("\n");
}
