/**
 * Hole punching (PROTOCOL.md 4.7, 6.9, 7.2): on the lobby's Introduction, send Punches to
 * every candidate address of the other member at once (its public address, and its LAN
 * addresses when both are behind one NAT), so each NAT sees its own side send first and lets
 * the other side's next Punch in. A Punch that gets through is answered with a PunchReply
 * proving this peer's link key over its challenge (and carrying this peer's own challenge);
 * a PunchReply whose proof verifies makes its source a proven path (proven-paths.ts), and is
 * answered once more so the other side can prove us in turn.
 *
 * One punch per other member at a time (`sessions`, keyed by its id, at most
 * MAX_PUNCH_SESSIONS): a second Introduction for a member already being punched joins the
 * punch under way. A punch sends for at most DEFAULT_PUNCH_BUDGET_MS and MAX_PUNCHES_PER_CANDIDATE
 * rounds, stops sending once the other member's proof is in, and keeps answering its Punches
 * for PUNCH_ANSWER_GRACE_MS more (its side may not have our proof yet). A punch with no proof
 * PROBE_AFTER_MS in probes for a hard NAT (birthday.ts) within the same budget.
 */
import type { Address } from "../endpoint.ts";
import { signPunchProof, verifyPunchProof, CHALLENGE_BYTES } from "../security/link-key.ts";
import { NatKind, type NatMessageOf } from "../../wire/index.ts";
import { NO_TAG, type PeerCore } from "./core.ts";
import { PeerDrop, PeerFailure, type DropReason } from "./drops.ts";
import { MAX_PROBING, nextProbes, PROBE_AFTER_MS, PROBE_DELAY_MS, PROBE_SOCKETS, probePlan, type ProbePlan, type ProbeRole } from "./birthday.ts";

type Punch = NatMessageOf<typeof NatKind.Punch>;
type PunchReply = NatMessageOf<typeof NatKind.PunchReply>;
type Introduction = NatMessageOf<typeof NatKind.Introduction>;

/** Punches sent every this often during the first PUNCH_FAST_PHASE_MS (PROTOCOL.md 7.2). Defaults to 100 ms. */
export const PUNCH_FAST_INTERVAL_MS = 100;
/** Defaults to 1000 ms. */
export const PUNCH_FAST_PHASE_MS = 1000;
/** Then every this often. Defaults to 250 ms. */
export const PUNCH_SLOW_INTERVAL_MS = 250;
/** A punch gives up after this long without a proof (PROTOCOL.md 7.2). Defaults to 3000 ms. */
export const DEFAULT_PUNCH_BUDGET_MS = 3000;
/** ... or after this many Punches to each candidate address. Defaults to 20. */
export const MAX_PUNCHES_PER_CANDIDATE = 20;
/** A punch keeps answering the other side's Punches this long after it stopped sending. Defaults to 2000 ms. */
export const PUNCH_ANSWER_GRACE_MS = 2000;
/** PunchReplies a punch sends per second at most (a token bucket of this size). Defaults to 10. */
export const PUNCH_ANSWERS_PER_SECOND = 10;
/** Punches under way at most; further Introductions are not punched (failures["punch-table-full"]). Defaults to 64. */
export const MAX_PUNCH_SESSIONS = 64;
/** Candidate addresses per punch: the public one and at most 4 LAN ones (MAX_LOCAL_ADDRESSES). */
const MAX_CANDIDATES = 5;

export interface PunchSession {
  /** The Introduction's id: the `req` of our Punches. */
  readonly req: number;
  readonly other: number;
  /** The lobby said we asked for it: we open the link once the path is proven (4.7, Linking). */
  asked: boolean;
  readonly candidates: readonly Address[];
  /** Ours, the same in every Punch of this punch (16 bytes). */
  readonly challenge: Uint8Array;
  readonly startedAt: number;
  /** Punches sent so far. */
  sent: number;
  rounds: number;
  /** When the next round goes out (Infinity: sending stopped). */
  nextAt: number;
  /** Where the other member proved its key first (undefined: not yet): one of `candidates`, or the source its NAT gave it. */
  proven: Address | undefined;
  provenAt: number;
  /** Whether this punch has ended (proof, or budget spent) and was reported. */
  ended: boolean;
  /** When the punch is forgotten (it answers the other side's Punches until then). */
  forgetAt: number;
  answerTokens: number;
  tokensAt: number;
  /** Birthday probing (birthday.ts): the hard side sprayed; the easy side's plan and probes sent. */
  sprayed: boolean;
  plan: ProbePlan | undefined;
  probes: number;
}

