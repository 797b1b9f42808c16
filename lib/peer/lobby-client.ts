/**
 * The peer's side of the lobby protocol (claims 24, 25, 34, 35, 44, 50, 51): open a
 * session, find or create the grid, get admitted with the members' addresses and the grid's
 * keys, heartbeat, report links, answer the lobby's probes, and register again when a
 * restarted lobby no longer knows the session.
 *
 * The lobby client owns the lobby session: the join target, the session id and heartbeat
 * period, the handshake (lobby-handshake.ts: keys, cookie), the grant nonce, the parts of a
 * member list still to come, and whether it is re-registering. It arms the heartbeat timer.
 * What admission starts (the join round, the pings) is the Peer's to wire (LobbyHooks).
 */
import { ErrorCode } from "../errors.ts";
import { MemberRole } from "../relay/spectators.ts";
import { encode, Kind, LobbyErrorCode, type AnyMessage, type Message, type MessageOf } from "../../wire/index.ts";
import type { AdmissionGrant } from "../security/admission.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";
import { LobbyHandshake } from "./lobby-handshake.ts";
import type { PendingRequest, RequestTag } from "./request-table.ts";
import { errorCodeOf } from "./lobby-errors.ts";
import { KeySchedule } from "./key-schedule.ts";
import { PeerTimer } from "./timers.ts";

export interface JoinTarget {
  grid: string | number;
  create: boolean;
  capacity: number;
  meta: string;
  /** A join token from the game's backend: presented once per session, before anything else. */
  token: Uint8Array | undefined;
  /** The role asked for in SelectGrid (lib/relay/spectators.ts). */
  role: MemberRole;
}

/** What the lobby client reports to the Peer, which decides what follows. */
export interface LobbyHooks {
  /** The lobby admitted this peer (every part of the member list is in). */
  admitted(now: number): void;
  /** A member's refreshed member list is in. */
  membersUpdated(now: number): void;
}

export class LobbyClient implements LinkObserver {
  readonly handshake: LobbyHandshake;
  /** The grid keys by epoch: switching forward and retiring the old key (key-schedule.ts). */
  readonly keys: KeySchedule;
  private target: JoinTarget | undefined;
  /** The lobby session id (0: none open). */
  session = 0;
  private heartbeatMs = 2000;
  /** Set while re-registering with a restarted lobby (Hello, then Rejoin instead of SelectGrid). */
  private rejoining = false;
  /** The highest Members nonce opened this session: an older grant replayed is ignored. */
  private grantNonce = 0;
  private partsWanted = 0;
  /** The join token was accepted on this session (JoinToken -> Ack). */
  private tokenShown = false;
  private partsSeen = new Set<number>();

  constructor(
    private readonly core: PeerCore,
    private readonly hooks: LobbyHooks,
  ) {
    this.handshake = new LobbyHandshake(core.cfg.crypto, core.credentials);
    this.keys = new KeySchedule(core);
  }

  /** join(): open a session, then find or create the grid (afterSession). */
  start(now: number, target: JoinTarget): void {
    this.target = target;
    if (typeof target.grid === "string") this.core.gridName = target.grid;
    this.sendHello(now);
  }

  private sendHello(now: number, keepKey = false): void {
    const core = this.core;
    core.request(now, core.cfg.lobby, this.handshake.hello(core.nextReq(), core.cfg.name, keepKey), { t: "hello" });
  }

  /**
   * A session request, in a session frame under the session's MAC key (PROTOCOL.md 6.10);
   * its retransmits are framed again under fresh counters (reframe). Nothing goes out
   * without a session: the callers check first.
   */
  ask(now: number, msg: AnyMessage & { req: number; session: number }, tag: RequestTag): void {
    const bytes = this.handshake.frame(encode(msg));
    if (bytes !== undefined) this.core.requestBytes(now, this.core.cfg.lobby, msg.req, bytes, tag);
  }

