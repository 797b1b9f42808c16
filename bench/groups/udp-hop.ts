/**
 * udp-hop: forwarded datagrams/s through one forwarder on 127.0.0.1, the shipped relaygrid
 * peer (joinGrid, on the runtime's own transport: node:dgram on Node, Bun.udpSocket on Bun,
 * Deno.listenDatagram on Deno) against a raw node:dgram forwarder in the same run and
 * topology (source and sink in a child process, at most 32 datagrams in flight: the per-turn
 * read limit, so zero loss), and one-way latency p50/p99 across a chain of 4 hops (3
 * forwarders). Targets: on Node the peer at least 0.9x raw with 64 B payloads and 0.85x with
 * 1,150 B; on Bun and Deno the peer on the native transport faster than the same peer on the
 * runtime's node:dgram. Runs on the runtime the runner starts it on (`--runtime`); the full
 * run starts it on Node, Bun and Deno.
 *
 * Topologies (support/udp-paths.ts): one hop is A -> P -> B with P a relaygrid peer of
 * limit 2 in this process, A, B and the lobby in the load process; the chain is
 * A -> F1 -> F2 -> F3 -> A (limit 3, a relay rule naming each forwarder's next hop). The raw
 * runs use the same placement. Besides the rate, the forwarder process's CPU time per
 * forwarded datagram (process.cpuUsage over the run, warm-up included): on a machine shared
 * with other work the rate depends on when the scheduler runs each process, the CPU time
 * much less.
 */