/** What the punch tells its owner (the NAT client): a path proven, a punch ended. */
export interface PunchHooks {
  proven(now: number, s: PunchSession): void;
  ended(now: number, s: PunchSession): void;
  /** This peer's side in a birthday probe (its NAT as the lobby sees it). */
  role(): ProbeRole;
}

export class Puncher {
  readonly sessions = new Map<number, PunchSession>();

  constructor(
    private readonly core: PeerCore,
    private readonly hooks: PunchHooks,
  ) {}

  /** An Introduction from the lobby (checked by the receive path): punch towards `other`. */
  start(now: number, msg: Introduction): void {
    const held = this.sessions.get(msg.other);
    if (held !== undefined && !held.ended) {
      held.asked ||= msg.asked; // the other asked for us too: one punch serves both introductions
      return;
    }
    if (held === undefined && this.sessions.size >= MAX_PUNCH_SESSIONS) {
      this.core.counters.fail(PeerFailure.PunchTableFull);
      return;
    }
    const candidates = [...new Set([msg.addr, ...msg.locals.map((l) => l.addr)])].slice(0, MAX_CANDIDATES);
    const s: PunchSession = {
      req: msg.req,
      other: msg.other,
      asked: msg.asked,
      candidates,
      challenge: this.core.cfg.crypto.randomBytes(CHALLENGE_BYTES),
      startedAt: now,
      sent: 0,
      rounds: 0,
      nextAt: now,
      proven: undefined,
      provenAt: 0,
      ended: false,
      forgetAt: now + DEFAULT_PUNCH_BUDGET_MS + PUNCH_ANSWER_GRACE_MS,
      answerTokens: PUNCH_ANSWERS_PER_SECOND,
      tokensAt: now,
      sprayed: false,
      plan: undefined,
      probes: 0,
    };
    this.sessions.set(msg.other, s);
    this.round(now, s);
  }

  /** The earliest Punch round or forget time (for the NAT client's timer). */
  nextDeadline(): number | undefined {
    let at: number | undefined;
    for (const s of this.sessions.values()) {
      const t = Math.min(s.nextAt, s.forgetAt);
      if (at === undefined || t < at) at = t;
    }
    return at;
  }

  /** Sends the rounds that are due, ends punches past their budget, forgets old ones. */
  onTimer(now: number): void {
    for (const [other, s] of [...this.sessions]) {
      if (s.nextAt <= now) this.round(now, s);
      if (s.forgetAt <= now) this.sessions.delete(other);
    }
  }

  /** A Punch that passed the tag, decode, grid, ids and ticket checks (receive.ts, nat-client.ts). */
  onPunch(now: number, from: Address, msg: Punch): DropReason | undefined {
    if (msg.challenge.length !== CHALLENGE_BYTES) return PeerDrop.PunchBadChallenge;
    const s = this.sessions.get(msg.from);
    if (s === undefined || s.forgetAt <= now) return PeerDrop.PunchNotIntroduced;
    if (!this.spend(now, s)) return PeerDrop.PunchRateLimited;
    // Our own challenge too, unless the sender already proved its key at this source.
    const proven = this.core.credentials.paths.keyAt(from, msg.from) !== undefined;
    this.reply(from, s, msg.req, msg.challenge, proven ? new Uint8Array(0) : s.challenge);
    return undefined;
  }

