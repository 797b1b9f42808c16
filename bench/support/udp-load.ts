/**
 * The load side of the udp-hop group, run as a child process so the process under test does
 * nothing but forward. Everything is on 127.0.0.1. It holds:
 *
 * - a raw source and a raw sink socket (the raw baseline);
 * - the lobby (createLobby) and the relaygrid members at the ends of a path (joinGrid, limit
 *   2), which the forwarding peers in the process under test link with.
 *
 * A run keeps at most `window` datagrams in flight (one new datagram per arrival at the sink),
 * so no socket on the path holds more than one event-loop turn's read (32 datagrams) and
 * nothing is lost; the result counts anything that was.
 *
 * In a relaygrid run the source and sink are still cheap, so the load process does the same
 * work per datagram as in the raw run and the forwarders are what is compared: the source
 * sends Data datagrams from its member's socket (so the first forwarder takes them from a
 * link), signed beforehand with the grid key (a pool made before the clock starts, since a
 * 1200 B tag costs microseconds), under an origin id no member has, with seqs 1, 2, ...; the
 * sink takes Data datagrams off its member's socket before that member's Peer sees them
 * (everything else, pings and lobby traffic, still reaches the Peer, so the links stay up).
 *
 * Commands and results go over the IPC channel as { id, op, ... } -> { id, ok, value | error }.
 */
import { createSocket, type Socket } from "node:dgram";
import type { Peer } from "../../lib/peer/peer.ts";
import { createLobby, joinGrid, type LobbyServer, type NodePeer } from "../../platform/node/index.ts";
import { DgramTransport } from "../../platform/node/dgram-transport.ts";
import { ProbeSockets } from "../../platform/node/probe-sockets.ts";
import { Kind, newRelayHeader, readRelay, writeRelay } from "../../wire/index.ts";
import { keyringOf, signRelay } from "./keys.ts";

const HOST = "127.0.0.1";

/** Options the forwarders and the end members share (support/udp-grid-peers.ts keeps them in one place). */
export interface MemberOptions {
  readonly connectionLimit: number;
  readonly seekIntervalMs: number;
  readonly joinWindowMs: number;
}

export interface RunCommand {
  readonly mode: "raw" | "peer";
  /** raw: where the source sends (the first forwarder's port); the sink is this process's. */
  readonly firstHopPort?: number;
  /** raw: the chain ends at the source socket (so source and sink are one socket, as in a peer loop). */
  readonly sinkIsSource?: boolean;
  /** peer: the member whose socket sends, the address of its first forwarder, the member whose socket sinks. */
  readonly from?: string;
  readonly firstHop?: string;
  readonly to?: string;
  /** peer: origin id for this run's datagrams (fresh per run, so every (origin, seq) is new). */
  readonly origin?: number;
  /** peer: datagrams signed before the clock starts; the run fails if it needs more. */
  readonly pool?: number;
  /** raw: bytes per datagram; peer: payload bytes (the datagram adds the envelope and tag). */
  readonly bytes: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface LoadResult {
  /** Arrivals at the sink per second of the measured span. */
  readonly perSec: number;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly datagramBytes: number;
  /** One-way times source -> sink (ms) of the datagrams that arrived in the measured span. */
  readonly latencyMs: number[];
  /** peer: relays the datagrams had crossed on arrival (from their hop byte), min and max. */
  readonly hops?: readonly [number, number];
  /** peer: the pool of signed datagrams ran out before the run ended (the rate is not valid). */
  readonly exhausted?: boolean;
}

export interface MemberInfo {
  readonly name: string;
  readonly id: number;
  readonly grid: number;
  readonly address: string;
  readonly links: readonly { peer: number; address: string }[];
}

export type LoadRequest =
  | { op: "lobby" }
  | { op: "join"; name: string; grid: string; lobby: string; lobbyKey: string; options: MemberOptions }
  | { op: "members"; prefix: string }
  | { op: "leave"; prefix: string }
  | ({ op: "run" } & RunCommand);

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, HOST, () => resolve(s));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A member at the end of a path: its NodePeer, and the socket and Peer inside it. */
interface Member {
  readonly node: NodePeer;
  readonly socket: Socket;
  readonly peer: Peer;
  /** When set, Data datagrams arriving on the socket go here instead of to the Peer. */
  sink: ((msg: Uint8Array) => void) | undefined;
}

