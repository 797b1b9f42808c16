/**
 * Finding links: the join round of a joining peer (claims 26-33) and the
 * connection-available round of a member below its limit (claims 36-43). Both send a
 * message to a sample of members, record each positive or negative response with its
 * response time (claims 28, 39), and when the time limit ends pick by the connection
 * rules: positives to connect to, or a negative responder to force (claims 32, 33, 42, 43).
 */
import type { Address } from "../endpoint.ts";
import { shuffle } from "../rng.ts";
import { Kind } from "../../wire/index.ts";
import type { Response } from "./connection-rules.ts";
import { NO_TAG } from "./core.ts";
import type { PeerCore, Round } from "./core.ts";
import { refreshMembers } from "./lobby-client.ts";

/** Members worth asking: known, not linked, not pending, not in the claim 41 cooldown. */
function candidates(core: PeerCore): [number, Address][] {
  const out: [number, Address][] = [];
  for (const [peer, addr] of core.members) {
    if (core.links.has(peer) || core.pending.has(peer) || core.inCooldown(peer)) continue;
    out.push([peer, addr]);
  }
  return out;
}

/** Whether a connection-available round would have anyone to ask. */
export function hasCandidates(core: PeerCore): boolean {
  return candidates(core).length > 0;
}

export function startRound(core: PeerCore, kind: Round["kind"]): void {
  const pool = shuffle(core.random, candidates(core)).slice(0, core.cfg.joinSample);
  if (pool.length === 0) {
    if (kind === "join") {
      // The grid's first member (or everyone else is gone): joined with no links yet.
      core.becomeMember();
      core.scheduleSeek(core.cfg.seekIntervalMs);
    } else {
      // Nobody left to ask: the lobby may know members we do not (claim 24's member list).
      refreshMembers(core);
      core.scheduleSeek(core.cfg.seekIntervalMs);
    }
    return;
  }
  const id = ++core.roundSeq;
  core.round = { id, kind, sentAt: core.now, deadline: core.now + core.cfg.joinWindowMs, asked: pool.length, responses: [] };
  core.timers.roundEnd = core.round.deadline;
  for (const [peer, addr] of pool) {
    const req = core.nextReq();
    const msg = { req, grid: core.grid, from: core.self, tag: NO_TAG };
    if (kind === "join") core.request(addr, { kind: Kind.Join, ...msg }, { t: "join", peer, round: id });
    else core.request(addr, { kind: Kind.Available, ...msg }, { t: "available", peer, round: id });
  }
}

/** A JoinReply or AvailableReply matched to its request (claims 26-28, 36-39). */
export function onRoundReply(
  core: PeerCore,
  roundId: number,
  peer: number,
  address: Address,
  positive: boolean,
  links: number,
): void {
  const round = core.round;
  if (round === undefined || round.id !== roundId) return; // a late answer to an ended round
  round.responses.push({
    peer,
    addr: address,
    positive,
    links,
    receivedAt: core.now,
    responseTimeMs: core.now - round.sentAt,
    order: round.responses.length,
  });
  if (round.responses.length >= round.asked) endRound(core);
}

/** The round's time limit passed (or everyone answered): choose by the connection rules. */
export function endRound(core: PeerCore): void {
  const round = core.round;
  if (round === undefined) return;
  core.round = undefined;
  core.timers.roundEnd = undefined;
  core.requests.cancel((p) => (p.tag.t === "join" || p.tag.t === "available") && p.tag.round === round.id);

  const positives = round.responses.filter((r) => r.positive);
  core.negatives = round.responses.filter((r) => !r.positive);
  const want = core.limit - core.used;
  const chosen =
    round.kind === "join"
      ? core.cfg.connectionRules.selectPositive(positives, want, core.random) // claims 29-31
      : positives.slice(0, want); // claim 40: the first positive (then the next ones) in arrival order
  core.spare = positives.filter((r) => !chosen.includes(r));
  for (const r of chosen) connect(core, r);
  if (chosen.length === 0) {
    if (round.responses.length === 0) {
      // Nobody answered (loss, or stale addresses): try again with a fresh member list.
      refreshMembers(core);
    }
    maybeForce(core);
  }
  if (core.phase === "member" || core.phase === "joining") core.scheduleSeek(core.cfg.seekIntervalMs);
}

/** `overLimit`: an island repair from a full peer, which makes room only once accepted. */
export function connect(core: PeerCore, r: Response, overLimit = false): void {
  if ((!overLimit && !core.hasRoom()) || core.links.has(r.peer) || core.pending.has(r.peer)) return;
  core.pending.add(r.peer);
  const req = core.nextReq();
  core.request(r.addr, { kind: Kind.Connect, req, grid: core.grid, from: core.self, ticket: core.ticket, tag: NO_TAG }, { t: "connect", peer: r.peer });
}

/**
 * Claims 32-33 and 42-43: with fewer than two links (or none while joining) and nobody
 * with room, pick a negative responder by the connection rules and force a connection.
 */
export function maybeForce(core: PeerCore): void {
  if (core.used >= Math.min(2, core.limit) || !core.hasRoom()) return;
  const pick = core.cfg.connectionRules.selectForce(
    core.negatives.filter((r) => !core.links.has(r.peer) && !core.pending.has(r.peer)),
    core.random,
  );
  if (pick === undefined) return;
  core.negatives = core.negatives.filter((r) => r !== pick);
  sendForce(core, pick.peer, pick.addr);
}

export function sendForce(core: PeerCore, peer: number, addr: Address, overLimit = false): void {
  if ((!overLimit && !core.hasRoom()) || core.links.has(peer) || core.pending.has(peer)) return;
  core.pending.add(peer);
  const req = core.nextReq();
  core.request(addr, { kind: Kind.Force, req, grid: core.grid, from: core.self, ticket: core.ticket, tag: NO_TAG }, { t: "force", peer });
}

/** A connect or force was refused or went unanswered: free its slot and try the next candidate. */
export function onConnectFailed(core: PeerCore, peer: number): void {
  core.pending.delete(peer);
  if (core.repairing.delete(peer)) return; // a repair attempt: nothing to fall back on

  if (core.links.has(peer)) return;
  const next = core.spare.shift();
  if (next !== undefined) connect(core, next);
  else maybeForce(core);
  if (core.phase === "joining" && core.used === 0 && core.round === undefined) core.scheduleSeek(core.cfg.seekIntervalMs / 2);
}

/** The seek timer (claim 36): below the limit and no round running, so start one. */
export function onSeekTick(core: PeerCore): void {
  core.timers.seekTick = undefined;
  if (core.round !== undefined) return;
  if (core.phase === "joining" && core.used === 0) startRound(core, "join");
  else if (core.phase === "member" && core.hasRoom()) startRound(core, "available");
}
