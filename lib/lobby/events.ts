/**
 * What the Lobby tells the application (drained with pollEvent()). Informational only: the
 * lobby has already acted on each of them.
 */
import type { Address } from "../endpoint.ts";

export type LobbyEvent =
  /** A grid was registered (claims 25, 35), or re-created by a Rejoin after a restart (`restored`). */
  | { readonly type: "gridCreated"; readonly grid: number; readonly name: string; readonly restored: boolean }
  /** An empty grid outlived emptyGridGraceMs and was removed. */
  | { readonly type: "gridRemoved"; readonly grid: number; readonly name: string }
  /**
   * A peer was admitted by SelectGrid (claim 24), or restored by Rejoin (`restored`); `player`
   * is who the admission policy said it is ("" without one).
   */
  | { readonly type: "peerJoined"; readonly grid: number; readonly peer: number; readonly addr: Address; readonly restored: boolean; readonly player: string }
  /** A peer left: by Leave, or `replaced` by a newer admission from the same address. */
  | { readonly type: "peerLeft"; readonly grid: number; readonly peer: number; readonly reason: "leave" | "replaced" }
  /** A peer was silent longer than expireAfterMs and was removed with its links. */
  | { readonly type: "peerExpired"; readonly grid: number; readonly peer: number; readonly silentMs: number }
  /** A grid's next key became active: members send under `epoch` from their next HeartbeatAck on (issue 6, point 2). */
  | { readonly type: "gridKeyRotated"; readonly grid: number; readonly epoch: number }
  /** A grid has been in `count` components for longer than islandGraceMs (sent again when the count changes). */
  | { readonly type: "islandsDetected"; readonly grid: number; readonly count: number }
  /**
   * The admission policy (LobbyConfig.admission) threw while deciding on grid `name` (`grid`
   * 0 for a CreateGrid): the game's bug. The request was refused with NotAdmitted (fail closed).
   */
  | { readonly type: "admissionError"; readonly grid: number; readonly name: string; readonly message: string; readonly error: unknown }
  /**
   * A handler threw while handling a datagram of `kind` (byte 2, -1 when shorter): a lobby
   * bug, never the sender's fault. The datagram was dropped (stats().drops["internal-error"])
   * and the lobby goes on serving; log `message` and report it.
   */
  | { readonly type: "internalError"; readonly kind: number; readonly message: string; readonly error: unknown }
  /**
   * NAT traversal: `peer` has had no confirmed link for isolatedAfterMs though the grid has
   * other members: it reaches nobody (stats().isolated counts it until it links or goes); or it
   * left with no link after only failed punches (it was told `unreachable` and gave up).
   */
  | { readonly type: "peerIsolated"; readonly grid: number; readonly peer: number; readonly addr: Address; readonly aloneMs: number }
  /** NAT traversal: `peer` reported how its punch towards `other` ended (PunchReport). */
  | {
      readonly type: "punchReported";
      readonly grid: number;
      readonly peer: number;
      readonly other: number;
      readonly ok: boolean;
      readonly attempts: number;
      readonly elapsedMs: number;
    }
  /** A RepairHint went to `peer`, naming `targets` in the largest component. */
  | {
      readonly type: "repairHintSent";
      readonly grid: number;
      readonly peer: number;
      readonly force: boolean;
      readonly targets: readonly number[];
    };

export type LobbyEventType = LobbyEvent["type"];
