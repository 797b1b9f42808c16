/**
 * udp-game ("the cost of a game" on real UDP): 16 relaygrid peers (joinGrid, limit 4) on
 * 127.0.0.1, each broadcasting 64 B at 30 Hz, once with `redundancy: "flood"` (repair off:
 * the Peer before redundancy lists) and once with `redundancy: "prune"` (redundancy lists + repair),
 * at 0, 5 and 20% loss (joinGrid's simulatedLossPercent: each peer drops that share of what
 * it sends, pings and lobby traffic included). Per member per second: datagrams received per
 * delivery, upload and download bytes (mean and busiest), delivery %, duplicates, latency
 * p50/p99 broadcast() -> on("data"), beside a full mesh computed for the same datagram.
 * The lobby runs in the load process (support/udp-load.ts); the peers in this one.
 */
import { joinGrid, type NodePeer } from "../../platform/node/index.ts";
import type { Redundancy } from "../../lib/peer/config.ts";
import { currentRuntime } from "../support/runtime.ts";
import { LoadProcess, percentile } from "../support/udp-raw.ts";
import type { Lobby } from "../support/udp-paths.ts";
import { exact, human } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const PEERS = 16;
const LIMIT = 4;
const HZ = 30;
const PAYLOAD_BYTES = 64;
const HOST = "127.0.0.1";
const DRAIN_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Measured {
  mode: Redundancy;
  lossPct: number;
  deliveryPct: number;
  duplicates: number;
  datagramsPerDelivery: number;
  upMean: number;
  upMax: number;
  downMean: number;
  downMax: number;
  p50Us: number;
  p99Us: number;
  datagramBytes: number;
  meanLinks: number;
}

/** Waits until every peer holds >= 2 links and the link count has not moved for `stableMs`. */
async function settle(peers: readonly NodePeer[], timeoutMs: number, stableMs: number): Promise<number> {
  const t0 = performance.now();
  let last = -1;
  let since = t0;
  for (;;) {
    const links = peers.map((p) => p.stats().links.length);
    const total = links.reduce((a, b) => a + b, 0);
    if (total !== last) {
      last = total;
      since = performance.now();
    }
    const now = performance.now();
    if ((links.every((l) => l >= 2) && now - since >= stableMs) || now - t0 >= timeoutMs) return total / peers.length;
    await sleep(50);
  }
}

async function measure(lobby: Lobby, mode: Redundancy, lossPct: number, windowMs: number, ctx: BenchContext): Promise<Measured> {
  const peers: NodePeer[] = [];
  const grid = `udp-game-${mode}-${lossPct}`;
  try {
    const options = { connectionLimit: LIMIT, seekIntervalMs: 200, joinWindowMs: 100, redundancy: mode, repair: mode === "prune", simulatedLossPercent: lossPct };
    const join = (): Promise<NodePeer> => joinGrid({ lobby: lobby.address, lobbyKey: lobby.publicKey, grid, create: true, host: HOST, ...options });
    peers.push(await join());
    while (peers.length < PEERS) peers.push(...(await Promise.all(Array.from({ length: Math.min(5, PEERS - peers.length) }, join))));
    const meanLinks = await settle(peers, 10_000, ctx.quick ? 500 : 1000);
    // Payload: [0..8) send time, [8..12) message number.
    const sentAt = new Map<number, number>();
    const got = new Map<number, number>();
    const lat: number[] = [];
    let duplicates = 0;
    let recording = false;
    peers.forEach((p, i) =>
      p.on("data", (payload) => {
        if (!recording || payload.length < 12) return;
        const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
        const n = dv.getUint32(8, true);
        const t = sentAt.get(n);
        if (t === undefined) return;
        const k = n * 32 + i;
        if (got.has(k)) duplicates++;
        got.set(k, 1);
        lat.push(performance.now() - t);
      }),
    );
    let next = 1;
    const run = async (ms: number, record: boolean): Promise<number> => {
      const period = 1000 / HZ;
      const t0 = performance.now();
      let sent = 0;
      const timers: ReturnType<typeof setTimeout>[] = [];
      await new Promise<void>((resolve) => {
        let live = PEERS;
        peers.forEach((p, i) => {
          let due = t0 + (i * period) / PEERS;
          const tick = (): void => {
            if (due >= t0 + ms) {
              if (--live === 0) resolve();
              return;
            }
            const payload = new Uint8Array(PAYLOAD_BYTES);
            const dv = new DataView(payload.buffer);
            const id = next++;
            dv.setFloat64(0, performance.now(), true);
            dv.setUint32(8, id, true);
            if (record) {
              sentAt.set(id, performance.now());
              sent++;
            }
            p.broadcast(payload);
            due += period;
            timers.push(setTimeout(tick, Math.max(0, due - performance.now())));
          };
          timers.push(setTimeout(tick, Math.max(0, due - performance.now())));
        });
      });
      for (const t of timers) clearTimeout(t);
      return sent;
    };
    await run(1000, false); // warm-up: the JIT, and (prune) every origin's first messages and the Prunes
    const s0 = peers.map((p) => p.stats());
    recording = true;
    const broadcasts = await run(windowMs, true);
    const s1 = peers.map((p) => p.stats());
    await run(500, false); // successors of the window's last messages
    await sleep(DRAIN_MS);
    recording = false;
    const secs = windowMs / 1000;
    const up = s1.map((s, i) => (s.bytesOut - (s0[i]?.bytesOut ?? 0)) / secs);
    const down = s1.map((s, i) => (s.bytesIn - (s0[i]?.bytesIn ?? 0)) / secs);
    const dIn = s1.reduce((a, s, i) => a + s.driver.datagramsReceived - (s0[i]?.driver.datagramsReceived ?? 0), 0);
    const delivered = s1.reduce((a, s, i) => a + s.delivered - (s0[i]?.delivered ?? 0), 0);
    const m: Measured = {
      mode,
      lossPct,
      deliveryPct: (100 * got.size) / Math.max(1, broadcasts * (PEERS - 1)),
      duplicates,
      datagramsPerDelivery: dIn / Math.max(1, delivered),
      upMean: up.reduce((a, b) => a + b, 0) / PEERS,
      upMax: Math.max(...up),
      downMean: down.reduce((a, b) => a + b, 0) / PEERS,
      downMax: Math.max(...down),
      p50Us: percentile(lat, 50) * 1000,
      p99Us: percentile(lat, 99) * 1000,
      datagramBytes: 0,
      meanLinks,
    };
    ctx.log(`udp-game: ${mode} ${lossPct}%: ${m.deliveryPct.toFixed(3)}% delivered, ${m.datagramsPerDelivery.toFixed(2)} datagrams per delivery, p99 ${(m.p99Us / 1000).toFixed(1)} ms`);
    return m;
  } finally {
    await Promise.allSettled(peers.map((p) => p.close(1000)));
  }
}

