/**
 * Inputs for the relay-core group: one Peer with exactly `limit` links, taken out of a
 * settled grid on the simulator, and a pool of pre-encoded Data datagrams from its members.
 */
import type { Peer } from "../../lib/peer/peer.ts";
import { writeRelay } from "../../wire/index.ts";
import { buildGrid } from "./grid-builder.ts";
import { PAYLOAD_BYTES } from "./envelopes.ts";

export interface RelaySubject {
  readonly peer: Peer;
  readonly now: number;
  readonly grid: number;
  readonly links: readonly { peer: number; address: string }[];
  /** Member ids that are not this peer and not linked to it (so every forward goes to limit - 1 links). */
  readonly origins: readonly number[];
  readonly gridPeers: number;
}

/** Builds grids (more peers each try) until one member has exactly `limit` links. */
export function relaySubject(limit: number, seed: number): RelaySubject {
  for (let attempt = 0; attempt < 4; attempt++) {
    const n = limit * 6 + 8 * (attempt + 1);
    const g = buildGrid({ seed: seed + attempt, peers: n, connectionLimit: limit, batchSize: 8 });
    for (const node of g.peers) {
      const p = node.endpoint;
      if (p.linkPeers.length !== limit) continue;
      const linked = new Set(p.linkPeers);
      const origins = g.peers.map((q) => q.endpoint.id).filter((id) => id !== p.id && !linked.has(id));
      if (origins.length < 16) continue;
      const links = p.stats().links.map((l) => ({ peer: l.peer, address: l.address }));
      return { peer: p, now: g.sim.now, grid: p.grid, links, origins: origins.slice(0, 16), gridPeers: n };
    }
  }
  throw new Error(`relay-core: no peer with ${limit} links in four grids`);
}

/**
 * A ring of pre-encoded datagrams, each in its own buffer like a socket read. Message i comes
 * from origin i % origins.length with seq base + i / origins.length, always in the uint32 form,
 * so `stamp` only rewrites the four seq bytes and resets the hop byte the relay bumped.
 */
export class DatagramRing {
  readonly size: number;
  private readonly bufs: Uint8Array[] = [];
  private readonly seqAt: number[] = [];
  private readonly k: number;

  constructor(grid: number, origins: readonly number[], size = 4096) {
    this.k = origins.length;
    this.size = size - (size % this.k);
    const payload = new Uint8Array(PAYLOAD_BYTES).map((_, i) => i);
    for (let j = 0; j < this.size; j++) {
      const buf = new Uint8Array(64 + PAYLOAD_BYTES);
      const n = writeRelay(buf, 0, 0, grid, origins[j % this.k] as number, 0x10000, null, payload);
      const bytes = buf.slice(0, n);
      const at = bytes.indexOf(0xce, 4 + uintLen(grid) + uintLen(origins[j % this.k] as number));
      if (at < 0) throw new Error("relay-core: seq is not in uint32 form");
      this.bufs.push(bytes);
      this.seqAt.push(at + 1);
    }
  }

  /** The datagram for message number `i` (fresh (origin, seq) for every i). */
  stamp(i: number): Uint8Array {
    const j = i % this.size;
    const b = this.bufs[j] as Uint8Array;
    const seq = 0x10000 + Math.floor(i / this.k);
    const at = this.seqAt[j] as number;
    b[3] = 0;
    b[at] = seq >>> 24;
    b[at + 1] = (seq >>> 16) & 0xff;
    b[at + 2] = (seq >>> 8) & 0xff;
    b[at + 3] = seq & 0xff;
    return b;
  }
}

function uintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
}
