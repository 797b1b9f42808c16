/** What a Peer tells the application, drained with pollEvent(). */
import type { Address } from "../endpoint.ts";
import type { ErrorCode } from "../errors.ts";

/** Why a link closed (linkClosed.reason). */
export type LinkCloseReason =
  /** The neighbour closed it (with its own reason code from the wire, see `remoteReason`). */
  | "remote"
  /** This peer lowered its connection limit (claim 10). */
  | "limit-lowered"
  /** This peer made room for a force connection (claim 32). */
  | "forced"
  /** Pings went unanswered (claims 47-49). */
  | "unresponsive"
  /** This peer is leaving the grid. */
  | "leave"
  /** The neighbour kept sending invalid datagrams (bad tags, garbage): closed and reported. */
  | "misbehaving";

export type PeerEvent =
  /** The lobby admitted this peer: it has a peer id in the grid (claims 24, 34). */
  | { readonly type: "admitted"; readonly grid: number; readonly gridName: string; readonly peer: number; readonly members: number }
  /**
   * The peer holds its first link (or is the grid's first member). Its broadcasts reach its
   * neighbours' part of the grid, which may still be an island: `connected` says when the
   * lobby sees it in the grid's main component.
   */
  | { readonly type: "joined"; readonly grid: number; readonly peer: number; readonly links: number }
  /**
   * The lobby confirmed this peer stands in the grid's main (largest) component, `component`
   * of the grid's `members` members (both counts as the lobby last saw them). Emitted once
   * after joining, and again when an island it was on is joined back to the grid.
   */
  | { readonly type: "connected"; readonly grid: number; readonly peer: number; readonly component: number; readonly members: number }
  /**
   * The lobby sees this peer cut off from the grid's main component (for its island grace,
   * 3 s by default): its broadcasts reach only the `component` members of its island until
   * the repair the lobby asks for joins it back (then `connected` again).
   */
  | { readonly type: "island"; readonly grid: number; readonly peer: number; readonly component: number; readonly members: number }
  | { readonly type: "linkOpen"; readonly peer: number; readonly address: Address; readonly links: number }
  | {
      readonly type: "linkClosed";
      readonly peer: number;
      readonly reason: LinkCloseReason;
      /** The DisconnectReason code the neighbour sent, when reason is "remote". */
      readonly remoteReason?: number;
      readonly links: number;
    }
  /** A broadcast from `origin`, delivered once (claims 3, 19). `payload` is a view: copy it to keep it. */
  | {
      readonly type: "data";
      readonly payload: Uint8Array;
      readonly origin: number;
      readonly seq: number;
      readonly hops: number;
      readonly target: number | null;
      /** Sent with send({ reliable }) or send({ ordered }) (PROTOCOL.md 4.1.1); absent for a plain broadcast. */
      readonly reliable?: boolean;
      readonly ordered?: boolean;
      /** The team it was sent to (send({ team })), null for everyone; absent for a plain broadcast. */
      readonly team?: number | null;
      /** Sent with send({ to }) and routed to this member (PROTOCOL.md 4.1.2): `seq` counts the origin's routed messages, apart from its broadcasts. */
      readonly routed?: boolean;
    }
  /**
   * The lobby registered this peer's link key (NAT traversal, PROTOCOL.md 4.7): `observed` is
   * its address as the lobby sees it; `behindNat` whether that differs from every one of its
   * localAddresses (undefined when none were given).
   */
  | { readonly type: "registered"; readonly observed: Address; readonly behindNat: boolean | undefined }
  /**
   * A punch towards `peer` ended: `ok` with the proven path `address` (`local`: one of its LAN
   * addresses), after `attempts` Punches and `elapsedMs` from the Introduction.
   */
  | {
      readonly type: "punched";
      readonly peer: number;
      readonly ok: boolean;
      readonly attempts: number;
      /** Birthday probing (PROTOCOL.md 7.2): Punches sent to guessed ports of the other's public host, and whether this peer sent from its extra sockets. */
      readonly probes: number;
      readonly sprayed: boolean;
      readonly elapsedMs: number;
      readonly address: Address | undefined;
      readonly local: boolean;
    }
  /** The lobby restarted and this peer registered again with the same grid and peer ids. */
  | { readonly type: "reregistered"; readonly grid: number; readonly peer: number }
  /** A procedure failed: joining, creating a grid, reaching the lobby. */
  | {
      readonly type: "error";
      readonly code: ErrorCode;
      readonly message: string;
      /** For message-lost: the origin and the seq of the reliable message lost; for unreachable after send({ to, reliable }): its seq and target. */
      readonly origin?: number;
      readonly seq?: number;
      readonly target?: number;
    }
  /** leave() finished: neighbours and the lobby were told (or timed out). */
  | { readonly type: "closed" };
