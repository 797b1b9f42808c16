/**
 * Finding links: the join round of a joining peer (claims 26-33), the connection-available
 * round of a member below its limit (claims 36-43), and the lobby's island repairs. A round
 * sends a message to a sample of members, records each positive or negative response with
 * its response time (claims 28, 39), and when the time limit ends the join policy
 * (connection-rules.ts) picks: positives to connect to, or a negative responder to force.
 *
 * The seeker owns the seeking state: the round in progress, the last round's spare positives
 * and negatives, the slots held by Connect and Force requests in flight (`pending`, so a peer
 * never exceeds its limit when many pick each other at once), the repairs in flight, and the
 * claim 41 cooldowns. It arms the round-end and seek-tick timers.
 * Behind NATs (PROTOCOL.md 4.7) the members a round asks are also introduced and punched
 * (PathSource, nat-client.ts), asked again at a path proven before they answered, and sent
 * Connect or Force once their punch settles.
 */
import type { Address } from "../endpoint.ts";
import { shuffle } from "../rng.ts";
import { DisconnectReason, Kind, type MessageOf } from "../../wire/index.ts";
import type { Response } from "./connection-rules.ts";
import { NO_TAG, type PeerCore } from "./core.ts";
import { TICKET_DROP, type DropReason } from "./drops.ts";
import type { NeighbourCounts } from "./pings.ts";
import { closeTheirSide, initiatorAuth } from "./link-keys.ts";
import type { Link, LinkAuth, LinkObserver } from "./links.ts";
import type { PendingRequest } from "./request-table.ts";
import { MAX_ROUND_EXTENSION_MS, type PathSource } from "./nat-client.ts";
import { PeerTimer } from "./timers.ts";
import { Cooldowns } from "./cooldowns.ts";
import type { MemberSource, Round } from "./round.ts";

export type { MemberSource, Round } from "./round.ts";

type LinkReply = MessageOf<typeof Kind.ConnectReply> | MessageOf<typeof Kind.ForceReply>;

export class Seeker implements LinkObserver {
  /** Peers with a Connect or Force in flight: each holds a slot (never exceed the limit). */
  readonly pending = new Set<number>();
  /** Island repairs sent while full: when accepted, a link is dropped to make room. */
  readonly repairing = new Set<number>();
  /** Claim 41: peer -> time until which it is not chosen again. */
  readonly cooldown: Cooldowns;
  private round: Round | undefined;
  private roundSeq = 0;
  /** Positives of the last round not yet tried, in the rules' order (tried if a connect is refused). */
  private spare: Response[] = [];
  /** Negatives of the last round (force candidates, claims 32, 42). */
  private negatives: Response[] = [];
  /** Who the last round asked: a refreshed member list starts a round only for someone else. */
  private lastAsked: ReadonlySet<number> = new Set();

  constructor(
    private readonly core: PeerCore,
    private readonly lobby: MemberSource,
    private readonly paths: PathSource,
    private readonly counts: NeighbourCounts,
  ) {
    this.cooldown = new Cooldowns(core.cfg.maxKnownMembers);
  }

  /** Links plus slots held by requests in flight. */
  get used(): number {
    return this.core.links.size + this.pending.size;
  }

  hasRoom(): boolean {
    return this.used < this.core.limit;
  }

  // ---- rounds ----------------------------------------------------------------------------

  /** Admitted (claim 34): the join round (claim 26). */
  onAdmitted(now: number): void {
    this.startRound(now, "join");
  }

  /** A fresh member list: a member below its limit asks the newcomers (claim 36). */
  onMembersUpdated(now: number): void {
    // Only with someone new to ask: a round that found nobody refreshes the member list
    // again, and Members -> round -> SelectGrid -> Members would spin at network speed.
    const fresh = this.candidates(now).some(([peer]) => !this.lastAsked.has(peer));
    if (this.core.phase === "member" && this.hasRoom() && this.round === undefined && fresh) {
      this.startRound(now, "available");
    }
  }

  /** The seek timer (claim 36): below the limit and no round running, so start one. */
  onSeekTick(now: number): void {
    this.core.timers.disarm(PeerTimer.SeekTick);
    if (this.round !== undefined) return;
    const phase = this.core.phase;
    if (phase === "joining" && this.used === 0) this.startRound(now, "join");
    else if (phase === "member" && this.hasRoom()) this.startRound(now, "available");
  }

