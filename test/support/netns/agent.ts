/**
 * The process the NAT bench runs inside a namespace (`ip netns exec NS node --import tsx
 * agent.ts`): it does what the test asks over stdin, one JSON request per line, and answers
 * on stdout, one JSON line per request ({id, ok, result} or {id, ok: false, error}).
 *
 *   udp.open  {bind?: "ip:port" | port, echo?}  -> {id, address}  a UDP socket; with echo, it
 *             answers "who" with "seen <ip:port>" (the source it saw: a STUN-like reflector)
 *   udp.send  {id, to, text}                    sends one datagram
 *   udp.take  {id, waitMs, min?}                -> [{from, text}] what arrived (waits up to waitMs for min)
 *   udp.close {id}
 *   lobby.start {host, port, heartbeatMs?}      -> {address, key}   a relaygrid lobby (createLobby)
 *   lobby.view  {}                              -> stats, grids and each grid's members and graph
 *   peer.join   {lobby, lobbyKey, grid, ...}    -> {id, address, joinedMs} or {error: {code, message, afterMs}}
 *   peer.broadcast {handle, text}; peer.report {handle}; peer.close {handle}
 *   punch.run  {id, to: [addr], intervalMs, durationMs, linger}  -> {sent, received}  hole
 *             punching as PROTOCOL.md 4.7 does it, without the crypto: "punch" to every
 *             candidate every intervalMs, "ack" to whoever punched in, stop `linger` rounds
 *             after something arrived (so the other side's NAT sees us answer)
 *   nat.join   {lobby, lobbyKey, grid, create, locals}  -> {handle, grid, peer, observed, ticket, local}
 *             (a local address ending in ":0" gets the socket's port)
 *             a scripted member speaking the lobby side of NAT traversal (nat-member.ts)
 *   nat.introduce {handle, targets} -> results;  nat.introductions {handle, waitMs, min} -> [Introduction]
 *   exit
 *
 * Bounded: it exits after --lifetime-ms (default 120000) whatever happens, and at once when
 * stdin closes (the test died). Every socket binds inside the namespace, so all traffic stays
 * on the bench.
 */
import { createSocket, type Socket } from "node:dgram";
import { createInterface } from "node:readline";
import { createLobby, joinGrid, type LobbyServer, type NodePeer } from "../../../platform/node/index.ts";
import { NatMember } from "./nat-member.ts";

const started = performance.now();
const lifetimeArg = process.argv.indexOf("--lifetime-ms");
const lifetimeMs = lifetimeArg > 0 ? Number(process.argv[lifetimeArg + 1]) : 120_000;
setTimeout(() => process.exit(3), lifetimeMs).unref();

type Args = Record<string, unknown>;
const sockets = new Map<number, { socket: Socket; inbox: { from: string; text: string }[] }>();
const peers = new Map<number, PeerRecord>();
const natMembers = new Map<number, NatMember>();
let lobby: LobbyServer | undefined;
let nextId = 1;

interface PeerRecord {
  peer: NodePeer;
  received: { origin: number; seq: number; hops: number; text: string; atMs: number }[];
  events: { type: string; atMs: number; [k: string]: unknown }[];
}

const now = (): number => Math.round(performance.now() - started);

function hostPort(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(":");
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(text.slice(i + 1)) };
}

async function openUdp(a: Args): Promise<unknown> {
  const socket = createSocket("udp4");
  const inbox: { from: string; text: string }[] = [];
  const id = nextId++;
  socket.on("message", (msg, rinfo) => {
    const from = `${rinfo.address}:${rinfo.port}`;
    const text = msg.toString("utf8");
    if (a["echo"] === true && text === "who") socket.send(`seen ${from}`, rinfo.port, rinfo.address);
    else inbox.push({ from, text });
  });
  const bind = a["bind"];
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    if (typeof bind === "string") socket.bind(hostPort(bind).port, hostPort(bind).host, resolve);
    else socket.bind(typeof bind === "number" ? bind : 0, resolve);
  });
  socket.on("error", () => undefined); // ICMP errors after a send to a closed port: not the test's business
  sockets.set(id, { socket, inbox });
  const addr = socket.address();
  return { id, address: `${addr.address}:${addr.port}` };
}

function socketOf(a: Args): { socket: Socket; inbox: { from: string; text: string }[] } {
  const s = sockets.get(Number(a["id"]));
  if (s === undefined) throw new Error(`no socket ${String(a["id"])}`);
  return s;
}

