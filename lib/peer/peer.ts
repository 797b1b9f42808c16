/**
 * Peer: one member of one grid (claims 13, 53): relays, establishes a grid, joins,
 * connects, maintains and disconnects. Sans-IO: it never reads a clock, sets a timer or
 * touches a socket (see lib/endpoint.ts for the driver loop). Time going backwards is
 * ignored (the Peer's clock only moves forward, as the Lobby's).
 *
 * Drain order for a driver, after every handle* call or command:
 *   pollTransmit() until undefined, then pollEvent() until undefined, then re-arm one
 *   timer at pollTimeout().
 *
 * Commands: join(now, options), broadcast(now, payload), send(now, payload, options),
 * joinTeam(team), leaveTeam(team), setConnectionLimit(now, n),
 * leave(now). Input: handleDatagram(now, from, bytes), handleTimeout(now).
 *
 * Where things are: the checks every datagram goes through, in order (receive.ts), the
 * phase table (phases.ts), the timer table (timers.ts, fired by handleTimeout below), the
 * drop table (drops.ts), the relay rules (lib/relay/rules.ts) and the join policy
 * (connection-rules.ts). The Peer composes its parts (parts.ts) and owns only its clock.
 */
import type { Address, Endpoint, Transmit } from "../endpoint.ts";
import { checkInt, ErrorCode, RelayGridError } from "../errors.ts";
import { roleValue, type MemberRoleName } from "../relay/spectators.ts";
import { MAX_JOIN_TOKEN_BYTES, MAX_META_BYTES, MAX_NAME_BYTES, utf8Length } from "../../wire/index.ts";
import { resolvePeerConfig, type PeerConfig, type ResolvedPeerConfig } from "./config.ts";
import type { NeighbourInfo } from "./connection-rules.ts";
import { PeerCore } from "./core.ts";
import { Delivery } from "./delivery.ts";
import { Messenger, type SendOptions } from "./messages.ts";
import { Router } from "./router.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { PeerEvent } from "./events.ts";
import { LobbyClient } from "./lobby-client.ts";
import { NatClient } from "./nat-client.ts";
import type { PeerParts } from "./parts.ts";
import { Pinger } from "./pings.ts";
import { isRelayData, Receiver } from "./receive.ts";
import { Redundancy } from "./redundancy.ts";
import { RelayPath } from "./relay-path.ts";
import { Repairer, type ParentSource } from "./repair.ts";
import { RepairServer } from "./repair-server.ts";
import { onGiveUp } from "./replies.ts";
import { Responder } from "./responder.ts";
import { Seeker } from "./seeker.ts";
import { Standing } from "./standing.ts";
import { PeerTimer, TIMER_ORDER } from "./timers.ts";
import { PeerView } from "./view.ts";

export interface JoinOptions {
  /** The grid's name (looked up in the lobby's grid list) or its numeric id. */
  grid: string | number;
  /** Create the grid when no grid has this name (claims 25, 35); join it when one does. Defaults to false. */
  create?: boolean;
  /** Member capacity when creating. Defaults to 256. */
  capacity?: number;
  /** Free-form game metadata when creating (at most 200 bytes). Defaults to "". */
  meta?: string;
  /**
   * A join token from the game's backend (createJoinToken), for a lobby that admits only
   * token holders: presented before the grid is created or selected. Defaults to none.
   */
  token?: Uint8Array;
  /**
   * "spectator": receive and relay the grid's data but send none (US 7,610,402); every member
   * drops what a spectator originates. The lobby grants it (stats().role, PROTOCOL.md 4.1.3).
   * Defaults to "player".
   */
  role?: MemberRoleName;
}

/**
 * Builds the parts, each given only the parts it asks for (no part imports another's
 * module for a value, so there is no import loop), and registers the link observers in
 * the order they are told: the lobby's link report, the seeker's cooldown, the relay rules,
 * the redundancy part (grafts when a parent's link closes), the repair part, the first ping.
 */
function compose(cfg: ResolvedPeerConfig): [PeerParts, Receiver] {
  const core = new PeerCore(cfg);
  const lobby = new LobbyClient(core, {
    admitted: (now) => {
      pings.start(now);
      nat.onAdmitted(now);
      seeker.onAdmitted(now);
    },
    membersUpdated: (now) => {
      nat.onMembersUpdated(now);
      seeker.onMembersUpdated(now);
    },
  });
  const nat = new NatClient(core, lobby);
  const pings = new Pinger(core, lobby);
  const seeker = new Seeker(core, lobby, nat, pings);
  const responder = new Responder(core, seeker, pings);
  const relay = new RelayPath(core);
  const parents: ParentSource = { parentOf: (origin) => redundancy.parentOf(origin) };
  const repair = cfg.repair ? new Repairer(core, relay.duplicates, new RepairServer(core, relay.rules), parents, relay) : undefined;
  const redundancy = new Redundancy(core, relay.list, repair);
  const delivery = new Delivery(core, repair);
  const router = new Router(core, relay.rules, parents);
  const messenger = new Messenger(core, relay, router);
  relay.use(redundancy, repair, delivery);
  core.observeLinks(lobby);
  core.observeLinks(seeker);
  core.observeLinks(relay);
  core.observeLinks(redundancy);
  if (repair !== undefined) core.observeLinks(repair);
  core.observeLinks(pings);
  const standing = new Standing(core);
  const parts: PeerParts = { core, lobby, seeker, responder, pings, relay, redundancy, repair, delivery, messenger, router, nat, standing };
  return [parts, new Receiver(parts)];
}