import { currentRuntime } from "../support/runtime.ts";
import { LoadProcess, nativeForwarders, nativeRawKind, percentile, rawForwarders, READS_PER_TURN } from "../support/udp-raw.ts";
import type { LoadResult, RunCommand } from "../support/udp-load.ts";
import { buildPath, PATH_MEMBER_OPTIONS, relayDatagramBytes, type Lobby, type RelayPath } from "../support/udp-paths.ts";
import { figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";
import { MAX_PAYLOAD_BYTES } from "../../wire/index.ts";
import { nativeUdpTransport } from "../../platform/node/index.ts";

const CHAIN_HOPS = 4;
/** Node: the shipped peer against raw node:dgram, by payload size. */
const NODE_TARGET: Record<number, number> = { 64: 0.9, [MAX_PAYLOAD_BYTES]: 0.85 };
/** An origin id no member has (member ids are small); a fresh one per relaygrid run. */
let nextOrigin = 0xf000_0000;

interface Tally {
  lost: number;
  lostRelaygrid: number;
  runs: number;
  exhaustedRetries: number;
  hopErrors: string[];
}

/** A relaygrid run with a pool of signed datagrams big enough for the best rate seen so far (x 1.6). */
async function peerRun(load: LoadProcess, path: RelayPath, base: Omit<RunCommand, "mode">, bestRate: number, t: Tally): Promise<LoadResult> {
  let pool = Math.ceil(Math.max(bestRate, 50_000) * 1.6 * ((base.warmupMs + base.durationMs + 300) / 1000)) + 4 * base.window;
  for (let tries = 0; ; tries++) {
    const res = await load.run({ ...base, mode: "peer", from: path.from, to: path.to, firstHop: path.firstHop, origin: nextOrigin++, pool });
    t.runs++;
    t.lost += res.lost;
    t.lostRelaygrid += res.lost;
    if (res.received === 0) throw new Error(`udp-hop: no relaygrid datagram of ${base.bytes} B payload arrived at ${path.to} (${res.sent} sent)`);
    if (res.hops !== undefined && (res.hops[0] !== path.expectedHops || res.hops[1] !== path.expectedHops)) {
      t.hopErrors.push(`arrivals had crossed ${res.hops[0]}-${res.hops[1]} relays, expected ${path.expectedHops}`);
    }
    if (res.exhausted !== true || tries >= 2) return res;
    t.exhaustedRetries++;
    pool *= 2;
  }
}

/** What one forwarder run gives: arrivals per second and this process's CPU time per forwarded datagram. */
interface Sample {
  perSec: number;
  cpuUs: number;
}

async function timed(run: () => Promise<LoadResult>): Promise<Sample & { res: LoadResult }> {
  const c0 = process.cpuUsage();
  const res = await run();
  const c = process.cpuUsage(c0);
  return { perSec: res.perSec, cpuUs: (c.user + c.system) / Math.max(1, res.received), res };
}

type HopKind = "raw" | "peer" | "peerDgram" | "native";

export const udpHopGroup: Group = {
  name: "udp-hop",
  title: "one forwarding hop and a 4-hop chain on 127.0.0.1",
  udp: true,
  runtimes: ["node", "bun", "deno"],
  async run(ctx: BenchContext): Promise<GroupResult> {
    const rt = currentRuntime();
    const on = `${rt.name} ${rt.version}`;
    const transport = nativeUdpTransport();
    const native = nativeRawKind();
    const repeats = ctx.quick ? 3 : 5;
    const durationMs = ctx.quick ? 250 : 1000;
    const warmupMs = ctx.quick ? 100 : 200;
    // 64 B (a game state delta) and the largest payload a broadcast may carry (1150 B: a datagram just under 1200 B).
    const sizes = ctx.quick ? [64] : [64, MAX_PAYLOAD_BYTES];
    const rows: Row[] = [];
    const tally: Tally = { lost: 0, lostRelaygrid: 0, runs: 0, exhaustedRetries: 0, hopErrors: [] };
    const info: Record<string, unknown> = { runtime: rt.name, runtimeVersion: rt.version, transport, repeats, durationMs, warmupMs, window: READS_PER_TURN, peerOptions: PATH_MEMBER_OPTIONS };
    let allMet = true;
    // The load process runs on this runtime, except on Deno: there its node:dgram source and sink
    // cap every forwarder at the same rate (raw, relaygrid and native alike), so Node loads it.
    const loadRuntime = rt.name === "deno" ? "node" : rt.name;
    info.loadRuntime = loadRuntime;
    const load = await LoadProcess.start(loadRuntime);
    const paths: RelayPath[] = [];
    try {
      const lobby = await load.call<Lobby>({ op: "lobby" });
      ctx.log(`udp-hop (${on}, transport ${transport}): lobby at ${lobby.address} (load process); building A -> P -> B`);
      const hop = await buildPath(load, lobby, "hop", 1);
      paths.push(hop);
      // On Bun and Deno the same peer on the runtime's node:dgram too: what the native transport buys.
      const dgram = transport === "node:dgram" ? undefined : await buildPath(load, lobby, "hopdgram", 1, { udp: "node:dgram" });
      if (dgram !== undefined) paths.push(dgram);
      info.hopPath = { attempts: hop.attempts, settleMs: Math.round(hop.settleMs) };
      const kinds: HopKind[] = ["raw", "peer", ...(dgram === undefined ? [] : (["peerDgram"] as const)), ...(native === undefined ? [] : (["native"] as const))];
      let best = 0;
      for (const size of sizes) {
        const samples: Record<HopKind, Sample[]> = { raw: [], peer: [], peerDgram: [], native: [] };
        const datagramBytes = relayDatagramBytes(hop.grid, size);
        for (let r = 0; r < repeats; r++) {
          // Who goes first rotates. The raw datagram is as long as the relaygrid one (envelope + tag): the same bytes on the wire.
          for (let k = 0; k < kinds.length; k++) {
            const which = kinds[(r + k) % kinds.length] as HopKind;
            const base = { bytes: size, window: READS_PER_TURN, warmupMs, durationMs };
            let s: Sample;
            if (which === "raw" || which === "native") {
              const fwd = which === "raw" ? await rawForwarders(1, load.sinkPort) : ((await nativeForwarders(1, load.sinkPort)) as { port: number; close(): void });
              s = await timed(() => load.run({ ...base, mode: "raw", bytes: datagramBytes, firstHopPort: fwd.port }));
              fwd.close();
              tally.lost += (s as Sample & { res: LoadResult }).res.lost;
              tally.runs++;
            } else {
              const path = which === "peer" ? hop : (dgram as RelayPath);
              const t = await timed(() => peerRun(load, path, base, best, tally));
              const expected = relayDatagramBytes(path.grid, size); // grid ids differ: one grid's may be a byte or two shorter
              if (t.res.datagramBytes !== expected) throw new Error(`udp-hop: relaygrid datagrams of ${t.res.datagramBytes} B, expected ${expected}`);
              s = t;
            }
            samples[which].push({ perSec: s.perSec, cpuUs: s.cpuUs });
            best = Math.max(best, s.perSec);
          }
        }
        const rate = (k: HopKind): number[] => samples[k].map((x) => x.perSec);
        const cpu = (k: HopKind): number[] => samples[k].map((x) => x.cpuUs);
        const vsRaw = ratio(rate("peer"), rate("raw"));
        const nodeTarget = NODE_TARGET[size] ?? 0.9;
        const vsDgram = dgram === undefined ? undefined : ratio(rate("peer"), rate("peerDgram"));
        const met = vsDgram === undefined ? vsRaw.median >= nodeTarget : vsDgram.median > 1;
        allMet &&= met;
        ctx.log(
          `udp-hop: ${size} B payload (${datagramBytes} B datagrams) on ${on}: raw ${Math.round(figure(rate("raw"), "").median)}/s, peer (${transport}) ${Math.round(figure(rate("peer"), "").median)}/s` +
            (dgram === undefined ? "" : `, peer (node:dgram) ${Math.round(figure(rate("peerDgram"), "").median)}/s`),
        );
        rows.push({ key: `raw${size}ForwardedPerSec`, measure: `raw node:dgram forwarder on ${on}, ${datagramBytes} B datagrams, ${READS_PER_TURN} in flight`, value: figure(rate("raw"), "dgram/s") });
        rows.push({
          key: `peer${size}ForwardedPerSec`,
          measure: `relaygrid peer (joinGrid on ${transport}, limit 2) forwarding, ${size} B payload = ${datagramBytes} B datagrams, MAC checked`,
          value: figure(rate("peer"), "dgram/s"),
          ratio: vsRaw,
          ratioKey: `peer${size}VsRawRatio`,
          baseline: "peer / raw node:dgram, per repeat",
          ...(dgram === undefined ? { target: `>= ${nodeTarget}x raw`, met } : {}),
        });
        if (dgram !== undefined && vsDgram !== undefined) {
          rows.push({
            key: `peerDgram${size}ForwardedPerSec`,
            measure: `the same peer on ${rt.name}'s node:dgram (udp: "node:dgram"), ${size} B payload`,
            value: figure(rate("peerDgram"), "dgram/s"),
            ratio: vsDgram,
            ratioKey: `peer${size}NativeVsDgramRatio`,
            baseline: `peer on ${transport} / peer on node:dgram, per repeat`,
            target: "> 1x (native beats node:dgram)",
            met,
          });
        }
        if (native !== undefined) {
          rows.push({
            key: `rawNative${size}ForwardedPerSec`,
            measure: `raw forwarder on ${native === "bun" ? "Bun.udpSocket" : "Deno.listenDatagram"} (native, no relaygrid), ${datagramBytes} B datagrams`,
            value: figure(rate("native"), "dgram/s"),
            ratio: ratio(rate("native"), rate("raw")),
            ratioKey: `rawNative${size}VsRawRatio`,
            baseline: "native raw / node:dgram raw, per repeat",
          });
        }
        rows.push(
          { key: `raw${size}CpuUsPerForward`, measure: `raw node:dgram forwarder: this process's CPU per forwarded datagram (${size} B payload)`, value: figure(cpu("raw"), "us") },
          {
            key: `peer${size}CpuUsPerForward`,
            measure: `relaygrid peer on ${transport}: CPU per forwarded datagram`,
            value: figure(cpu("peer"), "us"),
            ratio: ratio(cpu("raw"), cpu("peer")),
            ratioKey: `peer${size}CpuVsRawRatio`,
            baseline: "raw CPU / peer CPU, per repeat (1 = as cheap as raw)",
          },
        );
        if (dgram !== undefined) {
          rows.push({
            key: `peerDgram${size}CpuUsPerForward`,
            measure: `relaygrid peer on ${rt.name}'s node:dgram: CPU per forwarded datagram`,
            value: figure(cpu("peerDgram"), "us"),
            ratio: ratio(cpu("peerDgram"), cpu("peer")),
            ratioKey: `peerDgram${size}CpuVsNativeRatio`,
            baseline: `node:dgram CPU / ${transport} CPU, per repeat`,
          });
        }
      }
      await Promise.all(paths.map((p) => p.close()));
      paths.length = 0;
      // --quick on Bun and Deno: the hop only (CI proves it runs; the chain is the same code as on Node).
      if (ctx.quick && rt.name !== "node") return finish();

      ctx.log(`udp-hop: building the 4-hop loop A -> F1 -> F2 -> F3 -> A (joinGrid peers on ${transport})`);
      const loop = await buildPath(load, lobby, "chain", 3);
      paths.push(loop);
      info.chainPath = { attempts: loop.attempts, settleMs: Math.round(loop.settleMs) };
      const p50: Record<"raw" | "peer", number[]> = { raw: [], peer: [] };
      const p99: Record<"raw" | "peer", number[]> = { raw: [], peer: [] };
      for (let r = 0; r < repeats; r++) {
        for (const which of r % 2 === 0 ? (["raw", "peer"] as const) : (["peer", "raw"] as const)) {
          const base = { bytes: 64, window: 1, warmupMs, durationMs: Math.round(durationMs / 2) };
          let res: LoadResult;
          if (which === "peer") res = await peerRun(load, loop, base, 20_000, tally);
          else {
            const chain = await rawForwarders(CHAIN_HOPS - 1, load.sourcePort);
            res = await load.run({ ...base, mode: "raw", bytes: relayDatagramBytes(loop.grid, 64), firstHopPort: chain.port, sinkIsSource: true });
            chain.close();
            tally.lost += res.lost;
            tally.runs++;
          }
          p50[which].push(percentile(res.latencyMs, 50) * 1000);
          p99[which].push(percentile(res.latencyMs, 99) * 1000);
        }
      }
      const perHop = (xs: number[]): number[] => xs.map((x, i) => (x - (p50.raw[i] as number)) / (CHAIN_HOPS - 1));
      rows.push(
        { key: "rawChainP50Us", measure: `raw node:dgram chain of ${CHAIN_HOPS} hops on ${on}, one-way latency p50 (1 in flight)`, value: figure(p50.raw, "us") },
        { key: "rawChainP99Us", measure: `raw chain of ${CHAIN_HOPS} hops, one-way latency p99`, value: figure(p99.raw, "us") },
        {
          key: "peerChainP50Us",
          measure: `relaygrid chain of ${CHAIN_HOPS} hops (3 joinGrid peers on ${transport} forwarding), latency p50`,
          value: figure(p50.peer, "us"),
          ratio: ratio(p50.peer, p50.raw),
          ratioKey: "peerChainP50VsRawRatio",
          baseline: "peer / raw, per repeat",
        },
        {
          key: "peerChainP99Us",
          measure: `relaygrid chain of ${CHAIN_HOPS} hops, latency p99`,
          value: figure(p99.peer, "us"),
          ratio: ratio(p99.peer, p99.raw),
          ratioKey: "peerChainP99VsRawRatio",
          baseline: "peer / raw, per repeat",
        },
        { key: "peerChainUsPerHopOverRaw", measure: `relaygrid chain: p50 above raw per forwarding peer ((peer - raw) / 3)`, value: figure(perHop(p50.peer), "us") },
      );
    } finally {
      await Promise.allSettled(paths.map((p) => p.close()));
      await load.close();
    }
    return finish();

    function finish(): GroupResult {
      if (tally.hopErrors.length > 0) throw new Error(`udp-hop: relaygrid datagrams took another path: ${tally.hopErrors[0]}`);
      return {
        group: `udp-hop`,
        title: `${udpHopGroup.title} (${rt.name})`,
        status: "ok",
        rows,
        info: { ...info, runs: tally.runs, lostDatagrams: tally.lost, lostRelaygridDatagrams: tally.lostRelaygrid, poolRetries: tally.exhaustedRetries, targetMet: allMet },
        notes: [
          `Source and sink run in a child process (on ${loadRuntime}) with the lobby; this process only forwards (one thread, like a peer). The source keeps ${READS_PER_TURN} datagrams in flight (the per-turn read limit), ${durationMs} ms per repeat after a ${warmupMs} ms warm-up; the candidates alternate in each repeat (who goes first rotates) and each ratio is the median of the per-repeat ratios. Datagrams lost in all ${tally.runs} runs: ${tally.lost} (of them in relaygrid runs: ${tally.lostRelaygrid}).`,
          `One hop: A -> P -> B, P the shipped relaygrid peer (joinGrid, limit 2, default relay rules, transport "auto" = ${transport}) in this process, A and B members in the load process; with limit 2 the three settle into a triangle and P forwards what A sends to its only other link, B. Raw: source -> one node:dgram forwarder (socket.on("message") -> send unchanged) -> sink, datagrams of the same length.` +
            (transport === "node:dgram" ? "" : ` On ${rt.name} also the same peer with udp: "node:dgram" (the runtime's node:dgram), in a second triangle, and a raw forwarder on the native API.`),
          `The load process's source and sink stay as cheap as in the raw run: A's socket sends Data datagrams signed with the grid key before the clock starts (origin id of no member, fresh per run), and B's socket hands Data datagrams to the sink before B's Peer would check them; pings and lobby traffic still reach both Peers. What differs between the runs is the forwarder: the driver and transport, and the Peer (tag check, duplicate window, relay rules).`,
          "CPU per forwarded datagram: this process's process.cpuUsage() (user + system, every thread) over the whole run including its warm-up, divided by the datagrams that arrived; it counts the send system call, which on loopback also delivers to the receiving socket.",
          `Chain: A -> F1 -> F2 -> F3 -> A (4 datagram hops): 3 relaygrid peers in this process and A, all of limit 3, so every pair is linked, and a relay rule on each forwarder (relayRules: one rule allowing only its next hop) makes the path; raw: source -> 3 node:dgram forwarders in this process -> back to the source socket. One datagram in flight, 64 B payload; times taken in the load process on one clock. Every relaygrid arrival is checked to have crossed exactly the expected relays.`,
        ],
      };
    }
  },
};