  /** leave(): the round in progress is dropped (its requests are cancelled with the rest). */
  abandon(): void {
    this.round = undefined;
  }

  /** Looks for links at a jittered `inMs` from now, unless a seek is already due sooner. */
  scheduleSeek(now: number, inMs: number): void {
    this.core.timers.armEarlier(PeerTimer.SeekTick, now + Math.floor(inMs * (0.5 + this.core.random.next())));
  }

  private startRound(now: number, kind: Round["kind"]): void {
    const core = this.core;
    const pool = shuffle(core.random, this.candidates(now)).slice(0, core.cfg.joinSample);
    if (pool.length === 0) {
      // The grid's first member (or everyone else is gone): joined with no links yet. Members
      // all in their claim 41 cooldown (they just dropped us) are not "gone": ask again later.
      if (kind === "join" && core.members.size === 0) core.becomeMember();
      // Nobody left to ask: the lobby may know members we do not (claim 24's member list).
      else this.lobby.refreshMembers(now);
      this.scheduleSeek(now, core.cfg.seekIntervalMs);
      return;
    }
    const id = ++this.roundSeq;
    const round: Round = { id, kind, sentAt: now, deadline: now + core.cfg.joinWindowMs, asked: pool.map(([peer]) => peer), responses: [], requests: new Map() };
    this.round = round;
    core.timers.arm(PeerTimer.RoundEnd, round.deadline);
    for (const [peer, listed] of pool) this.ask(now, round, peer, this.paths.addressOf(now, peer, listed));
    this.paths.punch(now, pool.map(([peer]) => peer), (t, peer, outcome) => outcome === "proven" && this.askAgain(t, id, peer));
  }

  private ask(now: number, round: Round, peer: number, addr: Address): void {
    const core = this.core;
    const req = core.nextReq();
    const msg = { req, grid: core.grid, from: core.self, to: peer, tag: NO_TAG };
    round.requests.set(peer, { req, addr });
    if (round.kind === "join") core.request(now, addr, { kind: Kind.Join, ...msg }, { t: "join", peer, round: round.id });
    else core.request(now, addr, { kind: Kind.Available, ...msg }, { t: "available", peer, round: round.id });
  }

  /** `peer`'s path was proven before it answered: ask it there now, and wait for it a little longer. */
  private askAgain(now: number, roundId: number, peer: number): void {
    const round = this.round;
    const first = round?.requests.get(peer);
    if (round === undefined || round.id !== roundId || first === undefined || round.responses.some((r) => r.peer === peer)) return;
    if (round.kind === "available" && this.core.links.size >= this.core.limit) return; // full since: claim 36 asks only below the limit
    const addr = this.paths.addressOf(now, peer, first.addr);
    const pending = this.core.requests.get(first.req);
    if (addr !== first.addr) this.ask(now, round, peer, addr);
    else if (pending !== undefined) this.core.transmit(addr, pending.bytes); // the punch opened the way: resend at once
    const window = this.core.cfg.joinWindowMs;
    round.deadline = Math.max(round.deadline, Math.min(now + window, round.sentAt + window + MAX_ROUND_EXTENSION_MS));
    this.core.timers.arm(PeerTimer.RoundEnd, round.deadline);
  }

  /** Members worth asking: known, not linked, not pending, not in the claim 41 cooldown. */
  private candidates(now: number): [number, Address][] {
    const out: [number, Address][] = [];
    for (const [peer, addr] of this.core.members) {
      if (this.core.links.has(peer) || this.pending.has(peer) || this.cooldown.active(now, peer)) continue;
      out.push([peer, addr]);
    }
    return out;
  }

  /** A JoinReply or AvailableReply matched to its request (claims 26-28, 36-39). */
  onRoundReply(now: number, roundId: number, peer: number, address: Address, positive: boolean, links: number): void {
    const round = this.round;
    if (round === undefined || round.id !== roundId) return; // a late answer to an ended round
    if (round.responses.some((r) => r.peer === peer)) return; // asked twice (again at its proven path)
    round.responses.push({
      peer,
      addr: address,
      positive,
      links,
      receivedAt: now,
      responseTimeMs: now - round.sentAt,
      order: round.responses.length,
    });
    if (round.responses.length >= round.asked.length) this.endRound(now);
  }

