/**
 * NAT traversal, the peer's side (PROTOCOL.md 4.7, 6.9, 7.2): register the link key with the
 * lobby after admission (and again after a key rotation or a lobby restart), ask the lobby
 * to introduce members before a join, connection-available or repair round asks them (the
 * seeker's PathSource), punch (punch.ts) and report each punch, and tell a joining peer that
 * reaches nobody so within unreachableAfterMs (the fix for a peer that used to sit alone).
 *
 * A lobby that does not answer Register (it does not speak 4.7) or refuses it turns NAT
 * traversal off for the membership: the peer then links as in 4.2 only. A member that never
 * registered (IntroStatus NoKey) is asked as in 4.2, at the address the lobby listed.
 *
 * Owns: the registration state, the round being prepared (`gate`), members found unreachable
 * (not introduced again for UNREACHABLE_RETRY_MS), the punches, and the counters for the
 * error message. Arms the punch and unreachable timers.
 */
import type { Address } from "../endpoint.ts";
import { ErrorCode } from "../errors.ts";
import { IntroStatus, MAX_INTRODUCE_TARGETS, NatKind, type NatMessageOf } from "../../wire/index.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import { NatRegistration, type NatLobby } from "./nat-registration.ts";
import { Puncher, type PunchSession } from "./punch.ts";
import type { RequestTag } from "./request-table.ts";
import { unreachableMessage } from "./unreachable.ts";
import { PeerTimer } from "./timers.ts";

type Nat<K extends keyof typeof NatKind> = NatMessageOf<(typeof NatKind)[K]>;

/** A round that asks a member late (its path was just proven) lasts at most this much past joinWindowMs. Defaults to 1000 ms. */
export const MAX_ROUND_EXTENSION_MS = 1000;
/** A member a punch could not reach is not introduced again for this long. Defaults to 30000 ms. */
export const UNREACHABLE_RETRY_MS = 30_000;
/** How often idle proven paths are swept (proven-paths.ts). Defaults to 5000 ms. */
export const PATH_SWEEP_MS = 5000;
const MAX_UNREACHABLE_MARKS = 1024;

/** How the seeker reaches members behind NATs (this NAT client). */
export interface PathSource {
  /** The address to send to `peer`: its proven path, else `listed` (the lobby's). */
  addressOf(now: number, peer: number, listed: Address): Address;
  /**
   * Has the lobby introduce, and punches, those of `peers` with no proven path; returns the
   * ones whose punch is under way, each `settled` once: "proven", "failed", or "not-punched"
   * (the lobby could not introduce it, e.g. it never registered a key: ask it as in 4.2).
   */
  punch(now: number, peers: readonly number[], settled: Settled): ReadonlySet<number>;
  /**
   * Calls `send` with the address to send `peer` a link request: at once when it is not being
   * punched, else once its punch settles (a request before its path is proven could show only
   * the address-bound ticket, refused behind a NAT that gives us another port per destination).
   */
  reach(now: number, peer: number, listed: Address, send: (now: number, to: Address) => void): void;
}

export type PunchOutcome = "proven" | "failed" | "not-punched";
type Settled = (now: number, peer: number, outcome: PunchOutcome) => void;

/** Someone (a round, a repair) waiting for a member's punch. */
interface Waiter {
  readonly settled: Settled;
  readonly deadline: number;
}

/** A waiter whose member's punch never started (a lost Introduction) is told "failed" after this long. */
const WAIT_MS = 4000;
/** A link request waits this long at most for a punch under way (then goes to the address it has). Defaults to 1000 ms. */
export const REACH_WAIT_MS = 1000;

export interface NatStats {
  /** off (natTraversal false), unregistered, registering, registered, or unsupported (the lobby did not answer or refused). */
  readonly state: string;
  readonly observed: Address | undefined;
  readonly introductions: number;
  readonly noKey: number;
  readonly punchesOk: number;
  readonly punchesFailed: number;
  readonly provenPaths: number;
  readonly punching: number;
}

