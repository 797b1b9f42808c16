/**
 * security (no I/O): what each defence of issue 15's first part costs, next to the work it
 * guards, measured side by side in every repeat.
 *
 * - Relay path: the per-link data budget (a TokenBucket.take per Data datagram) against the
 *   whole relay of a message by a Peer with 4 links (relay-core's subject).
 * - Lobby: a framed Heartbeat end to end (frame checks, session budget, handler, framed
 *   HeartbeatAck) against the frame work alone: checking a frame (SipHash-2-4 over it, the
 *   replay window) and framing a reply; and the per-host quota lookup (hostOf + a count).
 * - Handshake budget: a valid-cookie Hello the host's budget refuses, against one that
 *   completes a handshake (X25519, Ed25519, HKDF): what the budget saves per Hello refused.
 * - Origin signatures (issue 15, point 1, the construction docs/SECURITY.md weighs): an
 *   Ed25519 signature over a relayed 64 B message's envelope, signed once by its origin and
 *   verified once by every member (on its first copy), on node:crypto and on noble (pure JS,
 *   what QuickJS and consoles run), against the relay of one message: what authenticity
 *   would add per message and member.
 * - Link auth (issue 15, point 2): stamping and checking a Ping under its link key, against
 *   the relay of one message. Control messages are a few a second per link; the ratio says
 *   how many relayed messages one costs.
 */
import { hostOf, HostCounts } from "../../lib/lobby/hosts.ts";
import { deriveSessionMacKeys, SessionFramer } from "../../lib/security/session-frame.ts";
import { TokenBucket } from "../../lib/util/rate-limit.ts";
import { checkLinkAuth, deriveLinkKey, LinkReplayWindow, stampLinkAuth } from "../../lib/security/link-auth.ts";
import { encode, Kind } from "../../wire/index.ts";
import { opsPerSecond, type Candidate } from "../support/measure.ts";
import { DatagramRing, relaySubject } from "../support/relay-input.ts";
import { signedRelaySubject } from "../support/signed-relay.ts";
import { quickJsVerifyUs } from "../support/quickjs-ed25519.ts";
import { drain, hello, lobbySession } from "../support/lobby-session.ts";
import { seededCrypto } from "../support/keys.ts";
import { NobleCrypto } from "../../lib/security/noble-crypto.ts";
import type { CryptoProvider } from "../../lib/security/crypto.ts";
import { SeededRandom } from "../../lib/rng.ts";
import { figure, ratio, type Figure } from "../stats.ts";
import type { BenchContext, Group, GroupResult, Row } from "../types.ts";

let sinkAcc = 0;

/** A candidate fed from chunks prepared untimed (`prepare(first, count)`), then timed through `feed`. */
function chunked(name: string, chunk: number, prepare: (first: number, count: number) => void, feed: (first: number, count: number) => number): Candidate {
  let next = 0;
  const run = (n: number, timed: boolean): number => {
    let ms = 0;
    for (let done = 0; done < n; ) {
      const c = Math.min(chunk, n - done);
      prepare(next, c);
      const t0 = timed ? performance.now() : 0;
      sinkAcc ^= feed(next, c);
      if (timed) ms += performance.now() - t0;
      next += c;
      done += c;
    }
    return timed ? ms : sinkAcc;
  };
  return { name, batch: (n) => run(n, false), timedBatch: (n) => run(n, true) };
}

function relayCandidates(): Candidate[] {
  const s = relaySubject(4, 44);
  const senders = s.links.map((l) => l.address);
  const ring = new DatagramRing(s.grid, s.origins, s.keyring);
  const peer = s.peer;
  const relay = chunked("peer", ring.size, (f, c) => ring.prepare(f, c), (first, count) => {
    let acc = 0;
    for (let m = first; m < first + count; m++) {
      peer.handleDatagram(s.now, senders[m % senders.length] as string, ring.at(m));
      for (let t = peer.pollTransmit(); t !== undefined; t = peer.pollTransmit()) acc += t.bytes.length;
      for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) acc++;
    }
    return acc;
  });
  // One link's bucket, at a datagram every microsecond (so the refill runs on every call).
  const bucket = new TokenBucket(2_000_000, 2_000_000, 0);
  let at = 0;
  const take: Candidate = {
    name: "bucket",
    batch(n) {
      let ok = 0;
      for (let i = 0; i < n; i++) if (bucket.take((at += 0.001))) ok++;
      return ok;
    },
  };
  return [relay, take];
}