  /** The bytes a retransmission of `p` sends: a session frame gets the next counter (a replay would be dropped). */
  reframe(p: PendingRequest): Uint8Array {
    return p.bytes[2] === Kind.SessionFrame ? (this.handshake.reframe(p.bytes) ?? p.bytes) : p.bytes;
  }

  private sendSelect(now: number, part: number): void {
    const core = this.core;
    const req = core.nextReq();
    const msg = { kind: Kind.SelectGrid, req, session: this.session, grid: core.grid, limit: core.limit, part, role: this.target?.role ?? MemberRole.Player } as const;
    this.ask(now, msg, { t: "select", part });
  }

  private sendList(now: number, offset: number): void {
    const t = this.target;
    const filter = t !== undefined && typeof t.grid === "string" ? t.grid : "";
    const req = this.core.nextReq();
    this.ask(now, { kind: Kind.ListGrids, req, session: this.session, filter, offset }, { t: "list" });
  }

  /** Asks the lobby for the current member list again (idempotent SelectGrid), to find new link candidates. */
  refreshMembers(now: number): void {
    if (this.session !== 0 && this.core.grid !== 0) this.sendSelect(now, 0);
  }

  /** The heartbeat timer. */
  onHeartbeatTimer(now: number): void {
    const core = this.core;
    core.timers.arm(PeerTimer.Heartbeat, now + this.heartbeatMs);
    if (this.session === 0 || core.self === 0) return;
    const req = core.nextReq();
    const msg = { kind: Kind.Heartbeat, req, session: this.session, grid: core.grid, peer: core.self, links: core.links.ids.slice(0, 64) } as const;
    this.ask(now, msg, { t: "heartbeat" });
  }

  /** Claim 50: ask the lobby about a connection whose pings went unanswered. */
  askLinkStatus(now: number, other: number): void {
    if (this.session === 0) return;
    const core = this.core;
    const req = core.nextReq();
    this.ask(now, { kind: Kind.ConnStatus, req, session: this.session, grid: core.grid, peer: core.self, other }, { t: "status" });
  }

  /** leave(): tell the lobby (when there is a session to tell). */
  sendLeave(now: number): void {
    if (this.session === 0) return;
    const core = this.core;
    this.ask(now, { kind: Kind.Leave, req: core.nextReq(), session: this.session, grid: core.grid, peer: core.self }, { t: "leave" });
  }

  // Claims 44, 51: the lobby hears of every link that opens or closes.
  linkOpened(now: number, link: Link): void {
    this.reportLink(now, link.peer, true);
  }

  linkClosed(now: number, link: Link): void {
    this.reportLink(now, link.peer, false);
  }

  private reportLink(now: number, other: number, open: boolean): void {
    if (this.session === 0) return;
    const core = this.core;
    const req = core.nextReq();
    this.ask(now, { kind: Kind.ConnUpdate, req, session: this.session, grid: core.grid, peer: core.self, other, open }, { t: "connUpdate" });
  }

  /** The lobby checks a link it has a one-sided or contradictory report of. */
  onProbe(msg: MessageOf<typeof Kind.Probe>): void {
    const core = this.core;
    const linked = core.links.has(msg.other);
    const reply = this.handshake.frame(encode({ kind: Kind.ProbeReply, req: msg.req, session: this.session, grid: core.grid, peer: core.self, other: msg.other, linked }));
    if (reply !== undefined) core.transmit(core.cfg.lobby, reply);
  }

  // ---- replies (matched to our requests by the request table) ------------------------------

  onRetry(now: number, msg: MessageOf<typeof Kind.Retry>): void {
    this.handshake.retry(msg);
    this.sendHello(now, true);
  }

  /** The signed handshake reply; a drop reason (and the Hello left outstanding) when it does not verify. */
  onWelcome(now: number, msg: MessageOf<typeof Kind.Welcome>): DropReason | undefined {
    const drop = this.handshake.welcome(msg);
    if (drop !== undefined) return drop;
    this.grantNonce = 0; // nonces count per session key
    this.tokenShown = false;
    this.session = msg.session;
    this.heartbeatMs = Math.max(100, msg.heartbeatMs);
    this.afterSession(now);
    return undefined;
  }