export class NatClient implements PathSource {
  readonly punches: Puncher;
  private readonly reg: NatRegistration;
  /** A round already went out while Register was unanswered: later rounds do not wait for it. */
  private registerWaited = false;
  /** Per member, who waits for its punch (a stale waiter's callback finds its round over and does nothing). */
  private readonly waiters = new Map<number, Waiter[]>();
  /** Link requests in the order they were asked for: each goes out once it and every one before it is ready (PathSource.reach). */
  private readonly reaching: { readonly at: number; ready: boolean; to: Address; readonly send: (now: number, to: Address) => void }[] = [];
  /** Introductions asked for while Register is still unanswered: sent once it is. */
  private queued: number[] = [];
  private readonly unreachable = new Map<number, number>();
  /** The unreachable deadline was moved once (the peer had proven paths at the first): the next one tells. */
  private secondWindow = false;
  private sweepAt = Infinity;
  private readonly n = { introductions: 0, noKey: 0, notMember: 0, rateLimited: 0, punchesOk: 0, punchesFailed: 0 };

  constructor(
    private readonly core: PeerCore,
    private readonly lobby: NatLobby,
  ) {
    this.reg = new NatRegistration(core, lobby);
    this.punches = new Puncher(core, { proven: (now, s) => this.onProven(now, s), ended: (now, s) => this.onEnded(now, s), role: () => this.reg.probeRole() });
  }

  stats(): NatStats {
    const n = this.n;
    const punching = [...this.punches.sessions.values()].filter((s) => !s.ended).length;
    return { state: this.reg.state, observed: this.reg.observed, introductions: n.introductions, noKey: n.noKey, punchesOk: n.punchesOk, punchesFailed: n.punchesFailed, provenPaths: this.core.credentials.paths.size, punching };
  }

  // ---- registration (nat-registration.ts) ---------------------------------------------

  /** Admitted: register the link key, and start the unreachable deadline. */
  onAdmitted(now: number): void {
    this.secondWindow = false;
    this.core.timers.arm(PeerTimer.Unreachable, now + this.core.cfg.unreachableAfterMs);
    this.reg.register(now);
  }

  /** A fresh grant: register again under a new session (a restarted lobby) or a new active epoch (a rotation). */
  onMembersUpdated(now: number): void {
    this.reg.onMembersUpdated(now);
  }

  /** Registered (matched to our Register): introductions asked for meanwhile go out now. */
  onRegistered(now: number, msg: NatMessageOf<typeof NatKind.Registered>): DropReason | undefined {
    const drop = this.reg.onRegistered(msg);
    if (drop !== undefined) return drop;
    this.introduce(now, this.queued);
    this.queued = [];
    return undefined;
  }

  /** Register or Introduce refused or unanswered: an old lobby, or this membership cannot punch. */
  onRefused(now: number, tag: RequestTag): void {
    if (tag.t === "register" && this.reg.state !== "registered") {
      this.reg.state = "unsupported";
      this.queued = [];
      for (const p of [...this.waiters.keys()]) this.release(now, p, "not-punched");
    } else if (tag.t === "introduce") for (const p of tag.targets) this.release(now, p, "not-punched");
  }

  // ---- the seeker's PathSource ----------------------------------------------------------

  /** Where to send to `peer`: its proven path, else the address the lobby listed. */
  addressOf(now: number, peer: number, listed: Address): Address {
    return this.core.credentials.paths.of(peer) ?? listed;
  }

  /** PathSource.punch: at most 8 introduced per call (one Introduce); the rest wait for a later round. */
  punch(now: number, peers: readonly number[], settled: Settled): ReadonlySet<number> {
    const held = new Set<number>();
    if (this.reg.state === "off" || this.reg.state === "unsupported" || (this.reg.state !== "registered" && this.registerWaited)) return held;
    const paths = this.core.credentials.paths;
    const introduce: number[] = [];
    for (const p of peers) {
      if (paths.of(p) !== undefined || (this.unreachable.get(p) ?? 0) > now) continue;
      if (this.punches.sessions.get(p)?.ended === false) held.add(p); // its punch is under way
      else if (introduce.length < MAX_INTRODUCE_TARGETS) {
        introduce.push(p);
        held.add(p);
      }
    }
    for (const p of held) {
      const list = this.waiters.get(p) ?? [];
      list.push({ settled, deadline: now + WAIT_MS });
      this.waiters.set(p, list);
    }
    if (this.reg.state === "registered") this.introduce(now, introduce);
    else this.queued.push(...introduce);
    this.rearm();
    return held;
  }

