/**
 * relay core (no I/O): Data datagrams per second through one Peer's handleDatagram -> tag
 * check -> duplicate window -> relay rules -> pollTransmit (and pollEvent for the delivery),
 * for a peer with 4 and with 8 links taken out of a settled grid, against a naive
 * @msgpack/msgpack relay in the same run. Target: at least 1 M messages/s per core, without
 * the MAC.
 *
 * The Peer always checks the grid-key tag (lib/peer/relay-path.ts onData), and lib/ has no
 * switch to skip it, so "without the MAC" is derived: in every repeat the same datagrams also
 * go through checkTag alone (what the Peer runs per arrival), and
 *   t_noMAC = 1 / (Peer msg/s) - 1 / (checkTag msg/s),   noMAC msg/s = 1 / t_noMAC
 * per repeat, then the median over repeats. The tag write an origin pays per broadcast
 * (writeTag) is measured beside it; a relay never writes a tag (it forwards the same bytes).
 */
import { NaiveRelay } from "../support/naive-relay.ts";
import { bytesPerOp, opsPerSecond, type Candidate } from "../support/measure.ts";
import { DatagramRing, relaySubject, type RelaySubject } from "../support/relay-input.ts";
import { checkTag } from "../../lib/security/grid-keys.ts";
import { MAX_PAYLOAD_BYTES, RELAY_HOPS_OFFSET } from "../../wire/index.ts";
import { signRelay } from "../support/keys.ts";
import { figure, ratio, type Figure } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

const TARGET = 1_000_000;

/**
 * A candidate fed from its own ring: each chunk of ring.size messages is prepared (seq
 * stamped, tag signed) untimed, then `feed` runs over it timed.
 */
function chunked(name: string, ring: DatagramRing, feed: (first: number, count: number) => number): Candidate {
  let next = 0; // message numbers keep growing across batches, so every (origin, seq) is fresh
  const run = (n: number, timed: boolean): number => {
    let ms = 0;
    let acc = 0;
    for (let done = 0; done < n; ) {
      const c = Math.min(ring.size, n - done);
      ring.prepare(next, c);
      const t0 = timed ? performance.now() : 0;
      acc += feed(next, c);
      if (timed) ms += performance.now() - t0;
      next += c;
      done += c;
    }
    sinkAcc ^= acc;
    return timed ? ms : acc;
  };
  return { name, batch: (n) => run(n, false), timedBatch: (n) => run(n, true) };
}

let sinkAcc = 0;

function candidates(s: RelaySubject): { ours: Candidate; check: Candidate; checkLarge: Candidate; write: Candidate; naive: Candidate; datagramBytes: number; largeBytes: number } {
  const senders = s.links.map((l) => l.address);
  const L = senders.length;
  const peer = s.peer;
  const now = s.now;
  const ringOurs = new DatagramRing(s.grid, s.origins, s.keyring);
  const ours = chunked("ours", ringOurs, (first, count) => {
    let acc = 0;
    for (let m = first; m < first + count; m++) {
      peer.handleDatagram(now, senders[m % L] as string, ringOurs.at(m));
      for (let t = peer.pollTransmit(); t !== undefined; t = peer.pollTransmit()) acc += t.bytes.length;
      for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) acc++;
    }
    return acc;
  });
  // The MAC alone: the check the Peer runs per arrival, on the same datagrams and keyring.
  const ringCheck = new DatagramRing(s.grid, s.origins, s.keyring);
  const keyring = s.keyring;
  const check = chunked("checkTag", ringCheck, (first, count) => {
    let ok = 0;
    for (let m = first; m < first + count; m++) if (checkTag(keyring, ringCheck.at(m), RELAY_HOPS_OFFSET) === "ok") ok++;
    return ok;
  });
  // The same check on the largest datagram (MAX_PAYLOAD_BYTES payload): SipHash is linear in the length.
  const ringLarge = new DatagramRing(s.grid, s.origins, s.keyring, 256, MAX_PAYLOAD_BYTES);
  const checkLarge = chunked("checkTag large", ringLarge, (first, count) => {
    let ok = 0;
    for (let m = first; m < first + count; m++) if (checkTag(keyring, ringLarge.at(m), RELAY_HOPS_OFFSET) === "ok") ok++;
    return ok;
  });
  // The tag an origin writes per broadcast (writeTag over the same datagram length).
  const ringWrite = new DatagramRing(s.grid, s.origins, s.keyring);
  ringWrite.prepare(0, ringWrite.size);
  const write: Candidate = {
    name: "writeTag",
    batch(n) {
      let acc = 0;
      for (let m = 0; m < n; m++) {
        const b = ringWrite.at(m);
        signRelay(keyring, b);
        acc += b[b.length - 1] as number;
      }
      return acc;
    },
  };
  const naiveRelay = new NaiveRelay(peer.id, s.grid, s.links);
  const ringNaive = new DatagramRing(s.grid, s.origins, s.keyring);
  const naiveFeed = chunked("naive", ringNaive, (first, count) => {
    let acc = 0;
    for (let m = first; m < first + count; m++) {
      naiveRelay.handleDatagram(now, senders[m % L] as string, ringNaive.at(m));
      for (let t = naiveRelay.pollTransmit(); t !== undefined; t = naiveRelay.pollTransmit()) acc += t.bytes.length;
      for (let e = naiveRelay.pollEvent(); e !== undefined; e = naiveRelay.pollEvent()) acc++;
    }
    return acc;
  });
  // Its Set of strings grows with every message: start a fresh one per batch (flatters it).
  const naive: Candidate = {
    name: "naive",
    batch: (n) => (naiveRelay.reset(), naiveFeed.batch(n)),
    timedBatch: (n) => (naiveRelay.reset(), (naiveFeed.timedBatch as (n: number) => number)(n)),
  };
  return { ours, check, checkLarge, write, naive, datagramBytes: ringOurs.datagramBytes, largeBytes: ringLarge.datagramBytes };
}

