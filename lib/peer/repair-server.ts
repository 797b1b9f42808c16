/**
 * The answering side of repair (PROTOCOL.md 4.2.1): sends a linked neighbour a Repair of an
 * envelope in the retransmit buffer, when the relay rules allow it and the link's byte budget
 * has room. A Repair is the stored envelope with kind 0x02, the hops it would have had had this
 * peer forwarded it, and a tag under this peer's current grid key (so a copy made before a key
 * rotation still verifies, and it can never pass for a Data copy: the tag covers the kind).
 */
import { isEnvelopeKind, MAX_HOPS, newRelayHeader, repairKindOf, readRelay, RELAY_HOPS_OFFSET, TAG_FIELD_BYTES } from "../../wire/index.ts";
import { REDUNDANCY_LIST_RULE } from "../relay/redundancy-list.ts";
import type { RelayRuleSet } from "../relay/rule-set.ts";
import { RetransmitBuffer } from "../relay/retransmit-buffer.ts";
import { writeTag } from "../security/grid-keys.ts";
import type { PeerCore } from "./core.ts";

/** What the server counts (the repair part's counters). */
export interface ServeCounters {
  served: number;
  refused: number;
}

/** The repair part's counters (stats().repair). */
export interface RepairCounters {
  /** Seqs found missing (gaps opened, pull() included). */
  missing: number;
  /** Missing seqs that arrived: by a Repair, or a late Data copy. */
  repaired: number;
  /** Missing seqs given up (out of attempts, out of the window, over the bounds). */
  abandoned: number;
  /** RepairRequest datagrams sent, and the seqs they asked for. */
  requestsSent: number;
  asked: number;
  requestsReceived: number;
  /** Repair datagrams sent (requests, catch-ups and waiting askers), and refused (rules, budget). */
  served: number;
  refused: number;
  /** Of served: to askers waiting for a seq this peer missed too, and catch-ups after a Graft. */
  servedWaiting: number;
  servedCatchUp: number;
  /** Repair datagrams that arrived for a seq already had (a reordered copy won, or two answers). */
  duplicates: number;
}

export function newRepairCounters(): RepairCounters {
  return { missing: 0, repaired: 0, abandoned: 0, requestsSent: 0, asked: 0, requestsReceived: 0, served: 0, refused: 0, servedWaiting: 0, servedCatchUp: 0, duplicates: 0 };
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RepairServer {
  /** Repairs one RepairRequest can get at most, whatever it asks. */
  static readonly MAX_PER_REQUEST = 128;
  /** Repairs of one origin one Graft can get at most (the newest past its `have`). */
  static readonly CATCH_UP = 8;
  readonly buffer: RetransmitBuffer;
  private readonly budgets = new Map<number, Bucket>();
  private readonly header = newRelayHeader();
  private readonly rate: number;
  private readonly burst: number;
  private nowMs = 0;

  constructor(
    private readonly core: PeerCore,
    private readonly rules: RelayRuleSet,
  ) {
    const cfg = core.cfg;
    this.buffer = new RetransmitBuffer(cfg.repairBufferMessages, cfg.repairBufferBytes);
    this.rate = cfg.repairBytesPerSecond;
    this.burst = Math.max(this.rate / 8, 4 * 1200);
  }

  /** The time budgets refill to (the Peer's clock, set before serving). */
  at(now: number): this {
    this.nowMs = now;
    return this;
  }

  /**
   * Sends `peer` a Repair of (origin, seq), whose envelope is `bytes` and arrived with `hops`
   * from `fromPeer` (this peer's own id for its own broadcast). False when refused.
   */
  serve(c: ServeCounters, peer: number, origin: number, seq: number, bytes: Uint8Array, hops: number, fromPeer: number): boolean {
    const core = this.core;
    const link = core.links.get(peer);
    const kind = bytes[2] as number;
    if (link === undefined || !isEnvelopeKind(kind) || readRelay(bytes, this.header, kind) !== null) {
      c.refused++;
      return false;
    }
    const own = fromPeer === core.self;
    const hopsOut = own ? 0 : hops + 1;
    const ctx = this.rules.ctx;
    ctx.grid = this.header.grid;
    ctx.origin = origin;
    ctx.seq = seq;
    ctx.hops = hops;
    ctx.target = this.header.target;
    ctx.fromPeer = fromPeer;
    // The rules would have sent it there (claims 15-17, a game's own rules), the redundancy
    // list aside: a neighbour that pruned this origin can still have lost one of its messages.
    if (hopsOut > MAX_HOPS || !this.rules.admits(peer, REDUNDANCY_LIST_RULE) || !this.spend(peer, bytes.length)) {
      c.refused++;
      return false;
    }
    const keyring = core.credentials.keyring;
    if (keyring.currentEpoch === undefined) {
      c.refused++;
      return false;
    }
    const out = new Uint8Array(bytes.length);
    out.set(bytes);
    out[2] = repairKindOf(kind); // Data and Repair as Repair, Message and MessageRepair as MessageRepair
    out[RELAY_HOPS_OFFSET] = hopsOut;
    writeTag(keyring, out, out.length - TAG_FIELD_BYTES, RELAY_HOPS_OFFSET);
    core.transmit(link.address, out);
    c.served++;
    return true;
  }

  forgetLink(peer: number): void {
    this.budgets.delete(peer);
  }

  /** Takes `bytes` from the link's token bucket (repairBytesPerSecond, an eighth as the burst). */
  private spend(peer: number, bytes: number): boolean {
    let b = this.budgets.get(peer);
    if (b === undefined) this.budgets.set(peer, (b = { tokens: this.burst, at: this.nowMs }));
    b.tokens = Math.min(this.burst, b.tokens + ((this.nowMs - b.at) * this.rate) / 1000);
    b.at = this.nowMs;
    if (b.tokens < bytes) return false;
    b.tokens -= bytes;
    return true;
  }
}