export class Peer extends PeerView implements Endpoint<PeerEvent> {
  private nowMs = -Infinity;
  /** What each named timer does when it fires; handleTimeout walks them in TIMER_ORDER. */
  private readonly onTimer: Readonly<Record<PeerTimer, (now: number) => void>>;

  /** Throws RelayGridError(invalid-config) when an option is out of range. */
  constructor(config: PeerConfig) {
    super(...compose(resolvePeerConfig(config)));
    const { core, lobby, seeker, pings, redundancy, repair, delivery, nat } = this.parts;
    core.timers.source(PeerTimer.Retransmit, () => core.requests.nextDeadline());
    this.onTimer = {
      [PeerTimer.Retransmit]: (now) => this.retransmit(now),
      [PeerTimer.RoundEnd]: (now) => seeker.endRound(now),
      [PeerTimer.PongDeadline]: (now) => pings.onPongDeadline(now),
      [PeerTimer.PingTick]: (now) => pings.onPingTick(now),
      [PeerTimer.Heartbeat]: (now) => lobby.onHeartbeatTimer(now),
      [PeerTimer.SeekTick]: (now) => seeker.onSeekTick(now),
      [PeerTimer.KeyGrace]: () => lobby.keys.onGraceOver(),
      [PeerTimer.RedundancyTick]: (now) => redundancy.onTick(now),
      [PeerTimer.RepairTick]: (now) => repair?.onTick(now),
      [PeerTimer.DeliveryTick]: (now) => delivery.onTick(now),
      [PeerTimer.Punch]: (now) => nat.onTimer(now),
      [PeerTimer.Unreachable]: (now) => nat.onUnreachableTimer(now),
      [PeerTimer.RoutedRetransmit]: (now) => this.parts.router.outbox.onTick(now),
      [PeerTimer.CloseDeadline]: () => this.finishClose(),
    };
  }

  // ---- commands ------------------------------------------------------------------------

