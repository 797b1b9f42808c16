/**
 * Peer: one member of one grid (claims 13, 53): relays, establishes a grid, joins,
 * connects, maintains and disconnects. Sans-IO: it never reads a clock, sets a timer or
 * touches a socket (see lib/endpoint.ts for the driver loop).
 *
 * Drain order for a driver, after every handle* call or command:
 *   pollTransmit() until undefined, then pollEvent() until undefined, then re-arm one
 *   timer at pollTimeout().
 *
 * Commands: join(now, options), broadcast(now, payload), setConnectionLimit(now, n),
 * leave(now). Input: handleDatagram(now, from, bytes), handleTimeout(now).
 */
import type { Address, Endpoint, Transmit } from "../endpoint.ts";
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import { suppressedByName } from "../relay/rules.ts";
import { checkTag } from "../security/grid-keys.ts";
import {
  decode,
  Kind,
  MAX_META_BYTES,
  MAX_NAME_BYTES,
  utf8Length,
  type Message,
} from "../../wire/index.ts";
import { resolvePeerConfig, type PeerConfig } from "./config.ts";
import { PeerCore, type Phase } from "./core.ts";
import type { PeerEvent } from "./events.ts";
import * as lobby from "./lobby-client.ts";
import * as maintenance from "./maintenance.ts";
import * as member from "./member-side.ts";
import { broadcast, onData } from "./relay-path.ts";
import * as seeker from "./seeker.ts";
import { onGiveUp, onReply } from "./replies.ts";
import type { PeerStats } from "./stats.ts";

export interface JoinOptions {
  /** The grid's name (looked up in the lobby's grid list) or its numeric id. */
  grid: string | number;
  /** Create the grid when no grid has this name (claims 25, 35); join it when one does. Defaults to false. */
  create?: boolean;
  /** Member capacity when creating. Defaults to 256. */
  capacity?: number;
  /** Free-form game metadata when creating (at most 200 bytes). Defaults to "". */
  meta?: string;
}

export class Peer implements Endpoint<PeerEvent> {
  private readonly core: PeerCore;
  private lastNow = 0;

  constructor(config: PeerConfig) {
    this.core = new PeerCore(resolvePeerConfig(config));
  }

  // ---- getters -------------------------------------------------------------------------

  /** This peer's id in its grid; 0 until admitted. */
  get id(): number {
    return this.core.self;
  }
  get grid(): number {
    return this.core.grid;
  }
  get phase(): Phase {
    return this.core.phase;
  }
  get connectionLimit(): number {
    return this.core.limit;
  }
  /** Peer ids of the current links. */
  get linkPeers(): readonly number[] {
    return this.core.links.ids;
  }

  stats(): PeerStats {
    const c = this.core;
    const k = c.counters;
    return {
      peer: c.self,
      grid: c.grid,
      phase: c.phase,
      connectionLimit: c.limit,
      links: [...c.links.all()].map((l) => ({ peer: l.peer, address: l.address, srttMs: l.srttMs, neighbourLinks: l.neighbourLinks })),
      datagramsIn: k.datagramsIn,
      datagramsOut: k.datagramsOut,
      bytesIn: k.bytesIn,
      bytesOut: k.bytesOut,
      broadcasts: k.broadcasts,
      delivered: k.delivered,
      relayed: k.relayed,
      duplicates: k.duplicates,
      stale: k.stale,
      suppressed: suppressedByName(c.cfg.relayRules, c.suppressed),
      drops: { ...k.drops },
      linksOpened: k.linksOpened,
      linksClosed: k.linksClosed,
      forcedConnections: k.forcedConnections,
      retransmits: k.retransmits,
    };
  }

  // ---- commands ------------------------------------------------------------------------