  /** The round's time limit passed (or everyone answered): the join policy chooses. */
  endRound(now: number): void {
    const core = this.core;
    const round = this.round;
    if (round === undefined) return;
    this.round = undefined;
    core.timers.disarm(PeerTimer.RoundEnd);
    core.requests.cancel((p) => (p.tag.t === "join" || p.tag.t === "available") && p.tag.round === round.id);

    const rules = core.cfg.connectionRules;
    const positives = round.responses.filter((r) => r.positive);
    this.negatives = round.responses.filter((r) => !r.positive);
    const want = core.limit - this.used;
    const chosen =
      round.kind === "join"
        ? rules.selectPositive(positives, want, core.random) // claims 29-31
        : rules.selectAvailable(positives, want, core.random); // claim 40
    this.spare = positives.filter((r) => !chosen.includes(r));
    for (const r of chosen) this.connect(now, r);
    // A member that did not answer has likely left: forget it (the member list is a bounded
    // sample, issue 16 item 4), so the next round asks someone else.
    this.lastAsked = new Set(round.asked);
    const answered = new Set(round.responses.map((r) => r.peer));
    for (const peer of round.asked) if (!answered.has(peer)) core.forgetMember(peer);
    if (chosen.length === 0) {
      // Nobody with room among those it knows (or nobody answered): a fresh member list,
      // which from a large grid is a new sample that prefers members with a free link.
      if (positives.length === 0) this.lobby.refreshMembers(now);
      this.maybeForce(now);
    }
    if (core.phase === "member" || core.phase === "joining") this.scheduleSeek(now, core.cfg.seekIntervalMs);
  }

  // ---- connect and force -----------------------------------------------------------------

  /** `overLimit`: an island repair from a full peer, which makes room only once accepted. */
  private connect(now: number, r: Response, overLimit = false): void {
    const core = this.core;
    if ((!overLimit && !this.hasRoom()) || core.links.has(r.peer) || this.pending.has(r.peer)) return;
    this.pending.add(r.peer);
    this.linkRequest(now, Kind.Connect, r.peer, r.addr);
  }

  /** Connect or Force (its slot held in `pending`), with the ticket for the path it goes to (PathSource.reach). */
  private linkRequest(now: number, kind: typeof Kind.Connect | typeof Kind.Force, peer: number, addr: Address): void {
    this.paths.reach(now, peer, addr, (at, to) => {
      const core = this.core;
      if (!this.pending.has(peer) || (core.phase !== "joining" && core.phase !== "member")) return;
      // Our half of the link key (PROTOCOL.md 6.13); retransmissions send the same bytes, so the same nonce.
      const nonce = core.newNonce();
      const msg = { req: core.nextReq(), grid: core.grid, from: core.self, to: peer, nonce, ticket: core.credentials.ticketFor(to), tag: NO_TAG };
      if (kind === Kind.Connect) core.request(at, to, { kind, ...msg }, { t: "connect", peer, nonce });
      else core.request(at, to, { kind, ...msg }, { t: "force", peer, nonce });
    });
  }

  /**
   * Claims 32-33 and 42-43: below the policy's forceBelowLinks (two by default) and nobody
   * with room, pick a negative responder by the connection rules and force a connection.
   */
  private maybeForce(now: number): void {
    const core = this.core;
    const rules = core.cfg.connectionRules;
    if (this.used >= Math.min(rules.forceBelowLinks, core.limit) || !this.hasRoom()) return;
    const pick = rules.selectForce(
      this.negatives.filter((r) => !core.links.has(r.peer) && !this.pending.has(r.peer)),
      core.random,
    );
    if (pick === undefined) return;
    this.negatives = this.negatives.filter((r) => r !== pick);
    this.sendForce(now, pick.peer, pick.addr);
  }

  private sendForce(now: number, peer: number, addr: Address, overLimit = false): void {
    const core = this.core;
    if ((!overLimit && !this.hasRoom()) || core.links.has(peer) || this.pending.has(peer)) return;
    this.pending.add(peer);
    this.linkRequest(now, Kind.Force, peer, addr);
  }