  /** With a session open: re-register, or find/create the grid and select it. */
  private afterSession(now: number): void {
    const core = this.core;
    const token = this.target?.token;
    if (token !== undefined && !this.tokenShown) {
      // Admission (issue 18 item 7): the lobby's policy reads it at CreateGrid, SelectGrid, Rejoin.
      const req = core.nextReq();
      this.ask(now, { kind: Kind.JoinToken, req, session: this.session, sealed: this.handshake.sealToken(token, req) }, { t: "token" });
      return;
    }
    if (this.rejoining) {
      const req = core.nextReq();
      const msg = {
        kind: Kind.Rejoin,
        req,
        session: this.session,
        grid: core.grid,
        name: core.gridName,
        peer: core.self,
        limit: core.limit,
        links: core.links.ids.slice(0, 64),
        epoch: core.credentials.keyring.currentEpoch ?? 0,
        sealed: this.handshake.sealHeldKey(core.credentials.keyring, req),
      } as const;
      this.ask(now, msg, { t: "rejoin" });
      return;
    }
    const t = this.target;
    if (t === undefined) return;
    if (typeof t.grid === "number") {
      core.grid = t.grid;
      this.sendSelect(now, 0);
    } else if (t.create) {
      const req = core.nextReq();
      const msg = { kind: Kind.CreateGrid, req, session: this.session, name: t.grid, capacity: t.capacity, limit: core.limit, meta: t.meta } as const;
      this.ask(now, msg, { t: "create" });
    } else this.sendList(now, 0);
  }

  /** The lobby kept the join token: on with the join (or the re-registration). */
  onTokenShown(now: number): void {
    this.tokenShown = true;
    this.afterSession(now);
  }

  onGridCreated(now: number, msg: MessageOf<typeof Kind.GridCreated>): void {
    this.core.grid = msg.grid;
    this.core.gridName = msg.name;
    this.sendSelect(now, 0);
  }

  onGridList(now: number, msg: MessageOf<typeof Kind.GridList>): void {
    const t = this.target;
    const name = t !== undefined && typeof t.grid === "string" ? t.grid : "";
    const hit = msg.grids.find((g) => g.name === name);
    if (hit !== undefined) {
      this.core.grid = hit.grid;
      this.core.gridName = hit.name;
      this.sendSelect(now, 0);
    } else if (msg.offset + msg.grids.length < msg.total && msg.grids.length > 0) {
      this.sendList(now, msg.offset + msg.grids.length);
    } else if (t?.create === true) {
      // Created by someone else and removed again before we listed it: create it ourselves.
      this.afterSession(now);
    } else {
      this.fail(ErrorCode.UnknownGrid, `no grid named "${name}" in the lobby; pass create: true to create it`);
    }
  }

  /** A Members reply whose grant opened (the receive path checks it before taking the request). */
  onMembers(now: number, msg: MessageOf<typeof Kind.Members>, part: number, grant: AdmissionGrant): DropReason | undefined {
    const core = this.core;
    if (msg.grid !== core.grid || msg.part !== part) return PeerDrop.UnexpectedReply;
    // Parts asked for together can arrive out of order: an older grant's member list is
    // still good, but its keys would roll the keyring back (a replayed one too).
    if (msg.nonce > this.grantNonce) {
      if (!this.keys.takeGrant(now, this.heartbeatMs, grant)) return PeerDrop.BadGrant;
      this.grantNonce = msg.nonce;
    }
    core.self = msg.peer;
    for (const m of msg.members) core.rememberMember(m.peer, m.addr, true);
    if (part === 0) {
      this.partsWanted = msg.parts;
      this.partsSeen = new Set([0]);
      for (let p = 1; p < msg.parts; p++) this.sendSelect(now, p);
    } else this.partsSeen.add(part);
    if (this.partsSeen.size < this.partsWanted) return undefined;

    if (core.phase === "lobby") {
      core.setPhase("joining");
      core.emit({ type: "admitted", grid: core.grid, gridName: core.gridName, peer: core.self, members: core.members.size });
      core.timers.arm(PeerTimer.Heartbeat, now + this.heartbeatMs);
      this.hooks.admitted(now);
    } else this.hooks.membersUpdated(now);
    return undefined;
  }

