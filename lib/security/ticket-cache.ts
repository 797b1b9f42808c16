/**
 * A bounded LRU of tickets whose signature already verified, so a member pays for each
 * ticket's Ed25519 verification once (issue 6, point 4: "tickets are bounded"). Entries are
 * indexed by a keyed SipHash of the ticket bytes and store the bytes themselves: a hit
 * requires the exact same bytes, so a hash collision is only ever a miss. Field checks
 * (grid, peer, address, minEpoch) still run on every hit, since the expectation changes
 * (the minimum epoch moves on at each key rotation).
 *
 * Version 2 (key-bound) tickets are cached the same way (verifyV2, signedV2): the signature
 * once, the fields (grid, peer, the proven key, the epoch) on every hit.
 *
 * One cache trusts one lobby key: it is bound to the key it was built with.
 */
import { checkLength, type CryptoProvider } from "./crypto.ts";
import { type SipKey, sipHash24Into } from "./siphash.ts";
import {
  checkTicketFields,
  readTicket,
  TICKET_MAX_BYTES,
  type TicketExpectation,
  type TicketFields,
  type TicketVerdict,
  type TicketV2Expectation,
  type TicketV2Fields,
  type TicketV2Verdict,
  checkTicketV2Fields,
  readTicketV2,
  verifyTicket,
  verifyTicketV2Signature,
} from "./ticket.ts";

/** Defaults to 1024 entries (at most ~150 KiB of tickets and fields). */
export const DEFAULT_TICKET_CACHE_ENTRIES = 1024;

export interface TicketCacheOptions {
  /** The lobby identity the cached tickets were verified against. */
  readonly lobbyPublicKey: Uint8Array;
  /** A random per-process key for indexing (e.g. sipKeyFrom(crypto.randomBytes(16))). */
  readonly hashKey: SipKey;
  /** Defaults to DEFAULT_TICKET_CACHE_ENTRIES. */
  readonly maxEntries?: number;
}

type Entry =
  | { readonly bytes: Uint8Array; readonly fields: TicketFields; readonly v2?: undefined }
  | { readonly bytes: Uint8Array; readonly fields?: undefined; readonly v2: TicketV2Fields };

export interface TicketCacheStats {
  hits: number;
  misses: number;
  evictions: number;
}

export class TicketCache {
  readonly maxEntries: number;
  private readonly lobbyPublicKey: Uint8Array;
  private readonly hashKey: SipKey;
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<number, Entry>();
  private readonly scratch = new Uint8Array(8);
  private readonly counters: TicketCacheStats = { hits: 0, misses: 0, evictions: 0 };

  constructor(options: TicketCacheOptions) {
    this.maxEntries = options.maxEntries ?? DEFAULT_TICKET_CACHE_ENTRIES;
    checkLength("ticket cache maxEntries", this.maxEntries, 1, 1 << 20);
    this.lobbyPublicKey = options.lobbyPublicKey.slice();
    this.hashKey = options.hashKey;
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): TicketCacheStats {
    return { ...this.counters };
  }

  clear(): void {
    this.entries.clear();
  }

  /** verifyTicket, remembering tickets that verified. Never throws. */
  verify(crypto: CryptoProvider, bytes: Uint8Array, expect: TicketExpectation): TicketVerdict {
    if (!(bytes instanceof Uint8Array) || bytes.length > TICKET_MAX_BYTES) return "malformed";
    const id = this.id(bytes);
    const hit = this.entries.get(id);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) {
      this.counters.hits++;
      this.entries.delete(id); // move to most recently used
      this.entries.set(id, hit);
      return hit.fields === undefined ? "malformed" : (checkTicketFields(hit.fields, expect) ?? "ok");
    }
    this.counters.misses++;
    const verdict = verifyTicket(crypto, this.lobbyPublicKey, bytes, expect);
    if (verdict === "ok") {
      const fields = readTicket(bytes);
      if (fields !== null) this.insert(id, { bytes: bytes.slice(), fields });
    }
    return verdict;
  }

  /** verifyTicketV2, remembering tickets whose signature verified. Never throws. */
  verifyV2(crypto: CryptoProvider, bytes: Uint8Array, expect: TicketV2Expectation): TicketV2Verdict {
    const fields = readTicketV2(bytes);
    if (fields === null) return "malformed";
    const mismatch = checkTicketV2Fields(fields, expect);
    if (mismatch !== null) return mismatch;
    return this.signedV2(crypto, bytes) === null ? "bad-signature" : "ok";
  }

  /**
   * The fields of a version 2 ticket whose lobby signature verifies (cached), or null: what
   * a peer believes of a Punch's or PunchReply's ticket before it knows the key is proven.
   */
  signedV2(crypto: CryptoProvider, bytes: Uint8Array): TicketV2Fields | null {
    if (!(bytes instanceof Uint8Array) || bytes.length > TICKET_MAX_BYTES) return null;
    const id = this.id(bytes);
    const hit = this.entries.get(id);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) {
      this.counters.hits++;
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.v2 ?? null;
    }
    this.counters.misses++;
    const fields = readTicketV2(bytes);
    if (fields === null || !verifyTicketV2Signature(crypto, this.lobbyPublicKey, bytes)) return null;
    this.insert(id, { bytes: bytes.slice(), v2: fields });
    return fields;
  }

  private insert(id: number, entry: Entry): void {
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
        this.counters.evictions++;
      }
    }
    this.entries.set(id, entry);
  }

  /** 53 bits of the keyed SipHash of the ticket: a safe-integer Map key. */
  private id(bytes: Uint8Array): number {
    const s = this.scratch;
    sipHash24Into(this.hashKey, bytes, 0, bytes.length, -1, s, 0);
    const lo = ((s[0] as number) | ((s[1] as number) << 8) | ((s[2] as number) << 16) | ((s[3] as number) << 24)) >>> 0;
    const hi = (s[4] as number) | ((s[5] as number) << 8) | (((s[6] as number) & 0x1f) << 16);
    return hi * 0x100000000 + lo;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
