/**
 * The retransmit buffer of repair (PROTOCOL.md 4.2.1): the relay envelopes this peer sent or
 * received lately, by (origin, seq), so that it can send a neighbour what the neighbour
 * missed. Bounded twice: at most `maxMessages` envelopes and `maxBytes` bytes (each counted
 * with ENTRY_OVERHEAD_BYTES of bookkeeping), the oldest evicted first whatever its origin.
 *
 * The buffer keeps the received datagram itself (the Peer owns the bytes it was handed, see
 * lib/endpoint.ts), so storing costs no copy and no allocation on the relay path; the hop
 * byte is rewritten in place by forwarding, so the hops on arrival are kept beside it.
 *
 * Layout: one FIFO ring of entries in store order (bytes, origin, seq, hops, and the link it
 * came from), and per origin a small index from seq to entry (OriginIndex), held by the
 * caller's per-origin record so that a lookup costs no map access. An index starts at 8 slots
 * and doubles (up to MAX_INDEX_SLOTS) when a newer seq would land on a slot still in use.
 */
import { checkInt } from "../errors.ts";

/**
 * Envelopes kept at most: what a member receives in 6.4 s of a 64-member game at 10 Hz, or in
 * 0.4 s of a 1,000-member one (repair needs a few round trips of history). Defaults to 4096.
 */
export const DEFAULT_REPAIR_BUFFER_MESSAGES = 4096;
/** Bytes kept at most, bookkeeping included. Defaults to 1 MiB. */
export const DEFAULT_REPAIR_BUFFER_BYTES = 1 << 20;
/** What one entry is counted for beyond its datagram: the typed array and the ring's fields. */
export const ENTRY_OVERHEAD_BYTES = 96;
const FIRST_INDEX_SLOTS = 8;
/** Per origin at most this many seqs are findable at once (the newest win). */
export const MAX_INDEX_SLOTS = 1024;

/** One origin's seq -> entry index. Create with newOriginIndex(); keep it in the origin's record. */
export interface OriginIndex {
  origin: number;
  /** Entry ids (see RetransmitBuffer) by seq & (slots.length - 1); -1: empty. */
  slots: Float64Array;
}

export function newOriginIndex(origin: number): OriginIndex {
  return { origin, slots: new Float64Array(FIRST_INDEX_SLOTS).fill(-1) };
}

export class RetransmitBuffer {
  readonly maxMessages: number;
  readonly maxBytes: number;
  private readonly bytes: (Uint8Array | undefined)[];
  private readonly seqs: Uint32Array;
  private readonly hops: Uint8Array;
  private readonly from: Float64Array;
  private readonly index: (OriginIndex | undefined)[];
  /** Id of the oldest entry still in the ring, and of the next one to be stored (ids only grow). */
  private oldest = 0;
  private next = 0;
  private used = 0;
  /** Entries stored and evicted so far. */
  stored = 0;
  evicted = 0;

  constructor(maxMessages = DEFAULT_REPAIR_BUFFER_MESSAGES, maxBytes = DEFAULT_REPAIR_BUFFER_BYTES) {
    this.maxMessages = checkInt("repairBufferMessages", maxMessages, 1, 1 << 20);
    this.maxBytes = checkInt("repairBufferBytes", maxBytes, 2048, 1 << 30);
    this.bytes = new Array<Uint8Array | undefined>(this.maxMessages).fill(undefined);
    this.seqs = new Uint32Array(this.maxMessages);
    this.hops = new Uint8Array(this.maxMessages);
    this.from = new Float64Array(this.maxMessages);
    this.index = new Array<OriginIndex | undefined>(this.maxMessages).fill(undefined);
  }

  /** Envelopes held now. */
  get size(): number {
    let n = 0;
    for (let id = this.oldest; id < this.next; id++) if (this.bytes[id % this.maxMessages] !== undefined) n++;
    return n;
  }

  /** Bytes held now, bookkeeping included (<= maxBytes). */
  get bytesHeld(): number {
    return this.used;
  }

  /**
   * Keeps `bytes` (a relay envelope of `idx.origin`, `seq`, which arrived with `hops` from
   * link `fromPeer`, or this peer's own broadcast with fromPeer = its id). An older entry of the
   * same seq is replaced.
   */
  store(idx: OriginIndex, seq: number, hops: number, fromPeer: number, bytes: Uint8Array): void {
    const cost = bytes.length + ENTRY_OVERHEAD_BYTES;
    if (cost > this.maxBytes) return;
    while (this.next - this.oldest >= this.maxMessages || this.used + cost > this.maxBytes) this.evictOldest();
    let slots = idx.slots;
    let slot = seq & (slots.length - 1);
    const prior = slots[slot] as number;
    if (prior >= this.oldest && this.live(prior, idx)) {
      if ((this.seqs[prior % this.maxMessages] as number) === seq >>> 0) this.drop(prior);
      else if (slots.length < MAX_INDEX_SLOTS) {
        slots = this.grow(idx);
        slot = seq & (slots.length - 1);
        const again = slots[slot] as number;
        if (again >= this.oldest && this.live(again, idx)) this.drop(again);
      } else this.drop(prior);
    }
    const id = this.next++;
    const at = id % this.maxMessages;
    this.bytes[at] = bytes;
    this.seqs[at] = seq >>> 0;
    this.hops[at] = hops;
    this.from[at] = fromPeer;
    this.index[at] = idx;
    slots[slot] = id;
    this.used += cost;
    this.stored++;
  }

  /** The entry id holding (idx.origin, seq), or -1. Read it with bytesOf / hopsOf / fromOf before the next store. */
  find(idx: OriginIndex, seq: number): number {
    const id = idx.slots[seq & (idx.slots.length - 1)] as number;
    if (id < this.oldest || !this.live(id, idx)) return -1;
    return (this.seqs[id % this.maxMessages] as number) === seq >>> 0 ? id : -1;
  }

  has(idx: OriginIndex, seq: number): boolean {
    return this.find(idx, seq) >= 0;
  }

  bytesOf(id: number): Uint8Array {
    return this.bytes[id % this.maxMessages] as Uint8Array;
  }

  hopsOf(id: number): number {
    return this.hops[id % this.maxMessages] as number;
  }

  fromOf(id: number): number {
    return this.from[id % this.maxMessages] as number;
  }

  /** Forgets everything of one origin (its record is being dropped). */
  forget(idx: OriginIndex): void {
    for (const id of idx.slots) if (id >= this.oldest && this.live(id, idx)) this.drop(id);
    idx.slots.fill(-1);
  }

  private live(id: number, idx: OriginIndex): boolean {
    const at = id % this.maxMessages;
    return this.bytes[at] !== undefined && this.index[at] === idx;
  }

  private drop(id: number): void {
    const at = id % this.maxMessages;
    const b = this.bytes[at];
    if (b === undefined) return;
    this.used -= b.length + ENTRY_OVERHEAD_BYTES;
    this.bytes[at] = undefined;
    this.index[at] = undefined;
    this.evicted++;
  }

  private evictOldest(): void {
    this.drop(this.oldest);
    this.oldest++;
  }

  /** Doubles an origin's index, re-placing its live entries by seq. */
  private grow(idx: OriginIndex): Float64Array {
    const old = idx.slots;
    const slots = new Float64Array(old.length * 2).fill(-1);
    for (const id of old) {
      if (id < this.oldest || !this.live(id, idx)) continue;
      slots[(this.seqs[id % this.maxMessages] as number) & (slots.length - 1)] = id;
    }
    idx.slots = slots;
    return slots;
  }
}