type Listener = (msg: Uint8Array, rinfo: unknown) => void;

/**
 * Reaches into the NodePeer (bench only): the node:dgram socket to send and intercept on (the
 * members here always run on node:dgram, like the raw source and sink), the Peer to sign as.
 */
function member(node: NodePeer): Member {
  const inner = node as unknown as { socket?: unknown; peer?: Peer };
  // joinGrid wraps its socket in ProbeSockets (birthday probing): the node:dgram one is inside.
  if (inner.socket instanceof ProbeSockets) inner.socket = inner.socket.main;
  if (!(inner.socket instanceof DgramTransport) || inner.peer === undefined) {
    throw new Error("udp-load: NodePeer has no node:dgram transport or peer field (platform/node changed shape?)");
  }
  const m: Member = { node, socket: inner.socket.socket, peer: inner.peer, sink: undefined };
  const drivers = m.socket.listeners("message") as Listener[];
  m.socket.removeAllListeners("message");
  m.socket.on("message", (msg: Uint8Array, rinfo: unknown) => {
    if (m.sink !== undefined && msg[0] === 0x99 && msg[2] === Kind.Data) m.sink(msg);
    else for (const d of drivers) d(msg, rinfo);
  });
  return m;
}

async function runRaw(cmd: RunCommand, src: Socket, sinkSocket: Socket): Promise<LoadResult> {
  const sink = cmd.sinkIsSource === true ? src : sinkSocket;
  const port = cmd.firstHopPort as number;
  // A ring of send buffers: one is rewritten only after the datagram it held has arrived.
  const ring = Array.from({ length: cmd.window * 2 }, () => Buffer.alloc(Math.max(16, cmd.bytes)));
  let sent = 0;
  let received = 0;
  let sending = true;
  let measuring = false;
  const latencyMs: number[] = [];
  let done: (() => void) | undefined;
  const sendOne = (): void => {
    const b = ring[sent % ring.length] as Buffer;
    b.writeDoubleLE(performance.now(), 0);
    b.writeUInt32LE(sent, 8);
    sent++;
    src.send(b, port, HOST);
  };
  const onMessage = (msg: Buffer): void => {
    received++;
    if (measuring) latencyMs.push(performance.now() - msg.readDoubleLE(0));
    if (sending) sendOne();
    else if (received === sent) done?.();
  };
  sink.on("message", onMessage);
  try {
    for (let i = 0; i < cmd.window; i++) sendOne();
    await sleep(cmd.warmupMs);
    const r0 = received;
    const t0 = performance.now();
    measuring = true;
    await sleep(cmd.durationMs);
    measuring = false;
    const r1 = received;
    const ms = performance.now() - t0;
    sending = false;
    if (received !== sent) await Promise.race([new Promise<void>((r) => (done = r)), sleep(500)]);
    return { perSec: (r1 - r0) / (ms / 1000), sent, received, lost: sent - received, datagramBytes: cmd.bytes, latencyMs };
  } finally {
    sink.off("message", onMessage);
  }
}

/** One buffer holding `count` signed Data datagrams (seq 1..count), all the same length. */
function signedPool(from: Member, origin: number, payloadBytes: number, count: number): { buf: Uint8Array; size: number } {
  const payload = new Uint8Array(payloadBytes).map((_, i) => i & 0xff);
  const scratch = new Uint8Array(64 + payloadBytes);
  // seq starts at 0x10000 so it always takes the uint32 form and every datagram has one length.
  const size = writeRelay(scratch, 0, 0, from.peer.grid, origin, 0x10000, null, payload);
  const buf = new Uint8Array(size * count);
  const ring = keyringOf(from.peer);
  for (let i = 0; i < count; i++) {
    const d = buf.subarray(i * size, (i + 1) * size);
    writeRelay(d, 0, 0, from.peer.grid, origin, 0x10000 + i, null, payload);
    signRelay(ring, d);
  }
  return { buf, size };
}