  /**
   * PathSource.reach. Only a punch already under way (or asked for) is waited for, and at most REACH_WAIT_MS;
   * requests asked for at one instant go out in the order asked (the connection rules' order,
   * claims 29-31).
   */
  reach(now: number, peer: number, listed: Address, send: (now: number, to: Address) => void): void {
    const entry = { at: now, ready: false, to: listed, send };
    this.reaching.push(entry);
    // Waited for when under way (introduced, or being introduced), unless both address-bound
    // tickets hold anyway: this peer keeps its port, and the member answered from where the lobby saw it.
    const direct = this.reg.keepsPort() && this.core.members.get(peer) === listed;
    if (!direct && (this.waiters.has(peer) || this.punches.sessions.get(peer)?.ended === false)) {
      const settled: Settled = (at, _p, outcome) => {
        entry.ready = true;
        entry.to = outcome === "proven" ? this.addressOf(at, peer, listed) : listed;
        this.flushReaching(at);
      };
      const list = this.waiters.get(peer) ?? [];
      list.push({ settled, deadline: now + REACH_WAIT_MS });
      this.waiters.set(peer, list);
      this.rearm();
    } else {
      entry.ready = true;
      entry.to = this.addressOf(now, peer, listed);
    }
    this.flushReaching(now);
  }

  /** Sends every ready request that no earlier request of its instant still holds back. */
  private flushReaching(now: number): void {
    const blocked = new Set<number>();
    for (let i = 0; i < this.reaching.length; i++) {
      const e = this.reaching[i] as (typeof this.reaching)[number];
      if (!e.ready) blocked.add(e.at);
      else if (!blocked.has(e.at)) {
        this.reaching.splice(i--, 1);
        e.send(now, e.to);
      }
    }
  }

  private release(now: number, peer: number, outcome: PunchOutcome): void {
    const list = this.waiters.get(peer);
    if (list === undefined) return;
    this.waiters.delete(peer);
    for (const w of list) w.settled(now, peer, outcome);
  }

  private introduce(now: number, targets: readonly number[]): void {
    if (targets.length === 0) return;
    const core = this.core;
    const req = core.nextReq();
    this.lobby.ask(now, { kind: NatKind.Introduce, req, session: this.lobby.session, grid: core.grid, peer: core.self, targets: [...targets] }, { t: "introduce", targets: [...targets] });
  }

  onIntroduced(now: number, msg: Nat<"Introduced">): void {
    for (const r of msg.results) {
      if (r.status === IntroStatus.Introduced) {
        this.n.introductions++;
        continue; // its Introduction starts the punch, which releases it
      }
      if (r.status === IntroStatus.NoKey) this.n.noKey++;
      else if (r.status === IntroStatus.RateLimited) this.n.rateLimited++;
      else this.n.notMember++;
      this.release(now, r.peer, "not-punched");
    }
  }

  /** The lobby's Introduction (from the lobby's address, checked by the receive path). */
  onIntroduction(now: number, msg: Nat<"Introduction">): DropReason | undefined {
    const core = this.core;
    if (msg.grid !== core.grid || msg.peer !== core.self || msg.other === core.self || msg.other === 0) return PeerDrop.UnexpectedIntroduction;
    if (this.reg.state !== "registered") return undefined; // nothing to punch with (a stale notice)
    core.rememberMember(msg.other, msg.addr, true);
    this.punches.start(now, msg);
    this.rearm();
    return undefined;
  }

  // ---- punching -------------------------------------------------------------------------

  /** A Punch or PunchReply past the tag and decode: ids, then its key-bound ticket (6.9, steps 3-4), then the punch. */
  onPunch(now: number, from: Address, msg: Nat<"Punch"> | Nat<"PunchReply">): DropReason | undefined {
    const core = this.core;
    if (msg.grid !== core.grid) return PeerDrop.WrongGrid;
    if (msg.from === core.self) return PeerDrop.FromSelf;
    if (msg.to !== core.self) return PeerDrop.PunchWrongTo;
    const ticket = core.credentials.punchTicket(core.grid, msg.from, msg.ticket);
    if (ticket === null) return PeerDrop.PunchBadTicket;
    const drop = msg.kind === NatKind.Punch ? this.punches.onPunch(now, from, msg) : this.punches.onPunchReply(now, from, msg, ticket.key);
    this.rearm();
    return drop;
  }