function lobbyCandidates(): Candidate[] {
  const b = lobbySession({ requestsPerSecondPerSession: 1_000_000, requestBurstPerSession: 1_000_000 });
  let now = 0;
  const frames: Uint8Array[] = [];
  const heartbeat = chunked(
    "heartbeat",
    1024,
    (first, count) => {
      frames.length = 0;
      for (let i = 0; i < count; i++) frames.push(b.framer.frame(encode({ kind: Kind.Heartbeat, req: first + i, session: b.session, grid: b.grid, peer: b.peer, links: [] })) as Uint8Array);
    },
    (_first, count) => {
      let acc = 0;
      for (let i = 0; i < count; i++) {
        b.lobby.handleDatagram((now += 0.001), b.addr, frames[i] as Uint8Array);
        for (let t = b.lobby.pollTransmit(); t !== undefined; t = b.lobby.pollTransmit()) acc += t.bytes.length;
      }
      return acc;
    },
  );
  // The frame work alone, on the same frames: a lobby-side framer's open() (tag, window).
  const keys = deriveSessionMacKeys(seededCrypto(9), new Uint8Array(32).fill(9));
  const peerSide = SessionFramer.forPeer(keys, 7);
  const lobbySide = SessionFramer.forLobby(keys, 7);
  const own: Uint8Array[] = [];
  const body = encode({ kind: Kind.Heartbeat, req: 1, session: 7, grid: 1, peer: 1, links: [] });
  const check = chunked("check", 1024, (_f, count) => {
    own.length = 0;
    for (let i = 0; i < count; i++) own.push(peerSide.frame(body) as Uint8Array);
  }, (_first, count) => {
    let ok = 0;
    for (let i = 0; i < count; i++) if (lobbySide.open(own[i] as Uint8Array) === "fresh") ok++;
    return ok;
  });
  const ack = encode({ kind: Kind.HeartbeatAck, req: 1, members: 1, epoch: 1, latest: 1 });
  const write: Candidate = {
    name: "frame",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += (lobbySide.frame(ack) as Uint8Array).length;
      return acc;
    },
  };
  const counts = new HostCounts();
  const addrs = ["203.0.113.7:4000", "[2001:db8:aaaa:bbbb::7]:4000", "198.51.100.9:61000", "peer-12"];
  const quota: Candidate = {
    name: "host",
    batch(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const h = hostOf(addrs[i & 3] as string);
        acc += counts.get(h);
      }
      return acc;
    },
  };
  return [heartbeat, check, write, quota];
}

function handshakeCandidates(): Candidate[] {
  const eph = seededCrypto(3).x25519KeyPair().publicKey;
  const make = (refuse: boolean): Candidate => {
    const b = lobbySession(
      refuse
        ? { handshakesPerSecondPerHost: 1, handshakeBurstPerHost: 1 }
        : { handshakesPerSecondPerHost: 1_000_000, handshakeBurstPerHost: 1_000_000, maxSessionsPerHost: 1_000_000 },
      "203.0.113.9:5000",
    );
    b.lobby.handleDatagram(0, b.addr, hello(10, new Uint8Array(0), eph));
    const retry = drain(b.lobby).find((m) => m.kind === Kind.Retry);
    if (retry?.kind !== Kind.Retry) throw new Error("bench: no Retry");
    const hellos: Uint8Array[] = [];
    // Each Hello a new req (a retransmission would get the cached Welcome), encoded untimed.
    return chunked(
      refuse ? "refused" : "handshake",
      256,
      (first, count) => {
        hellos.length = 0;
        for (let i = 0; i < count; i++) hellos.push(hello(100 + first + i, retry.cookie, eph));
      },
      (_first, count) => {
        let acc = 0;
        for (let i = 0; i < count; i++) {
          b.lobby.handleDatagram(0, b.addr, hellos[i] as Uint8Array);
          for (let t = b.lobby.pollTransmit(); t !== undefined; t = b.lobby.pollTransmit()) acc += t.bytes.length;
          while (b.lobby.pollEvent() !== undefined);
        }
        return acc;
      },
    );
  };
  return [make(true), make(false)];
}

