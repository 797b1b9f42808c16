/**
 * The hot path (claims 2-4, 14-19; DESIGN.md "Hot path"): originate a broadcast, and on
 * each arrival decode the envelope into a reused header, check the duplicate window,
 * deliver once, pick links by the relay rules and forward the same bytes with only the
 * hop byte changed. No objects beyond the delivery event, no string keys but the source
 * address lookup, no closures.
 */
import type { Address } from "../endpoint.ts";
import { ErrorCode, RelayGridError } from "../errors.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { defaultRelayRules, selectLinks, type RelayContext } from "../relay/rules.ts";
import {
  MAX_HOPS,
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

const header = newRelayHeader();
const ctx: RelayContext = { grid: 0, origin: 0, seq: 0, hops: 0, target: null, fromPeer: 0, toPeer: 0 };
const chosen: number[] = [];

/**
 * Originates a broadcast (or, with `target`, data addressed to one member but relayed
 * through the grid). Returns its sequence value.
 */
export function broadcast(core: PeerCore, payload: Uint8Array, target: number | null): number {
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
  core.seq = (core.seq + 1) >>> 0;
  const buf = new Uint8Array(relaySizeBound(payload.length));
  const n = writeRelay(buf, 0, 0, core.grid, core.self, core.seq, target, payload);
  const bytes = buf.subarray(0, n);
  if (core.keyring.currentEpoch === undefined) throw new RelayGridError(ErrorCode.NotJoined, "no grid key yet: wait for the \"joined\" event");
  // The tag covers everything but the hop byte, so relays forward it unchanged.
  writeTag(core.keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
  core.counters.broadcasts++;
  ctx.grid = core.grid;
  ctx.origin = core.self;
  ctx.seq = core.seq;
  ctx.hops = 0;
  ctx.target = target;
  ctx.fromPeer = core.self;
  forward(core, bytes);
  return core.seq;
}

/** A relay envelope from `from`. The peer owns `bytes` from here on (see Endpoint). */
export function onData(core: PeerCore, from: Address, bytes: Uint8Array): void {
  const link = core.links.byAddr(from);
  if (link === undefined) {
    core.counters.drop("not-linked"); // only links may inject data (claim 14: "from a sending peer system connected to")
    return;
  }
  const err = readRelay(bytes, header);
  if (err !== null) {
    core.invalid(from, err);
    return;
  }
  if (header.grid !== core.grid) {
    core.counters.drop("wrong-grid");
    return;
  }
  // Authenticated relay: a tag under one of the grid's keys, over all but the hop byte,
  // checked once per hop before the duplicate window can be touched.
  const t = checkTag(core.keyring, bytes, RELAY_HOPS_OFFSET);
  if (t !== "ok") {
    core.invalid(from, `tag-${t}`);
    return;
  }
  if (header.origin === core.self) {
    core.counters.duplicates++; // our own broadcast came back around a cycle
    return;
  }
  // Claims 18, 19: store what identifies the data and compare each arrival against it.
  const r = core.duplicates.check(header.origin, header.seq);
  if (r !== SeqResult.Fresh) {
    if (r === SeqResult.Duplicate) core.counters.duplicates++;
    else core.counters.stale++;
    return;
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
    if (target === core.self) return; // it reached its addressee: no need to relay further
  }
  ctx.grid = header.grid;
  ctx.origin = header.origin;
  ctx.seq = header.seq;
  ctx.hops = header.hops;
  ctx.target = target;
  ctx.fromPeer = link.peer;
  // The wire caps hops at MAX_HOPS whatever rules a game configures.
  if (header.hops >= MAX_HOPS) return;
  // Every forward carries hops + 1; the same bytes go to every chosen link (only the hop byte changes).
  bytes[RELAY_HOPS_OFFSET] = header.hops + 1;
  core.counters.relayed += forward(core, bytes);
}

/** Claim 14: apply the relay rules to every link and send to those selected. */
function forward(core: PeerCore, bytes: Uint8Array): number {
  const rules = core.cfg.relayRules;
  const ids = core.links.ids;
  const addresses = core.links.addresses;
  if (rules === defaultRelayRules) {
    // The default rules inlined (same decisions, same suppression counts, no calls per link):
    // not back to the sender (claim 15), not to the origin (claim 17); the hop limit is the
    // wire's MAX_HOPS, checked once per message by the caller.
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id === ctx.fromPeer) core.suppressed[0] = (core.suppressed[0] as number) + 1;
      else if (id === ctx.origin) core.suppressed[1] = (core.suppressed[1] as number) + 1;
      else {
        core.transmit(addresses[i] as string, bytes);
        n++;
      }
    }
    return n;
  }
  const n = selectLinks(rules, ctx, ids, chosen, core.suppressed);
  for (let i = 0; i < n; i++) {
    const link = core.links.get(chosen[i] as number);
    if (link !== undefined) core.transmit(link.address, bytes);
  }
  return n;
}