  /**
   * The answer to our Connect or Force (matched to it by the request table). An accepting
   * one must show the member's ticket for its id and address (PROTOCOL.md 6.3); returns the
   * drop reason when it does not.
   */
  onLinkReply(now: number, from: Address, msg: LinkReply, request: PendingRequest): DropReason | undefined {
    const core = this.core;
    let ok = msg.kind === Kind.ConnectReply ? msg.accepted : msg.ok;
    let drop: DropReason | undefined;
    // The link key from our nonce and the reply's (PROTOCOL.md 6.13); without one (no nonce, the epoch gone) no link.
    const auth = ok ? initiatorAuth(core, request, msg.from, msg.nonce) : undefined;
    if (auth === undefined) ok = false;
    else {
      const verdict = core.checkTicket(msg.from, from, msg.ticket);
      if (verdict !== "ok") {
        drop = TICKET_DROP[verdict];
        closeTheirSide(core, from, msg.from, auth, DisconnectReason.Misbehaving);
        ok = false;
      }
    }
    if (!ok || core.phase === "leaving" || core.phase === "closed") {
      this.onConnectFailed(now, msg.from);
      return drop;
    }
    if (msg.kind === Kind.ForceReply) core.counters.forcedConnections++;
    if (this.repairing.delete(msg.from) && core.links.size >= core.limit && !core.links.has(msg.from)) {
      // An accepted island repair from a full peer: drop the neighbour the policy picks.
      const d = core.pickDrop(now);
      if (d !== undefined) core.closeLink(now, d.peer, "forced");
      else this.counts.refreshCounts(now); // the next hint decides on fresh counts
    }
    if (core.links.size < core.limit || core.links.has(msg.from)) {
      this.pending.delete(msg.from);
      if (!core.openLink(now, msg.from, from, 0, auth as LinkAuth)) this.onConnectFailed(now, msg.from);
    } else closeTheirSide(core, from, msg.from, auth as LinkAuth, DisconnectReason.LimitLowered);
    return undefined;
  }

  /** A connect or force was refused or went unanswered: free its slot and try the next candidate. */
  onConnectFailed(now: number, peer: number): void {
    this.pending.delete(peer);
    if (this.repairing.delete(peer)) return; // a repair attempt: nothing to fall back on
    const core = this.core;
    if (core.links.has(peer)) return;
    const next = this.spare.shift();
    if (next !== undefined) this.connect(now, next);
    else this.maybeForce(now);
    // Still without a link: everyone it picked filled up meanwhile (peers joining at once).
    // A fresh join round soon gets current answers, and a force where nobody has room.
    if (core.phase === "joining" && this.used === 0 && this.round === undefined) {
      this.scheduleSeek(now, Math.min(core.cfg.seekIntervalMs, core.cfg.joinWindowMs) / 2);
    }
  }

  /**
   * Island repair (7,596,633): the lobby names members of the main component to link with
   * (a RepairHint checked by the receive path). One new link joins the islands. A full island
   * peer asks first and makes room only once the target has accepted (onLinkReply), so a hint
   * that cannot succeed (the other island is unreachable, a partition) costs no link.
   */
  onRepairHint(now: number, msg: MessageOf<typeof Kind.RepairHint>): void {
    const core = this.core;
    for (const t of msg.targets) core.rememberMember(t.peer, t.addr, true);
    // A game that turned force connection off (forceBelowLinks 0) never forces, hinted or not.
    if (msg.force && core.cfg.connectionRules.forceBelowLinks === 0) return;
    // A hint repeated while the last one's connect is in flight: that connect is the repair.
    if (msg.targets.some((x) => this.pending.has(x.peer))) return;
    const t = msg.targets.find((x) => !core.links.has(x.peer));
    if (t === undefined) return;
    const full = !this.hasRoom();
    if (full) {
      // One repair at a time; a forced one waits for no connect of ours (the lobby forces again 4 s later).
      if ((msg.force ? this.repairing.size : this.pending.size) > 0 || core.links.size === 0) return;
      this.repairing.add(t.peer);
    }
    this.cooldown.end(t.peer);
    const addr = this.paths.addressOf(now, t.peer, t.addr);
    if (msg.force) this.sendForce(now, t.peer, addr, full);
    else this.connect(now, { peer: t.peer, addr, positive: true, links: 0, receivedAt: now, responseTimeMs: 0, order: 0 }, full);
  }

  // ---- links and cooldowns ---------------------------------------------------------------

  linkOpened(_now: number, link: Link): void {
    this.cooldown.end(link.peer);
  }

  linkClosed(now: number, link: Link): void {
    const core = this.core;
    this.cooldown.start(link.peer, now + core.cfg.disconnectPeriodMs);
    // Below the limit now: look for a link soon (claim 36), not at the next regular tick.
    if (core.phase === "member" && this.hasRoom()) this.scheduleSeek(now, core.cfg.seekIntervalMs / 4);
  }
}