/**
 * Before anything is timed: 100 messages through each relay must give 100 deliveries and
 * 100 x (links - 1) forwards with no drop, and checkTag must accept all of them, else the
 * comparison would be of different work.
 */
function check(s: RelaySubject, ours: Candidate, tagCheck: Candidate, naive: Candidate): void {
  const expected = 100 * (s.links.length - 1);
  const before = s.peer.stats();
  ours.batch(100);
  const after = s.peer.stats();
  const got = [after.delivered - before.delivered, after.relayed - before.relayed];
  const drops = Object.entries(after.drops).filter(([k, v]) => v !== (before.drops[k] ?? 0));
  if (got[0] !== 100 || got[1] !== expected || drops.length > 0) {
    throw new Error(`relay-core: the Peer gave ${got[0]} deliveries and ${got[1]} forwards for 100 messages (expected 100 and ${expected}); drops ${JSON.stringify(after.drops)}`);
  }
  const ok = tagCheck.batch(100);
  if (ok !== 100) throw new Error(`relay-core: checkTag accepted ${ok} of 100 signed datagrams`);
  // Forwards counted in bytes by the loop: expected x datagram size, plus 100 deliveries.
  const naiveAcc = naive.batch(100);
  const size = new DatagramRing(s.grid, s.origins, s.keyring, 16).datagramBytes;
  if (naiveAcc !== expected * size + 100) {
    throw new Error(`relay-core: the naive relay's output for 100 messages is not 100 deliveries and ${expected} forwards of ${size} B (got ${naiveAcc})`);
  }
}

/** Per repeat: 1 / (1/peer - 1/check), the Peer's rate with the MAC's time taken out. */
function withoutMac(peer: readonly number[], mac: readonly number[]): number[] {
  return peer.map((p, i) => 1 / (1 / p - 1 / (mac[i] as number)));
}

/** Per repeat: the share of the Peer's time per message that the tag check takes. */
function macShare(peer: readonly number[], mac: readonly number[]): number[] {
  return peer.map((p, i) => (100 * (1 / (mac[i] as number))) / (1 / p));
}

const us = (f: Figure): string => `${(1e6 / f.median).toFixed(3)} us`;

