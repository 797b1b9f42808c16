/**
 * The hot path (claims 2-4, 14-19; DESIGN.md "Hot path"): originate a broadcast, and on
 * each arrival decode the envelope into a reused header, check the duplicate window,
 * deliver once, pick links by this Peer's relay rules (lib/relay/rule-set.ts) and forward
 * the same bytes with only the hop byte changed. No objects beyond the delivery event, no
 * string keys but the source address lookup, no closures. The header, the rules' context
 * and the duplicate filter belong to this Peer alone.
 */
import type { Address } from "../endpoint.ts";
import { ErrorCode, RelayGridError } from "../errors.ts";
import { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { RelayRuleSet } from "../relay/rule-set.ts";
import {
  MAX_PAYLOAD_BYTES,
  newRelayHeader,
  readRelay,
  RELAY_HOPS_OFFSET,
  relaySizeBound,
  TAG_FIELD_BYTES,
  writeRelay,
} from "../../wire/index.ts";
import { checkTag, writeTag } from "../security/grid-keys.ts";
import type { PeerCore } from "./core.ts";
import { PeerDrop, TAG_DROP, type DropReason } from "./drops.ts";
import type { Link, LinkObserver } from "./links.ts";

export class RelayPath implements LinkObserver {
  readonly duplicates: DuplicateFilter;
  readonly rules: RelayRuleSet;
  private readonly header = newRelayHeader();
  /** The sequence value of this peer's latest broadcast (claim 4). */
  private seq = 0;

  constructor(private readonly core: PeerCore) {
    this.duplicates = new DuplicateFilter({ maxOrigins: core.cfg.maxOrigins, windowBits: core.cfg.windowBits });
    this.rules = new RelayRuleSet(core.cfg.relayRules);
  }

  /**
   * Originates a broadcast (or, with `target`, data addressed to one member but relayed
   * through the grid). Returns its sequence value.
   */
  broadcast(payload: Uint8Array, target: number | null): number {
    const core = this.core;
    if (core.self === 0 || (core.phase !== "member" && core.phase !== "joining")) {
      throw new RelayGridError(ErrorCode.NotJoined, `cannot broadcast while ${core.phase}: wait for the "joined" event`);
    }
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new RelayGridError(
        ErrorCode.PayloadTooLarge,
        `payload ${payload.length} bytes > maxPayloadBytes ${MAX_PAYLOAD_BYTES}: split it or send a delta`,
      );
    }
    if (target !== null && (!Number.isInteger(target) || target < 1 || target > 0xffffffff)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `target must be a peer id (u32 > 0), got ${String(target)}`);
    }
    this.seq = (this.seq + 1) >>> 0;
    const buf = new Uint8Array(relaySizeBound(payload.length));
    const n = writeRelay(buf, 0, 0, core.grid, core.self, this.seq, target, payload);
    const bytes = buf.subarray(0, n);
    const keyring = core.credentials.keyring;
    if (keyring.currentEpoch === undefined) throw new RelayGridError(ErrorCode.NotJoined, "no grid key yet: wait for the \"joined\" event");
    // The tag covers everything but the hop byte, so relays forward it unchanged.
    writeTag(keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    core.counters.broadcasts++;
    this.forward(core.grid, core.self, this.seq, 0, target, core.self, bytes, 0);
    return this.seq;
  }

  /**
   * A relay envelope from `from`, in the order of PROTOCOL.md 6.7 (Data). The peer owns
   * `bytes` from here on (see Endpoint). Returns the drop reason, or undefined when taken
   * (a duplicate or stale copy is taken: counted in duplicates / stale, not as a drop).
   */
  onData(from: Address, bytes: Uint8Array, now: number): DropReason | undefined {
    const core = this.core;
    const link = core.links.byAddr(from);
    // Only links may inject data (claim 14: "from a sending peer system connected to").
    if (link === undefined) return PeerDrop.NotLinked;
    const header = this.header;
    const err = readRelay(bytes, header);
    if (err !== null) return err;
    if (header.grid !== core.grid) return PeerDrop.WrongGrid;
    // Authenticated relay: a tag under one of the grid's keys, over all but the hop byte,
    // checked once per hop before the duplicate window can be touched.
    const t = checkTag(core.credentials.keyring, bytes, RELAY_HOPS_OFFSET);
    if (t !== "ok") return TAG_DROP[t];
    // The link's data bucket (links.ts), after the tag so only the member itself spends it.
    if (!link.data.take(now)) return PeerDrop.LinkRateLimited;
    if (header.origin === core.self) {
      core.counters.duplicates++; // our own broadcast came back around a cycle
      return undefined;
    }
    // Claims 18, 19: store what identifies the data and compare each arrival against it.
    const r = this.duplicates.check(header.origin, header.seq);
    if (r !== SeqResult.Fresh) {
      if (r === SeqResult.Duplicate) core.counters.duplicates++;
      else core.counters.stale++;
      return undefined;
    }
    const target = header.target;
    if (target === null || target === core.self) {
      core.counters.delivered++;
      core.emit({
        type: "data",
        payload: bytes.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength),
        origin: header.origin,
        seq: header.seq,
        hops: header.hops,
        target,
      });
      if (target === core.self) return undefined; // it reached its addressee: no need to relay further
    }
    core.counters.relayed += this.forward(header.grid, header.origin, header.seq, header.hops, target, link.peer, bytes, header.hops + 1);
    return undefined;
  }

  linkOpened(_now: number, link: Link): void {
    this.rules.linkOpened(link.peer);
  }

  linkClosed(_now: number, link: Link): void {
    this.rules.linkClosed(link.peer);
  }

  /**
   * Claim 14: the relay rules pick links for the message (the wire's hop cap is the last of
   * them); every pick gets the same bytes with `hopsOut` in the hop byte (hops + 1 for a
   * relay, 0 for the origin's own broadcast). Returns the number of forwards.
   */
  private forward(
    grid: number,
    origin: number,
    seq: number,
    hops: number,
    target: number | null,
    fromPeer: number,
    bytes: Uint8Array,
    hopsOut: number,
  ): number {
    const rules = this.rules;
    const ctx = rules.ctx;
    ctx.grid = grid;
    ctx.origin = origin;
    ctx.seq = seq;
    ctx.hops = hops;
    ctx.target = target;
    ctx.fromPeer = fromPeer;
    const links = this.core.links;
    const n = rules.select(links.ids);
    if (n === 0) return 0;
    bytes[RELAY_HOPS_OFFSET] = hopsOut;
    const addresses = links.addresses;
    const chosen = rules.chosen;
    for (let i = 0; i < n; i++) this.core.transmit(addresses[chosen[i] as number] as string, bytes);
    return n;
  }
}
