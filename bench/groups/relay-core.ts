/**
 * relay core (no I/O): Data datagrams per second through one Peer's handleDatagram -> relay
 * rules -> pollTransmit (and pollEvent for the delivery), for a peer with 4 and with 8 links
 * taken out of a settled grid, against a naive @msgpack/msgpack relay in the same run.
 * Target: at least 1 M messages/s per core, without the MAC.
 */
import { NaiveRelay } from "../support/naive-relay.ts";
import { bytesPerOp, opsPerSecond, type Candidate } from "../support/measure.ts";
import { DatagramRing, relaySubject, type RelaySubject } from "../support/relay-input.ts";
import { figure, ratio } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const TARGET = 1_000_000;

function candidates(s: RelaySubject): Candidate[] {
  const ring = new DatagramRing(s.grid, s.origins);
  const senders = s.links.map((l) => l.address);
  const L = senders.length;
  let next = 0; // message numbers keep growing across batches, so every (origin, seq) is fresh
  const peer = s.peer;
  const now = s.now;
  const ours: Candidate = {
    name: "ours",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const m = next++;
        peer.handleDatagram(now, senders[m % L] as string, ring.stamp(m));
        for (let t = peer.pollTransmit(); t !== undefined; t = peer.pollTransmit()) acc += t.bytes.length;
        for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) acc++;
      }
      return acc;
    },
  };
  const naive = new NaiveRelay(peer.id, s.grid, s.links);
  let naiveNext = 0;
  const baseline: Candidate = {
    name: "naive",
    batch(n) {
      naive.reset();
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const m = naiveNext++;
        naive.handleDatagram(now, senders[m % L] as string, ring.stamp(m));
        for (let t = naive.pollTransmit(); t !== undefined; t = naive.pollTransmit()) acc += t.bytes.length;
        for (let e = naive.pollEvent(); e !== undefined; e = naive.pollEvent()) acc++;
      }
      return acc;
    },
  };
  return [ours, baseline];
}

/**
 * Before anything is timed: 100 messages through each relay must give 100 deliveries and
 * 100 x (links - 1) forwards, else the comparison would be of different work.
 */
function check(s: RelaySubject, ours: Candidate): void {
  const expected = 100 * (s.links.length - 1);
  const before = s.peer.stats();
  ours.batch(100);
  const after = s.peer.stats();
  const got = [after.delivered - before.delivered, after.relayed - before.relayed];
  if (got[0] !== 100 || got[1] !== expected) {
    throw new Error(`relay-core: the Peer gave ${got[0]} deliveries and ${got[1]} forwards for 100 messages (expected 100 and ${expected}); drops ${JSON.stringify(after.drops)}`);
  }
  const naive = new NaiveRelay(s.peer.id, s.grid, s.links);
  const ring = new DatagramRing(s.grid, s.origins);
  let forwards = 0;
  let deliveries = 0;
  for (let m = 0; m < 100; m++) {
    naive.handleDatagram(s.now, s.links[m % s.links.length]?.address ?? "", ring.stamp(m));
    while (naive.pollTransmit() !== undefined) forwards++;
    while (naive.pollEvent() !== undefined) deliveries++;
  }
  if (deliveries !== 100 || forwards !== expected) {
    throw new Error(`relay-core: the naive relay gave ${deliveries} deliveries and ${forwards} forwards for 100 messages (expected 100 and ${expected})`);
  }
}

export const relayCoreGroup: Group = {
  name: "relay-core",
  title: "Peer handleDatagram -> relay rules -> pollTransmit, no I/O",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const repeats = ctx.quick ? 3 : 7;
    const batchMs = ctx.quick ? 120 : 300;
    const rows: Row[] = [];
    const info: Record<string, unknown> = { repeats, payloadBytes: 64 };
    for (const limit of [4, 8]) {
      ctx.log(`relay-core: building a grid until one peer has ${limit} links`);
      const s = relaySubject(limit, 11 * limit);
      const cands = candidates(s);
      check(s, cands[0] as Candidate);
      ctx.log(`relay-core: ${limit} links, ${repeats} repeats of ~${batchMs} ms`);
      const [ours, naive] = opsPerSecond(ctx, cands, repeats, batchMs) as [number[], number[]];
      const alloc = bytesPerOp(ctx, cands[0] as Candidate, ctx.quick ? 100_000 : 1_000_000);
      const oursFig = figure(ours, "msg/s");
      rows.push(
        {
          key: `links${limit}OursMsgPerSec`,
          measure: `${limit} links: Peer (in -> ${limit - 1} forwards + 1 delivery)`,
          value: oursFig,
          target: ">= 1 M msg/s",
          met: oursFig.median >= TARGET,
        },
        {
          key: `links${limit}NaiveMsgPerSec`,
          measure: `${limit} links: naive relay (msgpack decode, Set of strings, encode per forward)`,
          value: figure(naive, "msg/s"),
          ratio: ratio(ours, naive),
          ratioKey: `links${limit}OursVsNaiveRatio`,
          baseline: "ours / this",
        },
        { key: `links${limit}OursAllocBytesPerMsg`, measure: `${limit} links: Peer heap allocated per message`, value: figure([alloc], "B/msg") },
        { key: `links${limit}MacMsgPerSec`, measure: `${limit} links: Peer with MAC`, value: null, note: "not available yet: needs the security issue's MAC" },
      );
      info[`links${limit}GridPeers`] = s.gridPeers;
    }
    return {
      group: "relay-core",
      title: this.title,
      status: "partial",
      rows,
      info,
      notes: [
        "The measured Peer is taken out of a settled simulator grid (real lobby, real joins) with exactly 4 or 8 links; it is then fed pre-encoded 64 B Data datagrams from its links in turn, each with a fresh (origin, seq) from 16 members it is not linked to, and pollTransmit and pollEvent are drained after each.",
        "One message = one datagram in, limit-1 forwards out and one data event. The naive relay decodes with @msgpack/msgpack decode(), keeps an \"origin:seq\" Set (fresh per batch) and calls encode() per forward.",
        "The MAC variant comes with the security issue.",
      ],
    };
  },
};