export const udpGameGroup: Group = {
  name: "udp-game",
  title: "the cost of a game on real UDP: 16 peers, limit 4, 30 Hz, flood vs redundancy lists + repair",
  udp: true,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const rt = currentRuntime();
    const windowMs = ctx.quick ? 1000 : 3000;
    const losses = ctx.quick ? [0] : [0, 5, 20];
    const load = await LoadProcess.start();
    const done: Measured[] = [];
    try {
      const lobby = await load.call<Lobby>({ op: "lobby" });
      for (const loss of losses) for (const mode of ["flood", "prune"] as const) done.push(await measure(lobby, mode, loss, windowMs, ctx));
    } finally {
      await load.close();
    }
    // A datagram of this group: the 64 B payload in the envelope (ids under 2^16) and the tag.
    const dgram = 64 + 27;
    const mesh = (PEERS - 1) * HZ * dgram;
    const rows: Row[] = [];
    for (const m of done) {
      const f = done.find((x) => x.mode === "flood" && x.lossPct === m.lossPct);
      const at = `${m.mode === "prune" ? "redundancy lists + repair" : "flood"}, ${m.lossPct}% loss`;
      const k = `${m.mode}Loss${m.lossPct}`;
      const ratio = (a: number, b: number | undefined): Partial<Row> =>
        m.mode === "prune" && b !== undefined ? { ratio: exact(a / b, "x"), baseline: "this / flood, same run" } : {};
      rows.push({ key: `${k}DeliveryPct`, measure: `${at}: delivery (duplicates ${m.duplicates})`, value: exact(m.deliveryPct, "%") });
      rows.push({ key: `${k}DatagramsPerDelivery`, measure: `${at}: datagrams received per delivery (all kinds)`, value: exact(m.datagramsPerDelivery, "dgram"), ...ratio(m.datagramsPerDelivery, f?.datagramsPerDelivery), ratioKey: `${k}DatagramsVsFloodRatio` });
      rows.push({ key: `${k}DownloadBps`, measure: `${at}: download per member per second with everyone broadcasting, mean (busiest ${human(m.downMax)})`, value: exact(m.downMean, "B/s"), ...ratio(m.downMean, f?.downMean), ratioKey: `${k}DownloadVsFloodRatio` });
      rows.push({ key: `${k}UploadBps`, measure: `${at}: upload per member per second, mean (busiest ${human(m.upMax)})`, value: exact(m.upMean, "B/s"), ...ratio(m.upMean, f?.upMean), ratioKey: `${k}UploadVsFloodRatio` });
      rows.push({ key: `${k}P99Us`, measure: `${at}: latency p99 (p50 ${human(m.p50Us)} us)`, value: exact(m.p99Us, "us"), ...ratio(m.p99Us, f?.p99Us), ratioKey: `${k}P99VsFloodRatio` });
    }
    rows.push({ key: "meshUploadBps", measure: `full mesh (computed): upload = download per member per second, 15 x ${HZ} Hz x ${dgram} B`, value: exact(mesh, "B/s") });
    return {
      group: "udp-game",
      title: this.title,
      status: "ok",
      rows,
      info: { runtime: rt.name, runtimeVersion: rt.version, peers: PEERS, limit: LIMIT, hz: HZ, payloadBytes: PAYLOAD_BYTES, windowMs, losses, measured: done },
      notes: [
        `${PEERS} joinGrid peers (limit ${LIMIT}) in this process on ${rt.name} ${rt.version}, the lobby in a child; each run its own grid: join, settle, 1 s of broadcasting not measured (prune: every origin's first messages flood, then are pruned), a ${windowMs / 1000} s window, 0.5 s more, ${DRAIN_MS / 1000} s of drain for repairs. One run per (mode, loss): n = 1.`,
        "Loss is joinGrid's simulatedLossPercent: every peer drops that share of the datagrams it sends (data, repairs, prunes, pings, lobby traffic). Datagrams per delivery = datagrams the peers' sockets received during the window / deliveries during it. Bytes: what each Peer handed to / took from its driver.",
      ],
    };
  },
};