  /** An Error that does not end its request (bare, to a Hello; or RateLimited): remembered for the give-up message. */
  onLobbyNotice(msg: MessageOf<typeof Kind.Error>): void {
    this.handshake.failure = `it answered Error ${msg.code}${msg.detail === "" ? "" : ` (${msg.detail})`}`;
  }

  /** An Error reply from the lobby to one of our requests. */
  onLobbyError(now: number, msg: MessageOf<typeof Kind.Error>, p: PendingRequest): void {
    const core = this.core;
    if (p.tag.t === "create" && msg.code === LobbyErrorCode.NameTaken) {
      this.sendList(now, 0); // create: true joins the grid when it already exists
      return;
    }
    if (core.phase === "member" && (msg.code === LobbyErrorCode.BadRequest || msg.code === LobbyErrorCode.UnknownGrid)) {
      // The lobby expired us (say, while it could not hear us): register again, same ids and links.
      if (!this.rejoining) {
        this.rejoining = true;
        this.afterSession(now);
      }
      return;
    }
    const code = errorCodeOf(msg.code);
    if (core.phase === "member" && code === ErrorCode.NotAdmitted) {
      // A restarted lobby would not restore this member: the grid relays on, but the lobby cannot help it.
      core.emit({ type: "error", code, message: `lobby refused ${p.tag.t}: ${msg.detail}` });
      return;
    }
    if (core.phase !== "lobby") return; // a refresh or update failing later is not fatal
    this.fail(code, `lobby refused ${p.tag.t}: ${msg.detail}`);
  }

  /** A restarted lobby does not know our session: open a new one and re-register. */
  onUnknownSession(now: number): void {
    const core = this.core;
    this.session = 0;
    core.requests.cancel((p) => p.to === core.cfg.lobby);
    if (core.self !== 0 && (core.phase === "member" || core.phase === "joining")) this.rejoining = true;
    this.sendHello(now);
  }

  /** The lobby's heartbeat answer names the epoch to send under and the newest one issued. */
  onHeartbeatAck(now: number, msg: MessageOf<typeof Kind.HeartbeatAck>): void {
    const action = this.keys.onHeartbeatAck(now, this.heartbeatMs, msg.epoch, msg.latest);
    // A rotation started: fetch the new key and a ticket under it; or we switched: a ticket
    // under the new epoch, in case ours is older.
    if (action !== "none") this.refreshMembers(now);
  }

  onRejoined(now: number): void {
    this.rejoining = false;
    this.refreshMembers(now); // the restored grid has a new key: get it with a fresh grant
    this.core.emit({ type: "reregistered", grid: this.core.grid, peer: this.core.self });
  }

  /** A lobby request gave up after every retransmit. */
  onGiveUp(now: number, tag: RequestTag): void {
    if (tag.t !== "hello" && tag.t !== "token" && tag.t !== "create" && tag.t !== "list" && tag.t !== "select") return; // refreshed later
    const core = this.core;
    if (core.phase === "lobby") {
      const refused = tag.t === "hello" ? this.handshake.failure : undefined;
      if (refused !== undefined) this.fail(ErrorCode.Rejected, `the lobby at ${core.cfg.lobby} failed the handshake: ${refused}`);
      else this.fail(ErrorCode.Timeout, `the lobby at ${core.cfg.lobby} did not answer ${tag.t} after ${core.cfg.maxAttempts} tries`);
    } else if (this.rejoining) this.sendHello(now); // keep looking for a restarted lobby
  }

  private fail(code: ErrorCode, message: string): void {
    this.core.setPhase("idle");
    this.target = undefined;
    this.core.emit({ type: "error", code, message });
  }
}