/** Ed25519 sign and verify of a relay envelope's signed bytes (~90 B for a 64 B payload) on `crypto`. */
function signatureCandidates(crypto: CryptoProvider): Candidate[] {
  const key = crypto.ed25519KeyPair(new Uint8Array(32).fill(0x15));
  const msgs = Array.from({ length: 64 }, (_, i) => new Uint8Array(90).fill(i));
  const sigs = msgs.map((m) => crypto.ed25519Sign(key.secretKey, m));
  let i = 0;
  const sign: Candidate = {
    name: `${crypto.name}-sign`,
    batch: (n) => {
      let acc = 0;
      for (let k = 0; k < n; k++) acc ^= (crypto.ed25519Sign(key.secretKey, msgs[i++ & 63] as Uint8Array)[0] as number);
      return acc;
    },
  };
  const verify: Candidate = {
    name: `${crypto.name}-verify`,
    batch: (n) => {
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const j = i++ & 63;
        if (crypto.ed25519Verify(key.publicKey, msgs[j] as Uint8Array, sigs[j] as Uint8Array)) acc++;
      }
      return acc;
    },
  };
  return [sign, verify];
}

/**
 * Link auth (PROTOCOL.md 6.13) on a Ping, the most frequent link-authenticated message:
 * stamping it under the link key (SipHash-2-4 over the 18 bytes before the auth field), and
 * checking it (the same SipHash, a constant-time compare, the 32-counter replay window).
 */
function linkAuthCandidates(): Candidate[] {
  const crypto = new NobleCrypto(new SeededRandom(0x15c));
  const key = deriveLinkKey(crypto, new Uint8Array(32).fill(7), new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), 3, 4);
  const ping = encode({ kind: Kind.Ping, req: 70_000, grid: 7, from: 3, to: 4, ctr: 1, auth: new Uint8Array(8), tag: new Uint8Array(9) });
  const stamped = ping.slice();
  stampLinkAuth(key, stamped);
  const window = new LinkReplayWindow();
  let ctr = 0;
  const stamp: Candidate = {
    name: "link-stamp",
    batch: (n) => {
      let acc = 0;
      for (let k = 0; k < n; k++) {
        ping[ping.length - 22] = k & 0x7f; // a changing counter byte, so no call repeats the last
        stampLinkAuth(key, ping);
        acc ^= ping[ping.length - 12] as number;
      }
      return acc;
    },
  };
  const check: Candidate = {
    name: "link-check",
    batch: (n) => {
      let acc = 0;
      for (let k = 0; k < n; k++) if (checkLinkAuth(key, stamped) && window.take(++ctr) === "fresh") acc++;
      return acc;
    },
  };
  return [stamp, check];
}

/**
 * The relay with originAuth "ed25519" on `crypto` (the grid's provider; node:crypto when
 * undefined): a Peer with 4 links handling a signed 64 B message (the origin signature checked
 * on its first copy), datagrams signed untimed by their origins' own broadcast().
 */
