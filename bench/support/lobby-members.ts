/**
 * Simulated lobby members for the lobby-capacity group: one node:dgram socket per member
 * (the lobby binds a session to the address its Hello came from, so members cannot share a
 * socket), all on 127.0.0.1 in this process, speaking the lobby protocol from the wire
 * codec: Hello -> Retry -> Hello with the cookie -> Welcome, CreateGrid (one member per
 * grid) -> GridCreated, SelectGrid -> Members, then Heartbeats -> HeartbeatAck.
 *
 * After the Welcome a member frames every request under its session's MAC key, as a peer
 * must (PROTOCOL.md 6.10; a retransmission is a new frame), and reads the lobby's frames
 * without checking their tags or opening its grant (that is the peer's CPU, not the
 * lobby's); all members share a few X25519 keys (the lobby's work per Hello is the same). Heartbeats report links to the member's two ring
 * neighbours in its grid, which report it back, so every grid is one component and the
 * lobby keeps its graph as it would for a live grid.
 */
import { createSocket, type Socket } from "node:dgram";
import { decode, encode, Kind, MIN_HELLO_BYTES, type Message } from "../../wire/index.ts";
import { beginHandshake, finishHandshake } from "../../lib/security/handshake.ts";
import { deriveSessionMacKeys, SessionFramer } from "../../lib/security/session-frame.ts";
import type { KeyPair } from "../../lib/security/crypto.ts";
import { NodeCrypto } from "../../platform/node/node-crypto.ts";

const HOST = "127.0.0.1";
/** A request unanswered this long is sent again (same bytes), up to RETRIES times. */
const RETRY_MS = 1000;
const RETRIES = 5;
/** Replies matched by req: a ring of send times (reqs are sequential). */
const RING = 1 << 20;

type Step = "hello" | "cookie" | "create" | "select" | "done" | "failed";

interface Member {
  readonly index: number;
  readonly socket: Socket;
  readonly gridIndex: number;
  readonly creator: boolean;
  step: Step;
  req: number;
  bytes: Uint8Array;
  sentAt: number;
  tries: number;
  startedAt: number;
  session: number;
  /** Frames this member's requests once its Welcome came. */
  framer: SessionFramer | undefined;
  grid: number;
  peer: number;
  links: number[];
}

export interface JoinResult {
  readonly joined: number;
  readonly failed: number;
  readonly seconds: number;
  readonly retries: number;
  /** Hello to Members, per member (ms). */
  readonly latencyMs: number[];
}

export interface HeartbeatResult {
  /** Heartbeats sent per second (the offered load the generator achieved). */
  readonly sentPerSec: number;
  /** Replies per second. */
  readonly ackedPerSec: number;
  readonly sent: number;
  readonly lost: number;
  readonly lossPct: number;
  readonly latencyMs: number[];
  readonly seconds: number;
  /** This process's CPU per heartbeat sent (us). */
  readonly loadCpuUs: number;
}

const bind = (): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, HOST, () => resolve(s));
  });

export class MemberFleet {
  private readonly crypto = new NodeCrypto();
  private readonly keys = Array.from({ length: 8 }, () => beginHandshake(this.crypto));
  private nextReq = 1;
  private readonly sentAt = new Float64Array(RING);
  private readonly acked = new Uint8Array(RING);
  private onAck: ((req: number) => void) | undefined;
  private lobbyPort = 0;

  private constructor(
    private readonly members: Member[],
    private readonly gridSize: number,
  ) {
    for (const m of members) m.socket.on("message", (msg: Uint8Array) => this.onReply(m, msg));
  }

  /** Binds `count` sockets, members of grids of `gridSize` (the first of each grid creates it). */
  static async open(count: number, gridSize: number): Promise<MemberFleet> {
    const members: Member[] = [];
    for (let i = 0; i < count; i += 256) {
      const socks = await Promise.all(Array.from({ length: Math.min(256, count - i) }, bind));
      socks.forEach((socket, k) => {
        const index = i + k;
        const gridIndex = Math.floor(index / gridSize);
        members.push({ index, socket, gridIndex, creator: index % gridSize === 0, step: "hello", req: 0, bytes: new Uint8Array(0), sentAt: 0, tries: 0, startedAt: 0, session: 0, framer: undefined, grid: 0, peer: 0, links: [] });
      });
    }
    return new MemberFleet(members, gridSize);
  }

  get size(): number {
    return this.members.length;
  }

  private background: ReturnType<typeof setInterval> | undefined;