  /** Opens a lobby session, finds (or creates) the grid, and joins it (claims 24-35). */
  join(now: number, options: JoinOptions): void {
    const t = this.advance(now);
    const core = this.parts.core;
    if (core.phase !== "idle") throw new RelayGridError(ErrorCode.InvalidConfig, `join() called while ${core.phase}: one Peer joins one grid`);
    const g = options.grid;
    if (typeof g === "string" ? g.length === 0 || utf8Length(g) > MAX_NAME_BYTES : !Number.isInteger(g) || g < 1 || g > 0xffffffff) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `grid must be a name of 1..${MAX_NAME_BYTES} bytes or a grid id, got ${String(g)}`);
    }
    const meta = options.meta ?? "";
    if (utf8Length(meta) > MAX_META_BYTES) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `meta is ${utf8Length(meta)} bytes > ${MAX_META_BYTES}`);
    }
    const capacity = checkInt("capacity", options.capacity ?? 256, 2, 0xffff);
    const token = options.token;
    if (token !== undefined && (!(token instanceof Uint8Array) || token.length < 1 || token.length > MAX_JOIN_TOKEN_BYTES)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `token must be 1 to ${MAX_JOIN_TOKEN_BYTES} bytes (a join token from createJoinToken)`);
    }
    const role = roleValue(options.role ?? "player");
    if (role === undefined) throw new RelayGridError(ErrorCode.InvalidConfig, `role must be "player" or "spectator", got ${String(options.role)}`);
    core.setPhase("lobby");
    this.parts.lobby.start(t, { grid: g, create: options.create ?? false, capacity, meta, token: token?.slice(), role });
  }

  /** Sends `payload` to every member of the grid, each exactly once (claims 2-4). Returns its sequence value. */
  broadcast(now: number, payload: Uint8Array, target: number | null = null): number {
    const t = this.advance(now);
    return this.parts.relay.broadcast(t, payload, target);
  }

  /**
   * Sends `payload` (up to MAX_MESSAGE_BYTES, 256 KiB) to every member, or with `to` to one
   * member, as `options` say: unreliable by default, `reliable`, `ordered` (per origin), or to
   * a `team` only (PROTOCOL.md 4.1.1). Returns the seq the receivers see it under.
   * Throws RelayGridError: payload-too-large over the maximum, invalid-config for a bad option.
   */
  send(now: number, payload: Uint8Array, options: SendOptions & { to?: number } = {}): number {
    const t = this.advance(now);
    return this.parts.messenger.send(t, payload, options.to ?? null, options);
  }

  /** Joins team `team` (a u32 > 0) inside this grid: its team messages are delivered here from now on. */
  joinTeam(team: number): void {
    this.parts.delivery.teams.add(checkInt("team", team, 1, 0xffffffff));
  }

  /** Leaves team `team`: its team messages are relayed but no longer delivered here. */
  leaveTeam(team: number): void {
    this.parts.delivery.teams.delete(team);
  }

  /**
   * Claim 10: change this peer's connection limit while running. Lowering it closes the
   * surplus links (the neighbours the drop policy picks, the most connected first, so the
   * grid stays whole); raising it makes the peer look for more links.
   */
  setConnectionLimit(now: number, limit: number): void {
    const t = this.advance(now);
    const { core, lobby, seeker } = this.parts;
    const before = core.limit;
    core.limit = checkInt("connectionLimit", limit, 2, 64);
    // The lobby plans island repair from each member's limit: selecting the grid again is
    // how a member tells it the new one (and it refreshes the member list, for seeking).
    if (core.limit !== before && core.phase === "member") lobby.refreshMembers(t);
    while (core.links.size > core.limit) {
      // Everyone at 2 links: the drop policy refuses them all, but the limit wins.
      core.closeLink(t, (core.pickDrop(t, true) as NeighbourInfo).peer, "limit-lowered");
    }
    if (core.phase === "member" && seeker.hasRoom()) seeker.scheduleSeek(t, 0);
  }

  /** Leaves gracefully: tells every neighbour and the lobby, then emits "closed". */
  leave(now: number): void {
    const t = this.advance(now);
    const { core, lobby, seeker, nat } = this.parts;
    if (core.phase === "leaving" || core.phase === "closed") return;
    const wasMember = core.self !== 0;
    core.setPhase("leaving");
    seeker.abandon();
    nat.abandon();
    for (const peer of [...core.links.ids]) core.closeLink(t, peer, "leave");
    core.requests.cancel((p) => p.tag.t !== "disconnect" && p.tag.t !== "connUpdate");
    if (wasMember) lobby.sendLeave(t);
    core.timers.disarmAll();
    core.timers.arm(PeerTimer.CloseDeadline, t + core.cfg.retransmitMs * 4);
  }

  // ---- input ---------------------------------------------------------------------------

  /** Untrusted input: every datagram is accepted or dropped under one named reason (receive.ts, drops.ts). */
  handleDatagram(now: number, from: Address, bytes: Uint8Array): void {
    const t = this.advance(now);
    const c = this.parts.core.counters;
    c.datagramsIn++;
    c.bytesIn += bytes.length;
    let reason: DropReason | undefined;
    if (isRelayData(bytes)) reason = this.receiver.receiveData(t, from, bytes);
    else {
      try {
        reason = this.receiver.receive(t, from, bytes);
      } catch {
        reason = PeerDrop.InternalError; // a handler threw: a Peer bug, counted (tests assert none)
      }
    }
    if (reason === undefined) c.accepted++;
    else c.drop(reason);
  }

  /** Fires every due timer, in the timer table's order (timers.ts). */
  handleTimeout(now: number): void {
    const t = this.advance(now);
    const core = this.parts.core;
    for (const name of TIMER_ORDER) {
      const at = core.timers.deadline(name);
      if (at === undefined) continue;
      // leave() waits for its acks until the close deadline, or until none is outstanding.
      if (at <= t || (name === PeerTimer.CloseDeadline && core.requests.size === 0)) this.onTimer[name](t);
    }
  }

  // ---- output --------------------------------------------------------------------------

  pollTransmit(): Transmit | undefined {
    const core = this.parts.core;
    const tx = core.outbox.shift();
    if (tx !== undefined) {
      core.counters.datagramsOut++;
      core.counters.bytesOut += tx.bytes.length;
    }
    return tx;
  }

  pollEvent(): PeerEvent | undefined {
    return this.parts.core.events.shift();
  }

  pollTimeout(): number | undefined {
    return this.parts.core.timers.earliest();
  }

  // ---- internals -----------------------------------------------------------------------

  /** Time going backwards is ignored (STYLE.md 1), the same way as in the Lobby. */
  private advance(now: number): number {
    if (now > this.nowMs) this.nowMs = now;
    return this.nowMs;
  }

  private retransmit(now: number): void {
    const core = this.parts.core;
    core.requests.due(
      now,
      (p) => {
        core.counters.retransmits++;
        p.bytes = this.parts.lobby.reframe(p);
        core.transmit(p.to, p.bytes);
      },
      (p) => onGiveUp(this.parts, now, p),
    );
  }

  private finishClose(): void {
    const core = this.parts.core;
    core.timers.disarm(PeerTimer.CloseDeadline);
    core.requests.cancel(() => true);
    core.setPhase("closed");
    core.emit({ type: "closed" });
  }
}