export const relayCoreGroup: Group = {
  name: "relay-core",
  title: "Peer handleDatagram -> relay rules -> pollTransmit, no I/O",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const repeats = ctx.quick ? 3 : 7;
    const batchMs = ctx.quick ? 120 : 300;
    const rows: Row[] = [];
    const info: Record<string, unknown> = { repeats, payloadBytes: 64 };
    const derivedNotes: string[] = [];
    let allMet = true;
    for (const limit of [4, 8]) {
      ctx.log(`relay-core: building a grid until one peer has ${limit} links`);
      const s = relaySubject(limit, 11 * limit);
      const c = candidates(s);
      check(s, c.ours, c.check, c.naive);
      ctx.log(`relay-core: ${limit} links, ${repeats} repeats of ~${batchMs} ms`);
      const cands = limit === 4 ? [c.ours, c.check, c.naive, c.write, c.checkLarge] : [c.ours, c.check, c.naive, c.write];
      const [ours, mac, naive, write, large] = opsPerSecond(ctx, cands, repeats, batchMs) as [number[], number[], number[], number[], number[] | undefined];
      const alloc = bytesPerOp(ctx, c.ours, ctx.quick ? 100_000 : 1_000_000);
      const oursFig = figure(ours, "msg/s");
      const macFig = figure(mac, "msg/s");
      const noMac = figure(withoutMac(ours, mac), "msg/s");
      const met = noMac.median >= TARGET;
      allMet &&= met;
      rows.push(
        {
          key: `links${limit}OursMsgPerSec`,
          measure: `${limit} links: Peer as shipped, MAC checked per hop (in -> tag check -> ${limit - 1} forwards + 1 delivery)`,
          value: oursFig,
        },
        {
          key: `links${limit}MacCheckMsgPerSec`,
          measure: `${limit} links: the MAC alone, checkTag per arrival (${c.datagramBytes} B datagram, same run)`,
          value: macFig,
        },
        {
          key: `links${limit}NoMacMsgPerSec`,
          measure: `${limit} links: Peer without the MAC, derived: 1 / (1/Peer - 1/checkTag) per repeat`,
          value: noMac,
          target: ">= 1 M msg/s",
          met,
        },
        {
          key: `links${limit}MacSharePct`,
          measure: `${limit} links: tag check's share of the Peer's time per message`,
          value: figure(macShare(ours, mac), "%"),
        },
        {
          key: `links${limit}TagWriteMsgPerSec`,
          measure: `${limit} links: writeTag per broadcast at the origin (${c.datagramBytes} B; relays never write one)`,
          value: figure(write, "msg/s"),
        },
        {
          key: `links${limit}NaiveMsgPerSec`,
          measure: `${limit} links: naive relay (msgpack decode, Set of strings, encode per forward; no MAC)`,
          value: figure(naive, "msg/s"),
          ratio: ratio(ours, naive),
          ratioKey: `links${limit}OursVsNaiveRatio`,
          baseline: "Peer with MAC / this",
        },
        { key: `links${limit}OursAllocBytesPerMsg`, measure: `${limit} links: Peer heap allocated per message`, value: figure([alloc], "B/msg") },
      );
      if (large !== undefined) {
        rows.push({
          key: "macCheckLargeUsPerMsg",
          measure: `checkTag on the largest datagram (${MAX_PAYLOAD_BYTES} B payload = ${c.largeBytes} B): time per arrival`,
          value: figure(
            large.map((x) => 1e6 / x),
            "us",
          ),
        });
      }
      info[`links${limit}GridPeers`] = s.gridPeers;
      info.datagramBytes = c.datagramBytes;
      derivedNotes.push(
        `${limit} links: per message the Peer takes ${us(oursFig)} with the MAC, of which checkTag ${us(macFig)}; without it ${us(noMac)} (medians).`,
      );
    }
    return {
      group: "relay-core",
      title: this.title,
      status: "ok",
      rows,
      info: { ...info, targetMet: allMet },
      notes: [
        "The measured Peer is taken out of a settled simulator grid (real lobby, real joins, real handshakes with node:crypto and seeded keys) with exactly 4 or 8 links; it is then fed 64 B-payload Data datagrams from its links in turn, each with a fresh (origin, seq) from 16 members it is not linked to, each signed with the grid key (as its origin would), and pollTransmit and pollEvent are drained after each.",
        "Signing the fed datagrams is the origins' work: each chunk of 1,024 is stamped and signed before it is fed, outside the timed span (measure.ts timedBatch); the same for the naive relay and the checkTag loop, so all three time only their own work.",
        "One message = one datagram in, limit-1 forwards out and one data event. The naive relay decodes with @msgpack/msgpack decode(), keeps an \"origin:seq\" Set (fresh per batch), calls encode() per forward and does not check the tag.",
        "Without the MAC: lib/ has no switch to turn the tag check off (and the bench does not change lib/), so it is derived in every repeat from two figures measured side by side on the same datagrams and keyring: t_noMAC = 1/(Peer msg/s) - 1/(checkTag msg/s); the median of 1/t_noMAC over repeats is reported. This assumes the check costs inside the Peer what it costs alone (same function, same inputs; its JIT context differs).",
        ...derivedNotes,
      ],
    };
  },
};