  /**
   * Every joined member heartbeats every `intervalMs` (the cadence the Welcome asked for),
   * as a live member would, until stopBackground(): while others join and between measured
   * windows. Its replies are not measured.
   */
  startBackground(intervalMs: number): void {
    this.stopBackground();
    let i = 0;
    let t = performance.now();
    this.background = setInterval(() => {
      const now = performance.now();
      // Members in turn, size / intervalMs per ms, so each one every intervalMs.
      const due = Math.floor(((now - t) * this.members.length) / intervalMs);
      for (let k = 0; k < due; k++, i = (i + 1) % this.members.length) {
        const m = this.members[i] as Member;
        if (m.step === "done") this.heartbeat(m, this.nextReq++ >>> 0, this.lobbyPort);
      }
      if (due > 0) t = now;
    }, 10);
  }

  stopBackground(): void {
    if (this.background !== undefined) clearInterval(this.background);
    this.background = undefined;
  }

  private heartbeat(m: Member, req: number, port: number): void {
    const bytes = this.framed(m, { kind: Kind.Heartbeat, req, session: m.session, grid: m.grid, peer: m.peer, links: m.links });
    m.socket.send(bytes, port, HOST);
  }

  /** `msg` as this member sends it: bare before its Welcome (Hello), in a session frame after. */
  private framed(m: Member, msg: Message): Uint8Array {
    const body = encode(msg);
    return m.framer?.frame(body) ?? body;
  }

