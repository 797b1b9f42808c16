/**
 * Proven paths (PROTOCOL.md 4.7, 6.9): source addresses from which a member proved its link
 * key, answering a challenge this peer sent there (a PunchReply whose proof verified). A
 * key-bound ticket (version 2) is accepted only from a proven path of its key (6.3, step 4),
 * and the seeker sends to a member's proven path instead of the address the lobby listed:
 * behind a NAT that gives every destination its own port, that is the only address that works.
 *
 * A path no link uses is forgotten DEFAULT_PATH_IDLE_MS after it was proven or last used
 * (7.2: a NAT forgets an idle mapping after about 30 s; a link's Pings keep its own path
 * open), and punched again when needed. Bounded by MAX_PROVEN_PATHS (the oldest goes first).
 */
import type { Address } from "../endpoint.ts";

/** An unused proven path is forgotten after this long (PROTOCOL.md 7.2). Defaults to 20000 ms. */
export const DEFAULT_PATH_IDLE_MS = 20_000;
/** Proven paths kept at most. Defaults to 256. */
export const MAX_PROVEN_PATHS = 256;

export interface ProvenPath {
  readonly peer: number;
  readonly address: Address;
  /** The Ed25519 link key the member proved at this address. */
  readonly key: Uint8Array;
  readonly provenAt: number;
  usedAt: number;
}

export class ProvenPaths {
  private readonly byAddress = new Map<Address, ProvenPath>();
  /** Each member's first proven path (the one its punch found first, usually the fastest: the LAN one behind one NAT). */
  private readonly byPeer = new Map<number, ProvenPath>();

  constructor(private readonly idleMs = DEFAULT_PATH_IDLE_MS) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** Records that `peer` proved `key` at `address` (a path there for another peer is stale: replaced). */
  prove(now: number, peer: number, address: Address, key: Uint8Array): ProvenPath {
    this.remove(address);
    if (this.byAddress.size >= MAX_PROVEN_PATHS) {
      const oldest = this.byAddress.keys().next();
      if (oldest.done !== true) this.remove(oldest.value);
    }
    const path: ProvenPath = { peer, address, key: key.slice(), provenAt: now, usedAt: now };
    this.byAddress.set(address, path);
    const held = this.byPeer.get(peer);
    if (held === undefined) this.byPeer.set(peer, path);
    return path;
  }

  /** The key `peer` proved at `address`, or undefined when it proved none there. */
  keyAt(address: Address, peer: number): Uint8Array | undefined {
    const p = this.byAddress.get(address);
    return p !== undefined && p.peer === peer ? p.key : undefined;
  }

  /** Whether some member proved its key at `address` (a key-bound ticket may be shown there). */
  provenAt(address: Address): boolean {
    return this.byAddress.has(address);
  }

  /** `peer`'s proven path, or undefined when it has none. Sending there does not keep it: only a link on it does (expire). */
  of(peer: number): Address | undefined {
    return this.byPeer.get(peer)?.address;
  }

  /** Forgets `peer`'s paths (it left, or its punch must start over). */
  forgetPeer(peer: number): void {
    for (const [a, p] of [...this.byAddress]) if (p.peer === peer) this.remove(a);
  }

  /** Forgets paths idle for idleMs, unless `inUse` (a link's address). Returns how many went. */
  expire(now: number, inUse: (address: Address) => boolean): number {
    let n = 0;
    for (const [a, p] of [...this.byAddress]) {
      if (inUse(a)) p.usedAt = now;
      else if (now - p.usedAt >= this.idleMs) {
        this.remove(a);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.byAddress.clear();
    this.byPeer.clear();
  }

  private remove(address: Address): void {
    const p = this.byAddress.get(address);
    if (p === undefined) return;
    this.byAddress.delete(address);
    if (this.byPeer.get(p.peer) !== p) return;
    this.byPeer.delete(p.peer);
    for (const other of this.byAddress.values()) {
      if (other.peer === p.peer) {
        this.byPeer.set(p.peer, other);
        break;
      }
    }
  }
}