async function take(a: Args): Promise<unknown> {
  const s = socketOf(a);
  const min = Number(a["min"] ?? 1);
  const deadline = performance.now() + Number(a["waitMs"] ?? 0);
  while (s.inbox.length < min && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return s.inbox.splice(0);
}

function natMemberOf(a: Args): NatMember {
  const m = natMembers.get(Number(a["handle"]));
  if (m === undefined) throw new Error(`no NAT member ${String(a["handle"])}`);
  return m;
}

function peerOf(a: Args): PeerRecord {
  const p = peers.get(Number(a["handle"]));
  if (p === undefined) throw new Error(`no peer ${String(a["handle"])}`);
  return p;
}

async function join(a: Args): Promise<unknown> {
  const t0 = now();
  const early: PeerRecord["events"] = [];
  try {
    const peer = await joinGrid({
      lobby: String(a["lobby"]),
      lobbyKey: String(a["lobbyKey"]),
      grid: String(a["grid"]),
      create: a["create"] === true,
      connectionLimit: Number(a["limit"] ?? 4),
      name: String(a["name"] ?? "bench"),
      host: "0.0.0.0",
      joinTimeoutMs: Number(a["joinTimeoutMs"] ?? 10_000),
      onEvent: (e) => {
        if (e.type === "data") return;
        const { type, ...rest } = e as { type: string };
        early.push({ type, atMs: now(), ...rest });
      },
    });
    const handle = nextId++;
    const rec: PeerRecord = { peer, received: [], events: early };
    peers.set(handle, rec);
    const decoder = new TextDecoder();
    peer.on("data", (payload, info) => rec.received.push({ origin: info.origin, seq: info.seq, hops: info.hops, text: decoder.decode(payload), atMs: now() }));
    peer.on("error", () => undefined); // recorded as an event above
    return { handle, id: peer.id, address: peer.address(), joinedMs: now() - t0 };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { error: { code: err.code ?? "exception", message: err.message ?? String(e), afterMs: now() - t0 }, events: early };
  }
}

/** See punch.run in the header. Uses the socket's inbox; returns what arrived, with times from the start. */
async function punch(a: Args): Promise<unknown> {
  const s = socketOf(a);
  const to = (a["to"] as string[]).map(hostPort);
  const interval = Number(a["intervalMs"] ?? 50);
  const deadline = performance.now() + Number(a["durationMs"] ?? 2000);
  const t0 = performance.now();
  const received: { from: string; text: string; atMs: number }[] = [];
  let sent = 0;
  let linger = Number(a["linger"] ?? 3);
  s.inbox.splice(0);
  while (performance.now() < deadline && linger > 0) {
    for (const t of to) {
      s.socket.send("punch", t.port, t.host);
      sent++;
    }
    await new Promise((r) => setTimeout(r, interval));
    for (const d of s.inbox.splice(0)) {
      received.push({ ...d, atMs: Math.round(performance.now() - t0) });
      if (d.text === "punch") s.socket.send("ack", hostPort(d.from).port, hostPort(d.from).host);
    }
    if (received.length > 0) linger--;
  }
  return { sent, received };
}

async function handle(op: string, a: Args): Promise<unknown> {
  switch (op) {
    case "udp.open":
      return openUdp(a);
    case "udp.send": {
      const { host, port } = hostPort(String(a["to"]));
      socketOf(a).socket.send(String(a["text"]), port, host);
      return null;
    }
    case "udp.take":
      return take(a);
    case "udp.close":
      socketOf(a).socket.close();
      sockets.delete(Number(a["id"]));
      return null;
    case "lobby.start": {
      lobby = await createLobby({
        host: String(a["host"]),
        port: Number(a["port"] ?? 7777),
        ...(a["heartbeatMs"] === undefined ? {} : { heartbeatMs: Number(a["heartbeatMs"]) }),
      });
      return { address: lobby.address(), key: lobby.publicKey() };
    }
    case "lobby.view": {
      if (lobby === undefined) throw new Error("no lobby started");
      const l = lobby.lobby;
      const { driver: _driver, ...stats } = lobby.stats();
      return {
        stats,
        grids: l.grids().map((g) => ({ ...g, members: l.membersOf(g.grid), componentsOf: l.componentsOf(g.grid) })),
      };
    }
    case "peer.join":
      return join(a);
    case "peer.broadcast":
      return peerOf(a).peer.broadcast(new TextEncoder().encode(String(a["text"])));
    case "peer.report": {
      const p = peerOf(a);
      const s = p.peer.stats();
      return {
        id: p.peer.id,
        links: s.links.map((l) => ({ peer: l.peer, address: l.address })),
        received: p.received,
        events: p.events,
        drops: s.drops,
        retransmits: s.retransmits,
        duplicates: s.duplicates,
        datagramsOut: s.datagramsOut,
      };
    }
    case "peer.close":
      await peerOf(a).peer.close();
      peers.delete(Number(a["handle"]));
      return null;
    case "nat.join": {
      const m = await NatMember.open(String(a["lobby"]), String(a["lobbyKey"]));
      const info = await m.join(String(a["grid"]), a["create"] === true, (a["locals"] as string[] | undefined ?? []).map((l) => l.replace(/:0$/, `:${m.port}`)));
      const handle = nextId++;
      natMembers.set(handle, m);
      return { handle, ...info };
    }
    case "nat.introduce":
      return natMemberOf(a).introduce(a["targets"] as number[]);
    case "nat.introductions":
      return natMemberOf(a).introductions(Number(a["waitMs"] ?? 1000), Number(a["min"] ?? 1));
    case "punch.run":
      return punch(a);
    case "exit":
      setTimeout(() => process.exit(0), 10);
      return null;
    default:
      throw new Error(`unknown op ${op}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let req: { id: number; op: string; args?: Args };
  try {
    req = JSON.parse(line) as typeof req;
  } catch {
    return;
  }
  handle(req.op, req.args ?? {}).then(
    (result) => process.stdout.write(`${JSON.stringify({ id: req.id, ok: true, result })}\n`),
    (e: unknown) => process.stdout.write(`${JSON.stringify({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) })}\n`),
  );
});
rl.on("close", () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
