/**
 * A LobbyHttpSource over the lobby tests' Harness (a sans-IO Lobby in virtual time), so the
 * HTTP side can be tested against an exact, still state: nothing changes between a request
 * and the stats() it is compared with. pump() hands the events the harness collected to the
 * HTTP side, as the UDP driver does after every input.
 */
import type { LobbyEvent } from "../../lib/lobby/index.ts";
import type { ReplyTimes } from "../../platform/node/reply-timer.ts";
import type { LobbyHttpSource } from "../../platform/http/source.ts";
import type { Harness } from "../lobby-harness.ts";

export interface HarnessSource extends LobbyHttpSource {
  /** Delivers the events the harness holds to the subscribers. */
  pump(): void;
}

export function harnessSource(h: Harness, replyTimes?: () => ReplyTimes): HarnessSource {
  const listeners = new Set<(e: LobbyEvent) => void>();
  return {
    lobby: h.lobby,
    stats: () => h.lobby.stats(),
    ...(replyTimes === undefined ? {} : { replyTimes }),
    address: () => "10.0.0.1:7777",
    on(_type: "event", listener: (e: LobbyEvent) => void): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    pump(): void {
      for (const e of h.takeEvents()) for (const fn of listeners) fn(e);
    },
  };
}