  /** Opens a lobby session, finds (or creates) the grid, and joins it (claims 24-35). */
  join(now: number, options: JoinOptions): void {
    const c = this.core;
    this.tick(now);
    if (c.phase !== "idle") throw new RelayGridError(ErrorCode.InvalidConfig, `join() called while ${c.phase}: one Peer joins one grid`);
    const g = options.grid;
    if (typeof g === "string" ? g.length === 0 || utf8Length(g) > MAX_NAME_BYTES : !Number.isInteger(g) || g < 1 || g > 0xffffffff) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `grid must be a name of 1..${MAX_NAME_BYTES} bytes or a grid id, got ${String(g)}`);
    }
    const meta = options.meta ?? "";
    if (utf8Length(meta) > MAX_META_BYTES) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `meta is ${utf8Length(meta)} bytes > ${MAX_META_BYTES}`);
    }
    c.target = { grid: g, create: options.create ?? false, capacity: checkInt("capacity", options.capacity ?? 256, 2, 0xffff), meta };
    if (typeof g === "string") c.gridName = g;
    c.phase = "lobby";
    lobby.sendHello(c);
  }

  /** Sends `payload` to every member of the grid, each exactly once (claims 2-4). Returns its sequence value. */
  broadcast(now: number, payload: Uint8Array, target: number | null = null): number {
    this.tick(now);
    return broadcast(this.core, payload, target);
  }

  /**
   * Claim 10: change this peer's connection limit while running. Lowering it closes the
   * surplus links (the most connected neighbours first, so the grid stays whole); raising
   * it makes the peer look for more links.
   */
  setConnectionLimit(now: number, limit: number): void {
    const c = this.core;
    this.tick(now);
    const before = c.limit;
    c.limit = checkInt("connectionLimit", limit, 2, 64);
    // The lobby plans island repair from each member's limit: selecting the grid again is
    // how a member tells it the new one (and it refreshes the member list, for seeking).
    if (c.limit !== before && c.phase === "member") lobby.refreshMembers(c);
    while (c.links.size > c.limit) {
      const neighbours = [...c.links.all()].map((l) => ({ peer: l.peer, links: l.neighbourLinks, rttMs: l.srttMs }));
      const drop =
        c.cfg.connectionRules.selectDrop(neighbours, c.random) ??
        neighbours.reduce((a, b) => (b.links > a.links ? b : a)); // everyone is at 2: drop anyway, the limit wins
      c.closeLink(drop.peer, "limit-lowered");
    }
    if (c.phase === "member" && c.hasRoom()) c.scheduleSeek(0);
  }

  /** Leaves gracefully: tells every neighbour and the lobby, then emits "closed". */
  leave(now: number): void {
    const c = this.core;
    this.tick(now);
    if (c.phase === "leaving" || c.phase === "closed") return;
    const wasMember = c.self !== 0;
    c.phase = "leaving";
    c.round = undefined;
    for (const peer of [...c.links.ids]) c.closeLink(peer, "leave");
    c.requests.cancel((p) => p.tag.t !== "disconnect" && p.tag.t !== "connUpdate");
    if (wasMember && c.session !== 0) {
      const req = c.nextReq();
      c.request(c.cfg.lobby, { kind: Kind.Leave, req, session: c.session, grid: c.grid, peer: c.self }, { t: "leave" });
    }
    for (const k of Object.keys(c.timers) as (keyof typeof c.timers)[]) c.timers[k] = undefined;
    c.timers.closeDeadline = now + c.cfg.retransmitMs * 4;
  }

  // ---- input ---------------------------------------------------------------------------

  handleDatagram(now: number, from: Address, bytes: Uint8Array): void {
    const c = this.core;
    this.tick(now);
    c.counters.datagramsIn++;
    c.counters.bytesIn += bytes.length;
    if (c.phase === "closed") return;
    // Hot path first: a relay envelope goes straight to the hand decoder (fixarray(9), v1, kind 1).
    if (bytes.length >= 3 && bytes[0] === 0x99 && bytes[1] === 1 && bytes[2] === Kind.Data) {
      onData(c, from, bytes);
      return;
    }
    // Peer<->peer control must carry a valid tag under one of the grid's keys: checked on
    // the raw bytes before anything is decoded (cheapest check first, STYLE.md 6).
    const kind = bytes.length >= 3 ? (bytes[2] as number) : -1;
    const fromLink = c.links.byAddr(from) !== undefined;
    if (!fromLink && from !== c.cfg.lobby && !c.strangers.allow(c.now, from)) {
      c.counters.drop("rate-limited");
      return;
    }
    if (kind >= 0x10 && kind <= 0x1f) {
      const t = checkTag(c.keyring, bytes, -1);
      if (t !== "ok") {
        c.invalid(from, `tag-${t}`);
        return;
      }
    }
    const r = decode(bytes);
    if (!r.ok) {
      // Past a valid tag, an undecodable body is a member's fault.
      c.invalid(from, r.code, kind >= 0x10 && kind <= 0x1f);
      return;
    }
    this.dispatch(from, r.msg);
  }

  handleTimeout(now: number): void {
    const c = this.core;
    this.tick(now);
    const t = c.timers;
    c.requests.due(
      c.now,
      (p) => {
        c.counters.retransmits++;
        c.transmit(p.to, p.bytes);
      },
      (p) => onGiveUp(c, p),
    );
    if (t.roundEnd !== undefined && t.roundEnd <= c.now) seeker.endRound(c);
    if (t.pongDeadline !== undefined && t.pongDeadline <= c.now) maintenance.onPongDeadline(c);
    if (t.pingTick !== undefined && t.pingTick <= c.now) maintenance.onPingTick(c);
    if (t.heartbeat !== undefined && t.heartbeat <= c.now) {
      t.heartbeat = c.now + c.heartbeatMs;
      lobby.sendHeartbeat(c);
    }
    if (t.seekTick !== undefined && t.seekTick <= c.now) seeker.onSeekTick(c);
    if (t.closeDeadline !== undefined && (t.closeDeadline <= c.now || c.requests.size === 0)) this.finishClose();
  }

  // ---- output --------------------------------------------------------------------------

  pollTransmit(): Transmit | undefined {
    return this.core.outbox.shift();
  }

  pollEvent(): PeerEvent | undefined {
    return this.core.events.shift();
  }

  pollTimeout(): number | undefined {
    const c = this.core;
    let min = c.requests.nextDeadline();
    for (const v of Object.values(c.timers)) if (v !== undefined && (min === undefined || v < min)) min = v;
    return min;
  }

  // ---- internals -----------------------------------------------------------------------

  /** Time going backwards is ignored (STYLE.md 1): the core's clock only moves forward. */
  private tick(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    this.core.now = this.lastNow;
  }

  private finishClose(): void {
    const c = this.core;
    c.timers.closeDeadline = undefined;
    c.requests.cancel(() => true);
    c.phase = "closed";
    c.emit({ type: "closed" });
  }

  private dispatch(from: Address, msg: Message): void {
    const c = this.core;
    const fromLobby = from === c.cfg.lobby;
    switch (msg.kind) {
      case Kind.Join:
      case Kind.Available:
      case Kind.Connect:
      case Kind.Force:
      case Kind.Disconnect:
      case Kind.Ping:
        if (msg.grid !== c.grid || c.self === 0 || msg.from === c.self || (c.phase !== "member" && c.phase !== "joining")) {
          c.counters.drop(msg.grid !== c.grid ? "wrong-grid" : "unexpected-in-state");
          return;
        }
        if (msg.kind === Kind.Join || msg.kind === Kind.Available) member.onAsk(c, from, msg);
        else if (msg.kind === Kind.Connect) member.onConnect(c, from, msg);
        else if (msg.kind === Kind.Force) member.onForce(c, from, msg);
        else if (msg.kind === Kind.Disconnect) member.onDisconnect(c, from, msg);
        else member.onPing(c, from, msg);
        return;
      case Kind.Pong:
        if (msg.grid !== c.grid) c.counters.drop("wrong-grid");
        else maintenance.onPong(c, from, msg);
        return;
      case Kind.Probe:
        if (!fromLobby || msg.grid !== c.grid || msg.peer !== c.self) c.counters.drop("unexpected-probe");
        else member.onProbe(c, msg);
        return;
      case Kind.RepairHint:
        if (!fromLobby || msg.grid !== c.grid || msg.peer !== c.self || c.phase !== "member") c.counters.drop("unexpected-hint");
        else member.onRepairHint(c, msg);
        return;
      case Kind.LobbyClosing:
        if (!fromLobby) c.counters.drop("unexpected-kind");
        // The grid keeps relaying without its lobby; heartbeats find a restarted one.
        return;
      case Kind.JoinReply:
      case Kind.AvailableReply:
      case Kind.ConnectReply:
      case Kind.ForceReply:
      case Kind.DisconnectAck:
      case Kind.Welcome:
      case Kind.GridList:
      case Kind.GridCreated:
      case Kind.Members:
      case Kind.Ack:
      case Kind.ConnStatusReply:
      case Kind.HeartbeatAck:
      case Kind.UnknownSession:
      case Kind.Retry:
      case Kind.Error:
        onReply(c, from, msg);
        return;
      case Kind.Data:
        onData(c, from, msg.payload); // unreachable: the hot path took it; kept for exhaustiveness
        return;
      case Kind.Hello:
      case Kind.ListGrids:
      case Kind.CreateGrid:
      case Kind.SelectGrid:
      case Kind.ConnUpdate:
      case Kind.ConnStatus:
      case Kind.ProbeReply:
      case Kind.Heartbeat:
      case Kind.Leave:
      case Kind.Rejoin:
        c.counters.drop("unexpected-kind"); // lobby-bound requests are not for a peer
        return;
      default:
        assertNever(msg);
    }
  }


}

function assertNever(x: never): never {
  throw new Error(`unhandled message kind ${String((x as { kind: unknown }).kind)}`);
}
