/**
 * udp-hop: forwarded datagrams/s through one forwarder on 127.0.0.1, a relaygrid peer against
 * a raw node:dgram forwarder in the same run and topology (source and sink in a child
 * process, at most 32 datagrams in flight: the per-turn read limit, so zero loss), and one-way
 * latency p50/p99 across a chain of 4 hops (3 forwarders). Target: the peer at least 90% of
 * raw. The raw side runs now, on Node or on the runtime --runtime names (the runner starts
 * this group there); the relaygrid side needs the Node peer driver.
 */
import { nodePeerDriver } from "../support/driver.ts";
import { currentRuntime } from "../support/runtime.ts";
import { LoadProcess, percentile, rawForwarders, READS_PER_TURN } from "../support/udp-raw.ts";
import { figure } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const CHAIN_HOPS = 4;

export const udpHopGroup: Group = {
  name: "udp-hop",
  title: "one forwarding hop and a 4-hop chain on 127.0.0.1",
  udp: true,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const driver = await nodePeerDriver();
    const peerNote = driver.available ? "the Node peer driver exists; this group's relaygrid side is not written yet" : `not available yet: ${driver.reason}`;
    const rt = currentRuntime();
    const on = `${rt.name} ${rt.version}`;
    const repeats = ctx.quick ? 3 : 5;
    const durationMs = ctx.quick ? 300 : 1000;
    const sizes = ctx.quick ? [64] : [64, 1200];
    const rows: Row[] = [];
    const load = await LoadProcess.start();
    let lost = 0;
    try {
      for (const size of sizes) {
        const rates: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const fwd = await rawForwarders(1, load.sinkPort);
          const res = await load.run({ firstHopPort: fwd.port, payloadBytes: size, window: READS_PER_TURN, warmupMs: 200, durationMs });
          fwd.close();
          rates.push(res.perSec);
          lost += res.lost;
        }
        ctx.log(`udp-hop: raw ${size} B on ${on}: ${Math.round(figure(rates, "").median)}/s`);
        rows.push(
          { key: `raw${size}ForwardedPerSec`, measure: `raw node:dgram forwarder on ${on}, ${size} B, ${READS_PER_TURN} in flight`, value: figure(rates, "dgram/s") },
          { key: `peer${size}ForwardedPerSec`, measure: `relaygrid peer forwarder, ${size} B`, value: null, note: `${peerNote} (target >= 90% of raw)` },
        );
      }
      const p50: number[] = [];
      const p99: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const chain = await rawForwarders(CHAIN_HOPS - 1, load.sinkPort);
        const res = await load.run({ firstHopPort: chain.port, payloadBytes: 64, window: 1, warmupMs: 200, durationMs: durationMs / 2 });
        chain.close();
        lost += res.lost;
        p50.push(percentile(res.latencyMs, 50) * 1000);
        p99.push(percentile(res.latencyMs, 99) * 1000);
      }
      rows.push(
        { key: "rawChainP50Us", measure: `raw chain of ${CHAIN_HOPS} hops on ${on}, one-way latency p50 (1 in flight)`, value: figure(p50, "us") },
        { key: "rawChainP99Us", measure: `raw chain of ${CHAIN_HOPS} hops, one-way latency p99`, value: figure(p99, "us") },
        { key: "peerChainP50Us", measure: `relaygrid chain of ${CHAIN_HOPS} hops, latency p50/p99`, value: null, note: peerNote },
      );
    } finally {
      load.close();
    }
    return {
      group: "udp-hop",
      title: this.title,
      status: "partial",
      rows,
      info: { runtime: rt.name, runtimeVersion: rt.version, repeats, durationMs, window: READS_PER_TURN, lostDatagrams: lost, relaygridVsRawRatio: null },
      notes: [
        `Source and sink run in a child process; this process only forwards (one thread, like a peer). The source keeps ${READS_PER_TURN} datagrams in flight (the per-turn read limit), ${durationMs} ms per repeat after a 200 ms warm-up; datagrams lost in all runs: ${lost}.`,
        `Chain latency: source -> ${CHAIN_HOPS - 1} forwarders -> sink (${CHAIN_HOPS} datagram hops), one datagram in flight, times taken in the child on one clock.`,
        `relaygrid side: ${peerNote}.`,
      ],
    };
  },
};
