/**
 * The lobby's end of admission (admission.ts): JoinToken keeps a token with its session, and
 * the registry handlers ask the policy before they create a grid or admit a member.
 */
import { Kind, LobbyErrorCode } from "../../wire/kinds.ts";
import type { MessageOf } from "../../wire/messages.ts";
import { truncateUtf8 } from "../../wire/utf8.ts";
import { Direction, openFrom } from "../security/handshake.ts";
import type { AdmissionRequest, AdmissionVerdict } from "./admission.ts";
import type { MemberRoleName } from "../relay/spectators.ts";
import type { LobbyCore } from "./core.ts";
import type { Session } from "./sessions.ts";

/** Join tokens a session keeps (the newest first): one per grid it may move between. */
export const MAX_TOKENS_PER_SESSION = 4;
/** A player id is at most as long as a name (a join token's limit). */
const MAX_PLAYER_BYTES = 32;

/**
 * JoinToken{sealed} -> Ack: the token, sealed under the session key (PeerToLobby, nonce = req),
 * kept with the session. One that does not open, or is empty, is a BadRequest; the same token
 * again changes nothing.
 */
export function onJoinToken(core: LobbyCore, s: Session, msg: MessageOf<typeof Kind.JoinToken>): undefined {
  const token = openFrom(core.crypto, s.key, Direction.PeerToLobby, msg.req, msg.sealed);
  if (token === null || token.length === 0) {
    core.replyError(s, msg.req, LobbyErrorCode.BadRequest, "JoinToken.sealed does not open under this session's key, or holds no token");
    return undefined;
  }
  const same = s.tokens.findIndex((t) => t.length === token.length && t.every((b, i) => b === token[i]));
  if (same >= 0) s.tokens.splice(same, 1);
  s.tokens.unshift(token);
  if (s.tokens.length > MAX_TOKENS_PER_SESSION) s.tokens.pop();
  core.reply(s, { kind: Kind.Ack, req: msg.req });
  return undefined;
}

/** What the policy granted: the player to record and the role. */
export interface Admitted {
  readonly player: string;
  readonly role: MemberRoleName;
}

/**
 * Asks the lobby's admission policy: the player to record ("" without a policy, or when it
 * names none) and the role granted (the asked one unless the policy grants another), or
 * undefined after replying Error NotAdmitted with the policy's reason. A verdict whose role is
 * neither "player" nor "spectator" is the policy's mistake: refused, fail closed, and told to
 * the application as an admissionError.
 */
export function admitOrRefuse(
  core: LobbyCore,
  nowMs: number,
  s: Session,
  req: number,
  action: AdmissionRequest["action"],
  grid: string,
  gridId: number,
  role: MemberRoleName = "player",
): Admitted | undefined {
  const policy = core.config.admission;
  if (policy === undefined) return { player: "", role };
  let verdict: AdmissionVerdict;
  try {
    verdict = policy({ action, grid, gridId, session: s.id, address: s.addr, name: s.name, role, tokens: s.tokens, nowMs });
    if (verdict.ok && verdict.role !== undefined && verdict.role !== "player" && verdict.role !== "spectator") {
      throw new TypeError(`the verdict's role must be "player" or "spectator", got ${String(verdict.role)}`);
    }
  } catch (error) {
    // The game's policy threw: fail closed, with an answer (a dropped request would leave the
    // peer waiting for its timeout), and tell the application what broke.
    const message = `admission policy threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    core.emit({ type: "admissionError", grid: gridId, name: grid, message, error });
    verdict = { ok: false, reason: "the lobby's admission policy failed" };
  }
  if (verdict.ok) return { player: truncateUtf8(verdict.player ?? "", MAX_PLAYER_BYTES), role: verdict.role ?? role };
  core.counters.notAdmitted++;
  core.replyError(s, req, LobbyErrorCode.NotAdmitted, String(verdict.reason));
  return undefined;
}
