/**
 * What a Peer is made of (str0m style: the Peer composes its parts; no part holds another's
 * state). Each part is constructed with only the parts it asks, through small interfaces
 * (MemberSource, LinkStatusSource, LobbyHooks), so there is no import loop among them.
 */
import type { PeerCore } from "./core.ts";
import type { Delivery } from "./delivery.ts";
import type { Messenger } from "./messages.ts";
import type { Router } from "./router.ts";
import type { LobbyClient } from "./lobby-client.ts";
import type { NatClient } from "./nat-client.ts";
import type { Pinger } from "./pings.ts";
import type { Redundancy } from "./redundancy.ts";
import type { RelayPath } from "./relay-path.ts";
import type { Repairer } from "./repair.ts";
import type { Responder } from "./responder.ts";
import type { Seeker } from "./seeker.ts";
import type { Standing } from "./standing.ts";

export interface PeerParts {
  /** Shared infrastructure: identity, phase, links, credentials, requests, timers, queues. */
  readonly core: PeerCore;
  /** The lobby session: handshake, grid, admission, heartbeats, link reports (claims 24, 34, 44, 50, 51). */
  readonly lobby: LobbyClient;
  /** Join and connection-available rounds, connect, force, island repair (claims 26-33, 36-43). */
  readonly seeker: Seeker;
  /** Answers other peers' join, available, connect, force, disconnect and ping (claims 27, 32, 38). */
  readonly responder: Responder;
  /** Pings every link; closes the silent ones (claims 45-51). */
  readonly pings: Pinger;
  /** Broadcast and relay (claims 2-4, 14-19). */
  readonly relay: RelayPath;
  /** Where the lobby says this peer stands: in the grid's main component or on an island (GridStatus). */
  readonly standing: Standing;
  /** Redundancy lists, the receiving side: whose copies to keep, Prunes and Grafts (US 7,685,301). */
  readonly redundancy: Redundancy;
  /** Messages, the receiving side: reassembly, reliable and ordered delivery, teams (PROTOCOL.md 4.1.1). */
  readonly delivery: Delivery;
  /** Messages, the sending side: headers and fragments (send()). */
  readonly messenger: Messenger;
  /** Messages to one member, routed towards it (PROTOCOL.md 4.1.2). */
  readonly router: Router;
  /** Repair of what is lost: retransmit buffer, gaps, requests and answers (undefined with repair off). */
  readonly repair: Repairer | undefined;
  /** NAT traversal: registration, introductions, punching, the unreachable deadline (PROTOCOL.md 4.7). */
  readonly nat: NatClient;
}
