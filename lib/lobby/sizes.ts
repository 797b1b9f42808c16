/**
 * Encoded sizes, so that a GridList page and each Members part fit maxDatagramBytes
 * (claim 24: the grid information and the member addresses may need several datagrams).
 * Sizes follow the MessagePack spec for the smallest encoding, which is what the encoder
 * writes; the fixed fields around a list are counted at their worst case.
 */
import { utf8Length } from "../../wire/fields.ts";
import { MAX_ADDRESS_BYTES, MAX_META_BYTES, MAX_NAME_BYTES, MAX_SEALED_BYTES } from "../../wire/limits.ts";
import type { GridEntry, PeerEntry } from "../../wire/messages.ts";

/** Entries per list in GridList and Members (wire/messages.ts: list(32, ...)). */
export const MAX_LIST_ITEMS = 32;

export function uintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

export function strBytes(s: string): number {
  const n = utf8Length(s);
  return n + (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);
}

/** fixarray, version, kind: the head of every datagram. */
const HEAD = 3;
/** A list of up to 32 entries: fixarray or array16 header. */
const LIST_HEADER = 3;
/** GridList around its list: req, total, offset as u32. */
export const GRID_LIST_OVERHEAD = HEAD + 5 * 3 + LIST_HEADER;
/**
 * Members around its list: req, grid, peer as u32, part and parts as u16, the nonce as u32
 * and the sealed grant at its largest (a bin16 of MAX_SEALED_BYTES). Counting the sealed
 * field at its worst keeps the split into parts the same for every joiner and every grant
 * (two keys during a rotation, a longer ticket), so parts can be computed once per grid.
 */
export const MEMBERS_OVERHEAD = HEAD + 5 * 3 + 3 * 2 + LIST_HEADER + 5 + 3 + MAX_SEALED_BYTES;
/**
 * The largest PeerEntry the wire allows: a u32 id, a 64-byte address, a u8 link count of
 * 128 or more (this lobby never sends more than MAX_LINKS, a one-byte fixint; the bound
 * stays the wire's, as PROTOCOL.md section 2 counts it).
 */
export const MAX_PEER_ENTRY_BYTES = 1 + 5 + MAX_ADDRESS_BYTES + 2 + uintBytes(0xff);
/** The largest GridEntry: u32 id, 32-byte name, u16 counts, u8 limit, 200-byte meta. */
export const MAX_GRID_ENTRY_BYTES = 1 + 5 + MAX_NAME_BYTES + 2 + 3 + 3 + 2 + MAX_META_BYTES + 2;
/** Smallest maxDatagramBytes that still fits the largest grid-list page or member part of one entry. */
export const MIN_MAX_DATAGRAM_BYTES = Math.max(MEMBERS_OVERHEAD + MAX_PEER_ENTRY_BYTES, GRID_LIST_OVERHEAD + MAX_GRID_ENTRY_BYTES);

export function gridEntryBytes(e: GridEntry): number {
  return 1 + uintBytes(e.grid) + strBytes(e.name) + uintBytes(e.members) + uintBytes(e.capacity) + uintBytes(e.limit) + strBytes(e.meta);
}

export function peerEntryBytes(e: PeerEntry): number {
  return 1 + uintBytes(e.peer) + strBytes(e.addr) + uintBytes(e.links);
}

/**
 * Splits `sizes` greedily, in order, into runs whose total fits `budget` with at most
 * MAX_LIST_ITEMS each; returns the run lengths. Every entry fits on its own
 * (MIN_MAX_DATAGRAM_BYTES guarantees it), so each run has at least one.
 */
export function packRuns(sizes: readonly number[], budget: number): number[] {
  const runs: number[] = [];
  let count = 0;
  let bytes = 0;
  for (const size of sizes) {
    if (count > 0 && (count === MAX_LIST_ITEMS || bytes + size > budget)) {
      runs.push(count);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += size;
  }
  if (count > 0) runs.push(count);
  return runs;
}
