/**
 * Sending messages (PROTOCOL.md 4.1.1): `send(payload, { reliable, ordered, team })`. A plain
 * broadcast of at most MAX_PAYLOAD_BYTES stays a Data envelope (no header, the hot path of
 * claims 2-4); anything else is one Message envelope, or consecutive fragments of at most
 * MAX_FRAGMENT_BYTES each, all in the origin's one seq space, so the grid's redundancy lists
 * and repair carry them as they carry Data. The receiving side is delivery.ts. A small
 * message to one member is routed (router.ts), reliable ones acknowledged end to end by the
 * target (routed-outbox.ts); an ordered, large or team one to one member is a Message with
 * `target`, carried (and repaired) on the grid's broadcast paths.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { Kind, MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, MessageFlag, messageHeaderBytes, writeMessageHeader } from "../../wire/index.ts";
import type { PeerCore } from "./core.ts";
import type { RelayPath } from "./relay-path.ts";
import { MAX_ROUTED_PAYLOAD_BYTES, type Router } from "./router.ts";

/** How one message is delivered (Peer.send). */
export interface SendOptions {
  /**
   * Every live member gets it exactly once, repaired when lost; a loss repair gives up on is
   * reported to the receiver as an "error" event (message-lost). Needs repair (redundancy "prune", or repair: true).
   * With `to` (and neither ordered nor team, at most 1,149 bytes): routed, acknowledged by the
   * target and sent again until then; a target that never acknowledges is reported to the
   * sender as an "error" event (unreachable). That needs no repair.
   * Defaults to false: best effort (the grid still repairs what it can).
   */
  reliable?: boolean;
  /** Reliable and delivered in the order this member sent its reliable messages. Implies reliable. Defaults to false. */
  ordered?: boolean;
  /** Delivered only by the members of this team (a u32 > 0, see joinTeam); relayed by everyone. Defaults to everyone. */
  team?: number;
}

export class Messenger {
  /** The seq that began this member's previous reliable message (0: none yet). */
  private prev = 0;

  constructor(
    private readonly core: PeerCore,
    private readonly relay: RelayPath,
    private readonly router: Router,
  ) {}

  /** Sends `payload` to the grid (or `target`); returns the seq of its first envelope. */
  send(now: number, payload: Uint8Array, target: number | null, o: SendOptions): number {
    if (!(payload instanceof Uint8Array)) throw new RelayGridError(ErrorCode.InvalidConfig, "payload must be a Uint8Array");
    const ordered = o.ordered === true;
    const reliable = ordered || o.reliable === true;
    const team = o.team;
    if (team !== undefined && (!Number.isInteger(team) || team < 1 || team > 0xffffffff)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `team must be a team id (u32 > 0), got ${String(team)}`);
    }
    if (payload.length > MAX_MESSAGE_BYTES) {
      throw new RelayGridError(ErrorCode.PayloadTooLarge, `message ${payload.length} bytes > MAX_MESSAGE_BYTES ${MAX_MESSAGE_BYTES}: send it in parts, or a delta`);
    }
    if (target !== null && !ordered && team === undefined && payload.length <= MAX_ROUTED_PAYLOAD_BYTES) {
      // To one member: routed (PROTOCOL.md 4.1.2), O(path length) datagrams; reliable: acked end to end.
      return this.router.send(now, payload, target, reliable);
    }
    if (reliable && !this.core.cfg.repair) {
      throw new RelayGridError(ErrorCode.InvalidConfig, "reliable and ordered delivery need repair: create the Peer with redundancy: \"prune\" (repair follows) or repair: true");
    }
    // The room of one envelope: 1150 bytes, less the origin signature's 173 with originAuth.
    const max = this.relay.auth.maxPayload;
    if (!reliable && team === undefined && payload.length <= max && target === null) return this.relay.broadcast(now, payload, null);
    let flags = (reliable ? MessageFlag.Reliable : 0) | (ordered ? MessageFlag.Ordered : 0) | (team !== undefined ? MessageFlag.Team : 0);
    const room = max - messageHeaderBytes(flags);
    let count = 1;
    let chunk = payload.length;
    if (payload.length > room) {
      flags |= MessageFlag.Fragment;
      chunk = max - messageHeaderBytes(flags);
      count = Math.ceil(payload.length / chunk);
    }
    const prev = reliable ? this.prev : 0;
    let first = 0;
    for (let i = 0; i < count; i++) {
      const body = payload.subarray(i * chunk, Math.min(payload.length, (i + 1) * chunk));
      const bytes = new Uint8Array(messageHeaderBytes(flags) + body.length);
      bytes.set(body, writeMessageHeader(bytes, 0, flags, prev, i, count, team ?? 0));
      const seq = this.relay.broadcast(now, bytes, target, Kind.Message);
      if (i === 0) first = seq;
    }
    if (reliable) this.prev = first;
    return first;
  }
}
