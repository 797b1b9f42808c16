/**
 * The hot path (claims 2-4, 14-19; DESIGN.md "Hot path"): originate a broadcast, and on
 * each arrival decode the envelope into a reused header, check the duplicate window,
 * deliver once, pick links by this Peer's relay rules (lib/relay/rule-set.ts) and forward
 * the same bytes with only the hop byte changed. No objects beyond the delivery event, no
 * string keys but the source address lookup, no closures. The header, the rules' context
 * and the duplicate filter belong to this Peer alone.
 *
 * Every copy from a link is shown to the redundancy part (redundancy.ts: the copy from any
 * link but the first to deliver is pruned), and every fresh envelope to the repair part
 * (repair.ts: kept for neighbours that miss it, gaps found). A Repair (PROTOCOL.md 4.2.1) is
 * delivered like Data but never relayed and never pruned.
 */
import type { Address } from "../endpoint.ts";
import { ErrorCode, RelayGridError } from "../errors.ts";
import { DuplicateFilter } from "../relay/origin-table.ts";
import { SeqResult } from "../relay/duplicate-window.ts";
import { RelayRuleSet } from "../relay/rule-set.ts";
import { RedundancyList } from "../relay/redundancy-list.ts";
import { isSpectator, spectatorSend } from "../relay/spectators.ts";
import {
  Kind,
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
import type { Redundancy } from "./redundancy.ts";
import type { Repairer } from "./repair.ts";
import type { Delivery } from "./delivery.ts";
import { OriginAuthenticator } from "./origin-auth.ts";

export class RelayPath implements LinkObserver {
  readonly duplicates: DuplicateFilter;
  readonly rules: RelayRuleSet;
  /** Origin signatures (originAuth, origin-auth.ts): off unless the Peer was made with "ed25519". */
  readonly auth: OriginAuthenticator;
  /** This Peer's redundancy-list rule, in "prune" mode. */
  readonly list: RedundancyList | undefined;
  private readonly header = newRelayHeader();
  /** The sequence value of this peer's latest broadcast (claim 4). */
  private seq = 0;
  private tree: Redundancy | undefined;
  private repair: Repairer | undefined;
  private messages: Delivery | undefined;
  /** Links the envelope being handled was forwarded to (rules.chosen[0..sent)). */
  private sent = 0;

  constructor(private readonly core: PeerCore) {
    // Fake origin ids evict only each other, never a vouched member's window (issue 15).
    this.duplicates = new DuplicateFilter({
      maxOrigins: core.cfg.maxOrigins,
      windowBits: core.cfg.windowBits,
      vouched: (origin) => core.vouched.has(origin),
    });
    this.rules = new RelayRuleSet(core.cfg.relayRules);
    this.auth = new OriginAuthenticator(core);
    this.list = this.rules.rules.find((r): r is RedundancyList => r instanceof RedundancyList);
    if (this.list !== undefined) this.list.maxOrigins = core.cfg.maxOrigins;
  }

  /** The parts every arrival is shown to (the Peer composes them after this one). */
  use(tree: Redundancy, repair: Repairer | undefined, messages: Delivery): void {
    this.tree = tree;
    this.repair = repair;
    this.messages = messages;
  }

  /**
   * Originates a broadcast (or, with `target`, data addressed to one member but relayed
   * through the grid): a Data envelope, or with `kind` Message one whose payload begins with
   * a message header (messages.ts). Returns its sequence value.
   */
  broadcast(now: number, payload: Uint8Array, target: number | null, kind: typeof Kind.Data | typeof Kind.Message = Kind.Data): number {
    const core = this.core;
    if (core.self === 0 || (core.phase !== "member" && core.phase !== "joining")) {
      throw new RelayGridError(ErrorCode.NotJoined, `cannot broadcast while ${core.phase}: wait for the "joined" event`);
    }
    if (isSpectator(core.self)) throw spectatorSend(core.self);
    const auth = this.auth;
    if (payload.length > auth.maxPayload) {
      const why = auth.on ? ` (${MAX_PAYLOAD_BYTES} less the origin signature's 173 with originAuth)` : "";
      throw new RelayGridError(ErrorCode.PayloadTooLarge, `payload ${payload.length} bytes > maxPayloadBytes ${auth.maxPayload}${why}: split it or send a delta`);
    }
    if (target !== null && (!Number.isInteger(target) || target < 1 || target > 0xffffffff)) {
      throw new RelayGridError(ErrorCode.InvalidConfig, `target must be a peer id (u32 > 0), got ${String(target)}`);
    }
    const seq = (this.seq + 1) >>> 0;
    // With originAuth the payload ends with this peer's ticket and signature (PROTOCOL.md 4.1.4).
    const body = auth.on ? auth.seal(kind, core.grid, core.self, seq, target, payload) : payload;
    this.seq = seq;
    const buf = new Uint8Array(relaySizeBound(body.length));
    const n = writeRelay(buf, 0, 0, core.grid, core.self, this.seq, target, body, null, kind);
    const bytes = buf.subarray(0, n);
    const keyring = core.credentials.keyring;
    if (keyring.currentEpoch === undefined) throw new RelayGridError(ErrorCode.NotJoined, "no grid key yet: wait for the \"joined\" event");
    // The tag covers everything but the hop byte, so relays forward it unchanged.
    writeTag(keyring, bytes, n - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    core.counters.broadcasts++;
    // Kept for the neighbours that miss it (they ask the origin: it is their first link).
    this.repair?.onArrival(now, core.self, core.self, this.seq, 0, bytes);
    this.forward(core.grid, core.self, this.seq, 0, target, core.self, bytes, 0, 0);
    return this.seq;
  }

  /**
   * A relay envelope from `from`, in the order of PROTOCOL.md 6.7 (Data). The peer owns
   * `bytes` from here on (see Endpoint). Returns the drop reason, or undefined when taken
   * (a duplicate or stale copy is taken: counted in duplicates / stale, not as a drop).
   */
  onData(now: number, from: Address, bytes: Uint8Array): DropReason | undefined {
    const core = this.core;
    const link = core.links.byAddr(from);
    // Only links may inject data (claim 14: "from a sending peer system connected to").
    if (link === undefined) return PeerDrop.NotLinked;
    const header = this.header;
    const kind = bytes[2] as number; // Data or Message (receive.ts isRelayData)
    const err = readRelay(bytes, header, kind);
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
    // US 7,610,402: what a spectator originates is neither delivered nor relayed, by anyone.
    if (isSpectator(header.origin)) return PeerDrop.SpectatorOrigin;
    // originAuth: the origin's signature, only on a copy the window would take as new, and
    // before the window records it (a forgery moves nothing).
    if (this.auth.on && this.duplicates.peek(header.origin, header.seq) === SeqResult.Fresh) {
      const forged = this.auth.check(kind, header, bytes);
      if (forged !== undefined) return forged;
    }
    // Claims 18, 19: store what identifies the data and compare each arrival against it.
    const r = this.duplicates.check(header.origin, header.seq, now);
    const tree = this.tree;
    if (r !== SeqResult.Fresh) {
      if (r === SeqResult.Duplicate) {
        core.counters.duplicates++;
        tree?.onCopy(now, link.peer, header.origin, false); // US 7,685,301: a second copy is pruned
      } else core.counters.stale++;
      return undefined;
    }
    link.firstDeliveries++; // what this peer saw of the link itself (links.ts), for the drop choice
    tree?.onCopy(now, link.peer, header.origin, true);
    const bad = this.deliver(now, kind, bytes);
    if (bad !== undefined) return bad; // a malformed Message is not relayed on
    const target = header.target;
    // Not relayed further once it reached its addressee.
    this.sent = target === core.self ? 0 : this.forward(header.grid, header.origin, header.seq, header.hops, target, link.peer, bytes, header.hops + 1, 0);
    core.counters.relayed += this.sent;
    this.repair?.onArrival(now, link.peer, header.origin, header.seq, header.hops, bytes);
    this.sent = 0;
    return undefined;
  }

  /** Whether the envelope being handled was just forwarded to `peer` (repair.ts SentSource). */
  sentTo(peer: number): boolean {
    const ids = this.core.links.ids;
    const chosen = this.rules.chosen;
    for (let i = 0; i < this.sent; i++) if (ids[chosen[i] as number] === peer) return true;
    return false;
  }

  /**
   * A Repair from link `link` (receive.ts checked its tag and decoded it): delivered if it is
   * new and kept for others; never pruned. Relayed only when it is newer than anything this
   * peer had of its origin (see below); an older one the members below ask for themselves.
   */
  onRepair(now: number, link: Link, bytes: Uint8Array): DropReason | undefined {
    const core = this.core;
    const header = this.header;
    const kind = bytes[2] as number; // Repair or MessageRepair (receive.ts)
    const err = readRelay(bytes, header, kind);
    if (err !== null) return err;
    if (header.grid !== core.grid) return PeerDrop.WrongGrid;
    if (isSpectator(header.origin)) return PeerDrop.SpectatorOrigin;
    if (this.auth.on && header.origin !== core.self && this.duplicates.peek(header.origin, header.seq) === SeqResult.Fresh) {
      const forged = this.auth.check(kind, header, bytes);
      if (forged !== undefined) return forged;
    }
    if (header.origin === core.self || this.duplicates.check(header.origin, header.seq, now) !== SeqResult.Fresh) {
      this.repair?.onDuplicateRepair();
      return undefined;
    }
    this.tree?.onRepaired(now, header.origin);
    const bad = this.deliver(now, kind, bytes);
    if (bad !== undefined) return bad;
    // We missed it, so the members we relay this origin to missed it too (a lost last
    // message they cannot even see missing): it goes on to them by the relay rules, as a
    // Repair (never pruned, never a path), but not to the parent, which delivers to us.
    const target = header.target;
    const parent = this.tree?.parentOf(header.origin) ?? 0;
    this.sent = target === core.self ? 0 : this.forward(header.grid, header.origin, header.seq, header.hops, target, link.peer, bytes, header.hops + 1, parent);
    core.counters.relayed += this.sent;
    this.repair?.onArrival(now, link.peer, header.origin, header.seq, header.hops, bytes);
    this.sent = 0;
    return undefined;
  }

  /**
   * Delivers the envelope in the header (to the application, when it is for everyone or for
   * us); a Message goes to the delivery part (delivery.ts), which returns a drop when its
   * header is malformed.
   */
  private deliver(now: number, kind: number, bytes: Uint8Array): DropReason | undefined {
    const core = this.core;
    const header = this.header;
    if (kind === Kind.Message || kind === Kind.MessageRepair) return this.messages?.accept(now, header, bytes);
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
    }
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
    skip: number,
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
    if (skip === 0) {
      for (let i = 0; i < n; i++) this.core.transmit(addresses[chosen[i] as number] as string, bytes);
      return n;
    }
    // A Repair passed on: not to `skip` (the parent), compacting rules.chosen for sentTo().
    let sent = 0;
    for (let i = 0; i < n; i++) {
      const c = chosen[i] as number;
      if (links.ids[c] === skip) continue;
      chosen[sent++] = c;
      this.core.transmit(addresses[c] as string, bytes);
    }
    return sent;
  }
}
