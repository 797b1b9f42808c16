/**
 * Messages to one member, routed (PROTOCOL.md 4.1.2): a Routed envelope goes over the direct
 * link to its target when there is one, else to this member's parent for the target (the link
 * that delivers the target's own broadcasts first, redundancy.ts): the reverse of the path
 * the target's messages take, so it costs about one datagram per hop of that path, not one per
 * member. The only state is what the grid already keeps (links, parents) and a duplicate
 * window per origin of routed seqs (bounded by maxOrigins). A member that knows no route (the
 * target never broadcast, or the parent is the link the message came from) floods it by its
 * relay rules (claims 14-17), the redundancy list aside; the duplicate window keeps that to
 * one copy per member. Delivered by the target only.
 *
 * The payload starts with a mode byte (ROUTED_*): a plain message is best effort; a RELIABLE
 * one (send({ to, reliable })) carries its message id (the seq of its first copy) and is
 * acknowledged by the target end to end with an ACK routed back naming that id; its origin
 * sends it again until then (routed-outbox.ts), each copy a new routed envelope with its own
 * seq, so the relay rules hold for copies as for any message (no link carries one envelope
 * twice, claim 16). The target delivers a message id once (a second duplicate window) and
 * acknowledges every copy.
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { REDUNDANCY_LIST_RULE } from "../relay/redundancy-list.ts";
import { isSpectator, spectatorSend } from "../relay/spectators.ts";
import type { RelayRuleSet } from "../relay/rule-set.ts";
import { Kind, MAX_HOPS, MAX_PAYLOAD_BYTES, newRelayHeader, readRelay, RELAY_HOPS_OFFSET, relaySizeBound, TAG_FIELD_BYTES, writeRelay } from "../../wire/index.ts";
import { readU32BE, writeU32BE } from "../security/bytes.ts";
import { writeTag } from "../security/grid-keys.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { Link } from "./links.ts";
import { RoutedOutbox, type ReliableRoutedCounters } from "./routed-outbox.ts";

/** The mode byte that begins a Routed payload (PROTOCOL.md 4.1.2). */
export const ROUTED_PLAIN = 0;
export const ROUTED_RELIABLE = 1;
/** An acknowledgement of the RELIABLE message whose seq follows (u32, big-endian). */
export const ROUTED_ACK = 2;
/** The application bytes a routed message carries at most (the mode byte and a reliable one's message id take 5). */
export const MAX_ROUTED_PAYLOAD_BYTES = MAX_PAYLOAD_BYTES - 5;

/** Who delivers an origin's broadcasts here first (redundancy.ts). */
export interface RouteSource {
  parentOf(origin: number): number;
}

/** What the router counts (stats().routed). */
export interface RoutedCounters extends ReliableRoutedCounters {
  /** Routed messages this member sent, and delivered here. */
  sent: number;
  delivered: number;
  /** Passed on towards their target: over the target's link or the parent for it. */
  forwarded: number;
  /** Passed on by flooding, for want of a route (each counted once, whatever the links). */
  flooded: number;
  /** Copies that arrived again (after a flood), and ones not passed on (hop cap, no link left). */
  duplicates: number;
  stuck: number;
  /** Acks this member sent as the target of reliable routed messages. */
  acksSent: number;
}

export class Router {
  readonly counters: RoutedCounters;
  readonly outbox: RoutedOutbox;
  private readonly seen: DuplicateFilter;
  /** Reliable message ids delivered here, per origin (copies sent again have new seqs). */
  private readonly reliableSeen: DuplicateFilter;
  private readonly header = newRelayHeader();
  private seq = 0;

  constructor(
    private readonly core: PeerCore,
    private readonly rules: RelayRuleSet,
    private readonly routes: RouteSource,
  ) {
    this.seen = new DuplicateFilter({ maxOrigins: core.cfg.maxOrigins, windowBits: core.cfg.windowBits });
    this.reliableSeen = new DuplicateFilter({ maxOrigins: core.cfg.maxOrigins, windowBits: core.cfg.windowBits });
    this.outbox = new RoutedOutbox(core, (now, payload, target) => {
      const bytes = this.envelope(target, payload);
      this.pass(now, bytes, core.self, this.seq, target, 0, core.self);
    });
    this.counters = Object.assign(this.outbox.counters, { sent: 0, delivered: 0, forwarded: 0, flooded: 0, duplicates: 0, stuck: 0, acksSent: 0 });
  }

