/**
 * Handlers for connection tracking: ConnUpdate and Heartbeat keep the graph (claims 44, 51),
 * ConnStatus answers whether the other end is gone, alive or being checked (claim 50), and
 * ProbeReply settles a link only one end reported.
 */
import { Kind, LinkStatus, LobbyErrorCode } from "../../wire/kinds.ts";
import { MAX_LINKS } from "../../wire/limits.ts";
import type { MessageOf } from "../../wire/messages.ts";
import type { LobbyCore } from "./core.ts";
import { latestEpoch } from "./key-rotation.ts";
import type { Grid, Member } from "./registry.ts";
import type { Session } from "./sessions.ts";
import { repeatStanding } from "./standing.ts";
import { LobbyDrop, type DropReason } from "./stats.ts";

type Msg<K extends keyof typeof Kind> = MessageOf<(typeof Kind)[K]>;

/**
 * The member a request names, refreshed as heard from now; or undefined after replying
 * UnknownGrid / BadRequest, which tells the peer to re-register with Rejoin.
 */
export function requireMember(
  core: LobbyCore,
  nowMs: number,
  s: Session,
  msg: { req: number; grid: number; peer: number },
): { grid: Grid; member: Member } | undefined {
  const own = core.ownMember(s, msg.grid, msg.peer);
  if (own === "unknown-grid") {
    core.replyError(s, msg.req, LobbyErrorCode.UnknownGrid, `grid ${msg.grid} does not exist; Rejoin restores it`);
    return undefined;
  }
  if (own === "not-member") {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, `peer ${msg.peer} is not a member of grid ${msg.grid} for this session; Rejoin restores it`);
    return undefined;
  }
  own.member.lastHeardMs = nowMs;
  return own;
}

export function onConnUpdate(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"ConnUpdate">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  if (msg.other === msg.peer) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "a peer cannot link to itself");
  } else if (!core.setLink(nowMs, own.grid, msg.peer, msg.other, msg.open)) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, `more than ${MAX_LINKS} links reported`);
  } else {
    core.reply(s, { kind: Kind.Ack, req: msg.req });
  }
  return undefined;
}

export function onHeartbeat(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"Heartbeat">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  // The heartbeat's link list is authoritative: it replaces what the peer reported before.
  core.replaceLinks(nowMs, own.grid, msg.peer, msg.links);
  // epoch: send under it; latest: a member whose keyring lacks it selects the grid again for a fresh grant.
  const keys = own.grid.keys;
  core.reply(s, { kind: Kind.HeartbeatAck, req: msg.req, members: own.grid.members.size, epoch: keys.active.epoch, latest: latestEpoch(keys) });
  repeatStanding(core, own.grid, own.member);
  return undefined;
}

/**
 * Claim 50: `peer` says `other` stopped answering. The link is gone from `peer`'s side at
 * once; the reply says whether `other` is still a member and how long it has been silent, and
 * when it has been silent too long the lobby probes it (no answer: it expires normally).
 */
export function onConnStatus(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"ConnStatus">): undefined {
  const own = requireMember(core, nowMs, s, msg);
  if (own === undefined) return undefined;
  if (msg.other === msg.peer) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "a peer cannot ask for its own status");
    return undefined;
  }
  const { grid } = own;
  core.setLink(nowMs, grid, msg.peer, msg.other, false);
  const other = grid.members.get(msg.other);
  let status: LinkStatus = LinkStatus.Gone;
  let silentMs = 0;
  if (other !== undefined) {
    silentMs = Math.min(0xffffffff, Math.max(0, nowMs - other.lastHeardMs));
    if (silentMs <= core.config.aliveWithinMs) {
      status = LinkStatus.Alive;
    } else {
      status = LinkStatus.Checking;
      core.sendProbe(nowMs, grid, other, msg.peer);
    }
  }
  core.reply(s, { kind: Kind.ConnStatusReply, req: msg.req, grid: grid.id, other: msg.other, status, silentMs });
  return undefined;
}

/**
 * The probed peer is authoritative about its own side: linked = true records its report;
 * linked = false removes the link from both sides, settling a one-sided or contradictory pair.
 */
export function onProbeReply(core: LobbyCore, nowMs: number, s: Session, msg: Msg<"ProbeReply">): DropReason | undefined {
  const own = core.ownMember(s, msg.grid, msg.peer);
  if (typeof own === "string") return LobbyDrop.NotMember;
  const match = core.probes.match(msg.req, msg.grid, msg.peer, msg.other);
  if (match === "unsolicited") return LobbyDrop.UnsolicitedProbeReply;
  own.member.lastHeardMs = nowMs;
  if (match === "duplicate") return undefined;
  core.setLink(nowMs, own.grid, msg.peer, msg.other, msg.linked);
  if (!msg.linked) core.setLink(nowMs, own.grid, msg.other, msg.peer, false);
  return undefined;
}
