/**
 * NAT traversal, the lobby's side (issue 13, items 1-3; PROTOCOL.md 4.7 and 6.9):
 *
 * - Register{grid, peer, locals, sealed}: the member's Ed25519 link key, sealed under its
 *   session key (lib/security/link-key.ts), and its local addresses (private ranges only,
 *   nat-addresses.ts) -> Registered{observed: the address the lobby sees, ticket: a
 *   version 2 ticket bound to the key}. One key per membership: a different one is a
 *   BadRequest. Registering again (after a key rotation: a ticket under the new epoch,
 *   or with new locals) is how a member refreshes both.
 * - Introduce{grid, peer, targets}: for each target, at most MAX_INTRODUCE_TARGETS, an
 *   IntroStatus; for each one Introduced, both ends get an Introduction at once (the same
 *   `req`, the introduction's id), each naming the other end's admitted (public) address,
 *   and its local addresses only when both are on one public address. Budgets: each member
 *   may ask for introductionsPerSecond and be the target of as many (token buckets), so a
 *   member asking for everyone draws a bounded trickle, and nobody is flooded with work.
 *   A retransmitted Introduce (same req) gets the same replies and sends no new notice.
 * - PunchReport{grid, peer, other, ok, attempts, elapsedMs} -> Ack: counted, and an event.
 * - Isolation (noteIsolation, from the island check): a member with no confirmed link for
 *   isolatedAfterMs after its admission, in a grid with other members, is counted isolated.
 *   One that leaves before that with no link, having reported only failed punches, gave up
 *   (its peer told it `unreachable` within 10 s, PROTOCOL.md 7.2): counted too (noteGaveUp).
 *
 * Never an amplifier: every reply and notice goes, in a session frame, to an admitted
 * member's address, which its session validated (PROTOCOL.md 6.2, 6.10); the requests arrive
 * framed like every other (frames.ts), so a source that holds no session gets only the
 * usual UnknownSession. Members that never Register are untouched: their grants
 * carry version 1 tickets as before and nobody is introduced to them (NoKey).
 */
import type { Address } from "../endpoint.ts";
import { constantTimeEqual } from "../security/bytes.ts";
import { openLinkKey } from "../security/link-key.ts";
import { issueTicketV2 } from "../security/ticket.ts";
import { encode } from "../../wire/codec.ts";
import { IntroStatus, Kind, LobbyErrorCode, NatKind } from "../../wire/kinds.ts";
import type { IntroResult, NatMessageOf } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { isLocalCandidate, samePublicHost } from "./nat-addresses.ts";
import type { Grid, Member, MemberNat } from "./registry.ts";
import type { Session } from "./sessions.ts";
import { requireMember } from "./tracking.ts";

type Msg<K extends keyof typeof NatKind> = NatMessageOf<(typeof NatKind)[K]>;

/** Introduce requests remembered per member, for retransmissions. */
export const RECENT_INTRODUCES = 4;

const STATUS_NAMES: Record<number, string> = {};
for (const [name, code] of Object.entries(IntroStatus)) STATUS_NAMES[code] = name;

/** Refills `m`'s buckets to now. */
function refill(core: LobbyCore, nowMs: number, n: MemberNat): void {
  const { introductionsPerSecond: rate, introductionBurst: burst } = core.config;
  const elapsed = nowMs - n.tokensAtMs;
  if (elapsed <= 0) return;
  n.askTokens = Math.min(burst, n.askTokens + (elapsed * rate) / 1000);
  n.receiveTokens = Math.min(burst, n.receiveTokens + (elapsed * rate) / 1000);
  n.tokensAtMs = nowMs;
}

/** The member's version 2 ticket under the grid's active epoch (signed once per epoch). */
function linkTicket(core: LobbyCore, grid: Grid, m: Member, key: Uint8Array): Uint8Array {
  const epoch = grid.keys.active.epoch;
  const t = m.nat.linkTicket;
  if (t !== undefined && t.epoch === epoch) return t.bytes;
  const bytes = issueTicketV2(core.crypto, core.identity.secretKey, { grid: grid.id, peer: m.id, epoch, key });
  m.nat.linkTicket = { epoch, bytes };
  return bytes;
}

export function onRegister(core: LobbyCore, nowMs: number, from: Address, s: Session, msg: Msg<"Register">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  const { grid, member } = own;
  const bad = (detail: string): undefined => {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, detail);
    return undefined;
  };
  const key = openLinkKey(core.crypto, s.key, msg.req, grid.id, member.id, msg.sealed);
  if (key === null) return bad("Register.sealed does not open as a 32-byte link key under this session's key (direction 0, nonce counter req)");
  const locals = msg.locals.map((l) => l.addr);
  const wrong = locals.find((a) => !isLocalCandidate(a));
  if (wrong !== undefined) return bad(`local address "${wrong}" is not a canonical private, CGNAT or link-local IP address`);
  const held = member.nat.linkKey;
  if (held !== undefined && !constantTimeEqual(held, 0, key, 0, key.length)) {
    return bad("this member registered another link key; a new key needs a new membership (Hello, SelectGrid)");
  }
  member.nat.linkKey = key;
  member.nat.locals = locals;
  core.counters.registrations++;
  core.reply(s, { kind: NatKind.Registered, req: msg.req, grid: grid.id, peer: member.id, observed: from, ticket: linkTicket(core, grid, member, key) });
  return undefined;
}

