/**
 * udp-hop: forwarded datagrams/s through one forwarder on 127.0.0.1, a relaygrid peer
 * against a raw node:dgram forwarder in the same run and topology (source and sink in a
 * child process, at most 32 datagrams in flight: the per-turn read limit, so zero loss), and
 * one-way latency p50/p99 across a chain of 4 hops (3 forwarders). Target: the peer at least
 * 90% of raw. Runs on Node, or on the runtime --runtime names (the runner starts this group
 * there, and the load process runs on the same runtime).
 *
 * Topologies (support/udp-paths.ts): one hop is A -> P -> B with P a relaygrid peer of
 * limit 2 in this process, A, B and the lobby in the load process; the chain is
 * A -> F1 -> F2 -> F3 -> A (limit 3, a relay rule naming each forwarder's next hop). The raw
 * runs use the same placement: one raw forwarder here
 * between the load process's source and sink, and three raw forwarders in a chain that ends
 * at the source's socket.
 */
import { currentRuntime } from "../support/runtime.ts";
import { denoNativeForwarders, LoadProcess, percentile, rawForwarders, READS_PER_TURN } from "../support/udp-raw.ts";
import type { LoadResult, RunCommand } from "../support/udp-load.ts";
import { buildPath, PATH_MEMBER_OPTIONS, relayDatagramBytes, type Lobby, type RelayPath } from "../support/udp-paths.ts";
import { figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";
import { MAX_PAYLOAD_BYTES } from "../../wire/index.ts";

const CHAIN_HOPS = 4;
const TARGET = 0.9;
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
    if (res.hops !== undefined && res.received > 0 && (res.hops[0] !== path.expectedHops || res.hops[1] !== path.expectedHops)) {
      t.hopErrors.push(`arrivals had crossed ${res.hops[0]}-${res.hops[1]} relays, expected ${path.expectedHops}`);
    }
    if (res.exhausted !== true || tries >= 2) return res;
    t.exhaustedRetries++;
    pool *= 2;
  }
}