  /**
   * Sends `payload` (at most MAX_ROUTED_PAYLOAD_BYTES) to member `target`; returns its routed
   * seq. `reliable`: acknowledged by the target and sent again until then (routed-outbox.ts).
   */
  send(now: number, payload: Uint8Array, target: number, reliable = false): number {
    const core = this.core;
    if (core.self === 0 || (core.phase !== "member" && core.phase !== "joining")) {
      throw new RelayGridError(ErrorCode.NotJoined, `cannot send while ${core.phase}: wait for the "joined" event`);
    }
    if (isSpectator(core.self)) throw spectatorSend(core.self);
    if (!Number.isInteger(target) || target < 1 || target > 0xffffffff || target === core.self) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `to must be another member's peer id (u32 > 0, not ${core.self}), got ${String(target)}`);
    }
    if (payload.length > MAX_ROUTED_PAYLOAD_BYTES) throw new RelayGridError(ErrorCode.PayloadTooLarge, `routed payload ${payload.length} bytes > ${MAX_ROUTED_PAYLOAD_BYTES}`);
    if (core.credentials.keyring.currentEpoch === undefined) throw new RelayGridError(ErrorCode.NotJoined, "no grid key yet: wait for the \"joined\" event");
    if (reliable) this.outbox.checkRoom();
    const id = (this.seq + 1) >>> 0; // the seq of its first copy
    const head = reliable ? 5 : 1;
    const body = new Uint8Array(head + payload.length);
    body[0] = reliable ? ROUTED_RELIABLE : ROUTED_PLAIN;
    if (reliable) writeU32BE(body, 1, id);
    body.set(payload, head);
    const bytes = this.envelope(target, body);
    this.counters.sent++;
    this.pass(now, bytes, core.self, this.seq, target, 0, core.self);
    if (reliable) this.outbox.add(now, id, target, body);
    return id;
  }

  /** A sealed Routed envelope of this member's next routed seq carrying `payload` (mode byte first). */
  private envelope(target: number, payload: Uint8Array): Uint8Array {
    const core = this.core;
    this.seq = (this.seq + 1) >>> 0;
    const buf = new Uint8Array(relaySizeBound(payload.length));
    const n = writeRelay(buf, 0, 0, core.grid, core.self, this.seq, target, payload, null, Kind.Routed);
    const bytes = buf.subarray(0, n);
    writeTag(core.credentials.keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    return bytes;
  }

  /** Acknowledges `origin`'s reliable routed message `seq` (an ACK routed back, best effort). */
  private ack(now: number, origin: number, seq: number): void {
    const body = new Uint8Array(5);
    body[0] = ROUTED_ACK;
    writeU32BE(body, 1, seq);
    const bytes = this.envelope(origin, body);
    this.counters.acksSent++;
    this.pass(now, bytes, this.core.self, this.seq, origin, 0, this.core.self);
  }

  /** A Routed envelope from link `link` (receive.ts checked its tag): delivered here, or passed on. */
  onRouted(now: number, link: Link, bytes: Uint8Array): DropReason | undefined {
    const core = this.core;
    const h = this.header;
    const err = readRelay(bytes, h, Kind.Routed);
    if (err !== null) return err;
    if (h.grid !== core.grid) return PeerDrop.WrongGrid;
    if (h.target === null) return PeerDrop.BadMessage; // a Routed envelope always names its target
    if (isSpectator(h.origin)) return PeerDrop.SpectatorOrigin; // US 7,610,402, as for Data
    const mode = h.payloadLength < 1 ? -1 : (bytes[h.payloadOffset] as number);
    if (!(mode === ROUTED_PLAIN || (mode === ROUTED_RELIABLE && h.payloadLength >= 5) || (mode === ROUTED_ACK && h.payloadLength === 5))) return PeerDrop.BadMessage;
    if (h.origin === core.self || this.seen.check(h.origin, h.seq, now) !== SeqResult.Fresh) {
      this.counters.duplicates++;
      return undefined;
    }
    if (h.target !== core.self) {
      this.pass(now, bytes, h.origin, h.seq, h.target, h.hops, link.peer);
      return undefined;
    }
    if (mode === ROUTED_PLAIN) return this.deliver(h.origin, h.seq, h.hops, bytes.subarray(h.payloadOffset + 1, h.payloadOffset + h.payloadLength), false);
    const id = readU32BE(bytes, h.payloadOffset + 1);
    if (mode === ROUTED_ACK) {
      this.outbox.onAck(id, h.origin);
      return undefined;
    }
    // Every copy is acknowledged (the ack of an earlier one may have been lost); one is delivered.
    this.ack(now, h.origin, id);
    if (this.reliableSeen.check(h.origin, id, now) !== SeqResult.Fresh) {
      this.counters.duplicates++;
      return undefined;
    }
    return this.deliver(h.origin, id, h.hops, bytes.subarray(h.payloadOffset + 5, h.payloadOffset + h.payloadLength), true);
  }

  private deliver(origin: number, seq: number, hops: number, payload: Uint8Array, reliable: boolean): undefined {
    const core = this.core;
    this.counters.delivered++;
    core.counters.delivered++;
    core.emit({ type: "data", payload, origin, seq, hops, target: core.self, routed: true, ...(reliable ? { reliable } : {}) });
    return undefined;
  }

  /** Sends `bytes` on towards `target`: its link, the parent for it, else a flood by the rules. */
  private pass(_now: number, bytes: Uint8Array, origin: number, seq: number, target: number, hops: number, fromPeer: number): void {
    const core = this.core;
    const own = fromPeer === core.self;
    if (!own && hops + 1 > MAX_HOPS) {
      this.counters.stuck++;
      return;
    }
    bytes[RELAY_HOPS_OFFSET] = own ? 0 : hops + 1;
    const direct = core.links.get(target);
    const parent = this.routes.parentOf(target);
    const via = direct ?? (parent !== fromPeer && parent !== origin ? core.links.get(parent) : undefined);
    if (via !== undefined) {
      this.counters.forwarded++;
      core.transmit(via.address, bytes);
      return;
    }
    const ctx = this.rules.ctx;
    ctx.grid = core.grid;
    ctx.origin = origin;
    ctx.seq = seq;
    ctx.hops = hops;
    ctx.target = target;
    ctx.fromPeer = fromPeer;
    let sent = 0;
    const ids = core.links.ids;
    for (let i = 0; i < ids.length; i++) {
      const peer = ids[i] as number;
      if (peer === fromPeer || !this.rules.admits(peer, REDUNDANCY_LIST_RULE)) continue;
      core.transmit(core.links.addresses[i] as string, bytes);
      sent++;
    }
    if (sent > 0) this.counters.flooded++;
    else this.counters.stuck++;
  }
}