function signedRelayCandidate(name: string, crypto: CryptoProvider | undefined, chunk: number): Candidate {
  const s = signedRelaySubject(4, 44, crypto);
  const peer = s.peer;
  let pending: Uint8Array[] = [];
  return chunked(name, chunk, (_f, c) => void (pending = s.make(c)), (first, count) => {
    let acc = 0;
    for (let m = 0; m < count; m++) {
      peer.handleDatagram(s.now, s.senders[(first + m) % s.senders.length] as string, pending[m] as Uint8Array);
      for (let t = peer.pollTransmit(); t !== undefined; t = peer.pollTransmit()) acc += t.bytes.length;
      for (let e = peer.pollEvent(); e !== undefined; e = peer.pollEvent()) acc++;
    }
    if (peer.stats().originAuth.refused !== 0) throw new Error("security: a signed message was refused");
    return acc;
  });
}

/** Ops/s of `c` over `repeats` fixed batches of `n` (after one of n / 4): for candidates too slow for opsPerSecond's 1,000-op minimum. */
function fixedOpsPerSecond(c: Candidate, n: number, repeats: number): number[] {
  const timed = c.timedBatch as (n: number) => number;
  timed(Math.max(1, n >> 2));
  return Array.from({ length: repeats }, () => n / (timed(n) / 1000));
}

/** A member's CPU share at `members` members x `hz` broadcasts/s: (members - 1) x hz new messages relayed, hz signed. */
function memberShare(relayOn: readonly number[], sign: readonly number[], members: number, hz: number): Figure {
  return figure(relayOn.map((r, i) => 100 * (((members - 1) * hz) / r + hz / (sign[i % sign.length] as number))), "%");
}

const ns = (ops: readonly number[]): Figure => figure(ops.map((x) => 1e9 / x), "ns");
const us = (ops: readonly number[]): Figure => figure(ops.map((x) => 1e6 / x), "us");
/** Per repeat: the share of `whole`'s time per op that `part` takes, in %. */
const share = (part: readonly number[], whole: readonly number[]): Figure => figure(part.map((p, i) => (100 * (whole[i] as number)) / p), "%");