export const udpHopGroup: Group = {
  name: "udp-hop",
  title: "one forwarding hop and a 4-hop chain on 127.0.0.1",
  udp: true,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const rt = currentRuntime();
    const on = `${rt.name} ${rt.version}`;
    const repeats = ctx.quick ? 3 : 5;
    const durationMs = ctx.quick ? 250 : 1000;
    const warmupMs = ctx.quick ? 100 : 200;
    // 64 B (a game state delta) and the largest payload a broadcast may carry (1150 B: a datagram just under 1200 B).
    const sizes = ctx.quick ? [64] : [64, MAX_PAYLOAD_BYTES];
    const rows: Row[] = [];
    const tally: Tally = { lost: 0, lostRelaygrid: 0, runs: 0, exhaustedRetries: 0, hopErrors: [] };
    const info: Record<string, unknown> = { runtime: rt.name, runtimeVersion: rt.version, repeats, durationMs, warmupMs, window: READS_PER_TURN, peerOptions: PATH_MEMBER_OPTIONS };
    let allMet = true;
    // The load process runs on this runtime, except on Deno: there its node:dgram source and sink
    // cap every forwarder at the same rate (raw, relaygrid and native alike), so Node loads it.
    const loadRuntime = rt.name === "deno" ? "node" : rt.name;
    info.loadRuntime = loadRuntime;
    const load = await LoadProcess.start(loadRuntime);
    let hop: RelayPath | undefined;
    let lean: RelayPath | undefined;
    let loop: RelayPath | undefined;
    let leanLoop: RelayPath | undefined;
    try {
      const lobby = await load.call<Lobby>({ op: "lobby" });
      ctx.log(`udp-hop: lobby at ${lobby.address} (load process); building A -> P -> B`);
      hop = await buildPath(load, lobby, "hop", 1);
      lean = await buildPath(load, lobby, "lean", 1, { driver: "lean" });
      info.hopPath = { attempts: hop.attempts, settleMs: Math.round(hop.settleMs), leanAttempts: lean.attempts };
      let best = 0;
      for (const size of sizes) {
        const samples: Record<"raw" | "peer" | "lean" | "native", number[]> = { raw: [], peer: [], lean: [], native: [] };
        const datagramBytes = relayDatagramBytes(hop.grid, size);
        // On Deno, also a raw forwarder on the native Deno.listenDatagram: is node:dgram the limit?
        const probe = denoNativeForwarders(1, load.sinkPort);
        probe?.close();
        const kinds = probe === undefined ? (["raw", "peer", "lean"] as const) : (["raw", "peer", "lean", "native"] as const);
        for (let r = 0; r < repeats; r++) {
          // Who goes first rotates. The raw datagram is as long as the relaygrid one (envelope + tag): the same bytes on the wire.
          for (let k = 0; k < kinds.length; k++) {
            const which = kinds[(r + k) % kinds.length] as (typeof kinds)[number];
            const base = { bytes: size, window: READS_PER_TURN, warmupMs, durationMs };
            let rate: number;
            if (which === "raw" || which === "native") {
              const fwd = which === "raw" ? await rawForwarders(1, load.sinkPort) : (denoNativeForwarders(1, load.sinkPort) as { port: number; close(): void });
              const res = await load.run({ ...base, mode: "raw", bytes: datagramBytes, firstHopPort: fwd.port });
              fwd.close();
              tally.lost += res.lost;
              tally.runs++;
              rate = res.perSec;
            } else {
              const path = which === "peer" ? hop : lean;
              const res = await peerRun(load, path, base, best, tally);
              const expected = relayDatagramBytes(path.grid, size); // grid ids differ: the lean grid's may be a byte or two shorter
              if (res.datagramBytes !== expected) throw new Error(`udp-hop: relaygrid datagrams of ${res.datagramBytes} B, expected ${expected}`);
              rate = res.perSec;
            }
            samples[which].push(rate);
            best = Math.max(best, rate);
          }
        }
        const { raw, peer } = samples;
        const rawFig = figure(raw, "dgram/s");
        const peerFig = figure(peer, "dgram/s");
        const vs = ratio(peer, raw);
        const met = vs.median >= TARGET;
        allMet &&= met;
        ctx.log(`udp-hop: ${size} B payload (${datagramBytes} B datagrams) on ${on}: raw ${Math.round(rawFig.median)}/s, peer ${Math.round(peerFig.median)}/s, lean ${Math.round(figure(samples.lean, "").median)}/s`);
        rows.push(
          {
            key: `raw${size}ForwardedPerSec`,
            measure: `raw node:dgram forwarder on ${on}, ${datagramBytes} B datagrams, ${READS_PER_TURN} in flight`,
            value: rawFig,
          },
          {
            key: `peer${size}ForwardedPerSec`,
            measure: `relaygrid peer (joinGrid, limit 2) forwarding, ${size} B payload = ${datagramBytes} B datagrams, MAC checked`,
            value: peerFig,
            ratio: vs,
            ratioKey: `peer${size}VsRawRatio`,
            baseline: "peer / raw, per repeat",
            target: ">= 0.9x raw",
            met,
          },
          {
            key: `peer${size}UsPerForwardOverRaw`,
            measure: `relaygrid peer, ${size} B: time per forward above raw (1/peer - 1/raw)`,
            value: figure(
              peer.map((p, i) => 1e6 / p - 1e6 / (raw[i] as number)),
              "us",
            ),
          },
          {
            key: `lean${size}ForwardedPerSec`,
            measure: `the same Peer on the bench's lean driver (support/lean-driver.ts), ${size} B payload`,
            value: figure(samples.lean, "dgram/s"),
            ratio: ratio(samples.lean, raw),
            ratioKey: `lean${size}VsRawRatio`,
            baseline: "lean / raw, per repeat",
          },
        );
        if (samples.native.length > 0) {
          rows.push({
            key: `denoNative${size}ForwardedPerSec`,
            measure: `raw forwarder on Deno.listenDatagram (native, not node:dgram), ${datagramBytes} B datagrams`,
            value: figure(samples.native, "dgram/s"),
            ratio: ratio(samples.native, raw),
            ratioKey: `denoNative${size}VsRawRatio`,
            baseline: "native / node:dgram raw, per repeat",
          });
        }
      }
      await Promise.all([hop.close(), lean.close()]);
      hop = undefined;
      lean = undefined;

      ctx.log(`udp-hop: building the 4-hop loop A -> F1 -> F2 -> F3 -> A (joinGrid peers, then lean-driver peers)`);
      loop = await buildPath(load, lobby, "chain", 3);
      leanLoop = await buildPath(load, lobby, "leanchain", 3, { driver: "lean" });
      info.chainPath = { attempts: loop.attempts, settleMs: Math.round(loop.settleMs), leanAttempts: leanLoop.attempts };
      const p50: Record<"raw" | "peer" | "lean", number[]> = { raw: [], peer: [], lean: [] };
      const p99: Record<"raw" | "peer" | "lean", number[]> = { raw: [], peer: [], lean: [] };
      const chainKinds = ["raw", "peer", "lean"] as const;
      for (let r = 0; r < repeats; r++) {
        for (let k = 0; k < chainKinds.length; k++) {
          const which = chainKinds[(r + k) % chainKinds.length] as (typeof chainKinds)[number];
          const base = { bytes: 64, window: 1, warmupMs, durationMs: Math.round(durationMs / 2) };
          let res: LoadResult;
          if (which !== "raw") res = await peerRun(load, which === "peer" ? loop : leanLoop, base, 20_000, tally);
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
        { key: "rawChainP50Us", measure: `raw chain of ${CHAIN_HOPS} hops on ${on}, one-way latency p50 (1 in flight)`, value: figure(p50.raw, "us") },
        { key: "rawChainP99Us", measure: `raw chain of ${CHAIN_HOPS} hops, one-way latency p99`, value: figure(p99.raw, "us") },
        {
          key: "peerChainP50Us",
          measure: `relaygrid chain of ${CHAIN_HOPS} hops (3 joinGrid peers forwarding), latency p50`,
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
        {
          key: "peerChainUsPerHopOverRaw",
          measure: `relaygrid chain: p50 above raw per forwarding peer ((peer - raw) / 3)`,
          value: figure(perHop(p50.peer), "us"),
        },
        {
          key: "leanChainP50Us",
          measure: `the same chain on the lean driver, latency p50`,
          value: figure(p50.lean, "us"),
          ratio: ratio(p50.lean, p50.raw),
          ratioKey: "leanChainP50VsRawRatio",
          baseline: "lean / raw, per repeat",
        },
        {
          key: "leanChainUsPerHopOverRaw",
          measure: `lean-driver chain: p50 above raw per forwarding peer`,
          value: figure(perHop(p50.lean), "us"),
        },
      );
      await Promise.all([loop.close(), leanLoop.close()]);
      leanLoop = undefined;
      loop = undefined;
    } finally {
      await Promise.allSettled([hop?.close(), lean?.close(), loop?.close(), leanLoop?.close()]);
      await load.close();
    }
    if (tally.hopErrors.length > 0) throw new Error(`udp-hop: relaygrid datagrams took another path: ${tally.hopErrors[0]}`);
    return {
      group: "udp-hop",
      title: this.title,
      status: "ok",
      rows,
      info: { ...info, runs: tally.runs, lostDatagrams: tally.lost, lostRelaygridDatagrams: tally.lostRelaygrid, poolRetries: tally.exhaustedRetries, targetMet: allMet },
      notes: [
        `Source and sink run in a child process with the lobby; this process only forwards (one thread, like a peer). The source keeps ${READS_PER_TURN} datagrams in flight (the per-turn read limit), ${durationMs} ms per repeat after a ${warmupMs} ms warm-up; raw and relaygrid alternate in each repeat (who goes first alternates) and the ratio is the median of the per-repeat ratios. Datagrams lost in all ${tally.runs} runs: ${tally.lost} (of them in relaygrid runs: ${tally.lostRelaygrid}).`,
        `One hop: A -> P -> B, P a relaygrid peer (joinGrid, limit 2, default relay rules) in this process, A and B members in the load process; with limit 2 the three settle into a triangle and P forwards what A sends to its only other link, B. Raw: source -> one node:dgram forwarder (socket.on("message") -> send unchanged) -> sink, datagrams of the same length.`,
        "Lean driver: the same Peer (same config, same tag check) forwarding in a second triangle, driven by a bench-only loop without the Node driver's per-datagram extras (address formatting and parsing, closures, a send callback and nextTick per datagram, an emit per delivery); the gap between it and the joinGrid peer is the driver's, the gap between it and raw is the Peer's plus what a driver cannot avoid.",
        `The load process's source and sink stay as cheap as in the raw run: A's socket sends Data datagrams signed with the grid key before the clock starts (origin id of no member, fresh per run), and B's socket hands Data datagrams to the sink before B's Peer would check them; pings and lobby traffic still reach both Peers. What differs between the two runs is the forwarder: P's driver (address formatting and parsing, a send callback per datagram) and the Peer (tag check, duplicate window, relay rules).`,
        `Chain: A -> F1 -> F2 -> F3 -> A (4 datagram hops): 3 relaygrid peers in this process and A, all of limit 3, so every pair is linked, and a relay rule on each forwarder (relayRules: one rule allowing only its next hop) makes the path; raw: source -> 3 forwarders in this process -> back to the source socket. One datagram in flight, 64 B payload; times taken in the load process on one clock. Every relaygrid arrival is checked to have crossed exactly the expected relays.`,
      ],
    };
  },
};