  /** A PunchReply that passed the same checks; `key` is its ticket's link key. */
  onPunchReply(now: number, from: Address, msg: PunchReply, key: Uint8Array): DropReason | undefined {
    const core = this.core;
    const s = this.sessions.get(msg.from);
    if (s === undefined || s.forgetAt <= now) return PeerDrop.PunchUnmatched;
    if (msg.challenge.length !== 0 && msg.challenge.length !== CHALLENGE_BYTES) return PeerDrop.PunchBadChallenge;
    if (!verifyPunchProof(core.cfg.crypto, key, msg.proof, core.grid, msg.from, core.self, s.challenge)) return PeerDrop.PunchBadProof;
    if (msg.challenge.length > 0) {
      if (!this.spend(now, s)) return PeerDrop.PunchRateLimited;
      this.reply(from, s, msg.req, msg.challenge, new Uint8Array(0));
    }
    // A challenge is answered once: the first proof makes the path; a replay of it from
    // another source (an on-path copy) proves nothing more.
    if (s.proven !== undefined) return undefined;
    s.proven = from;
    s.provenAt = now;
    s.nextAt = Infinity;
    core.credentials.paths.prove(now, msg.from, from, key);
    this.hooks.proven(now, s);
    this.end(now, s);
    return undefined;
  }

  /** leave(): every punch is dropped, unreported. */
  abandon(): void {
    this.sessions.clear();
  }

  private round(now: number, s: PunchSession): void {
    const core = this.core;
    const over = now - s.startedAt >= DEFAULT_PUNCH_BUDGET_MS || s.rounds >= MAX_PUNCHES_PER_CANDIDATE;
    if (s.proven !== undefined || over || core.credentials.ticket2 === undefined) {
      s.nextAt = Infinity;
      this.end(now, s);
      return;
    }
    const punch = { kind: NatKind.Punch, req: s.req, grid: core.grid, from: core.self, to: s.other, challenge: s.challenge, ticket: core.credentials.ticket2, tag: NO_TAG } as const;
    const bytes = core.seal(punch);
    if (bytes === undefined) return;
    for (const to of s.candidates) core.transmit(to, bytes);
    s.sent += s.candidates.length;
    s.rounds++;
    this.probe(now, s, bytes);
    s.nextAt = now + (now - s.startedAt < PUNCH_FAST_PHASE_MS ? PUNCH_FAST_INTERVAL_MS : PUNCH_SLOW_INTERVAL_MS);
  }

  /** Birthday probing once the plain punch had PROBE_AFTER_MS (birthday.ts): the hard side sprays once, the easy side probes a share per round. */
  private probe(now: number, s: PunchSession, bytes: Uint8Array): void {
    const elapsed = now - s.startedAt;
    if (elapsed < PROBE_AFTER_MS || s.candidates.length === 0) return;
    const role = this.hooks.role();
    if (role === "hard" && !s.sprayed) {
      s.sprayed = true;
      this.core.spray(s.candidates[0] as Address, bytes, PROBE_SOCKETS);
    } else if (role === "easy" && elapsed >= PROBE_AFTER_MS + PROBE_DELAY_MS) {
      if (s.plan === undefined) {
        if (this.probing() >= MAX_PROBING) return;
        s.plan = probePlan(s.candidates[0] as Address, s.challenge);
      }
      for (const to of s.plan === undefined ? [] : nextProbes(s.plan)) this.core.transmit(to, bytes);
      s.probes = s.plan?.next ?? 0;
    }
  }

  /** Punches whose probes are under way. */
  private probing(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.ended && s.plan !== undefined) n++;
    return n;
  }

  private end(now: number, s: PunchSession): void {
    if (s.ended) return;
    s.ended = true;
    s.forgetAt = now + PUNCH_ANSWER_GRACE_MS;
    this.hooks.ended(now, s);
  }

  private reply(to: Address, s: PunchSession, req: number, answering: Uint8Array, challenge: Uint8Array): void {
    const core = this.core;
    const ticket = core.credentials.ticket2;
    if (ticket === undefined) return;
    const proof = signPunchProof(core.cfg.crypto, core.credentials.linkKey.secretKey, core.grid, core.self, s.other, answering);
    core.send(to, { kind: NatKind.PunchReply, req, grid: core.grid, from: core.self, to: s.other, challenge, proof, ticket, tag: NO_TAG });
  }

  /** The per-punch answer budget (PROTOCOL.md 6.9, step 5). */
  private spend(now: number, s: PunchSession): boolean {
    s.answerTokens = Math.min(PUNCH_ANSWERS_PER_SECOND, s.answerTokens + ((now - s.tokensAt) * PUNCH_ANSWERS_PER_SECOND) / 1000);
    s.tokensAt = now;
    if (s.answerTokens < 1) return false;
    s.answerTokens -= 1;
    return true;
  }
}