async function runPeer(cmd: RunCommand, members: Map<string, Member>): Promise<LoadResult> {
  const from = members.get(cmd.from ?? "");
  const to = members.get(cmd.to ?? "");
  if (from === undefined || to === undefined) throw new Error(`udp-load: no member ${String(cmd.from)} or ${String(cmd.to)}`);
  const [host, portText] = (cmd.firstHop ?? "").split(":");
  const port = Number(portText);
  if (host !== HOST || !(port > 0)) throw new Error(`udp-load: first hop must be ${HOST}:PORT, got ${String(cmd.firstHop)}`);
  const pool = cmd.pool ?? 100_000;
  const { buf, size } = signedPool(from, cmd.origin as number, cmd.bytes, pool);
  const sendTimes = new Float64Array(pool);
  const header = newRelayHeader();
  let sent = 0;
  let received = 0;
  let sending = true;
  let measuring = false;
  let exhausted = false;
  let minHops = 255;
  let maxHops = 0;
  const latencyMs: number[] = [];
  let done: (() => void) | undefined;
  const sendOne = (): void => {
    if (sent >= pool) {
      exhausted = true;
      return;
    }
    sendTimes[sent] = performance.now();
    from.socket.send(buf.subarray(sent * size, (sent + 1) * size), port, HOST);
    sent++;
  };
  to.sink = (msg) => {
    if (readRelay(msg, header) !== null || header.origin !== cmd.origin) return;
    received++;
    const i = header.seq - 0x10000;
    if (measuring) latencyMs.push(performance.now() - (sendTimes[i] as number));
    if (header.hops < minHops) minHops = header.hops;
    if (header.hops > maxHops) maxHops = header.hops;
    if (sending) sendOne();
    else if (received === sent) done?.();
  };
  try {
    for (let i = 0; i < cmd.window; i++) sendOne();
    await sleep(cmd.warmupMs);
    const r0 = received;
    const t0 = performance.now();
    measuring = true;
    await sleep(cmd.durationMs);
    measuring = false;
    const r1 = received;
    const ms = performance.now() - t0;
    sending = false;
    if (received !== sent) await Promise.race([new Promise<void>((r) => (done = r)), sleep(500)]);
    return {
      perSec: (r1 - r0) / (ms / 1000),
      sent,
      received,
      lost: sent - received,
      datagramBytes: size,
      latencyMs,
      hops: [minHops, maxHops],
      exhausted,
    };
  } finally {
    to.sink = undefined;
  }
}

async function main(): Promise<void> {
  const src = await bind();
  const sink = await bind();
  let lobby: LobbyServer | undefined;
  const members = new Map<string, Member>();
  const handle = async (m: LoadRequest): Promise<unknown> => {
    switch (m.op) {
      case "lobby": {
        lobby ??= await createLobby({ host: HOST, port: 0 });
        return { address: lobby.address(), publicKey: lobby.publicKey() };
      }
      case "join": {
        const node = await joinGrid({ lobby: m.lobby, lobbyKey: m.lobbyKey, grid: m.grid, create: true, host: HOST, udp: "node:dgram", ...m.options });
        members.set(m.name, member(node));
        return { id: node.id, address: node.address() };
      }
      case "members": {
        const out: MemberInfo[] = [];
        for (const [name, x] of members) {
          if (!name.startsWith(m.prefix)) continue;
          out.push({ name, id: x.node.id, grid: x.node.grid, address: x.node.address(), links: x.node.stats().links.map((l) => ({ peer: l.peer, address: l.address })) });
        }
        return out;
      }
      case "leave": {
        const gone = [...members].filter(([name]) => name.startsWith(m.prefix));
        for (const [name] of gone) members.delete(name);
        await Promise.all(gone.map(([, x]) => x.node.close(1000)));
        return gone.length;
      }
      case "run":
        return m.mode === "raw" ? runRaw(m, src, sink) : runPeer(m, members);
    }
  };
  process.send?.({ sinkPort: sink.address().port, sourcePort: src.address().port });
  process.on("message", (raw: unknown) => {
    if (raw === "exit") {
      void (async () => {
        await Promise.all([...members.values()].map((x) => x.node.close(500)));
        await lobby?.close();
        src.close();
        sink.close();
        process.disconnect?.();
      })();
      return;
    }
    const { id, ...req } = raw as { id: number } & LoadRequest;
    handle(req as LoadRequest).then(
      (value) => process.send?.({ id, ok: true, value }),
      (e: unknown) => process.send?.({ id, ok: false, error: e instanceof Error ? e.message : String(e) }),
    );
  });
}

if (process.send !== undefined) void main();
