/**
 * Reassembly of fragmented messages (PROTOCOL.md 4.1.1): the fragments of one message have
 * consecutive seqs of their origin, so a message is keyed by (origin, seq of fragment 0) and
 * each fragment says its index and the count. A lost fragment is an ordinary gap in the
 * origin's seqs, pulled by repair like any other, so only that fragment is sent again.
 *
 * Bounded: at most `maxBytesPerOrigin` bytes of unfinished messages per origin and
 * `maxBytes` in all (the oldest unfinished message of the origin, then of anyone, is dropped
 * to make room), and an unfinished message is dropped `timeoutMs` after its first fragment.
 * Every drop goes to `onDrop`, so the owner can report a reliable message lost.
 */

/** One unfinished message. */
export interface Partial {
  readonly origin: number;
  readonly key: number;
  readonly count: number;
  readonly flags: number;
  readonly prev: number;
  readonly team: number;
  readonly startedAt: number;
  /** The highest hop count of its fragments (reported with the delivery). */
  hops: number;
  got: number;
  bytes: number;
  readonly parts: (Uint8Array | undefined)[];
}

/** A finished message: its fragments' bodies joined. */
export interface Assembled {
  readonly key: number;
  readonly flags: number;
  readonly prev: number;
  readonly team: number;
  readonly hops: number;
  readonly body: Uint8Array;
}

export type DropWhy = "timeout" | "memory" | "mismatch" | "abandoned";

/** What `add` did: the message finished, a fragment was kept, or it was refused. */
export type AddResult = Assembled | "kept" | "mismatch" | "too-large";

/** Defaults: 512 KiB of unfinished messages per origin, 4 MiB in all, 10 s to finish one. */
export const DEFAULT_REASSEMBLY_BYTES_PER_ORIGIN = 512 * 1024;
export const DEFAULT_REASSEMBLY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 10_000;

export class Reassembly {
  private readonly byOrigin = new Map<number, Map<number, Partial>>();
  private held = 0;
  private count = 0;

  constructor(
    readonly maxBytesPerOrigin: number,
    readonly maxBytes: number,
    readonly timeoutMs: number,
    private readonly onDrop: (p: Partial, why: DropWhy) => void,
  ) {}

  /** Bytes held in unfinished messages. */
  get bytesHeld(): number {
    return this.held;
  }

  /** Unfinished messages. */
  get size(): number {
    return this.count;
  }

  /** Whether (origin, key) is an unfinished message here. */
  has(origin: number, key: number): boolean {
    return this.byOrigin.get(origin)?.has(key >>> 0) === true;
  }

  /**
   * Fragment `index` of `count` of the message (origin, key), whose body is `body` (a view the
   * caller no longer writes). A fragment that disagrees with the ones before it (flags, prev,
   * team, count) drops the message: only a misbehaving member sends that.
   */
  add(now: number, origin: number, key: number, index: number, count: number, flags: number, prev: number, team: number, hops: number, body: Uint8Array): AddResult {
    key >>>= 0;
    if (body.length > this.maxBytesPerOrigin) return "too-large";
    let mine = this.byOrigin.get(origin);
    let p = mine?.get(key);
    if (p !== undefined && (p.count !== count || p.flags !== flags || p.prev !== prev || p.team !== team)) {
      this.remove(p, "mismatch");
      return "mismatch";
    }
    if (p === undefined) {
      p = { origin, key, count, flags, prev, team, startedAt: now, hops, got: 0, bytes: 0, parts: new Array<Uint8Array | undefined>(count) };
      if (mine === undefined) this.byOrigin.set(origin, (mine = new Map()));
      mine.set(key, p);
      this.count++;
    }
    if (p.parts[index] !== undefined) return "kept"; // a second copy (the duplicate window makes it rare)
    p.parts[index] = body;
    p.got++;
    p.bytes += body.length;
    p.hops = Math.max(p.hops, hops);
    this.held += body.length;
    if (p.got === p.count) return this.finish(p);
    this.makeRoom(p);
    return "kept";
  }

  /** Seq `seq` of `origin` is given up by repair: the unfinished message it belongs to cannot finish. */
  abandoned(origin: number, seq: number): void {
    const mine = this.byOrigin.get(origin);
    if (mine === undefined) return;
    for (const p of mine.values()) {
      const i = (seq - p.key) >>> 0;
      if (i < p.count && p.parts[i] === undefined) {
        this.remove(p, "abandoned");
        return;
      }
    }
  }

  /** Drops the unfinished messages started `timeoutMs` ago or earlier; returns the next deadline (Infinity: none). */
  expire(now: number): number {
    let next = Infinity;
    for (const mine of [...this.byOrigin.values()]) {
      for (const p of [...mine.values()]) {
        const at = p.startedAt + this.timeoutMs;
        if (at <= now) this.remove(p, "timeout");
        else next = Math.min(next, at);
      }
    }
    return next;
  }

  private finish(p: Partial): Assembled {
    const body = new Uint8Array(p.bytes);
    let at = 0;
    for (const part of p.parts) {
      body.set(part as Uint8Array, at);
      at += (part as Uint8Array).length;
    }
    this.forget(p);
    return { key: p.key, flags: p.flags, prev: p.prev, team: p.team, hops: p.hops, body };
  }

  /** Over a bound: drop the oldest unfinished messages of p's origin, then of anyone's (p itself when it is the oldest). */
  private makeRoom(p: Partial): void {
    const mine = this.byOrigin.get(p.origin) as Map<number, Partial>;
    let originBytes = 0;
    for (const q of mine.values()) originBytes += q.bytes;
    while (originBytes > this.maxBytesPerOrigin) {
      const oldest = mine.values().next().value as Partial;
      originBytes -= oldest.bytes;
      this.remove(oldest, "memory");
    }
    while (this.held > this.maxBytes) {
      const first = this.byOrigin.values().next().value as Map<number, Partial>;
      this.remove(first.values().next().value as Partial, "memory");
    }
  }

  private remove(p: Partial, why: DropWhy): void {
    this.forget(p);
    this.onDrop(p, why);
  }

  private forget(p: Partial): void {
    const mine = this.byOrigin.get(p.origin);
    if (mine?.get(p.key) !== p) return;
    mine.delete(p.key);
    if (mine.size === 0) this.byOrigin.delete(p.origin);
    this.held -= p.bytes;
    this.count--;
  }
}
