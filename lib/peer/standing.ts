/**
 * Where this peer stands in its grid, as the lobby sees it (issue 18, item 3): "joined" means
 * the peer holds a link, not that its broadcasts reach the grid. Peers that join at once can
 * link among themselves, apart from the rest, until the lobby joins the islands. The lobby
 * counts the components of the links both ends reported and tells each member with a
 * GridStatus notice when it enters the grid's main (largest) component, and when it has been
 * cut off from it for the island grace (PROTOCOL.md 4.4); this part turns those notices into
 * the `connected` and `island` events.
 *
 * A GridStatus is a notice, not authenticated (PROTOCOL.md 6.8): the receive path takes it
 * only from the lobby's address, for this grid and this peer's id (receive.ts).
 */
import type { Kind, MessageOf } from "../../wire/index.ts";
import type { PeerCore } from "./core.ts";

/** What the last GridStatus said. */
export interface GridStanding {
  /** In the main component: a broadcast reaches `component` members, the grid's largest part. */
  readonly main: boolean;
  /** Members in this peer's component, itself included, by the lobby's last count. */
  readonly component: number;
  /** Members of the grid then. */
  readonly members: number;
}

export class Standing {
  /** Undefined until the lobby's first GridStatus. */
  current: GridStanding | undefined;

  constructor(private readonly core: PeerCore) {}

  /** A GridStatus checked by the receive path: an event when the peer entered or left the main component. */
  onGridStatus(msg: MessageOf<typeof Kind.GridStatus>): void {
    const core = this.core;
    const was = this.current?.main;
    this.current = { main: msg.main, component: msg.component, members: msg.members };
    if (was === msg.main) return;
    const e = { grid: core.grid, peer: core.self, component: msg.component, members: msg.members };
    core.emit(msg.main ? { type: "connected", ...e } : { type: "island", ...e });
  }
}
