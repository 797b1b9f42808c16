/**
 * An exception the lobby swallows is a bug in any scenario, never a sender's fault (issue 11,
 * bug 1 hid behind the `internal-error` drop counter for a whole release). Every harness that
 * drains a Lobby's events passes them through here, so any test that reaches one fails.
 */
import type { LobbyEvent } from "../../lib/lobby/events.ts";

/** Throws when `event` is the lobby's `internalError`; returns it otherwise. */
export function failOnInternalError<E extends { readonly type: string }>(event: E): E {
  const e = event as unknown as LobbyEvent;
  if (e.type === "internalError") {
    throw new Error(`the lobby swallowed an exception handling a datagram of kind ${e.kind}: ${e.message}`, { cause: e.error });
  }
  return event;
}
