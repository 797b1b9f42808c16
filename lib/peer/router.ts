/**
 * Messages to one member, routed (PROTOCOL.md 4.1.2): a Routed envelope goes over the direct
 * link to its target when there is one, else to this member's parent for the target (the link
 * that delivers the target's own broadcasts first, redundancy.ts): the reverse of the path
 * the target's messages take, so it costs about one datagram per hop of that path, not one per
 * member. The only state is what the grid already keeps (links, parents) and a duplicate
 * window per origin of routed seqs (bounded by maxOrigins). A member that knows no route (the
 * target never broadcast, or the parent is the link the message came from) floods it by its
 * relay rules (claims 14-17), the redundancy list aside; the duplicate window keeps that to
 * one copy per member. Delivered by the target only; best effort (send({ to, reliable }) is
 * carried as a targeted Message on the grid's repaired paths instead, messages.ts).
 */
import { ErrorCode, RelayGridError } from "../errors.ts";
import { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { REDUNDANCY_LIST_RULE } from "../relay/redundancy-list.ts";
import { isSpectator, spectatorSend } from "../relay/spectators.ts";
import type { RelayRuleSet } from "../relay/rule-set.ts";
import { Kind, MAX_HOPS, MAX_PAYLOAD_BYTES, newRelayHeader, readRelay, RELAY_HOPS_OFFSET, relaySizeBound, TAG_FIELD_BYTES, writeRelay } from "../../wire/index.ts";
import { writeTag } from "../security/grid-keys.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, type DropReason } from "./drops.ts";
import type { Link } from "./links.ts";

/** Who delivers an origin's broadcasts here first (redundancy.ts). */
export interface RouteSource {
  parentOf(origin: number): number;
}

/** What the router counts (stats().routed). */
export interface RoutedCounters {
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
}

export class Router {
  readonly counters: RoutedCounters = { sent: 0, delivered: 0, forwarded: 0, flooded: 0, duplicates: 0, stuck: 0 };
  private readonly seen: DuplicateFilter;
  private readonly header = newRelayHeader();
  private seq = 0;

  constructor(
    private readonly core: PeerCore,
    private readonly rules: RelayRuleSet,
    private readonly routes: RouteSource,
  ) {
    this.seen = new DuplicateFilter({ maxOrigins: core.cfg.maxOrigins, windowBits: core.cfg.windowBits });
  }

  /** Sends `payload` (at most MAX_PAYLOAD_BYTES) to member `target`; returns its routed seq. */
  send(now: number, payload: Uint8Array, target: number): number {
    const core = this.core;
    if (core.self === 0 || (core.phase !== "member" && core.phase !== "joining")) {
      throw new RelayGridError(ErrorCode.NotJoined, `cannot send while ${core.phase}: wait for the "joined" event`);
    }
    if (isSpectator(core.self)) throw spectatorSend(core.self);
    if (!Number.isInteger(target) || target < 1 || target > 0xffffffff || target === core.self) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `to must be another member's peer id (u32 > 0, not ${core.self}), got ${String(target)}`);
    }
    if (payload.length > MAX_PAYLOAD_BYTES) throw new RelayGridError(ErrorCode.PayloadTooLarge, `routed payload ${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
    const keyring = core.credentials.keyring;
    if (keyring.currentEpoch === undefined) throw new RelayGridError(ErrorCode.NotJoined, "no grid key yet: wait for the \"joined\" event");
    this.seq = (this.seq + 1) >>> 0;
    const buf = new Uint8Array(relaySizeBound(payload.length));
    const n = writeRelay(buf, 0, 0, core.grid, core.self, this.seq, target, payload, null, Kind.Routed);
    const bytes = buf.subarray(0, n);
    writeTag(keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    this.counters.sent++;
    this.pass(now, bytes, core.self, this.seq, target, 0, core.self);
    return this.seq;
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
    if (h.origin === core.self || this.seen.check(h.origin, h.seq, now) !== SeqResult.Fresh) {
      this.counters.duplicates++;
      return undefined;
    }
    if (h.target === core.self) {
      this.counters.delivered++;
      core.counters.delivered++;
      core.emit({ type: "data", payload: bytes.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), origin: h.origin, seq: h.seq, hops: h.hops, target: h.target, routed: true });
      return undefined;
    }
    this.pass(now, bytes, h.origin, h.seq, h.target, h.hops, link.peer);
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