/** The Introduction `to` gets about `other` (its public address; its locals when both share one). */
function introduction(id: number, grid: Grid, to: Member, other: Member, asked: boolean): Uint8Array {
  const locals = samePublicHost(to.addr, other.addr) ? other.nat.locals.map((addr) => ({ addr })) : [];
  return encode({ kind: NatKind.Introduction, req: id, grid: grid.id, peer: to.id, other: other.id, asked, addr: other.addr, locals });
}

export function onIntroduce(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"Introduce">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  const { grid, member } = own;
  const n = member.nat;
  const again = n.recent.find((r) => r.req === msg.req);
  if (again !== undefined) {
    for (const body of again.replies) core.reply(s, body);
    return undefined;
  }
  if (n.linkKey === undefined) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "Register a link key before Introduce");
    return undefined;
  }
  refill(core, nowMs, n);
  const results: IntroResult[] = [];
  const replies: Uint8Array[] = [];
  const seen = new Set<number>();
  for (const target of msg.targets) {
    if (seen.has(target)) continue;
    seen.add(target);
    const t = grid.members.get(target);
    let status: IntroStatus = IntroStatus.Introduced;
    if (target === member.id) status = IntroStatus.Self;
    else if (t === undefined) status = IntroStatus.NotMember;
    else if (t.nat.linkKey === undefined) status = IntroStatus.NoKey;
    else {
      refill(core, nowMs, t.nat);
      if (n.askTokens < 1 || t.nat.receiveTokens < 1) status = IntroStatus.RateLimited;
    }
    results.push({ peer: target, status });
    if (status !== IntroStatus.Introduced || t === undefined) {
      const name = STATUS_NAMES[status] as string;
      core.counters.introductionsRefused[name] = (core.counters.introductionsRefused[name] ?? 0) + 1;
      continue;
    }
    n.askTokens -= 1;
    t.nat.receiveTokens -= 1;
    // Both ends at once, under one id: each NAT then sees its own side send first.
    const id = core.newReq();
    core.tell(t, introduction(id, grid, t, member, false));
    const mine = introduction(id, grid, member, t, true);
    core.reply(s, mine);
    replies.push(mine);
    core.counters.introductions++;
  }
  const reply = encode({ kind: NatKind.Introduced, req: msg.req, grid: grid.id, peer: member.id, results });
  core.reply(s, reply);
  replies.push(reply);
  n.recent.push({ req: msg.req, replies });
  if (n.recent.length > RECENT_INTRODUCES) n.recent.shift();
  return undefined;
}

export function onPunchReport(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"PunchReport">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  if (msg.other === msg.peer) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "a peer cannot punch towards itself");
    return undefined;
  }
  if (msg.ok) {
    core.counters.punchesOk++;
    own.member.nat.punchesOk++;
  } else {
    core.counters.punchesFailed++;
    own.member.nat.punchesFailed++;
  }
  core.emit({ type: "punchReported", grid: own.grid.id, peer: msg.peer, other: msg.other, ok: msg.ok, attempts: msg.attempts, elapsedMs: msg.elapsedMs });
  core.reply(s, { kind: Kind.Ack, req: msg.req });
  return undefined;
}

/**
 * From the island check: members of `grid` that have had no confirmed link for
 * isolatedAfterMs (since their admission, or since an island check last saw them linked),
 * while the grid has others, are isolated; a member that links is not any more. Counted
 * once per spell (stats().isolated, isolations, event).
 */
export function noteIsolation(core: LobbyCore, nowMs: number, grid: Grid): void {
  const others = grid.members.size >= 2;
  for (const m of grid.members.values()) {
    if (grid.graph.degree(m.id) > 0) m.nat.sinceMs = nowMs;
    const isolated = others && grid.graph.degree(m.id) === 0 && nowMs - m.nat.sinceMs >= core.config.isolatedAfterMs;
    if (isolated === m.nat.isolated) continue;
    m.nat.isolated = isolated;
    if (!isolated) {
      core.counters.isolated--;
      continue;
    }
    core.counters.isolated++;
    core.counters.isolations++;
    core.emit({ type: "peerIsolated", grid: grid.id, peer: m.id, addr: m.addr, aloneMs: nowMs - m.nat.sinceMs });
  }
}

/**
 * From Leave, before the member is removed: a member with no confirmed link that reported
 * punches and none succeeded leaves because it reaches nobody (the Node peer's joinGrid
 * rejects with `unreachable` and leaves, 8 s after admission by default, before the island
 * check's isolatedAfterMs). Counted as an isolation, with its event, unless already counted.
 */
export function noteGaveUp(core: LobbyCore, nowMs: number, grid: Grid, m: Member): void {
  const n = m.nat;
  if (n.isolated || n.punchesOk > 0 || n.punchesFailed === 0 || grid.graph.degree(m.id) > 0 || grid.members.size < 2) return;
  core.counters.isolations++;
  core.emit({ type: "peerIsolated", grid: grid.id, peer: m.id, addr: m.addr, aloneMs: nowMs - n.sinceMs });
}