  /** Every member joins `lobbyPort`, at most `window` at a time (grid creators first). */
  async join(lobbyPort: number, window: number): Promise<JoinResult> {
    this.lobbyPort = lobbyPort;
    const t0 = performance.now();
    const latencyMs: number[] = [];
    let retries = 0;
    const grids = new Map<number, number>();
    const order = [...this.members.filter((m) => m.creator), ...this.members.filter((m) => !m.creator)];
    let next = 0;
    const active = new Set<Member>();
    await new Promise<void>((resolve) => {
      const start = (m: Member): void => {
        m.startedAt = performance.now();
        active.add(m);
        this.hello(m);
      };
      const fill = (): void => {
        while (active.size < window && next < order.length) {
          const m = order[next] as Member;
          // A member waits until its grid exists.
          if (!m.creator && !grids.has(m.gridIndex)) break;
          next++;
          if (!m.creator) m.grid = grids.get(m.gridIndex) as number;
          start(m);
        }
        if (active.size === 0 && next >= order.length) resolve();
      };
      this.advance = (m: Member) => {
        if (m.step === "done" || m.step === "failed") {
          active.delete(m);
          if (m.step === "done") {
            latencyMs.push(performance.now() - m.startedAt);
            if (m.creator) grids.set(m.gridIndex, m.grid);
            this.linkNeighbours(m);
          }
          fill();
        }
      };
      const timer = setInterval(() => {
        const now = performance.now();
        for (const m of active) {
          if (now - m.sentAt < RETRY_MS) continue;
          if (m.tries >= RETRIES) {
            m.step = "failed";
            this.advance(m);
          } else {
            retries++;
            this.resend(m);
          }
        }
        if (active.size === 0 && next >= order.length) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      fill();
    });
    this.advance = () => {};
    const joined = this.members.filter((m) => m.step === "done").length;
    return { joined, failed: this.members.length - joined, seconds: (performance.now() - t0) / 1000, retries, latencyMs };
  }

  /**
   * Heartbeats at `perSec` in all (member i's at phase i / size of the period), to the lobby
   * or to `echoPort`, for `ms`; then waits `graceMs` for the last replies. A heartbeat
   * without a reply is lost.
   */
  async heartbeats(target: { port: number }, perSec: number, ms: number, graceMs = 500): Promise<HeartbeatResult> {
    const live = this.members.filter((m) => m.step === "done");
    if (live.length === 0) throw new Error("lobby-capacity: no member joined");
    const first = this.nextReq;
    const latencyMs: number[] = [];
    this.onAck = (req) => {
      const i = req & (RING - 1);
      if (req < first || this.acked[i] === 1) return;
      this.acked[i] = 1;
      latencyMs.push(performance.now() - (this.sentAt[i] as number));
    };
    let sent = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        const due = Math.min(Math.floor(((now - t0) * perSec) / 1000), Math.floor((ms * perSec) / 1000));
        for (; sent < due; sent++) {
          const m = live[sent % live.length] as Member;
          const req = this.nextReq++ >>> 0;
          const i = req & (RING - 1);
          this.sentAt[i] = now;
          this.acked[i] = 0;
          this.heartbeat(m, req, target.port);
        }
        if (now - t0 >= ms) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    await new Promise((r) => setTimeout(r, graceMs));
    this.onAck = undefined;
    const lost = sent - latencyMs.length;
    return {
      sentPerSec: sent / seconds,
      ackedPerSec: latencyMs.length / seconds,
      sent,
      lost,
      lossPct: sent === 0 ? 0 : (100 * lost) / sent,
      latencyMs,
      seconds,
      loadCpuUs: (c.user + c.system) / Math.max(1, sent),
    };
  }

  close(): void {
    for (const m of this.members) m.socket.close();
  }

  // --- the join state machine --------------------------------------------------------

  private advance: (m: Member) => void = () => {};

  private send(m: Member, msg: Message): void {
    m.req = (msg as { req: number }).req;
    m.bytes = this.framed(m, msg);
    m.tries = 0;
    m.sentAt = performance.now();
    m.tries++;
    m.socket.send(m.bytes, this.lobbyPort, HOST);
  }

  /** The request again: the same bytes before the Welcome, a new frame (the next counter) after it. */
  private resend(m: Member): void {
    if (m.framer !== undefined) m.bytes = m.framer.reframe(m.bytes) ?? m.bytes;
    m.sentAt = performance.now();
    m.tries++;
    m.socket.send(m.bytes, this.lobbyPort, HOST);
  }

  private hello(m: Member, cookie: Uint8Array = new Uint8Array(0)): void {
    m.step = cookie.length === 0 ? "hello" : "cookie";
    const eph = (this.keys[m.index % this.keys.length] as KeyPair).publicKey;
    const base = { kind: Kind.Hello, req: this.nextReq++, name: `m${m.index}`, cookie, eph } as const;
    const short = MIN_HELLO_BYTES - encode({ ...base, pad: new Uint8Array(0) }).length;
    this.send(m, { ...base, pad: new Uint8Array(Math.max(0, short)) });
  }

  private select(m: Member): void {
    m.step = "select";
    this.send(m, { kind: Kind.SelectGrid, req: this.nextReq++, session: m.session, grid: m.grid, limit: 4, part: 0, role: 0 });
  }

  private onReply(m: Member, raw: Uint8Array): void {
    const outer = decode(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
    // A frame's body, unchecked (the lobby's frames, or the echo baseline's copy of ours).
    const d = outer.ok && outer.msg.kind === Kind.SessionFrame ? decode(outer.msg.body) : outer;
    if (!d.ok) return;
    const msg = d.msg;
    if (msg.kind === Kind.HeartbeatAck || msg.kind === Kind.Heartbeat) {
      this.onAck?.(msg.req);
      return;
    }
    if (!("req" in msg) || msg.req !== m.req) return;
    if (m.step === "hello" && msg.kind === Kind.Retry) this.hello(m, msg.cookie.slice());
    else if (m.step === "cookie" && msg.kind === Kind.Welcome) {
      m.session = msg.session;
      const hs = finishHandshake(this.crypto, this.keys[m.index % this.keys.length] as KeyPair, { lobbyEph: msg.eph, signature: msg.signature, session: msg.session }, undefined, msg.identity);
      if (!hs.ok) {
        m.step = "failed";
        this.advance(m);
        return;
      }
      m.framer = SessionFramer.forPeer(deriveSessionMacKeys(this.crypto, hs.sessionKey), msg.session);
      if (m.creator) {
        m.step = "create";
        this.send(m, { kind: Kind.CreateGrid, req: this.nextReq++, session: m.session, name: `capacity-${m.gridIndex}`, capacity: this.gridSize, limit: 4, meta: "" });
      } else this.select(m);
    } else if (m.step === "create" && msg.kind === Kind.GridCreated) {
      m.grid = msg.grid;
      this.select(m);
    } else if (m.step === "select" && msg.kind === Kind.Members) {
      m.peer = msg.peer;
      m.step = "done";
      this.advance(m);
    } else if (msg.kind === Kind.Error) {
      m.step = "failed";
      this.advance(m);
    }
  }

  /**
   * A member's links: its ring neighbours in its grid (the previous and next index, the
   * last one linking back to the first), both ends reporting, once both have joined.
   */
  private linkNeighbours(m: Member): void {
    const base = m.gridIndex * this.gridSize;
    const size = Math.min(this.gridSize, this.members.length - base);
    if (size < 2) return;
    const ring = (k: number): Member => this.members[base + ((k - base + size) % size)] as Member;
    for (const n of [ring(m.index - 1), ring(m.index + 1)]) {
      if (n === m || n.step !== "done") continue;
      if (!m.links.includes(n.peer)) m.links.push(n.peer);
      if (!n.links.includes(m.peer)) n.links.push(m.peer);
    }
  }
}