export const securityGroup: Group = {
  name: "security",
  title: "What each defence costs: per-link budget, session frames, host quotas, handshake budget (no I/O)",
  udp: false,
  async run(ctx: BenchContext): Promise<GroupResult> {
    const repeats = ctx.quick ? 3 : 7;
    const batchMs = ctx.quick ? 100 : 300;
    ctx.log("security: relay path");
    const [relay, bucket] = opsPerSecond(ctx, relayCandidates(), repeats, batchMs) as [number[], number[]];
    ctx.log("security: link auth (stamp, check)");
    const [linkStamp, linkCheck] = opsPerSecond(ctx, linkAuthCandidates(), repeats, batchMs) as [number[], number[]];
    ctx.log("security: lobby session path");
    const [hb, check, write, host] = opsPerSecond(ctx, lobbyCandidates(), repeats, batchMs) as [number[], number[], number[], number[]];
    ctx.log("security: handshake budget");
    const [refused, handshake] = opsPerSecond(ctx, handshakeCandidates(), repeats, ctx.quick ? 150 : 400) as [number[], number[]];
    ctx.log("security: origin signatures (Ed25519 on node:crypto and noble)");
    const [nodeSign, nodeVerify] = opsPerSecond(ctx, signatureCandidates(seededCrypto(0x15b)), repeats, batchMs) as [number[], number[]];
    const noble = new NobleCrypto(new SeededRandom(0x15b));
    const [nobleSign, nobleVerify] = opsPerSecond(ctx, signatureCandidates(noble), ctx.quick ? 2 : 3, batchMs) as [number[], number[]];
    ctx.log("security: relay with originAuth on (node:crypto, noble)");
    const [relayOnNode] = opsPerSecond(ctx, [signedRelayCandidate("auth-node", undefined, 256)], repeats, batchMs) as [number[]];
    const nobleGrid = new NobleCrypto(new SeededRandom(0x15c));
    const relayOnNoble = fixedOpsPerSecond(signedRelayCandidate("auth-noble", nobleGrid, 64), ctx.quick ? 32 : 96, ctx.quick ? 2 : 3);
    ctx.log("security: Ed25519 verify inside QuickJS (noble)");
    const qjsUs = await quickJsVerifyUs(ctx.quick ? 8 : 24, ctx.quick ? 2 : 3);
    const frameWork = check.map((c, i) => 1 / (1 / c + 1 / (write[i] as number)));
    const rows: Row[] = [
      { key: "relayMsgPerSec", measure: "relay path: a Peer with 4 links relaying a 64 B message (in, tag, budget, window, 3 forwards, 1 delivery)", value: figure(relay, "msg/s") },
      { key: "linkBudgetNs", measure: "relay path: the per-link data budget, TokenBucket.take per datagram", value: ns(bucket) },
      { key: "linkBudgetSharePct", measure: "relay path: the budget's share of a relayed message's time", value: share(bucket, relay) },
      {
        key: "linkAuthStampNs",
        measure: "link control: stamping a Ping under its link key (SipHash-2-4 over 18 B; PROTOCOL.md 6.13)",
        value: ns(linkStamp),
        ratio: ratio(relay, linkStamp),
        ratioKey: "linkAuthStampVsRelayRatio",
        baseline: "stamps' time / a relayed message's time (relayed msg/s / stamps/s)",
      },
      {
        key: "linkAuthCheckNs",
        measure: "link control: checking a Ping's link auth and its counter (SipHash-2-4, compare, 32-counter window)",
        value: ns(linkCheck),
        ratio: ratio(relay, linkCheck),
        ratioKey: "linkAuthCheckVsRelayRatio",
        baseline: "checks' time / a relayed message's time (relayed msg/s / checks/s)",
      },
      { key: "originSignNodeUs", measure: "origin signature: Ed25519 sign of one envelope (node:crypto), once per message at its origin", value: us(nodeSign) },
      {
        key: "originVerifyNodeUs",
        measure: "origin signature: Ed25519 verify (node:crypto), once per message at every member",
        value: us(nodeVerify),
        ratio: ratio(relay, nodeVerify),
        ratioKey: "originVerifyNodeVsRelayRatio",
        baseline: "relayed msg/s / verifies/s (a relayed message's cost x this, with authenticity on)",
      },
      { key: "originSignNobleUs", measure: "origin signature: Ed25519 sign (noble, pure JS: QuickJS, consoles)", value: us(nobleSign) },
      {
        key: "originVerifyNobleUs",
        measure: "origin signature: Ed25519 verify (noble, pure JS)",
        value: us(nobleVerify),
        ratio: ratio(relay, nobleVerify),
        ratioKey: "originVerifyNobleVsRelayRatio",
        baseline: "relayed msg/s / verifies/s",
      },
      {
        key: "relayAuthNodeMsgPerSec",
        measure: "relay path with originAuth \"ed25519\" (node:crypto): the same Peer relaying a signed 64 B message, its origin's signature verified on the first copy",
        value: figure(relayOnNode, "msg/s"),
        ratio: ratio(relay, relayOnNode),
        ratioKey: "relayAuthNodeSlowdownRatio",
        baseline: "relayed msg/s with originAuth off / on (same run)",
      },
      {
        key: "relayAuthNobleMsgPerSec",
        measure: "relay path with originAuth \"ed25519\" (noble, pure JS: what QuickJS and consoles run)",
        value: figure(relayOnNoble, "msg/s"),
        ratio: ratio(relay, relayOnNoble),
        ratioKey: "relayAuthNobleSlowdownRatio",
        baseline: "relayed msg/s with originAuth off / on (same run)",
      },
      {
        key: "originVerifyQuickJsUs",
        measure: "origin signature: Ed25519 verify inside QuickJS (quickjs-emscripten, @noble/curves), once per message at every member",
        value: figure(qjsUs, "us"),
        ratio: ratio(relay, qjsUs.map((u) => 1e6 / u)),
        ratioKey: "originVerifyQuickJsVsRelayRatio",
        baseline: "relayed msg/s (Node, originAuth off) / QuickJS verifies/s",
      },
      { key: "authMemberCpuQuickJsPct", measure: "originAuth at 16 members x 30 Hz inside QuickJS: the 450 verifies a second alone, % of a core", value: figure(qjsUs.map((u) => (100 * 450 * u) / 1e6), "%") },
      { key: "authMemberCpuNodePct", measure: "originAuth at 16 members x 30 Hz: one member's CPU (15 x 30 verified relays + 30 signs per second; node:crypto)", value: memberShare(relayOnNode, nodeSign, 16, 30) },
      { key: "authMemberCpuNoblePct", measure: "originAuth at 16 members x 30 Hz: one member's CPU (noble)", value: memberShare(relayOnNoble, nobleSign, 16, 30) },
      { key: "framedHeartbeatPerSec", measure: "lobby: a framed Heartbeat end to end (frame checks, session budget, handler, framed HeartbeatAck)", value: figure(hb, "req/s") },
      { key: "frameCheckNs", measure: "lobby: checking a request's frame (SipHash-2-4 over 39 B, replay window)", value: ns(check) },
      { key: "frameWriteNs", measure: "lobby: framing a reply (HeartbeatAck: copy + SipHash-2-4)", value: ns(write) },
      { key: "frameSharePct", measure: "lobby: frame check + reply framing, share of the request's time", value: share(frameWork, hb) },
      { key: "hostQuotaNs", measure: "lobby: per-host quota lookup (hostOf of an IPv4 / IPv6 / other address + a count)", value: ns(host) },
      {
        key: "helloRefusedUs",
        measure: "lobby: a valid-cookie Hello refused by its host's handshake budget",
        value: us(refused),
      },
      {
        key: "helloHandshakeUs",
        measure: "lobby: a valid-cookie Hello that completes a handshake (X25519, Ed25519, HKDF; node:crypto)",
        value: us(handshake),
        ratio: ratio(refused, handshake),
        ratioKey: "handshakeVsRefusedRatio",
        baseline: "refused Hellos/s / handshakes/s",
      },
    ];
    return {
      group: "security",
      title: this.title,
      status: "ok",
      rows,
      info: { repeats, batchMs },
      notes: [
        "The relay subject is relay-core's (a Peer taken out of a settled simulator grid with 4 links), with its link budget raised out of the way so the measured loop is never cut; take() runs on every datagram all the same. The bucket alone is one link's, refilled on every call (a datagram a microsecond).",
        "The lobby is a sans-IO Lobby on node:crypto with one session (a real handshake) and its member; the Heartbeats are framed untimed, in chunks of 1,024, then fed timed. The frame check and the reply framing are measured on their own framers over the same message sizes; their share is (1/check + 1/write) over the request's time.",
        "The origin-signature rows time the primitives alone (one sign per message at its origin, one verify per message at each member, duplicates found by the window first), on the 90 B a 64 B message's envelope has. The originAuth relay rows are the built path (PROTOCOL.md 4.1.4): a grid whose members all run originAuth \"ed25519\" on that provider, the measured Peer with 4 links, datagrams made by 16 non-linked origins' own broadcast() (signing untimed), each fed once from a link; the verify includes the ticket cache lookup and the signed message's copy. The noble row is timed over fixed batches (too slow for the 1,000-op minimum). CPU share: (15 x 30) / relayed msg/s + 30 / signs/s, as a % of one core. The QuickJS row bundles @noble/curves with esbuild, loads it into a fresh quickjs-emscripten context and times a loop of verifies run inside the VM from the host (bench/support/quickjs-ed25519.ts); its CPU share counts the 450 verifies alone.",
        "The two Hello figures feed a valid-cookie Hello from one address with a fresh req each time: one lobby allows 1 handshake a second for the host (every Hello after the first is refused at the budget), the other allows them all.",
      ],
    };
  },
};