  private onProven(now: number, s: PunchSession): void {
    this.unreachable.delete(s.other);
    if (this.sweepAt === Infinity) this.sweepAt = now + PATH_SWEEP_MS;
    this.release(now, s.other, "proven");
  }

  private onEnded(now: number, s: PunchSession): void {
    const core = this.core;
    const ok = s.proven !== undefined;
    if (ok) this.n.punchesOk++;
    else {
      this.n.punchesFailed++;
      if (this.unreachable.size >= MAX_UNREACHABLE_MARKS) this.unreachable.delete(this.unreachable.keys().next().value as number);
      this.unreachable.set(s.other, now + UNREACHABLE_RETRY_MS);
    }
    const elapsedMs = Math.round((ok ? s.provenAt : now) - s.startedAt);
    core.emit({ type: "punched", peer: s.other, ok, attempts: s.sent, probes: s.probes, sprayed: s.sprayed, elapsedMs, address: s.proven, local: ok && s.candidates.indexOf(s.proven as Address) > 0 });
    const req = core.nextReq();
    const report = { kind: NatKind.PunchReport, req, session: this.lobby.session, grid: core.grid, peer: core.self, other: s.other, ok, attempts: Math.min(s.sent, 0xffff), elapsedMs } as const;
    this.lobby.ask(now, report, { t: "punchReport" });
    if (!ok) this.release(now, s.other, "failed");
  }

  // ---- timers --------------------------------------------------------------------------

  onTimer(now: number): void {
    this.punches.onTimer(now);
    if (this.sweepAt <= now) {
      const core = this.core;
      core.credentials.paths.expire(now, (a) => core.links.byAddr(a) !== undefined);
      this.sweepAt = core.credentials.paths.size > 0 ? now + PATH_SWEEP_MS : Infinity;
    }
    for (const [p, list] of [...this.waiters]) if (list.some((w) => w.deadline <= now)) this.release(now, p, this.reg.state === "registering" ? "not-punched" : "failed");
    if (this.reg.state === "registering" && this.queued.length > 0 && this.waiters.size === 0) {
      this.registerWaited = true; // Register went unanswered for a whole wait: do not punch until it is
      this.queued = [];
    }
    this.rearm();
  }

  /**
   * unreachableAfterMs after admission: a peer still joining reaches nobody; it is told why
   * (and keeps trying). A peer that holds proven paths then is not stranded, its links are
   * slow (a loaded grid, a round of refusals): it gets one more unreachableAfterMs before
   * it is told (it used to give up at the first while its punches were still succeeding).
   * A peer that proved no path is told at the first, within PROTOCOL.md 7.2's 10 s.
   */
  onUnreachableTimer(now: number): void {
    const core = this.core;
    core.timers.disarm(PeerTimer.Unreachable);
    if (core.phase !== "joining") return;
    if (!this.secondWindow && core.credentials.paths.size > 0) {
      this.secondWindow = true;
      core.timers.arm(PeerTimer.Unreachable, now + core.cfg.unreachableAfterMs);
      return;
    }
    const { punchesOk, punchesFailed, noKey } = this.n;
    const grid = core.gridName !== "" ? `"${core.gridName}"` : String(core.grid);
    const facts = { afterMs: core.cfg.unreachableAfterMs, windows: this.secondWindow ? 2 : 1, provenPaths: core.credentials.paths.size, grid, members: core.members.size };
    const nat = { state: this.reg.state, observed: this.reg.observed, locals: core.cfg.localAddresses, punchesOk, punchesFailed, noKey, links: core.links.size };
    core.emit({ type: "error", code: ErrorCode.Unreachable, message: unreachableMessage({ ...facts, ...nat }) });
  }

  /** leave(): nothing more to punch or wait for. */
  abandon(): void {
    this.waiters.clear();
    this.reaching.length = 0;
    this.queued = [];
    this.punches.abandon();
    this.core.timers.disarm(PeerTimer.Punch);
    this.core.timers.disarm(PeerTimer.Unreachable);
  }

  private rearm(): void {
    let at = Math.min(this.punches.nextDeadline() ?? Infinity, this.sweepAt);
    for (const list of this.waiters.values()) for (const w of list) at = Math.min(at, w.deadline);
    if (at === Infinity) this.core.timers.disarm(PeerTimer.Punch);
    else this.core.timers.arm(PeerTimer.Punch, at);
  }
}
