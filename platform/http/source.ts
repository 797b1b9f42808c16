/**
 * What the HTTP side reads from a lobby: a LobbyServer (createLobby) is one; a test can wrap
 * a sans-IO Lobby it drives in virtual time. Read-only: nothing here can change the lobby.
 */
import type { Lobby, LobbyEvent, LobbyStats } from "../../lib/lobby/index.ts";
import type { DriverStats } from "../node/endpoint-driver.ts";
import type { ReplyTimes } from "../node/reply-timer.ts";

export interface LobbyHttpSource {
  /** The sans-IO lobby, for its getters only. */
  readonly lobby: Pick<Lobby, "grids" | "topologyOf" | "footprint">;
  stats(): LobbyStats & { driver?: DriverStats };
  /** Reply durations by request kind; without it /metrics has no reply histogram. */
  replyTimes?(): ReplyTimes;
  /** Every lobby event as it happens; returns an unsubscribe function. */
  on(type: "event", listener: (event: LobbyEvent) => void): () => void;
  /** The lobby's UDP address, shown on the page. */
  address?(): string;
}

/** Joins and departures, counted from the lobby's events (LobbyStats has no such counters). */
export class EventCounts {
  gridsCreated = 0;
  gridsRemoved = 0;
  readonly joins = { select_grid: 0, rejoin: 0 };
  readonly leaves = { leave: 0, replaced: 0, expired: 0 };
  islandsDetected = 0;

  count(e: LobbyEvent): void {
    switch (e.type) {
      case "gridCreated":
        this.gridsCreated++;
        return;
      case "gridRemoved":
        this.gridsRemoved++;
        return;
      case "peerJoined":
        if (e.restored) this.joins.rejoin++;
        else this.joins.select_grid++;
        return;
      case "peerLeft":
        this.leaves[e.reason]++;
        return;
      case "peerExpired":
        this.leaves.expired++;
        return;
      case "islandsDetected":
        this.islandsDetected++;
        return;
      default:
        return;
    }
  }
}
