/**
 * This peer's outgoing control requests (DESIGN.md "Control plane over UDP"; the requests
 * the Lobby answers are handled in lib/lobby/requests.ts): each has an id the reply echoes,
 * is retransmitted with exponential backoff, and gives up after a number of sends. The tag
 * says what the request was for and which part sent it, so a reply is matched by id, source
 * address and kind (REPLY_KINDS): a forged or stale reply changes nothing.
 */
import type { Address } from "../endpoint.ts";
import { Kind, NatKind, type AnyMessage } from "../../wire/index.ts";

/** Retransmit backoff stops doubling here, so a lossy path keeps trying at a useful pace. */
export const MAX_BACKOFF_MS = 2000;

export type RequestTag =
  | { readonly t: "hello" }
  | { readonly t: "token" }
  | { readonly t: "create" }
  | { readonly t: "list" }
  | { readonly t: "select"; readonly part: number }
  | { readonly t: "connUpdate" }
  | { readonly t: "status" }
  | { readonly t: "heartbeat" }
  | { readonly t: "leave" }
  | { readonly t: "rejoin" }
  | { readonly t: "probeReply" }
  | { readonly t: "join"; readonly peer: number; readonly round: number }
  | { readonly t: "available"; readonly peer: number; readonly round: number }
  | { readonly t: "connect"; readonly peer: number; readonly nonce: Uint8Array }
  | { readonly t: "force"; readonly peer: number; readonly nonce: Uint8Array }
  | { readonly t: "disconnect"; readonly peer: number }
  | { readonly t: "register" }
  | { readonly t: "introduce"; readonly targets: readonly number[] }
  | { readonly t: "punchReport" };

export interface PendingRequest {
  readonly req: number;
  readonly to: Address;
  /** What a retransmission sends (a session frame is re-framed under a fresh counter each time). */
  bytes: Uint8Array;
  readonly tag: RequestTag;
  readonly firstSentAt: number;
  attempts: number;
  nextAt: number;
}

export class RequestTable {
  private readonly byId = new Map<number, PendingRequest>();
  private nextReq: number;
  /** Cached earliest nextAt; recomputed only after a change (pollTimeout runs per datagram). */
  private earliest: number | undefined;
  private dirty = false;

  constructor(
    firstReq: number,
    private readonly retransmitMs: number,
    private readonly maxAttempts: number,
    /** Upper bound on outstanding requests: a peer never has more in flight. */
    private readonly maxPending = 1024,
  ) {
    this.nextReq = firstReq >>> 0;
  }

  get size(): number {
    return this.byId.size;
  }

  /** A fresh request id (u32, wrapping). */
  allocate(): number {
    this.nextReq = (this.nextReq + 1) >>> 0;
    return this.nextReq;
  }

  /** Records a request that was just sent for the first time; false when the table is full. */
  add(now: number, req: number, to: Address, bytes: Uint8Array, tag: RequestTag): boolean {
    if (this.byId.size >= this.maxPending) return false;
    this.byId.set(req, { req, to, bytes, tag, firstSentAt: now, attempts: 1, nextAt: now + this.retransmitMs });
    this.dirty = true;
    return true;
  }

  get(req: number): PendingRequest | undefined {
    return this.byId.get(req);
  }

  /**
   * The outstanding request `msg` answers, if it came from the address the request went to
   * with a kind that answers it (PROTOCOL.md 7); undefined for a forged or stale reply.
   */
  match(from: Address, msg: AnyMessage & { req: number }): PendingRequest | undefined {
    const p = this.byId.get(msg.req);
    return p !== undefined && p.to === from && replyFits(p, msg) ? p : undefined;
  }

  /** Outstanding request ids, oldest first. */
  ids(): number[] {
    return [...this.byId.keys()];
  }

  /** Removes and returns the request answered by a reply carrying `req`. */
  take(req: number): PendingRequest | undefined {
    const p = this.byId.get(req);
    if (p !== undefined) {
      this.byId.delete(req);
      this.dirty = true;
    }
    return p;
  }

  /** Drops every request matching `pred` (a join round that ended, a closed link's requests). */
  cancel(pred: (p: PendingRequest) => boolean): void {
    for (const [id, p] of this.byId) {
      if (pred(p)) {
        this.byId.delete(id);
        this.dirty = true;
      }
    }
  }

  nextDeadline(): number | undefined {
    if (this.dirty) {
      let min: number | undefined;
      for (const p of this.byId.values()) if (min === undefined || p.nextAt < min) min = p.nextAt;
      this.earliest = min;
      this.dirty = false;
    }
    return this.earliest;
  }

  /**
   * For each request due at `now`: calls `resend` (and doubles its backoff) or, after
   * maxAttempts sends, removes it and calls `giveUp`.
   */
  due(now: number, resend: (p: PendingRequest) => void, giveUp: (p: PendingRequest) => void): void {
    const deadline = this.nextDeadline();
    if (deadline === undefined || deadline > now) return;
    const expired: PendingRequest[] = [];
    for (const p of this.byId.values()) {
      if (p.nextAt > now) continue;
      if (p.attempts >= this.maxAttempts) {
        expired.push(p);
        continue;
      }
      p.attempts++;
      p.nextAt = now + Math.min(this.retransmitMs * 2 ** (p.attempts - 1), MAX_BACKOFF_MS);
      resend(p);
    }
    for (const p of expired) this.byId.delete(p.req);
    this.dirty = true;
    for (const p of expired) giveUp(p);
  }
}

/** Which reply kinds answer which request tags (Error and UnknownSession answer any lobby request). */
const REPLY_KINDS: Readonly<Record<RequestTag["t"], readonly number[]>> = {
  hello: [Kind.Welcome, Kind.Retry],
  token: [Kind.Ack],
  create: [Kind.GridCreated],
  list: [Kind.GridList],
  select: [Kind.Members],
  connUpdate: [Kind.Ack],
  status: [Kind.ConnStatusReply],
  heartbeat: [Kind.HeartbeatAck],
  leave: [Kind.Ack],
  rejoin: [Kind.Ack],
  probeReply: [],
  join: [Kind.JoinReply],
  available: [Kind.AvailableReply],
  connect: [Kind.ConnectReply],
  force: [Kind.ForceReply],
  disconnect: [Kind.DisconnectAck],
  register: [NatKind.Registered],
  introduce: [NatKind.Introduced],
  punchReport: [Kind.Ack],
};

function replyFits(p: PendingRequest, msg: AnyMessage): boolean {
  if (msg.kind === Kind.UnknownSession || msg.kind === Kind.Error) return isLobbyTag(p.tag);
  if (!REPLY_KINDS[p.tag.t].includes(msg.kind)) return false;
  // A peer's reply must name the peer that was asked: one naming another id (corrupted or
  // forged at the right address) would open a link under the wrong id and strand the
  // request's slot in `pending`.
  return !("peer" in p.tag) || ("from" in msg && msg.from === p.tag.peer);
}

/** Requests sent to the lobby (the rest go to other peers). */
export function isLobbyTag(tag: RequestTag): boolean {
  const t = tag.t;
  return t !== "join" && t !== "available" && t !== "connect" && t !== "force" && t !== "disconnect";
}
