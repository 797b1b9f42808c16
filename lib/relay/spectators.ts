/**
 * Spectators (US 7,610,402; PROTOCOL.md 4.1.3): members that receive and relay the grid's
 * data but whose own data nobody delivers or relays.
 *
 * The lobby grants the role in the peer id itself: a spectator's id is in
 * [SPECTATOR_ID_MIN, SPECTATOR_ID_MAX], a player's below. So every member, one that joined
 * before the spectator included, knows a spectator from the origin id of any envelope with
 * no list to distribute, keep bounded or keep in step, and the role survives a lobby
 * restart (Rejoin restores the id). The id is the lobby's to give: tickets bind it, and the
 * origin of relayed data is authenticated (PROTOCOL.md 6), so a spectator cannot pass for a
 * player. Every member checks it on receive (relay-path.ts, router.ts: drop
 * spectator-origin), not only the spectator's own send(), so a hostile spectator that
 * injects envelopes under its own id reaches nobody.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";

/** The roles a SelectGrid asks for (its `role` field). */
export const MemberRole = { Player: 0, Spectator: 1 } as const;
export type MemberRole = (typeof MemberRole)[keyof typeof MemberRole];
export type MemberRoleName = "player" | "spectator";

/** The lowest spectator id (2^30): players count up from 1 below it. */
export const SPECTATOR_ID_MIN = 0x40000000;
/** The highest spectator id (2^31 - 1: ids stay small integers in V8, as the lobby's grid ids do). */
export const SPECTATOR_ID_MAX = 0x7fffffff;
/** The highest player id. */
export const PLAYER_ID_MAX = SPECTATOR_ID_MIN - 1;

/** Whether peer id `id` is a spectator's: what it originates is dropped by every member. */
export function isSpectator(id: number): boolean {
  return id >= SPECTATOR_ID_MIN && id <= SPECTATOR_ID_MAX;
}

/** The role the lobby granted peer id `id`. */
export function roleOf(id: number): MemberRoleName {
  return isSpectator(id) ? "spectator" : "player";
}

/** The SelectGrid role value for a role name (undefined: not a role). */
export function roleValue(name: unknown): MemberRole | undefined {
  return name === "player" ? MemberRole.Player : name === "spectator" ? MemberRole.Spectator : undefined;
}

/** What send() and broadcast() throw on a spectator. */
export function spectatorSend(self: number): RelayGridError {
  return new RelayGridError(ErrorCode.Spectator, `peer ${self} joined as a spectator: its data is delivered to nobody; join with role "player" to send`);
}
