/**
 * Inputs for the relay-core group: one Peer with exactly `limit` links, taken out of a
 * settled grid on the simulator, and a ring of signed Data datagrams from its members.
 *
 * Every datagram carries the grid-key tag (lib/security/grid-keys.ts) under the measured
 * Peer's own keyring, as its origin would have written it, so the Peer accepts it. Signing
 * is the origin's work, not the relay's, so the ring signs a chunk of messages before it is
 * fed and the relay-core loop times only the feeding (measure.ts timedBatch).
 */
import type { Peer } from "../../lib/peer/peer.ts";
import type { GridKeyring } from "../../lib/security/grid-keys.ts";
import { relaySizeBound, writeRelay } from "../../wire/index.ts";
import { buildGrid } from "./grid-builder.ts";
import { PAYLOAD_BYTES } from "./envelopes.ts";
import { keyringOf, signRelay, UNLIMITED_LINK_BUDGET } from "./keys.ts";

export interface RelaySubject {
  readonly peer: Peer;
  readonly now: number;
  readonly grid: number;
  readonly links: readonly { peer: number; address: string }[];
  /** Member ids that are not this peer and not linked to it (so every forward goes to limit - 1 links). */
  readonly origins: readonly number[];
  readonly gridPeers: number;
  /** The Peer's grid keyring: what its members sign with. */
  readonly keyring: GridKeyring;
}

/** Builds grids (more peers each try) until one member has exactly `limit` links. */
export function relaySubject(limit: number, seed: number): RelaySubject {
  for (let attempt = 0; attempt < 4; attempt++) {
    const n = limit * 6 + 8 * (attempt + 1);
    // The relay loop feeds every datagram at one virtual instant, so the per-link data budget
    // (a policy: 2000 a second by default) would stop it after its burst; it is raised out of
    // the way, and its take() still runs per datagram (the security group measures its cost).
    const g = buildGrid({ seed: seed + attempt, peers: n, connectionLimit: limit, batchSize: 8, peer: UNLIMITED_LINK_BUDGET });
    for (const node of g.peers) {
      const p = node.endpoint;
      if (p.linkPeers.length !== limit || p.phase !== "member") continue;
      const linked = new Set(p.linkPeers);
      const origins = g.peers.map((q) => q.endpoint.id).filter((id) => id !== p.id && id !== 0 && !linked.has(id));
      if (origins.length < 16) continue;
      const links = p.stats().links.map((l) => ({ peer: l.peer, address: l.address }));
      return { peer: p, now: g.sim.now, grid: p.grid, links, origins: origins.slice(0, 16), gridPeers: n, keyring: keyringOf(p) };
    }
  }
  throw new Error(`relay-core: no peer with ${limit} links in four grids`);
}

/**
 * A ring of `size` datagram buffers, each its own allocation like a socket read. Message i
 * comes from origin i % origins.length with seq base + i / origins.length (always the uint32
 * form), so preparing a message rewrites the four seq bytes, resets the hop byte the relay
 * bumped and signs the result. Prepare a chunk (at most `size` messages), then feed it.
 */
export class DatagramRing {
  readonly size: number;
  private readonly bufs: Uint8Array[] = [];
  private readonly seqAt: number[] = [];
  private readonly k: number;

  constructor(
    grid: number,
    origins: readonly number[],
    private readonly keyring: GridKeyring,
    size = 1024,
    payloadBytes = PAYLOAD_BYTES,
  ) {
    this.k = origins.length;
    this.size = size - (size % this.k);
    const payload = new Uint8Array(payloadBytes).map((_, i) => i);
    for (let j = 0; j < this.size; j++) {
      const origin = origins[j % this.k] as number;
      const buf = new Uint8Array(relaySizeBound(payloadBytes));
      const n = writeRelay(buf, 0, 0, grid, origin, 0x10000, null, payload);
      const bytes = buf.slice(0, n);
      const at = bytes.indexOf(0xce, 4 + uintLen(grid) + uintLen(origin));
      if (at < 0) throw new Error("relay-core: seq is not in uint32 form");
      this.bufs.push(bytes);
      this.seqAt.push(at + 1);
    }
  }

  /** Bytes of one datagram (all the same length). */
  get datagramBytes(): number {
    return (this.bufs[0] as Uint8Array).length;
  }

  /** Writes and signs messages first .. first + count - 1 (count <= size) into their slots. */
  prepare(first: number, count: number): void {
    if (count > this.size) throw new Error(`DatagramRing: ${count} messages > ring of ${this.size}`);
    for (let i = first; i < first + count; i++) {
      const j = i % this.size;
      const b = this.bufs[j] as Uint8Array;
      const seq = 0x10000 + Math.floor(i / this.k);
      const at = this.seqAt[j] as number;
      b[3] = 0;
      b[at] = seq >>> 24;
      b[at + 1] = (seq >>> 16) & 0xff;
      b[at + 2] = (seq >>> 8) & 0xff;
      b[at + 3] = seq & 0xff;
      signRelay(this.keyring, b);
    }
  }

  /** The datagram of message `i` (prepared earlier, and not overwritten since). */
  at(i: number): Uint8Array {
    return this.bufs[i % this.size] as Uint8Array;
  }

  /** prepare(i, 1) and at(i): one message, signed now. */
  stamp(i: number): Uint8Array {
    this.prepare(i, 1);
    return this.at(i);
  }
}

function uintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : 5;
}
